"""Trading performance from closed positions: pure, exact figures (no database, no clock).

Definitions (the same for a wallet, a BUY workflow or, later, a backtest):

- A **trade** is one closed position. Its P&L is the position's realised P&L in SOL (what its sells
  received net of fees minus what the buy cost, fees included); partial sells count toward their position,
  not as trades of their own. Only closed positions count: an open position's partial sells wait until it closes.
- **win**: P&L > 0; **loss**: P&L < 0; a P&L of exactly 0 is **breakeven** (a trade, neither win nor loss).
- **win rate** = wins / trades x 100 (null without trades).
- **average win** = gross wins / wins; **average loss** = gross losses / losses (negative; null without losses).
  gross wins is the sum of the winning P&Ls, gross losses the (negative) sum of the losing ones.
- **profit factor** = gross wins / |gross losses| (null when there is no loss).
- **equity curve**: equity starts at `starting_equity` (0 unless the caller knows a balance) and adds each
  trade's P&L at its close, in order of (closed_at, position id) so ties are ordered deterministically.
- **maximum drawdown (SOL)** = the largest fall of equity below its running peak (the start counts as a peak);
  0 without trades or when equity never falls. **maximum drawdown (%)** = the largest (peak - equity) / peak
  x 100 over the points whose running peak is above 0; null when no peak is above 0 (e.g. a curve from 0 that
  never rises). The two maxima may fall at different points.
- **average holding time** = the mean of (closed_at - opened_at) over the trades, in seconds (null without trades).
- **exits by rule**: each SELL of a counted position, by the rule (or reason: `manual`, ...) that made it,
  with the number of such sells and the sum of their realised P&L; a sell without a rule counts as `unknown`.
- **P&L per day**: the trades' P&L summed by the UTC calendar day of their close (days without a close omitted).

Sums are exact `Decimal`s. Quotients are rounded half-even: SOL averages to 9 decimals (a lamport),
percentages and the profit factor to 4 decimals, the holding time to milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

SOL_PLACES = 9
RATIO_PLACES = 4
SECONDS_PLACES = 3
UNKNOWN_RULE = "unknown"
ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Exit:
    """One SELL of a position: the rule (or reason) that made it and its realised P&L in SOL."""

    rule: str | None
    realized_pnl_sol: Decimal


@dataclass(frozen=True)
class ClosedTrade:
    """A closed position: when it opened and closed, its realised P&L (SOL) and its sells."""

    position_id: str
    opened_at: datetime
    closed_at: datetime
    realized_pnl_sol: Decimal
    exits: tuple[Exit, ...] = ()


@dataclass(frozen=True)
class EquityPoint:
    """The equity after one trade closed."""

    at: datetime
    position_id: str
    pnl_sol: Decimal
    equity_sol: Decimal


@dataclass(frozen=True)
class RuleExits:
    """The sells one rule made and their summed realised P&L."""

    rule: str
    exits: int
    realized_pnl_sol: Decimal


@dataclass(frozen=True)
class DayPnl:
    """The trades closed on one UTC day and their summed P&L."""

    day: date
    trades: int
    realized_pnl_sol: Decimal


@dataclass(frozen=True)
class Drawdown:
    """Maximum drawdown of an equity curve: in SOL, and in percent of the running peak (None: no peak above 0)."""

    sol: Decimal
    pct: Decimal | None


@dataclass(frozen=True)
class Performance:
    """Every figure of the module docstring for one set of closed trades."""

    trades: int
    wins: int
    losses: int
    breakeven: int
    realized_pnl_sol: Decimal
    gross_win_sol: Decimal
    gross_loss_sol: Decimal
    win_rate_pct: Decimal | None
    avg_win_sol: Decimal | None
    avg_loss_sol: Decimal | None
    profit_factor: Decimal | None
    max_drawdown_sol: Decimal
    max_drawdown_pct: Decimal | None
    avg_holding_seconds: Decimal | None
    starting_equity_sol: Decimal
    equity_curve: tuple[EquityPoint, ...]
    exits_by_rule: tuple[RuleExits, ...]
    pnl_by_day: tuple[DayPnl, ...]


def summarize(trades: Iterable[ClosedTrade], starting_equity: Decimal = ZERO) -> Performance:
    """All performance figures of these closed trades, equity starting at `starting_equity` SOL."""
    ordered = ordered_trades(trades)
    pnls = [trade.realized_pnl_sol for trade in ordered]
    wins = [pnl for pnl in pnls if pnl > 0]
    losses = [pnl for pnl in pnls if pnl < 0]
    gross_win, gross_loss = sum(wins, ZERO), sum(losses, ZERO)
    curve = equity_curve(ordered, starting_equity)
    drawdown = max_drawdown([starting_equity] + [point.equity_sol for point in curve])
    return Performance(
        trades=len(pnls), wins=len(wins), losses=len(losses), breakeven=len(pnls) - len(wins) - len(losses),
        realized_pnl_sol=sum(pnls, ZERO), gross_win_sol=gross_win, gross_loss_sol=gross_loss,
        win_rate_pct=ratio(Decimal(len(wins)) * HUNDRED, len(pnls), RATIO_PLACES),
        avg_win_sol=ratio(gross_win, len(wins), SOL_PLACES), avg_loss_sol=ratio(gross_loss, len(losses), SOL_PLACES),
        profit_factor=ratio(gross_win, -gross_loss, RATIO_PLACES),
        max_drawdown_sol=drawdown.sol, max_drawdown_pct=drawdown.pct,
        avg_holding_seconds=average_holding_seconds(ordered), starting_equity_sol=starting_equity,
        equity_curve=curve, exits_by_rule=exits_by_rule(ordered), pnl_by_day=pnl_by_day(ordered))


def ordered_trades(trades: Iterable[ClosedTrade]) -> tuple[ClosedTrade, ...]:
    """The trades in order of close, ties by position id."""
    return tuple(sorted(trades, key=lambda trade: (trade.closed_at, trade.position_id)))


def ratio(numerator: Decimal, denominator: Decimal | int, places: int) -> Decimal | None:
    """numerator / denominator rounded half-even to `places` decimals; None when the denominator is 0."""
    if denominator == 0:
        return None
    with localcontext() as context:
        context.prec = 80
        return (numerator / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def equity_curve(ordered: Iterable[ClosedTrade], starting_equity: Decimal = ZERO) -> tuple[EquityPoint, ...]:
    """Equity after each trade, in the given order, from `starting_equity`."""
    equity, points = starting_equity, []
    for trade in ordered:
        equity += trade.realized_pnl_sol
        points.append(EquityPoint(trade.closed_at, trade.position_id, trade.realized_pnl_sol, equity))
    return tuple(points)


def max_drawdown(equities: Iterable[Decimal]) -> Drawdown:
    """The largest fall below the running peak of these equities (the first one is the start), in SOL and %."""
    peak: Decimal | None = None
    worst_sol, worst_pct = ZERO, None
    for equity in equities:
        peak = equity if peak is None else max(peak, equity)
        worst_sol = max(worst_sol, peak - equity)
        if peak > 0:
            pct = ratio((peak - equity) * HUNDRED, peak, RATIO_PLACES)
            worst_pct = pct if worst_pct is None else max(worst_pct, pct)
    return Drawdown(worst_sol, worst_pct)


def average_holding_seconds(trades: Iterable[ClosedTrade]) -> Decimal | None:
    """Mean of closed_at - opened_at in seconds (to the millisecond); None without trades."""
    micros = [_microseconds(trade.closed_at - trade.opened_at) for trade in trades]
    return ratio(Decimal(sum(micros)), len(micros) * 1_000_000, SECONDS_PLACES)


def _microseconds(held: timedelta) -> int:
    return (held.days * 86_400 + held.seconds) * 1_000_000 + held.microseconds


def exits_by_rule(trades: Iterable[ClosedTrade]) -> tuple[RuleExits, ...]:
    """Every sell of these trades by rule (None as `unknown`): count and summed P&L, ordered by rule."""
    counts: dict[str, int] = {}
    pnls: dict[str, Decimal] = {}
    for trade in trades:
        for sell in trade.exits:
            rule = sell.rule or UNKNOWN_RULE
            counts[rule] = counts.get(rule, 0) + 1
            pnls[rule] = pnls.get(rule, ZERO) + sell.realized_pnl_sol
    return tuple(RuleExits(rule, counts[rule], pnls[rule]) for rule in sorted(counts))


def pnl_by_day(trades: Iterable[ClosedTrade]) -> tuple[DayPnl, ...]:
    """The trades' P&L summed by UTC day of close, oldest day first."""
    counts: dict[date, int] = {}
    pnls: dict[date, Decimal] = {}
    for trade in trades:
        day = trade.closed_at.astimezone(UTC).date()
        counts[day] = counts.get(day, 0) + 1
        pnls[day] = pnls.get(day, ZERO) + trade.realized_pnl_sol
    return tuple(DayPnl(day, counts[day], pnls[day]) for day in sorted(counts))
