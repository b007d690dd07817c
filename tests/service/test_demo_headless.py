"""The headless demo on a short accelerated window: deterministic, and its accounting adds up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.demo.headless import MemoryDemo, PostgresDemo, format_summary, run_demo


@pytest.fixture
def fresh(conn, empty_tables):
    yield conn
    empty_tables(conn)


@pytest.fixture
def run_once(fresh, config, empty_tables):
    """Run the demo on empty tables; returns its summary."""
    def _run(seed=7, minutes=20):
        empty_tables(fresh)
        return run_demo(PostgresDemo(fresh, config), config, minutes, seed)
    return _run


def test_accounting_adds_up(fresh, run_once):
    summary = run_once()
    assert summary["buys"] > 0 and sum(summary["sells_by_rule"].values()) >= summary["buys"]
    trade_pnl = fresh.execute("SELECT coalesce(sum(realized_pnl_sol), 0) AS s FROM trade_logs "
                              "WHERE action = 'SELL'").fetchone()["s"]
    assert trade_pnl == summary["balance_end_sol"] - summary["balance_start_sol"] == summary["realized_pnl_sol"]
    assert fresh.execute("SELECT count(*) AS n FROM positions WHERE status = 'OPEN'").fetchone()["n"] == 0
    closing = fresh.execute(
        """SELECT p.id, count(t.id) FILTER (WHERE t.created_at = p.closed_at) AS closing_sells,
                  sum(t.token_amount_raw) AS sold, p.initial_tokens_raw
           FROM positions p JOIN trade_logs t ON t.position_id = p.id AND t.action = 'SELL'
           GROUP BY p.id""").fetchall()
    assert closing and all(row["closing_sells"] == 1 for row in closing)
    assert all(row["sold"] == row["initial_tokens_raw"] for row in closing)
    spent = fresh.execute("SELECT sum(sol_amount) AS s FROM trade_logs WHERE action = 'BUY'").fetchone()["s"]
    received = fresh.execute("SELECT sum(sol_amount) AS s FROM trade_logs WHERE action = 'SELL'").fetchone()["s"]
    assert summary["balance_end_sol"] == Decimal("10") - spent + received


def test_same_seed_same_table_and_another_seed_differs(config):
    def table(seed: int) -> str:
        return format_summary(run_demo(MemoryDemo(config), config, 10, seed))
    first, second, other = table(11), table(11), table(12)
    assert first == second
    assert other != first
    assert "| predictions" in first and "win rate" in first

