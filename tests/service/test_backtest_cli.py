"""`python -m app backtest` runs the backtest service in-process and prints the summary table."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app import bootstrap
from app.__main__ import main
from tests import factories
from tests.factories import BACKTEST_T0, seed_backtest_history


@pytest.fixture
def cli_env(monkeypatch, database_url, redis_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    yield
    bootstrap.close_all()


def test_the_command_prints_the_summary_and_stores_the_run(conn, cli_env, tmp_path, capsys):
    model = factories.add_model(conn)
    seed_backtest_history(conn, model)
    buy = {k: v for k, v in factories.buy_body(model, min_probability=0.5).items() if k != "wallet_alias"}
    (tmp_path / "buy.json").write_text(json.dumps(buy))
    (tmp_path / "sell.json").write_text(json.dumps({"chain": {"rules": factories.SELL_RULES}}))
    argv = ["backtest", "--buy", str(tmp_path / "buy.json"), "--sell", str(tmp_path / "sell.json"),
            "--from", BACKTEST_T0.isoformat(), "--to", (BACKTEST_T0 + timedelta(hours=1)).isoformat(),
            "--balance", "10", "--prices", "metrics"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "100.00 %" in err
    assert "| trades (closed)" in out and "| exits: take_profit" in out and "| exits: trailing_stop" in out
    assert conn.execute("SELECT status FROM backtests").fetchone()["status"] == "DONE"


def test_a_bad_period_is_refused_naming_the_field(conn, cli_env, capsys):
    argv = ["backtest", "--buy", "00000000-0000-0000-0000-000000000007", "--sell",
            "00000000-0000-0000-0000-000000000008", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"]
    assert main(argv) == 2
    assert '"to"' in capsys.readouterr().err
