"""On-chain execution of a reserved order (SPEC §6): quote, swap, sign, store SENT, send, confirm, read the fill.

An engine reserves the order (PENDING) in its own short transaction; `ChainExecutor.run` then works outside
any transaction except one: the PENDING -> SENT update that stores the signature, the signed bytes and
lastValidBlockHeight *before* the first send. Losing that update (the reconciler gave the order up) means
nothing is sent. The result (`ChainResult`) goes back to the engine, which applies it exactly once with a
guarded state transition; the reconciler applies the results of orders whose worker stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app import secrets
from app.chain.fills import ChainFill, FillUnreadable, fetch_fill
from app.chain.rpc import ChainError, SolanaRpcClient
from app.chain.sender import Landing, SendResult, look, send_until_final
from app.chain.signing import SignedTransaction, UnsafeTransaction, sign_transaction
from app.config import Config
from app.core.keys import parse_secret_key
from app.core.states import OrderState, TradeAction
from app.pricing.jupiter import SOL_MINT, JupiterClient, JupiterError
from app.services.wallets import spendable_lamports
from app.store.port import TradingStore

log = logging.getLogger(__name__)

NO_CHAIN = "REAL wallets trade on chain: set SOLANA_RPC_URL (and WALLET_ENCRYPTION_KEY)"
NEVER_SENT = "never sent: the worker stopped before the signed transaction was stored"


@dataclass(frozen=True)
class ChainResult:
    """Where an order stands on chain: a final state with its fill or error, or still SENT (unknown yet)."""

    state: OrderState
    fill: ChainFill | None = None
    error: str | None = None
    signature: str | None = None

    @property
    def final(self) -> bool:
        """FILLED, FAILED or EXPIRED: ready to apply."""
        return not self.state.is_open

    def figures(self) -> dict[str, object]:
        """The order columns this result sets."""
        fill = self.fill
        chain = {} if fill is None else {"fee_lamports": fill.fee_lamports, "rent_lamports": fill.rent_lamports,
                                         "sol_change_lamports": fill.sol_change_lamports, "slot": fill.slot}
        out = None
        if fill is not None and self.state is OrderState.FILLED:
            out = fill.token_change_raw if fill.token_change_raw > 0 else fill.swap_lamports
        return {"state": self.state, "error": self.error, "out_amount": out, **chain}

    def step(self, order: dict) -> dict[str, object]:
        """The steps-log entry of an order's trip to the chain."""
        fill = self.fill
        figures = {} if fill is None else {
            "slot": fill.slot, "fee_lamports": fill.fee_lamports, "rent_lamports": fill.rent_lamports,
            "sol_change_lamports": fill.sol_change_lamports, "swap_lamports": fill.swap_lamports,
            "token_change_raw": str(fill.token_change_raw)}
        return {"step": "chain_order", "order_id": str(order["id"]), "state": self.state.value,
                "signature": self.signature or order.get("signature"), "in_amount": str(order["in_amount"]),
                "quoted_out": None if order["quoted_out"] is None else str(order["quoted_out"]),
                "error": self.error, "result": "executed" if self.state is OrderState.FILLED else "error", **figures}


