"""A local Solana chain for tests: real signed v0 transactions executed by LiteSVM, with blocks and failures we control.

What solders 0.29's `solders.litesvm.LiteSVM` is (learned by running it, the facts the harness relies on):
- `LiteSVM()` comes with the builtins, sysvars and the SPL Token, Token-2022, Associated Token Account,
  Memo and Compute Budget programs loaded. It has no blocks: `latest_blockhash()` is one arbitrary hash, and
  `send_transaction` only accepts that one unless `with_blockhash_check(False)`; this harness turns the check
  off and enforces Solana's 150-block window itself (`lastValidBlockHeight = height at issue + 150`).
- `send_transaction(tx)` executes at once (a buy or sell swap takes well under a millisecond after the first)
  and returns `TransactionMetadata` or `FailedTransactionMetadata`; it never raises for a failed transaction.
  In 0.29 the fields are methods: `meta.fee()`, `meta.logs()`, `meta.signature()`,
  `meta.compute_units_consumed()`, `failed.err()`, `failed.meta()`. `failed.to_json()` carries the error
  already in RPC JSON form, e.g. {"InstructionError": [1, {"Custom": 1}]} or "AlreadyProcessed".
- Signatures, fees and rent are real: 5,000 lamports per signature plus the priority fee
  (compute-unit limit x price / 10^6, rounded up); a failed instruction rolls every change back except the
  fee, which is charged; a bad signature fails with "SignatureFailure" and charges nothing.
- Metadata has no pre/post balances: the harness snapshots the message's accounts around each execution.
- Without `with_blockhash_check(False)` a random hash, or the previous latest one after `expire_blockhash()`,
  fails with "BlockhashNotFound".
- Sending SOL that leaves a new system account below its rent-exempt minimum (890,880 lamports for 0 bytes)
  fails with {"InsufficientFundsForRent": {"account_index": i}} and charges the fee, as on mainnet.
- Transaction history is on by default: sending the same transaction again fails with "AlreadyProcessed".
- `airdrop(address, lamports)` pays from an internal account holding 10^15 lamports (`with_lamports` changes
  it); a larger airdrop returns FailedTransactionMetadata instead of raising, and amounts >= 2^64 raise
  OverflowError. The harness funds with `set_account` instead (exact, no fee).
- The native SOL mint account (So111...112) does not exist until `set_account` writes it.
- Rent-exempt minimums: token account (165 bytes) 2,039,280; mint (82) 1,461,600; multisig (355) 3,361,680.
- The Clock sysvar starts at slot 435,888,000 with unix_timestamp 0; the harness keeps its own slots.
- solders has the token account layouts (solders.token.state: Mint, TokenAccount, Multisig; `bytes(state)`
  packs, `from_bytes` parses) but no SPL instruction builders: see tests/fakes/spl_token.py.

Design: one pool per token. Its token vault and its wrapped-SOL vault are owned by a 1-of-n SPL Token
multisig whose signers are the traders' wallets (written with set_account, up to 11), so a swap transaction
moves tokens and wrapped SOL out of the pool with the wallet as its only signer.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from solders.account import Account
from solders.hash import Hash
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.token import ID as TOKEN_PROGRAM_ID
from solders.token.state import Multisig
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

from tests.fakes import spl_token

BLOCKHASH_WINDOW = 150  # a blockhash is valid while the block height is at most its issue height + 150
FIRST_BLOCK_HEIGHT = 300_000_000
SLOT_OFFSET = 17_000_000  # slots run ahead of block heights (skipped slots), so mixing them up shows in tests
GENESIS_UNIX_TIME = 1_790_000_000
FINALIZED_AFTER = 32  # blocks on top of a transaction's block before it reads "finalized"


class RpcError(Exception):
    """A JSON-RPC error the node answers instead of a result (code, message, optional data)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


@dataclass(frozen=True)
class Pool:
    """A token's liquidity: a token vault and a wrapped-SOL vault, both owned by `authority` (a multisig)."""

    mint: Pubkey
    decimals: int
    authority: Pubkey
    token_vault: Pubkey
    wsol_vault: Pubkey


