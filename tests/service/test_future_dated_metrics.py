"""A coin metric dated in the future never pins a price (issue 10 item 5), against real PostgreSQL.

A point already stored with a future timestamp (from before the API refused them) is invisible to every read
that decides something: the `metrics` price source, features, a coin's latest point.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app import bootstrap
from app.pricing.sources import metrics_source
from app.repos import coin_metrics as metrics_repo
from app.services import coin_metrics as coin_service
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.services.buy_engine import evaluate_prediction
from app.services.sell_engine import check_position
from app.store.postgres import PostgresStore
from tests.factories import MINT, WALLET_ALIAS, add_mint, buy_deps, buy_workflow, store_prediction

ENTRY = Decimal("0.0001")
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def put_point(conn, ts: datetime, price: Decimal) -> None:
    conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol) VALUES (%s, %s, %s)", (MINT, ts, price))


@pytest.fixture
def position(conn, config, make_model):
    """A paper position bought at 0.0001 SOL/token, protected by an active −10 % stop-loss."""
    wallet_service.create_wallet(conn, {"alias": WALLET_ALIAS, "type": "TEST", "virtual_sol_balance": Decimal("10")},
                                 config)
    add_mint(conn)
    trigger = make_model()
    buy_workflow(conn, trigger)
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps(price=ENTRY))
    exits = workflow_service.create_workflow(conn, {"wallet_alias": WALLET_ALIAS, "name": "exits", "type": "SELL",
                                                    "chain": {"rules": [{"type": "stop_loss", "percent": -10}]}})
    workflow_service.set_active(conn, exits["id"], True)
    return conn.execute("SELECT * FROM positions").fetchone()


def test_a_future_dated_point_does_not_pin_the_price_and_the_stop_loss_fires(conn, config, position):
    put_point(conn, FAR_FUTURE, ENTRY)  # at the entry price, dated 9999-12-31
    put_point(conn, datetime.now(UTC) - timedelta(seconds=5), ENTRY / 2)  # −50 %, now
    source = metrics_source(lambda mint: metrics_repo.latest_price(conn, mint), timedelta(seconds=120))
    outcome = check_position(PostgresStore(conn), position["id"], bootstrap.sell_deps(config, source))
    closed = conn.execute("SELECT status, close_reason FROM positions WHERE id = %s", (position["id"],)).fetchone()
    assert outcome["result"] != "hold"
    assert (closed["status"], closed["close_reason"]) == ("CLOSED", "stop_loss")


def test_reads_that_decide_never_see_a_future_point(conn):
    now = datetime.now(UTC)
    put_point(conn, now - timedelta(minutes=1), Decimal("2"))
    put_point(conn, FAR_FUTURE, Decimal("1"))
    assert metrics_repo.latest_price(conn, MINT)[0] == Decimal("2")
    assert coin_service.get_coin(conn, MINT)["latest"]["price_sol"] == Decimal("2")
    assert [p["price_sol"] for p in coin_service.list_metrics(conn, MINT, None, None, 10)] == [Decimal("2")]
    later = coin_service.features_for(conn, MINT, ["price_sol"], now + timedelta(days=1), timedelta(days=2))
    assert later == [2.0]


def test_an_operator_sees_and_deletes_future_points(conn):
    put_point(conn, datetime.now(UTC) - timedelta(minutes=1), Decimal("2"))
    put_point(conn, FAR_FUTURE, Decimal("1"))
    listed = coin_service.list_metrics(conn, MINT, None, FAR_FUTURE, 10)
    assert listed[0]["ts"] == FAR_FUTURE
    assert coin_service.delete_metrics(conn, MINT, datetime.now(UTC), FAR_FUTURE) == {"mint": MINT, "deleted": 1}
    assert [p["price_sol"] for p in coin_service.list_metrics(conn, MINT, None, FAR_FUTURE, 10)] == [Decimal("2")]
