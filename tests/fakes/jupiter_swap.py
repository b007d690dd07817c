"""A Jupiter stand-in with /swap: FakeJupiter's quotes plus real unsigned v0 swap transactions on a LocalChain.

POST {base}/swap {quoteResponse, userPublicKey, prioritizationFeeLamports: {priorityLevelWithMaxLamports:
{maxLamports}}, ...} answers {swapTransaction, lastValidBlockHeight, prioritizationFeeLamports, computeUnitLimit,
simulationError} like Jupiter's Swap API v1. The transaction's only signer (and fee payer) is the wallet:
- buy (SOL -> token): compute budget; wallet pays `inAmount` lamports into the pool's wrapped-SOL vault
  (SyncNative); create the wallet's token ATA (idempotent); pool token vault -> wallet ATA, authorized by
  the pool's multisig with the wallet as its signer.
- sell (token -> SOL): compute budget; create the wallet's wrapped-SOL ATA (idempotent); wallet ATA -> pool
  token vault; pool wrapped-SOL vault -> wallet's wrapped-SOL ATA (multisig as above); close that ATA to
  the wallet (unwrap: the SOL and the ATA's 2,039,280 lamports of rent come back).
The amount delivered is computed from the price at /swap time, not from the quote: `move_price` between
quote and swap moves the fill. A fill below the quote's otherAmountThreshold (slippage) or
`fail_next_swap_on_chain` builds a transaction that fails on chain: the pool leg asks for 2^64-1 units,
so the token program answers InsufficientFunds, {"InstructionError": [i, {"Custom": 1}]} (real Jupiter
would fail with its own program's 6001 SlippageToleranceExceeded; the client must treat any meta.err alike).
"""

from __future__ import annotations

import base64
import json
from collections import deque
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from solders.instruction import Instruction
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from app.pricing.jupiter import SOL_MINT
from tests.fakes import spl_token
from tests.fakes.jupiter_server import API_PREFIX, Answer, FakeJupiter, _Handler, _json_answer, lamports_out, tokens_out
from tests.fakes.solana_chain import LocalChain, Pool

COMPUTE_UNIT_LIMIT = 200_000
FAILING_AMOUNT = 2**64 - 1


@dataclass(frozen=True)
class BuiltSwap:
    """What one /swap answer asked the chain to do."""

    wallet: str
    buy: bool
    in_amount: int
    quoted_out: int
    out_amount: int
    fails_on_chain: bool
    priority_fee: int
    last_valid_block_height: int


