"""Paper execution arithmetic (pure, exact integers): fees and fills in lamports and raw token units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.core.solana import LAMPORTS_PER_SOL

BPS = 10_000


@dataclass(frozen=True)
class BuyFill:
    """A paper buy: SOL debited (incl. fee), fee, SOL swapped, tokens received, entry price."""

    total_lamports: int
    fee_lamports: int
    swap_lamports: int
    tokens_raw: int
    price_sol: Decimal


@dataclass(frozen=True)
class SellFill:
    """A paper sell: tokens sold, SOL out of the swap, fee, SOL credited, price."""

    tokens_raw: int
    gross_lamports: int
    fee_lamports: int
    net_lamports: int
    price_sol: Decimal


def fee_lamports(lamports: int, fee_bps: int) -> int:
    """The fee on a SOL amount, rounded up to the lamport (never in the trader's favour)."""
    return -(-lamports * fee_bps // BPS)


def buy_swap_lamports(total_lamports: int, fee_bps: int) -> tuple[int, int]:
    """Split a buy's SOL into (fee, SOL that goes into the swap)."""
    fee = fee_lamports(total_lamports, fee_bps)
    return fee, total_lamports - fee


def price_per_token(lamports: int, tokens_raw: int, decimals: int) -> Decimal:
    """SOL per whole token implied by a swap."""
    return (Decimal(lamports) / LAMPORTS_PER_SOL) / (Decimal(tokens_raw) / (Decimal(10) ** decimals))


def buy_fill(total_lamports: int, fee_bps: int, tokens_raw: int, decimals: int) -> BuyFill:
    """The buy, given the tokens the quote returns for the post-fee SOL."""
    fee, swap = buy_swap_lamports(total_lamports, fee_bps)
    return BuyFill(total_lamports, fee, swap, tokens_raw, price_per_token(swap, tokens_raw, decimals))


def sell_fill(tokens_raw: int, gross_lamports: int, fee_bps: int, decimals: int) -> SellFill:
    """The sell, given the SOL the quote returns for the tokens; the fee comes off the SOL."""
    fee = fee_lamports(gross_lamports, fee_bps)
    price = price_per_token(gross_lamports, tokens_raw, decimals) if gross_lamports else Decimal(0)
    return SellFill(tokens_raw, gross_lamports, fee, gross_lamports - fee, price)


def tokens_for_lamports(lamports: int, price_sol: Decimal, decimals: int) -> int:
    """Raw tokens bought with lamports at price_sol per whole token (floored, exact integer arithmetic)."""
    numerator, denominator = price_sol.as_integer_ratio()
    return lamports * 10**decimals * denominator // (numerator * LAMPORTS_PER_SOL)


def lamports_for_tokens(tokens_raw: int, price_sol: Decimal, decimals: int) -> int:
    """Lamports received for raw tokens at price_sol per whole token (floored, exact integer arithmetic)."""
    numerator, denominator = price_sol.as_integer_ratio()
    return tokens_raw * numerator * LAMPORTS_PER_SOL // (denominator * 10**decimals)
