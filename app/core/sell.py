"""SELL decisions (SPEC §5) as pure functions: position, price and time in; exit decision with its values out.

Rules are OR-combined in chain order and the first that holds fires:
stop_loss when change_from_entry_pct <= percent, trailing_stop when change_from_peak_pct <= percent,
take_profit when change_from_entry_pct >= percent, timeout when minutes_since_open >= minutes.
A rule that already fired on the position never fires again, so take-profit ladders work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from app.core.chains import RuleType, SellChain, SellRule
from app.core.solana import LAMPORTS_PER_SOL

HUNDRED = Decimal(100)
_PCT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class PositionState:
    """What a sell check needs of an open position."""

    entry_price_sol: Decimal
    peak_price_sol: Decimal
    opened_at: datetime
    tokens_raw: int
    fired_rules: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Measures:
    """The trigger values at one check (the peak already raised to the current price if exceeded)."""

    price_sol: Decimal
    peak_price_sol: Decimal
    change_from_entry_pct: Decimal
    change_from_peak_pct: Decimal
    minutes_since_open: Decimal

    def as_dict(self) -> dict[str, str]:
        """JSON-friendly trigger values for logs (percentages and minutes to 4 decimals)."""
        out = {"price_sol": str(self.price_sol), "peak_price_sol": str(self.peak_price_sol)}
        for name in ("change_from_entry_pct", "change_from_peak_pct", "minutes_since_open"):
            out[name] = str(getattr(self, name).quantize(_PCT_PLACES))
        return out


@dataclass(frozen=True)
class ExitDecision:
    """Which rule fires (None: hold), how much of the held tokens to sell, and the values compared."""

    measures: Measures
    rule: SellRule | None = None
    rule_key: str | None = None
    sell_pct: Decimal | None = None
    tokens_to_sell: int = 0


@lru_cache(maxsize=4096)
def rule_key(rule: SellRule) -> str:
    """A stable identity of a rule, recorded on the position when it fires (rules are frozen: computed once)."""
    threshold = rule.minutes if rule.type is RuleType.TIMEOUT else rule.percent
    sell_pct = _plain(rule.sell_pct) if rule.sell_pct is not None else "-"
    return f"{rule.type.value}:{_plain(threshold)}:{sell_pct}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def measure(position: PositionState, price_sol: Decimal, now: datetime) -> Measures:
    """Change from entry and from the (raised) peak in percent, and minutes since the position opened."""
    peak = max(position.peak_price_sol, price_sol)
    from_entry = (price_sol - position.entry_price_sol) / position.entry_price_sol * HUNDRED
    from_peak = (price_sol - peak) / peak * HUNDRED
    elapsed = now - position.opened_at
    minutes = (Decimal(elapsed.days * 86_400 + elapsed.seconds) + Decimal(elapsed.microseconds) / 1_000_000) / 60
    return Measures(price_sol, peak, from_entry, from_peak, minutes)


def rule_holds(rule: SellRule, m: Measures) -> bool:
    """Whether one rule's condition is met by the measures."""
    if rule.type is RuleType.STOP_LOSS:
        return m.change_from_entry_pct <= rule.percent
    if rule.type is RuleType.TRAILING_STOP:
        return m.change_from_peak_pct <= rule.percent
    if rule.type is RuleType.TAKE_PROFIT:
        return m.change_from_entry_pct >= rule.percent
    return m.minutes_since_open >= rule.minutes


def tokens_to_sell(tokens_raw: int, sell_pct: Decimal) -> int:
    """Raw tokens for sell_pct of the held amount (all of it at 100 %; at least one raw unit; exact integers)."""
    if tokens_raw <= 0:
        return 0
    if sell_pct >= HUNDRED:
        return tokens_raw
    numerator, denominator = sell_pct.as_integer_ratio()
    return max(1, min(tokens_raw, tokens_raw * numerator // (denominator * 100)))


def should_exit(chain: SellChain, default_sell_pct: Decimal, position: PositionState, price_sol: Decimal,
                now: datetime) -> ExitDecision:
    """The first rule (in chain order) that holds and has not fired on this position yet, or hold."""
    measures = measure(position, price_sol, now)
    for rule in chain.rules:
        key = rule_key(rule)
        if key in position.fired_rules or not rule_holds(rule, measures):
            continue
        pct = rule.sell_pct if rule.sell_pct is not None else default_sell_pct
        return ExitDecision(measures, rule, key, pct, tokens_to_sell(position.tokens_raw, pct))
    return ExitDecision(measures)


def realized_pnl(sol_spent: Decimal, initial_tokens_raw: int, tokens_sold: int, tokens_left: int,
                 net_received: Decimal, received_before: Decimal, realized_before: Decimal) -> Decimal:
    """Cumulative realised P&L after a sell: exact (received - spent) once closed, pro-rata cost before."""
    if tokens_left == 0:
        return received_before + net_received - sol_spent
    spent_lamports = int(sol_spent * LAMPORTS_PER_SOL)
    cost = Decimal(spent_lamports * tokens_sold // initial_tokens_raw) / LAMPORTS_PER_SOL
    return realized_before + net_received - cost


def open_pnl(sol_spent: Decimal, initial_tokens_raw: int, tokens_raw: int, decimals: int,
             last_price_sol: Decimal | None) -> dict[str, Decimal | None]:
    """Cost basis, market value and unrealised P&L of the tokens still held (None without a price)."""
    cost = sol_spent * tokens_raw / initial_tokens_raw if initial_tokens_raw else Decimal(0)
    if last_price_sol is None:
        return {"cost_basis_sol": cost, "market_value_sol": None, "unrealized_pnl_sol": None}
    value = Decimal(tokens_raw) / (Decimal(10) ** decimals) * last_price_sol
    return {"cost_basis_sol": cost, "market_value_sol": value, "unrealized_pnl_sol": value - cost}
