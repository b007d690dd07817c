"""Replay identity: a backtest (in memory) over what the headless demo recorded reproduces its trades to the raw
unit, whether the demo ran the live engines on PostgreSQL or on the memory store, including runs where the
wallet's max open positions, its balance and the circuit breaker bind."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.demo.headless import MemoryDemo, PostgresDemo
from app.demo.replay import format_replay, replay_demo
from app.store.postgres import PostgresStore


@pytest.fixture
def fresh(conn, empty_tables):
    empty_tables(conn)
    yield conn
    empty_tables(conn)


def assert_identical(report: dict) -> None:
    assert report["total"] >= 2, "the window must trade for the comparison to mean anything"
    assert any(trade["sells"] for trade in report["demo"])
    assert report["demo"] == report["backtest"], format_replay(report)
    assert format_replay(report).endswith(f"replay: {report['total']}/{report['total']} trades identical")


@pytest.mark.parametrize(("seed", "minutes", "balance"), [
    (7, 12, "10"), (11, 10, "10"), (3, 10, "10"),
    (23, 40, "10"),  # the circuit breaker trips and max open positions (4) binds
    (5, 25, "1.2"),  # the balance binds: buys are REJECTED at amount_check
])
def test_postgres_demo_and_memory_backtest_agree_trade_for_trade(fresh, config, seed, minutes, balance):
    report = replay_demo(PostgresDemo(fresh, config), config, minutes, seed, balance_sol=Decimal(balance))
    assert_identical(report)
    if seed == 23:
        breaker = fresh.execute("SELECT breaker_tripped_at FROM wallets WHERE alias = 'demo'").fetchone()
        assert breaker["breaker_tripped_at"] is not None
        reasons = {o["reason"] for row in fresh.execute("SELECT outcomes FROM predictions").fetchall()
                   for o in row["outcomes"] if o["result"] == "REJECTED"}
        assert "wallet at max_open_positions (4/4)" in reasons and any("circuit breaker" in r for r in reasons)
    if balance != "10":
        assert report["summary"]["rejected"] > 0


@pytest.mark.parametrize("seed", range(1, 9))
def test_memory_demo_and_memory_backtest_agree_for_many_seeds(config, seed):
    assert_identical(replay_demo(MemoryDemo(config), config, 30, seed))


def test_the_same_run_gives_the_same_bytes(config):
    first, second = (replay_demo(MemoryDemo(config), config, 20, 23) for _ in range(2))
    assert json.dumps(first["backtest"], default=str) == json.dumps(second["backtest"], default=str)


def test_the_memory_demo_trades_as_the_postgres_demo_does(fresh, config):
    on_postgres = replay_demo(PostgresDemo(fresh, config), config, 15, 7)
    in_memory = replay_demo(MemoryDemo(config), config, 15, 7)
    assert in_memory["demo"] == on_postgres["demo"]
    assert PostgresStore(fresh).open_position_ids() == []


def test_a_different_trade_is_counted_and_shown(config):
    report = replay_demo(MemoryDemo(config), config, 6, 7)
    changed = [*report["backtest"]]
    changed[0] = {**changed[0], "tokens_raw": changed[0]["tokens_raw"] + 1}  # one raw unit off
    text = format_replay({**report, "backtest": changed, "identical": report["total"] - 1})
    assert f"replay: {report['total'] - 1}/{report['total']} trades identical" in text
    assert "  !=  " in text.splitlines()[1]
