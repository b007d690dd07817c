"""SPL Token, Associated Token Account and Compute Budget instructions and account images, built with solders.

solders 0.29 ships the account layouts (solders.token.state) but no SPL instruction builders, so the few
instructions the chain harness needs are encoded here from the SPL Token program's instruction layout.
"""

from __future__ import annotations

import struct

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM_PROGRAM_ID
from solders.token import ID as TOKEN_PROGRAM_ID
from solders.token.associated import get_associated_token_address
from solders.token.state import Mint, Multisig, TokenAccount, TokenAccountState

ASSOCIATED_TOKEN_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
COMPUTE_BUDGET_PROGRAM_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
NATIVE_DECIMALS = 9
TOKEN_ACCOUNT_LEN = 165
MINT_LEN = 82
MULTISIG_LEN = 355
MAX_MULTISIG_SIGNERS = 11

_TRANSFER_CHECKED, _CLOSE_ACCOUNT, _SYNC_NATIVE = 12, 9, 17
_CREATE_IDEMPOTENT = 1
_SET_CU_LIMIT, _SET_CU_PRICE = 2, 3


def ata(owner: Pubkey, mint: Pubkey) -> Pubkey:
    """The associated token account of `owner` for `mint`."""
    return get_associated_token_address(owner, mint)


def _meta(pubkey: Pubkey, signer: bool = False, writable: bool = False) -> AccountMeta:
    return AccountMeta(pubkey, is_signer=signer, is_writable=writable)


def transfer_checked(source: Pubkey, mint: Pubkey, destination: Pubkey, authority: Pubkey, amount: int,
                     decimals: int, multisig_signers: tuple[Pubkey, ...] = ()) -> Instruction:
    """SPL Token TransferChecked; `authority` is the owner, a delegate or a multisig (then name its signers)."""
    accounts = [_meta(source, writable=True), _meta(mint), _meta(destination, writable=True),
                _meta(authority, signer=not multisig_signers)]
    accounts += [_meta(signer, signer=True) for signer in multisig_signers]
    return Instruction(TOKEN_PROGRAM_ID, struct.pack("<BQB", _TRANSFER_CHECKED, amount, decimals), accounts)


def close_account(account: Pubkey, destination: Pubkey, owner: Pubkey) -> Instruction:
    """SPL Token CloseAccount: the account's lamports (for wrapped SOL: balance and rent) go to `destination`."""
    accounts = [_meta(account, writable=True), _meta(destination, writable=True), _meta(owner, signer=True)]
    return Instruction(TOKEN_PROGRAM_ID, bytes([_CLOSE_ACCOUNT]), accounts)


def sync_native(native_account: Pubkey) -> Instruction:
    """SPL Token SyncNative: a wrapped-SOL account's token amount catches up with lamports sent to it."""
    return Instruction(TOKEN_PROGRAM_ID, bytes([_SYNC_NATIVE]), [_meta(native_account, writable=True)])


def create_ata_idempotent(payer: Pubkey, owner: Pubkey, mint: Pubkey) -> Instruction:
    """Associated Token Account CreateIdempotent: creates owner's ATA for `mint` unless it already exists."""
    accounts = [_meta(payer, signer=True, writable=True), _meta(ata(owner, mint), writable=True), _meta(owner),
                _meta(mint), _meta(SYSTEM_PROGRAM_ID), _meta(TOKEN_PROGRAM_ID)]
    return Instruction(ASSOCIATED_TOKEN_PROGRAM_ID, bytes([_CREATE_IDEMPOTENT]), accounts)


def set_compute_unit_limit(units: int) -> Instruction:
    """Compute Budget SetComputeUnitLimit."""
    return Instruction(COMPUTE_BUDGET_PROGRAM_ID, struct.pack("<BI", _SET_CU_LIMIT, units), [])


def set_compute_unit_price(micro_lamports: int) -> Instruction:
    """Compute Budget SetComputeUnitPrice (micro-lamports per compute unit)."""
    return Instruction(COMPUTE_BUDGET_PROGRAM_ID, struct.pack("<BQ", _SET_CU_PRICE, micro_lamports), [])


def mint_account(decimals: int, supply: int, rent: int) -> Account:
    """An initialized mint with no mint or freeze authority (fixed supply)."""
    state = Mint(mint_authority=None, supply=supply, decimals=decimals, is_initialized=True, freeze_authority=None)
    return Account(lamports=rent, data=bytes(state), owner=TOKEN_PROGRAM_ID)


def token_account(mint: Pubkey, owner: Pubkey, amount: int, rent: int) -> Account:
    """An initialized token account; for the native mint the lamports hold the wrapped SOL as well as the rent."""
    native = mint == NATIVE_MINT
    state = TokenAccount(mint=mint, owner=owner, amount=amount, delegate=None, state=TokenAccountState.Initialized,
                         is_native=rent if native else None, delegated_amount=0, close_authority=None)
    return Account(lamports=rent + (amount if native else 0), data=bytes(state), owner=TOKEN_PROGRAM_ID)


def multisig_account(signers: list[Pubkey], rent: int) -> Account:
    """A 1-of-n SPL Token multisig: any one of `signers` (at most 11) may authorize for it alone."""
    if not 1 <= len(signers) <= MAX_MULTISIG_SIGNERS:
        raise ValueError(f"a multisig holds 1 to {MAX_MULTISIG_SIGNERS} signers")
    padded = signers + [Pubkey.default()] * (MAX_MULTISIG_SIGNERS - len(signers))
    state = Multisig(m=1, n=len(signers), is_initialized=True, signers=padded)
    return Account(lamports=rent, data=bytes(state), owner=TOKEN_PROGRAM_ID)


def parse_token_account(data: bytes) -> TokenAccount | None:
    """The token account state in `data`, or None when it is not a token account."""
    if len(data) != TOKEN_ACCOUNT_LEN:
        return None
    return TokenAccount.from_bytes(data)


def parse_mint(data: bytes) -> Mint | None:
    """The mint state in `data`, or None when it is not a mint."""
    return Mint.from_bytes(data) if len(data) == MINT_LEN else None
