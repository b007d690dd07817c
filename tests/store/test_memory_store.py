"""The memory store alone (no database): invariants, guarded transitions, ids, computed rows (transactions and
snapshots are in the contract suite, tests/store/test_engine_contract.py, on both stores)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from app.store.memory import MemoryStore
from app.store.port import SlotTaken

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CHAIN = {"trigger": {"type": "prediction", "model_id": 7, "min_probability": 0.5}}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def seeded(clock: Clock | None = None) -> tuple[MemoryStore, dict[str, UUID]]:
    store = MemoryStore(clock or Clock())
    wallet = store.add_wallet("w1", virtual_sol_balance=Decimal("10"), max_buys_per_day=3)
    buy = store.add_workflow(wallet, {"name": "buy", "type": "BUY", "chain": CHAIN, "is_active": True,
                                      "buy_amount_mode": "fixed", "buy_amount_value": Decimal("0.5")})
    sell = store.add_workflow(wallet, {"name": "sell", "type": "SELL", "chain": {"rules": []}, "is_active": True})
    store.add_mint("MINT", 6)
    prediction = store.add_prediction("MINT", 7, 0.9, T0)
    return store, {"wallet": wallet, "buy": buy, "sell": sell, "prediction": prediction}


def open_position(store: MemoryStore, ids: dict[str, UUID], mint: str = "MINT", at: datetime = T0) -> UUID:
    return store.insert_position({"wallet_id": ids["wallet"], "mint": mint, "decimals": 6, "tokens_raw": 1000,
                                  "sol_spent": Decimal("0.5"), "price_sol": Decimal("0.0005"),
                                  "workflow_id": ids["buy"], "at": at})


def order(store: MemoryStore, ids: dict[str, UUID], side: str = "BUY", **values) -> dict:
    return dict(store.insert_order({"wallet_id": ids["wallet"], "side": side, "mint": "MINT", "is_paper": False,
                                    "in_amount": 500_000_000, "at": T0, **values}))


def sell(store: MemoryStore, ids: dict[str, UUID], position: UUID, rule: str, tokens: int, at: datetime,
         pnl: Decimal | None) -> None:
    store.insert_trade({"wallet_id": ids["wallet"], "position_id": position, "workflow_id": ids["sell"],
                        "mint": "MINT", "action": "SELL", "sol_amount": Decimal("0.25"), "token_amount_raw": tokens,
                        "price_sol": Decimal("0.00025"), "fee_sol": Decimal("0.001"), "realized_pnl_sol": pnl,
                        "rule": rule, "at": at})


def test_each_uniqueness_invariant_raises_slot_taken():
    store, ids = seeded()
    position = open_position(store, ids)
    with pytest.raises(SlotTaken):
        open_position(store, ids)
    order(store, ids, "SELL", position_id=position)
    with pytest.raises(SlotTaken):
        order(store, ids, "SELL", position_id=position)
    order(store, ids, prediction_id=ids["prediction"], workflow_id=ids["buy"], mint="OTHER")
    with pytest.raises(SlotTaken):  # one open BUY per wallet and mint
        order(store, ids, mint="OTHER")
    with pytest.raises(SlotTaken):  # one BUY per prediction and workflow, whatever its state
        order(store, ids, prediction_id=ids["prediction"], workflow_id=ids["buy"], state="FILLED", mint="THIRD")
    with pytest.raises(SlotTaken):
        store.add_workflow(ids["wallet"], {"name": "sell2", "type": "SELL", "chain": {}, "is_active": True})
    execution = {"workflow_id": ids["buy"], "mint": "MINT", "result": "REJECTED", "prediction_id": ids["prediction"]}
    assert store.insert_execution(execution) is not None
    assert store.insert_execution(execution) is None
    approval = {"prediction_id": ids["prediction"], "workflow_id": ids["buy"], "mint": "MINT",
                "amount_sol": Decimal("0.5"), "steps_log": [], "ttl_seconds": 60, "at": T0}
    assert store.insert_approval(approval)["expires_at"] == T0 + timedelta(seconds=60)
    assert store.insert_approval(approval) is None
    assert len(store.rows("orders")) == 2 and len(store.rows("workflow_executions")) == 1


def test_slots_free_again_once_closed_or_finished():
    store, ids = seeded()
    position = open_position(store, ids)
    first = order(store, ids, "SELL", position_id=position)
    assert store.open_order_for_position(position)["id"] == first["id"]
    assert store.finish_order(first["id"], ("PENDING", "SENT"), {"state": "FAILED", "error": "x"})["state"] == "FAILED"
    assert store.open_order_for_position(position) is None
    order(store, ids, "SELL", position_id=position)
    store.apply_sell(position, {"tokens_left": 0, "net_sol": Decimal("0.6"), "realized": Decimal("0.1"),
                                "rule_key": "tp:0", "reason": "take_profit", "at": T0})
    assert store.position_status(position) == "CLOSED" and store.open_position_ids() == []
    assert open_position(store, ids) in store.open_position_ids()


def test_guarded_transitions_change_nothing_when_their_guard_fails():
    clock = Clock()
    store, ids = seeded(clock)
    prediction = ids["prediction"]
    claimed = store.claim_prediction(prediction, 30)
    assert claimed["attempts"] == 1 and claimed["age_seconds"] == 0.0
    assert store.claim_prediction(prediction, 30) is None  # leased
    clock.now = T0 + timedelta(seconds=31)
    assert store.claim_prediction(prediction, 30)["age_seconds"] == 31.0
    store.mark_evaluated(prediction, [{"result": "ignored"}])
    store.mark_evaluated(prediction, [], "FAILED")
    assert store.get_prediction(prediction)["status"] == "EVALUATED"
    assert store.claim_prediction(prediction, 0) is None
    pending = order(store, ids)
    sent = {"signature": "sig", "raw": b"tx", "last_valid_block_height": 9, "quoted_out": 5}
    assert store.mark_order_sent(pending["id"], sent) is True
    assert store.mark_order_sent(pending["id"], sent) is False
    assert store.finish_order(pending["id"], ("PENDING",), {"state": "FILLED"}) is None
    assert store.finish_order(pending["id"], ("SENT",), {"state": "FILLED", "out_amount": 7})["out_amount"] == 7
    position = open_position(store, ids)
    store.apply_sell(position, {"tokens_left": 0, "net_sol": Decimal("1"), "realized": Decimal("0.5"),
                                "rule_key": None, "reason": "stop_loss"})
    store.apply_sell(position, {"tokens_left": 10, "net_sol": Decimal("1"), "realized": Decimal("9"),
                                "rule_key": "x", "reason": None})
    closed = store.check_target(position)
    assert (closed["tokens_raw"], closed["sol_received"], closed["closed_at"]) == (0, Decimal("1"), clock.now)
    with pytest.raises(ValueError):
        store.debit(ids["wallet"], Decimal("10.000000001"))
    assert store.wallet(ids["wallet"])["virtual_sol_balance"] == Decimal("10")


def test_ids_are_deterministic():
    first, first_ids = seeded()
    second, second_ids = seeded()
    assert first_ids == second_ids and first_ids["wallet"] == UUID(int=1)
    assert open_position(first, first_ids) == open_position(second, second_ids)
    assert [row["seq"] for row in first.rows("predictions")] == [1]


def test_buy_candidates_compute_the_wallet_state():
    clock = Clock()
    store, ids = seeded(clock)
    later = store.add_workflow(ids["wallet"], {"name": "b2", "type": "BUY", "chain": CHAIN, "is_active": True,
                                               "buy_amount_mode": "percent", "buy_amount_value": 10})
    store.add_workflow(ids["wallet"], {"name": "off", "type": "BUY", "chain": CHAIN,
                                       "buy_amount_mode": "fixed", "buy_amount_value": 1})
    empty = store.buy_candidates(7, "MINT")
    assert [row["id"] for row in empty] == [ids["buy"], later] and store.buy_candidates(8, "MINT") == []
    assert (empty[0]["open_positions"], empty[0]["holds_mint"], empty[0]["open_buy_lamports"]) == (0, False, 0)
    assert empty[0]["last_executed_at"] is None and empty[0]["db_now"] == T0
    open_position(store, ids, mint="OTHER")
    order(store, ids, in_amount=123)
    store.insert_execution({"workflow_id": ids["buy"], "mint": "MINT", "result": "EXECUTED", "at": T0})
    clock.now = T0 + timedelta(minutes=1)
    row = store.buy_candidates(7, "MINT")[0]
    assert (row["open_positions"], row["holds_mint"], row["open_buy_lamports"]) == (2, True, 123)
    assert row["last_executed_at"] == T0 and row["db_now"] == clock.now and row["buy_amount_value"] == Decimal("0.5")
    assert store.buy_candidates(7, "OTHER")[0]["holds_mint"] is True
    state = store.lock_buy_state(ids["buy"], "NEW")
    assert (state["is_active"], state["max_buys_per_day"], state["holds_mint"]) == (True, 3, False)


def test_daily_usage_counts_the_utc_day_up_to_at():
    store, ids = seeded()
    position = open_position(store, ids)
    midnight = datetime(2024, 5, 1, tzinfo=UTC)
    for at in (midnight - timedelta(microseconds=1), midnight, T0, T0 + timedelta(hours=1)):
        store.insert_trade({"wallet_id": ids["wallet"], "position_id": position, "workflow_id": ids["buy"],
                            "mint": "MINT", "action": "BUY", "sol_amount": 1, "token_amount_raw": 1, "price_sol": 1,
                            "fee_sol": 0, "at": at})
    sell(store, ids, position, "stop_loss", 1, T0, Decimal("-0.2"))
    sell(store, ids, position, "manual", 1, T0, None)
    usage = store.daily_usage(ids["wallet"], T0.astimezone(timezone(timedelta(hours=-5))))
    assert dict(usage) == {"buys_today": 2, "realized_pnl_today_sol": Decimal("-0.2")}
    assert dict(store.daily_usage(ids["wallet"], midnight - timedelta(microseconds=1))) == {
        "buys_today": 1, "realized_pnl_today_sol": Decimal(0)}


def test_positions_with_trades_shape_and_text():
    store, ids = seeded()
    position = open_position(store, ids)
    store.insert_execution({"workflow_id": ids["buy"], "mint": "MINT", "result": "EXECUTED", "position_id": position,
                            "steps_log": [{"step": "quote", "result": "passed"}], "at": T0})
    sell(store, ids, position, "take_profit", 400, T0 + timedelta(seconds=5), Decimal("0.0000000005"))
    sell(store, ids, position, "stop_loss", 600, T0 + timedelta(seconds=5), None)
    store.apply_sell(position, {"tokens_left": 0, "net_sol": Decimal("0.5"), "realized": Decimal("-0.1"),
                                "rule_key": None, "reason": "stop_loss", "at": T0 + timedelta(seconds=5)})
    [row] = store.positions_with_trades()
    assert list(row) == ["id", "mint", "status", "opened_at", "closed_at", "sol_spent", "entry_price_sol",
                         "initial_tokens_raw", "realized_pnl_sol", "close_reason", "buy_steps", "sells"]
    assert row["buy_steps"] == [{"step": "quote", "result": "passed"}] and row["close_reason"] == "stop_loss"
    first, second = row["sells"]
    assert first == {"at": "2024-05-01T12:00:05+00:00", "rule": "take_profit", "fee_sol": "0.001000000",
                     "price_sol": "0.000250000000000000", "sol_amount": "0.250000000",
                     "realized_pnl_sol": "0.000000001", "token_amount_raw": "400"}
    assert (second["rule"], second["realized_pnl_sol"]) == ("stop_loss", None)
    assert [dict(r) for r in store.sell_exits([position])][1]["realized_pnl_sol"] == 0
    assert [r["id"] for r in store.closed_positions(ids["wallet"])] == [position]


def test_metrics_prices_and_halt():
    store, _ = seeded()
    store.add_metrics("MINT", [{"ts": T0 - timedelta(minutes=m), "price_sol": Decimal(m + 2)} for m in (2, 0, 1, -1)])
    store.add_metrics("MINT", [{"ts": T0, "price_sol": Decimal("0.5"), "liquidity_sol": 3}])  # replaces the T0 point
    points = store.metric_points("MINT", T0 - timedelta(minutes=2), None)
    assert [p["ts"] for p in points] == [T0, T0 - timedelta(minutes=1)] and points[0]["volume_sol"] is None
    assert store.latest_price("MINT") == (Decimal("0.5"), T0) and store.latest_price("NONE") is None
    assert store.latest_market_point("MINT", T0 + timedelta(minutes=5))["ts"] == T0 + timedelta(minutes=1)
    store.add_price("MINT", Decimal("2"), "quote", T0)
    store.add_price("MINT", Decimal("1"), "quote", T0 - timedelta(seconds=1))
    assert [p["price_sol"] for p in store.price_history("MINT")] == [1, 2]
    store.set_halt(True, halt_sells=True, reason="stop")
    assert {k: store.halt_state()[k] for k in ("halted", "halt_sells", "reason", "halted_at")} == {
        "halted": True, "halt_sells": True, "reason": "stop", "halted_at": T0}
