"""Replay identity: a backtest over what the headless demo recorded reproduces its trades to the raw unit."""

from __future__ import annotations

import pytest

from app.demo.replay import format_replay, replay_demo


@pytest.fixture
def fresh(conn, empty_tables):
    empty_tables(conn)
    yield conn
    empty_tables(conn)


@pytest.mark.parametrize(("seed", "minutes"), [(7, 12), (11, 10), (3, 10)])
def test_the_backtest_reproduces_the_demo_trade_for_trade(fresh, config, empty_tables, seed, minutes):
    report = replay_demo(fresh, config, minutes, seed)
    assert report["total"] >= 2, "the window must trade for the comparison to mean anything"
    assert any(trade["sells"] for trade in report["demo"])
    assert report["demo"] == report["backtest"], format_replay(report)
    assert format_replay(report).endswith(f"replay: {report['total']}/{report['total']} trades identical")


def test_a_different_trade_is_counted_and_shown(fresh, config):
    report = replay_demo(fresh, config, 6, 7)
    changed = [*report["backtest"]]
    changed[0] = {**changed[0], "tokens_raw": changed[0]["tokens_raw"] + 1}  # one raw unit off
    text = format_replay({**report, "backtest": changed, "identical": report["total"] - 1})
    assert f"replay: {report['total'] - 1}/{report['total']} trades identical" in text
    assert "  !=  " in text.splitlines()[1]
