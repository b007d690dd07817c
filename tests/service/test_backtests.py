"""Backtests replay stored predictions and prices through the live engines: same inputs, same result."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.errors import Invalid, NotFound
from app.repos import backtests as backtest_repo
from app.repos import price_history as price_history_repo
from app.services import backtests as backtest_service
from tests import factories
from tests.factories import BACKTEST_T0 as T0
from tests.factories import seed_backtest_history


def request(model_id: int, **overrides) -> dict:
    """A loaded backtest request (as the API schema hands it) with inline workflows."""
    buy = {k: v for k, v in factories.buy_body(model_id, min_probability=0.5).items() if k != "wallet_alias"}
    sell = {k: v for k, v in factories.sell_body().items() if k != "wallet_alias"}
    buy["buy_amount_value"] = Decimal("0.5")
    return {"buy": buy, "sell": sell, "from_": T0, "to": T0 + timedelta(hours=1),
            "start_balance_sol": Decimal("10"), "prices": "metrics", **overrides}


@pytest.fixture
def model_id(conn):
    model = factories.add_model(conn)
    seed_backtest_history(conn, model)
    return model


def run(conn, config, data) -> dict:
    row = backtest_repo.insert(conn, backtest_service.prepare_request(conn, data, config))
    progress: list[Decimal] = []
    backtest_service.run_backtest(config, row["id"], progress.append)
    stored = backtest_repo.get(conn, row["id"])
    assert stored["status"] == "DONE" and stored["progress"] == 100 and progress[-1] == 100
    return {key: stored[key] for key in ("summary", "trades", "equity")}


def test_a_metrics_backtest_gives_the_same_result_twice(conn, config, model_id):
    first = run(conn, config, request(model_id))
    assert run(conn, config, request(model_id)) == first
    assert first["summary"]["trades"] == 2
    by_mint = {trade["mint"]: trade for trade in first["trades"]}
    assert by_mint[factories.MINT]["close_reason"] == "take_profit"
    assert by_mint[factories.OTHER_MINT]["close_reason"] == "trailing_stop"  # -3 % from the peak comes first
    assert "quote" in [step["step"] for step in by_mint[factories.MINT]["buy_steps"]]
    assert Decimal(first["summary"]["realized_pnl_sol"]) == sum(
        Decimal(trade["realized_pnl_sol"]) for trade in first["trades"])
    assert sorted(point["position_id"] for point in first["equity"]) == ["000001", "000002"]


def test_a_recorded_prices_backtest_uses_the_recorded_history(conn, config, model_id):
    for minute in range(61):
        price_history_repo.record(conn, factories.MINT, Decimal("0.0001") * (1 + Decimal(minute) / 50), "jupiter",
                                  T0 + timedelta(minutes=minute))
    result = run(conn, config, request(model_id, prices="recorded"))
    [trade] = result["trades"]  # OTHER_MINT has no recorded price: no buy
    assert trade["mint"] == factories.MINT and trade["close_reason"] == "take_profit"


def test_bad_requests_name_the_field(conn, config, model_id):
    with pytest.raises(Invalid) as later:
        backtest_service.prepare_request(conn, request(model_id, to=T0 - timedelta(minutes=1)), config)
    assert later.value.errors == {"json": {"to": ["Must be after from."]}}
    with pytest.raises(Invalid) as empty:
        backtest_service.prepare_request(conn, request(model_id, from_=T0 - timedelta(days=2),
                                                       to=T0 - timedelta(days=1)), config)
    assert list(empty.value.errors["json"]) == ["from"]
    with pytest.raises(NotFound) as unknown:
        backtest_service.prepare_request(conn, request(model_id, buy=factories.UUID(int=7)), config)
    assert unknown.value.errors == {"json": {"buy": ["Unknown workflow."]}}
    bad_model = request(model_id)
    bad_model["buy"]["chain"]["trigger"]["model_id"] = model_id + 99
    with pytest.raises(NotFound) as missing:
        backtest_service.prepare_request(conn, bad_model, config)
    assert list(missing.value.errors["json"]["buy"]) == ["chain"]
    assert conn.execute("SELECT count(*) AS n FROM wallets").fetchone()["n"] == 0


def test_the_wallet_limits_of_the_request_apply(conn, config, model_id):
    result = run(conn, config, request(model_id, wallet={"max_buys_per_day": 1}))
    assert [trade["mint"] for trade in result["trades"]] == [factories.MINT]  # the second buy is over the limit