@dataclass(frozen=True)
class Landed:
    """A transaction included in a block, with what getTransaction reports about it."""

    tx: VersionedTransaction
    slot: int
    block_height: int
    err: Any
    fee: int
    logs: list[str]
    compute_units: int
    pre_balances: list[int]
    post_balances: list[int]
    pre_token_balances: list[dict[str, Any]]
    post_token_balances: list[dict[str, Any]]

    @property
    def block_time(self) -> int:
        """Unix time of the transaction's block (0.4 s per slot)."""
        return GENESIS_UNIX_TIME + (self.slot * 2) // 5


def ui_token_amount(amount: int, decimals: int) -> dict[str, Any]:
    """The RPC's uiTokenAmount object for a raw amount."""
    text = str(amount).rjust(decimals + 1, "0")
    ui_string = f"{text[:-decimals]}.{text[-decimals:]}".rstrip("0").rstrip(".") if decimals else text
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(ui_string),
            "uiAmountString": ui_string}


def _blockhash_for(height: int) -> Hash:
    return Hash(hashlib.sha256(f"local-chain-block-{height}".encode()).digest())


class LocalChain:
    """LiteSVM plus blocks: a block height, a blockhash per block, delayed and dropped sends, statuses."""

    def __init__(self) -> None:
        self.svm = LiteSVM().with_blockhash_check(False)
        self._lock = threading.RLock()
        self.block_height = FIRST_BLOCK_HEIGHT
        self._blockhash_heights: dict[Hash, int] = {_blockhash_for(self.block_height): self.block_height}
        self._pending: dict[str, tuple[int, VersionedTransaction]] = {}
        self._landed: dict[str, Landed] = {}
        self._drop_sends = 0
        self._landing_delay = 0
        self.sends_received = 0
        self._set(spl_token.NATIVE_MINT, spl_token.mint_account(spl_token.NATIVE_DECIMALS, 0, self.rent(82)))

    # -- setup ---------------------------------------------------------------------------------------

    def rent(self, size: int) -> int:
        """Rent-exempt minimum of an account of `size` bytes."""
        return self.svm.minimum_balance_for_rent_exemption(size)

    def _set(self, address: Pubkey, account: Account) -> None:
        with self._lock:
            self.svm.set_account(address, account)

    def fund(self, address: Pubkey, lamports: int) -> None:
        """Add `lamports` to a system account (created when missing)."""
        with self._lock:
            current = self.balance(address)
            self._set(address, Account(lamports=current + lamports, data=b"", owner=SYSTEM_PROGRAM_ID))

    def create_mint(self, decimals: int, supply: int = 10**18) -> Pubkey:
        """A new fixed-supply token mint."""
        mint = Pubkey.new_unique()
        self._set(mint, spl_token.mint_account(decimals, supply, self.rent(spl_token.MINT_LEN)))
        return mint

    def create_pool(self, mint: Pubkey, tokens: int, lamports: int) -> Pool:
        """A pool holding `tokens` raw units of `mint` and `lamports` of wrapped SOL."""
        authority, token_vault, wsol_vault = Pubkey.new_unique(), Pubkey.new_unique(), Pubkey.new_unique()
        account_rent = self.rent(spl_token.TOKEN_ACCOUNT_LEN)
        self._set(authority, spl_token.multisig_account([Pubkey.new_unique()], self.rent(spl_token.MULTISIG_LEN)))
        self._set(token_vault, spl_token.token_account(mint, authority, tokens, account_rent))
        self._set(wsol_vault, spl_token.token_account(spl_token.NATIVE_MINT, authority, lamports, account_rent))
        return Pool(mint, self.mint_decimals(mint), authority, token_vault, wsol_vault)

    def let_trade(self, pool: Pool, wallet: Pubkey) -> None:
        """Make `wallet` one of the pool authority's signers, so it alone can draw on the pool's vaults."""
        with self._lock:
            account = self.svm.get_account(pool.authority)
            others = [signer for signer in _multisig_signers(account.data) if signer != wallet]
            signers = others[-(spl_token.MAX_MULTISIG_SIGNERS - 1):]  # the oldest traders drop out past 11
            self._set(pool.authority, spl_token.multisig_account([*signers, wallet], account.lamports))

    def set_token_amount(self, token_account: Pubkey, amount: int) -> None:
        """Overwrite a (non-native) token account's balance, e.g. to drain a pool vault."""
        with self._lock:
            state = spl_token.parse_token_account(self.svm.get_account(token_account).data)
            self._set(token_account, spl_token.token_account(state.mint, state.owner, amount,
                                                             self.rent(spl_token.TOKEN_ACCOUNT_LEN)))

    # -- controls ------------------------------------------------------------------------------------

    def drop_next_sends(self, count: int) -> None:
        """The next `count` sendTransaction calls answer the signature but the transaction never lands."""
        with self._lock:
            self._drop_sends += count

    def stop_dropping_sends(self) -> None:
        """Sends land again (cancels what drop_next_sends asked for)."""
        with self._lock:
            self._drop_sends = 0

    def delay_landing(self, blocks: int) -> None:
        """From now on a received transaction lands `blocks` blocks later (0: in the block it arrives)."""
        with self._lock:
            self._landing_delay = blocks

    def advance_blocks(self, count: int = 1) -> None:
        """Produce `count` blocks: each gets a new blockhash and lands the pending transactions now due."""
        with self._lock:
            for _ in range(count):
                self.block_height += 1
                self._blockhash_heights[_blockhash_for(self.block_height)] = self.block_height
                self._land_due()

    # -- reads ---------------------------------------------------------------------------------------

    @property
    def slot(self) -> int:
        """The current slot (ahead of the block height by a constant)."""
        return self.block_height + SLOT_OFFSET

    def latest_blockhash(self) -> tuple[Hash, int]:
        """(the current block's hash, the last block height at which a transaction using it can land)."""
        with self._lock:
            return _blockhash_for(self.block_height), self.block_height + BLOCKHASH_WINDOW

    def balance(self, address: Pubkey) -> int:
        """Lamports held by `address` (0 when the account does not exist)."""
        with self._lock:
            return self.svm.get_balance(address) or 0

    def account(self, address: Pubkey) -> Account | None:
        """The account at `address`, if any."""
        with self._lock:
            return self.svm.get_account(address)

    def token_amount(self, token_account: Pubkey) -> int | None:
        """Raw token units in a token account (None when it does not exist or is not a token account)."""
        account = self.account(token_account)
        state = spl_token.parse_token_account(account.data) if account is not None else None
        return None if state is None else state.amount

    def mint_decimals(self, mint: Pubkey) -> int:
        """Decimals of an existing mint."""
        account = self.account(mint)
        state = spl_token.parse_mint(account.data) if account is not None else None
        if state is None:
            raise KeyError(f"{mint} is not a mint")
        return state.decimals

    def landed(self, signature: str) -> Landed | None:
        """The transaction with this signature if it landed in a block."""
        with self._lock:
            return self._landed.get(signature)

    def status(self, signature: str) -> dict[str, Any] | None:
        """getSignatureStatuses' entry for one signature (None: unknown, pending or dropped)."""
        with self._lock:
            landed = self._landed.get(signature)
            if landed is None:
                return None
            depth = self.block_height - landed.block_height
        finalized = depth >= FINALIZED_AFTER
        return {"slot": landed.slot, "confirmations": None if finalized else depth, "err": landed.err,
                "status": {"Ok": None} if landed.err is None else {"Err": landed.err},
                "confirmationStatus": "finalized" if finalized else "confirmed"}

    # -- sending -------------------------------------------------------------------------------------

    def send(self, raw: bytes, skip_preflight: bool = False) -> str:
        """sendTransaction: the signature; the transaction lands now, later, or never (expired, dropped)."""
        tx = _decode(raw)
        signature = str(tx.signatures[0])
        with self._lock:
            self.sends_received += 1
            if self._drop_sends:
                self._drop_sends -= 1
                return signature
            if not skip_preflight:
                self._preflight(tx, signature)
            if signature not in self._landed and signature not in self._pending:
                self._pending[signature] = (self.block_height + self._landing_delay, tx)
                self._land_due()
        return signature

    def _preflight(self, tx: VersionedTransaction, signature: str) -> None:
        if signature in self._landed:
            raise _simulation_failed("This transaction has already been processed", "AlreadyProcessed", [])
        if not self._blockhash_valid(tx):
            raise _simulation_failed("Blockhash not found", "BlockhashNotFound", [])
        result = self.svm.simulate_transaction(tx)
        if isinstance(result, FailedTransactionMetadata):
            err = json.loads(result.to_json())["err"]
            raise _simulation_failed(_describe(err), err, result.meta().logs())

    def _blockhash_valid(self, tx: VersionedTransaction) -> bool:
        issued = self._blockhash_heights.get(tx.message.recent_blockhash)
        return issued is not None and self.block_height <= issued + BLOCKHASH_WINDOW

    def _land_due(self) -> None:
        due = [s for s, (height, _) in self._pending.items() if height <= self.block_height]
        for signature in due:
            _, tx = self._pending.pop(signature)
            if self._blockhash_valid(tx) and signature not in self._landed:
                self._execute(signature, tx)

    def _execute(self, signature: str, tx: VersionedTransaction) -> None:
        keys = list(tx.message.account_keys)
        pre_lamports, pre_tokens = self._lamports(keys), self._token_balances(keys)
        result = self.svm.send_transaction(tx)
        failed = isinstance(result, FailedTransactionMetadata)
        err = json.loads(result.to_json())["err"] if failed else None
        if isinstance(err, str):
            return  # a fieldless error (AlreadyProcessed, InsufficientFundsForFee, ...): rejected, not in a block
        meta = result.meta() if failed else result
        post_lamports = self._lamports(keys)
        self._landed[signature] = Landed(
            tx=tx, slot=self.slot, block_height=self.block_height, err=err, fee=meta.fee(), logs=list(meta.logs()),
            compute_units=meta.compute_units_consumed(), pre_balances=pre_lamports, post_balances=post_lamports,
            pre_token_balances=pre_tokens, post_token_balances=self._token_balances(keys))

    def _lamports(self, keys: list[Pubkey]) -> list[int]:
        return [self.balance(key) for key in keys]

    def _token_balances(self, keys: list[Pubkey]) -> list[dict[str, Any]]:
        balances = []
        for index, key in enumerate(keys):
            account = self.svm.get_account(key)
            if account is None or account.owner != TOKEN_PROGRAM_ID:
                continue
            state = spl_token.parse_token_account(account.data)
            if state is not None:
                balances.append({"accountIndex": index, "mint": str(state.mint), "owner": str(state.owner),
                                 "programId": str(TOKEN_PROGRAM_ID),
                                 "uiTokenAmount": ui_token_amount(state.amount, self.mint_decimals(state.mint))})
        return balances


def _multisig_signers(data: bytes) -> list[Pubkey]:
    state = Multisig.from_bytes(data)
    return list(state.signers)[: state.n]


def _decode(raw: bytes) -> VersionedTransaction:
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except (ValueError, TypeError) as error:
        raise RpcError(-32602, f"invalid transaction: failed to deserialize VersionedTransaction: {error}") from None
    if not all(tx.verify_with_results()):
        raise RpcError(-32003, "Transaction signature verification failure")
    return tx


def _describe(err: Any) -> str:
    if isinstance(err, dict) and "InstructionError" in err:
        index, detail = err["InstructionError"]
        if isinstance(detail, dict) and "Custom" in detail:
            return f"Error processing Instruction {index}: custom program error: {hex(detail['Custom'])}"
        return f"Error processing Instruction {index}: {detail}"
    return str(err)


def _simulation_failed(reason: str, err: Any, logs: list[str]) -> RpcError:
    return RpcError(-32002, f"Transaction simulation failed: {reason}",
                    {"err": err, "logs": logs, "accounts": None, "unitsConsumed": 0, "returnData": None})