class FakeJupiterSwap(FakeJupiter):
    """FakeJupiter whose /swap builds real transactions against the pools of a LocalChain."""

    def __init__(self, chain: LocalChain) -> None:
        super().__init__()
        self.chain = chain
        self._pools: dict[str, Pool] = {}
        self._fail_on_chain = 0
        self._simulation_errors: deque[dict[str, Any]] = deque()
        self.swaps: list[BuiltSwap] = []
        self.swap_requests: list[Any] = []  # each /swap POST body as parsed JSON (None when not JSON)

    def list_token(self, pool: Pool, price_sol: Decimal) -> None:
        """Quote and swap `pool`'s token against SOL at `price_sol` SOL per whole token."""
        self.set_price(str(pool.mint), price_sol, pool.decimals)
        with self._lock:
            self._pools[str(pool.mint)] = pool

    def move_price(self, mint: str, price_sol: Decimal) -> None:
        """Change the price swaps fill at (a quote taken before keeps its amounts: the fill moves from it)."""
        with self._lock:
            decimals = self._tokens[mint].decimals
        self.set_price(mint, price_sol, decimals)

    def fail_next_swap_on_chain(self, times: int = 1) -> None:
        """The next `times` swap transactions land but fail on chain (the fee is charged, nothing moves)."""
        with self._lock:
            self._fail_on_chain += times

    def simulation_error_next_swap(self, error: dict[str, Any] | None = None, times: int = 1) -> None:
        """The next `times` /swap answers carry a simulationError (the transaction is still returned)."""
        error = error or {"errorCode": "TRANSACTION_ERROR", "error": "Error processing Instruction 3: custom "
                                                                      "program error: 0x1771"}
        with self._lock:
            self._simulation_errors.extend([error] * times)

    def answer_post(self, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        """The response to one POST: injected, or a swap transaction built for the posted quote."""
        self._record_body(body)
        injected = self.injected_answer(raw_path, {}, headers)
        if injected is not None:
            return injected
        if raw_path != f"{API_PREFIX}/swap":
            return _json_answer(404, {"error": f"Route POST:{raw_path} not found"})
        try:
            request = json.loads(body)
            quote, wallet = request["quoteResponse"], Pubkey.from_string(request["userPublicKey"])
            in_amount, threshold = int(quote["inAmount"]), int(quote["otherAmountThreshold"])
            input_mint, output_mint, quoted_out = quote["inputMint"], quote["outputMint"], int(quote["outAmount"])
        except (ValueError, KeyError, TypeError) as error:
            return _json_answer(400, {"error": f"invalid swap request: {error}", "errorCode": "INVALID_REQUEST"})
        mint = output_mint if input_mint == SOL_MINT else input_mint
        with self._lock:
            pool, token = self._pools.get(mint), self._tokens.get(mint)
        if pool is None or token is None or (input_mint == SOL_MINT) == (output_mint == SOL_MINT):
            return _json_answer(400, {"error": "Could not find any route", "errorCode": "COULD_NOT_FIND_ANY_ROUTE"})
        buy = input_mint == SOL_MINT
        out = (tokens_out if buy else lamports_out)(in_amount, token.price_sol, token.decimals)
        return self._swap_answer(BuiltSwap(str(wallet), buy, in_amount, quoted_out, out,
                                           self._take_failure() or out < threshold, 0, 0), pool, request)

    def _record_body(self, body: bytes) -> None:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        with self._lock:
            self.swap_requests.append(parsed)

    def _take_failure(self) -> bool:
        with self._lock:
            if self._fail_on_chain:
                self._fail_on_chain -= 1
                return True
        return False

    def _swap_answer(self, swap: BuiltSwap, pool: Pool, request: dict[str, Any]) -> Answer:
        wallet = Pubkey.from_string(swap.wallet)
        self.chain.let_trade(pool, wallet)
        micro_lamports = _max_priority_lamports(request) * 10**6 // COMPUTE_UNIT_LIMIT
        priority_fee = -(-COMPUTE_UNIT_LIMIT * micro_lamports // 10**6)
        legs = (_buy_legs if swap.buy else _sell_legs)(wallet, pool, swap)
        instructions = [spl_token.set_compute_unit_limit(COMPUTE_UNIT_LIMIT),
                        spl_token.set_compute_unit_price(micro_lamports), *legs]
        blockhash, last_valid = self.chain.latest_blockhash()
        message = MessageV0.try_compile(wallet, instructions, [], blockhash)
        unsigned = VersionedTransaction.populate(message, [Signature.default()])
        with self._lock:
            self.swaps.append(replace(swap, priority_fee=priority_fee, last_valid_block_height=last_valid))
            simulation_error = self._simulation_errors.popleft() if self._simulation_errors else None
        return _json_answer(200, {
            "swapTransaction": base64.b64encode(bytes(unsigned)).decode(), "lastValidBlockHeight": last_valid,
            "prioritizationFeeLamports": priority_fee, "computeUnitLimit": COMPUTE_UNIT_LIMIT,
            "prioritizationType": {"computeBudget": {"microLamports": micro_lamports, "estimatedMicroLamports": 0}},
            "dynamicSlippageReport": None, "simulationError": simulation_error})


def _max_priority_lamports(request: dict[str, Any]) -> int:
    fee = request.get("prioritizationFeeLamports")
    if isinstance(fee, dict):
        return int(fee.get("priorityLevelWithMaxLamports", {}).get("maxLamports", 0))
    return int(fee) if isinstance(fee, int) else 0


def _buy_legs(wallet: Pubkey, pool: Pool, swap: BuiltSwap) -> list[Instruction]:
    delivered = FAILING_AMOUNT if swap.fails_on_chain else swap.out_amount
    return [transfer(TransferParams(from_pubkey=wallet, to_pubkey=pool.wsol_vault, lamports=swap.in_amount)),
            spl_token.sync_native(pool.wsol_vault),
            spl_token.create_ata_idempotent(wallet, wallet, pool.mint),
            spl_token.transfer_checked(pool.token_vault, pool.mint, spl_token.ata(wallet, pool.mint),
                                       pool.authority, delivered, pool.decimals, (wallet,))]


def _sell_legs(wallet: Pubkey, pool: Pool, swap: BuiltSwap) -> list[Instruction]:
    delivered = FAILING_AMOUNT if swap.fails_on_chain else swap.out_amount
    wsol = spl_token.ata(wallet, spl_token.NATIVE_MINT)
    return [spl_token.create_ata_idempotent(wallet, wallet, spl_token.NATIVE_MINT),
            spl_token.transfer_checked(spl_token.ata(wallet, pool.mint), pool.mint, pool.token_vault, wallet,
                                       swap.in_amount, pool.decimals),
            spl_token.transfer_checked(pool.wsol_vault, spl_token.NATIVE_MINT, wsol, pool.authority, delivered,
                                       spl_token.NATIVE_DECIMALS, (wallet,)),
            spl_token.close_account(wsol, wallet, wallet)]


class _SwapHandler(_Handler):
    """FakeJupiter's GET handler plus POST for /swap."""

    def do_POST(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        """Answer one POST."""
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, payload, extra = self.server.fake.answer_post(self.path, headers, body)  # type: ignore[attr-defined]
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


FakeJupiterSwap.handler_class = _SwapHandler
