"""Performance figures (app/core/performance.py) from hand-made closed trades: every figure, every edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal as D  # noqa: N817 - the tables read better

import pytest

from app.core.performance import (
    ClosedTrade,
    DayPnl,
    Exit,
    RuleExits,
    average_holding_seconds,
    max_drawdown,
    ratio,
    summarize,
)

T0 = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)


def trade(pid: str, pnl: str, closed_min: float, held_min: float = 10, exits=None) -> ClosedTrade:
    """A closed position `pid` of P&L `pnl`, closed closed_min minutes after T0 and held held_min minutes."""
    closed = T0 + timedelta(minutes=closed_min)
    sells = tuple(Exit(rule, D(value)) for rule, value in (exits or [("take_profit", pnl)]))
    return ClosedTrade(pid, closed - timedelta(minutes=held_min), closed, D(pnl), sells)


def test_no_trades():
    perf = summarize([])
    assert (perf.trades, perf.wins, perf.losses, perf.breakeven) == (0, 0, 0, 0)
    assert perf.realized_pnl_sol == perf.gross_win_sol == perf.gross_loss_sol == perf.max_drawdown_sol == 0
    assert perf.win_rate_pct is perf.avg_win_sol is perf.avg_loss_sol is perf.profit_factor is None
    assert perf.max_drawdown_pct is None and perf.avg_holding_seconds is None
    assert perf.equity_curve == perf.exits_by_rule == perf.pnl_by_day == ()


def test_no_trades_from_a_balance_has_zero_drawdown_pct():
    assert summarize([], D("10")).max_drawdown_pct == 0


def test_only_wins():
    perf = summarize([trade("a", "0.1", 1), trade("b", "0.3", 2)])
    assert (perf.trades, perf.wins, perf.losses) == (2, 2, 0)
    assert perf.win_rate_pct == D("100.0000") and perf.avg_win_sol == D("0.200000000")
    assert perf.avg_loss_sol is None and perf.profit_factor is None
    assert perf.max_drawdown_sol == 0 and perf.max_drawdown_pct == D("0.0000")
    assert [p.equity_sol for p in perf.equity_curve] == [D("0.1"), D("0.4")]


def test_only_losses():
    perf = summarize([trade("a", "-0.1", 1), trade("b", "-0.2", 2)])
    assert (perf.wins, perf.losses, perf.win_rate_pct) == (0, 2, D("0.0000"))
    assert perf.avg_win_sol is None and perf.avg_loss_sol == D("-0.150000000")
    assert perf.profit_factor == D("0.0000")
    assert perf.max_drawdown_sol == D("0.3") and perf.max_drawdown_pct is None  # never above the 0 start


def test_mixed_figures_exactly():
    trades = [trade("a", "0.5", 1, exits=[("take_profit", "0.5")]),
              trade("b", "-0.2", 2, exits=[("stop_loss", "-0.2")]),
              trade("c", "-0.1", 3, exits=[("trailing_stop", "-0.1")]),
              trade("d", "0", 4, exits=[("timeout", "0")]),
              trade("e", "0.4", 5, exits=[("take_profit", "0.4")])]
    perf = summarize(trades)
    assert (perf.trades, perf.wins, perf.losses, perf.breakeven) == (5, 2, 2, 1)
    assert perf.realized_pnl_sol == D("0.6")
    assert (perf.gross_win_sol, perf.gross_loss_sol) == (D("0.9"), D("-0.3"))
    assert perf.win_rate_pct == D("40.0000")
    assert (perf.avg_win_sol, perf.avg_loss_sol) == (D("0.450000000"), D("-0.150000000"))
    assert perf.profit_factor == D("3.0000")
    assert perf.max_drawdown_sol == D("0.3") and perf.max_drawdown_pct == D("60.0000")  # 0.5 -> 0.2
    assert perf.avg_holding_seconds == D("600.000")
    assert [r.rule for r in perf.exits_by_rule] == ["stop_loss", "take_profit", "timeout", "trailing_stop"]
    assert perf.exits_by_rule[1] == RuleExits("take_profit", 2, D("0.9"))


def test_partial_sells_count_toward_their_position():
    ladder = trade("a", "0.3", 1, exits=[("take_profit", "0.2"), ("trailing_stop", "0.1")])
    perf = summarize([ladder, trade("b", "-0.1", 2, exits=[("manual", "-0.05"), (None, "-0.05")])])
    assert perf.trades == 2 and perf.wins == 1 and perf.losses == 1
    assert {r.rule: (r.exits, r.realized_pnl_sol) for r in perf.exits_by_rule} == {
        "take_profit": (1, D("0.2")), "trailing_stop": (1, D("0.1")), "manual": (1, D("-0.05")),
        "unknown": (1, D("-0.05"))}


def test_ties_in_close_time_are_ordered_by_position_id():
    first = summarize([trade("b", "-0.2", 1), trade("a", "0.5", 1)])
    second = summarize([trade("a", "0.5", 1), trade("b", "-0.2", 1)])
    assert first == second
    assert [p.position_id for p in first.equity_curve] == ["a", "b"]
    assert first.max_drawdown_sol == D("0.2") and first.max_drawdown_pct == D("40.0000")


def test_drawdown_from_a_starting_balance():
    perf = summarize([trade("a", "1", 1), trade("b", "-2.2", 2), trade("c", "0.5", 3)], D("10"))
    assert perf.starting_equity_sol == D("10")
    assert [p.equity_sol for p in perf.equity_curve] == [D("11"), D("8.8"), D("9.3")]
    assert perf.max_drawdown_sol == D("2.2") and perf.max_drawdown_pct == D("20.0000")


@pytest.mark.parametrize("equities, sol, pct", [
    ([D(0)], D(0), None),
    ([D(0), D("-1"), D("2"), D("1.5"), D("-0.5")], D("2.5"), D("125.0000")),
    ([D(0), D("4"), D("1"), D("10"), D("8")], D("3"), D("75.0000")),  # SOL and % peak at the same fall
    ([D(10), D("100"), D("80"), D("12"), D("11")], D("89"), D("89.0000")),
    ([D(100), D("50"), D("1000"), D("600")], D("400"), D("50.0000")),  # % and SOL maxima at different falls
])
def test_max_drawdown_table(equities, sol, pct):
    drawdown = max_drawdown(equities)
    assert (drawdown.sol, drawdown.pct) == (sol, pct)


@pytest.mark.parametrize("numerator, denominator, places, expected", [
    (D(2), 3, 4, D("0.6667")),
    (D(1), 8, 2, D("0.12")),  # half-even
    (D(3), 8, 2, D("0.38")),
    (D(1), 0, 4, None),
    (D("-1"), 3, 9, D("-0.333333333")),
])
def test_ratio_rounds_half_even(numerator, denominator, places, expected):
    assert ratio(numerator, denominator, places) == expected


def test_average_holding_time_to_the_millisecond():
    trades = [trade("a", "1", 1, held_min=1), trade("b", "1", 2, held_min=2),
              ClosedTrade("c", T0, T0 + timedelta(seconds=1, microseconds=1500), D(0))]
    assert average_holding_seconds(trades) == D("60.334")  # (60 + 120 + 1.0015) / 3 = 60.3338...


def test_pnl_per_utc_day():
    plus_five = timezone(timedelta(hours=5))
    late = ClosedTrade("z", T0, datetime(2026, 11, 21, 3, 30, tzinfo=plus_five), D("0.25"))  # 22:30 UTC on the 20th
    perf = summarize([trade("a", "0.1", 30), trade("b", "-0.3", 90), trade("c", "0.05", 120), late])
    assert perf.pnl_by_day == (DayPnl(date(2026, 11, 20), 2, D("0.35")), DayPnl(date(2026, 11, 21), 2, D("-0.25")))


def test_summary_is_frozen():
    with pytest.raises(AttributeError):
        summarize([]).trades = 3
