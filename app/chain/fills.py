"""What a landed swap actually did to one wallet, read from getTransaction (pure, no I/O but `fetch_fill`).

Identities, exact to the lamport (`net` = the SOL side of the swap itself, signed from the wallet's view):

    net = sol_change_lamports + fee_lamports + rent_lamports - rent_reclaimed_lamports
    swap_lamports = |net|
    buy  (net < 0, SOL left):     -sol_change_lamports = swap_lamports + fee_lamports + rent_lamports
                                                         - rent_reclaimed_lamports
    sell (net >= 0, SOL came in):  sol_change_lamports = swap_lamports - fee_lamports - rent_lamports
                                                         + rent_reclaimed_lamports

- sol_change_lamports: the wallet's lamports after minus before (every effect: swap, fee, rent).
- fee_lamports: meta.fee when the wallet is the fee payer (first account key), else 0.
- rent_lamports: lamports put into wallet-owned token accounts the transaction created (not a token account
  before, one after): each one's lamports after, minus its wrapped SOL for the native mint, minus any lamports
  the address already held (2,039,280 for a new ATA).
  An account created and closed within the transaction (Jupiter's temporary wrapped SOL) nets out and is 0.
- rent_reclaimed_lamports: lamports of wallet-owned token accounts the transaction closed (a token account
  before, none after), minus their wrapped SOL for the native mint and anything left at the address; 0 when none.
- token_change_raw: the wallet's balance of `mint` after minus before, summed over its token accounts in
  pre/postTokenBalances (by owner and mint), in raw units.
A failed transaction moves nothing but the fee: sol_change = -fee, swap = rent = token change = 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.chain.rpc import SolanaRpcClient

NATIVE_MINT = "So11111111111111111111111111111111111111112"


class FillUnreadable(ValueError):
    """A getTransaction answer without what a fill needs (meta, balances, the wallet among its accounts)."""


@dataclass(frozen=True)
class ChainFill:
    """What one landed transaction did to a wallet's SOL and to its balance of one mint (see the module doc)."""

    signature: str
    slot: int
    error: str | None
    fee_lamports: int
    sol_change_lamports: int
    rent_lamports: int
    swap_lamports: int
    token_change_raw: int
    decimals: int | None
    rent_reclaimed_lamports: int = 0
    block_time: int | None = None


@dataclass(frozen=True)
class _TokenAccount:
    """One wallet-owned token account's lamports and raw amounts around the transaction."""

    mint: str
    pre_lamports: int
    post_lamports: int
    pre_amount: int | None  # None: not a token account before
    post_amount: int | None  # None: not a token account after


def fill_from_transaction(tx: dict[str, Any], wallet: str, mint: str) -> ChainFill:
    """The fill of `wallet` in `mint` from a getTransaction answer (json or jsonParsed); FillUnreadable otherwise."""
    try:
        return _fill(tx, wallet, mint)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        if isinstance(error, FillUnreadable):
            raise
        raise FillUnreadable(f"getTransaction answer unreadable: {error!r}") from None


def fetch_fill(rpc: SolanaRpcClient, signature: str, wallet: str, mint: str) -> ChainFill | None:
    """The fill of `wallet` in `mint` by the transaction `signature`; None when the node does not have it yet."""
    tx = rpc.get_transaction(signature)
    return None if tx is None else fill_from_transaction(tx, wallet, mint)


def _fill(tx: dict[str, Any], wallet: str, mint: str) -> ChainFill:
    """The fill, letting malformed input raise KeyError/IndexError/TypeError/ValueError."""
    meta, keys = tx["meta"], account_keys(tx)
    if wallet not in keys:
        raise FillUnreadable(f"the wallet {wallet} is not among the transaction's accounts")
    index = keys.index(wallet)
    fee = int(meta["fee"]) if index == 0 else 0
    sol_change = int(meta["postBalances"][index]) - int(meta["preBalances"][index])
    accounts = _wallet_token_accounts(meta, wallet)
    rent, reclaimed = _rent_paid(accounts), _rent_reclaimed(accounts)
    err = meta.get("err")
    return ChainFill(
        signature=str(tx["transaction"]["signatures"][0]), slot=int(tx["slot"]),
        error=None if err is None else json.dumps(err, sort_keys=True), fee_lamports=fee,
        sol_change_lamports=sol_change, rent_lamports=rent,
        swap_lamports=abs(sol_change + fee + rent - reclaimed),
        token_change_raw=_token_change(accounts, mint), decimals=_decimals(meta, mint),
        rent_reclaimed_lamports=reclaimed, block_time=tx.get("blockTime"))


def account_keys(tx: dict[str, Any]) -> list[str]:
    """Every account of the transaction in index order: its static keys, then loaded writable, loaded readonly."""
    static = tx["transaction"]["message"]["accountKeys"]
    if static and isinstance(static[0], dict):  # jsonParsed already lists the loaded addresses
        return [str(entry["pubkey"]) for entry in static]
    loaded = tx["meta"].get("loadedAddresses") or {}
    return [str(key) for key in [*static, *loaded.get("writable", []), *loaded.get("readonly", [])]]


def _wallet_token_accounts(meta: dict[str, Any], wallet: str) -> list[_TokenAccount]:
    """The wallet-owned token accounts seen before or after the transaction."""
    pre = _owned_amounts(meta.get("preTokenBalances"), wallet)
    post = _owned_amounts(meta.get("postTokenBalances"), wallet)
    accounts = []
    for index in sorted(pre.keys() | post.keys()):
        mint = (pre.get(index) or post[index])[0]
        accounts.append(_TokenAccount(mint, int(meta["preBalances"][index]), int(meta["postBalances"][index]),
                                      pre[index][1] if index in pre else None,
                                      post[index][1] if index in post else None))
    return accounts


def _owned_amounts(entries: list[dict[str, Any]] | None, wallet: str) -> dict[int, tuple[str, int]]:
    """{account index: (mint, raw amount)} of the token balance entries the wallet owns."""
    return {int(entry["accountIndex"]): (str(entry["mint"]), int(entry["uiTokenAmount"]["amount"]))
            for entry in entries or [] if entry.get("owner") == wallet}


def _rent_paid(accounts: list[_TokenAccount]) -> int:
    """Rent the wallet put into token accounts the transaction created and left open."""
    return sum(_rent_part(account.mint, account.post_lamports, account.post_amount or 0) - account.pre_lamports
               for account in accounts if account.pre_amount is None and account.post_amount is not None)


def _rent_reclaimed(accounts: list[_TokenAccount]) -> int:
    """Rent returned by token accounts the transaction closed."""
    return sum(_rent_part(account.mint, account.pre_lamports, account.pre_amount or 0) - account.post_lamports
               for account in accounts if account.pre_amount is not None and account.post_amount is None)


def _rent_part(mint: str, lamports: int, amount: int) -> int:
    """The rent in a token account's lamports (a wrapped-SOL account's lamports also hold its amount)."""
    return lamports - amount if mint == NATIVE_MINT else lamports


def _token_change(accounts: list[_TokenAccount], mint: str) -> int:
    """The wallet's raw balance change of `mint` across its token accounts."""
    return sum((account.post_amount or 0) - (account.pre_amount or 0) for account in accounts if account.mint == mint)


def _decimals(meta: dict[str, Any], mint: str) -> int | None:
    """The mint's decimals from any token balance entry for it, else None."""
    for entry in [*(meta.get("preTokenBalances") or []), *(meta.get("postTokenBalances") or [])]:
        if entry.get("mint") == mint:
            return int(entry["uiTokenAmount"]["decimals"])
    return None