class ChainExecutor:
    """Runs REAL orders through Jupiter and a Solana RPC node."""

    def __init__(self, config: Config, rpc: SolanaRpcClient, jupiter: JupiterClient,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 max_seconds: float = 75.0) -> None:
        self.config = config
        self.rpc = rpc
        self.jupiter = jupiter
        self.sleep = sleep
        self.monotonic = monotonic
        self.max_seconds = max_seconds

    def spendable_lamports(self, public_key: str) -> int:
        """The wallet's SOL on chain minus SOL_RESERVE (what percent sizing and the balance check use)."""
        return spendable_lamports(self.rpc.get_balance(public_key), self.config)

    def run(self, store: TradingStore, order: Mapping[str, Any]) -> ChainResult:
        """Carry a PENDING order to the chain and wait for its fate (or give it to the reconciler as SENT)."""
        wallet = store.signing_row(order["wallet_id"])
        try:
            signed, last_valid, quoted_out = self._signed_swap(order, wallet)
        except (JupiterError, ChainError, UnsafeTransaction, ValueError) as exc:
            return ChainResult(OrderState.FAILED, error=f"not sent: {exc}")
        if not store.mark_order_sent(order["id"], {
                "signature": signed.signature, "raw": signed.raw, "last_valid_block_height": last_valid,
                "quoted_out": quoted_out}):
            return ChainResult(OrderState.FAILED, error="not sent: the order was resolved meanwhile")
        try:
            sent = send_until_final(self.rpc, signed, last_valid, sleep=self.sleep, monotonic=self.monotonic,
                                    max_seconds=self.max_seconds)
            return self._result(order, wallet["public_key"], signed.signature, sent)
        except (ChainError, FillUnreadable) as exc:  # sent, fate unknown: SENT until the reconciler knows
            log.warning("order %s sent as %s; its result is unknown for now (%s): the reconciler finishes it",
                        order["id"], signed.signature, exc)
            return ChainResult(OrderState.SENT, signature=signed.signature)

    def look(self, order: dict, public_key: str) -> ChainResult:
        """The reconciler's look at a SENT order: rebroadcast its stored bytes, then read its status once."""
        try:
            self.rpc.send_transaction(bytes(order["signed_transaction"]))
        except ChainError:
            pass  # already processed, or the node is busy: the status below decides
        sent = look(self.rpc, order["signature"], int(order["last_valid_block_height"]))
        return self._result(order, public_key, order["signature"], sent)

    def _signed_swap(self, order: dict, wallet: dict) -> tuple[SignedTransaction, int, int]:
        """Quote, ask Jupiter for the swap transaction and sign it (refusing one whose simulation failed)."""
        if not wallet["encrypted_secret_key"]:  # before any request: a watch-only wallet can never sign
            raise ValueError("this REAL wallet is watch-only (no signing key): it cannot trade")
        buy = order["side"] == TradeAction.BUY
        input_mint, output_mint = (SOL_MINT, order["mint"]) if buy else (order["mint"], SOL_MINT)
        slippage = order["slippage_bps"] if order["slippage_bps"] is not None else self.config.slippage_bps
        quote = self.jupiter.quote(input_mint, output_mint, int(order["in_amount"]), slippage)
        swap = self.jupiter.swap(quote, wallet["public_key"], self.config.priority_fee_level.value,
                                 self.config.priority_fee_max_lamports)
        if swap.simulation_error:
            raise ValueError(f"Jupiter's simulation of the swap failed ({swap.simulation_error})")
        key = parse_secret_key(secrets.decrypt(self.config.wallet_encryption_key, wallet["encrypted_secret_key"]))
        return sign_transaction(swap.transaction, key), swap.last_valid_block_height, quote.out_amount

    def _result(self, order: dict, public_key: str, signature: str, sent: SendResult) -> ChainResult:
        """The order's result from the send outcome, with the actual fill read from the landed transaction."""
        if sent.landing is Landing.PENDING:
            return ChainResult(OrderState.SENT, signature=signature)
        if sent.landing is Landing.EXPIRED:
            return ChainResult(OrderState.EXPIRED, error="blockhash expired before the transaction landed",
                               signature=signature)
        fill = fetch_fill(self.rpc, signature, public_key, order["mint"])
        if fill is None:  # the node reported a status but cannot serve the transaction yet: look again later
            return ChainResult(OrderState.SENT, signature=signature)
        if sent.landing is Landing.FAILED or fill.error:
            return ChainResult(OrderState.FAILED, fill, f"failed on chain: {fill.error or sent.error}", signature)
        return ChainResult(OrderState.FILLED, fill, signature=signature)

