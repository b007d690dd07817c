"""Pure unit tests of workflow chain validation (app.core.chains) and the workflow body schemas.

No database, no Flask app, no network: every test works on plain values (SPEC §3 "Workflows").
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from marshmallow import ValidationError

from app.api.schemas import PredictionInSchema, WalletCreateSchema, WorkflowCreateSchema, WorkflowPatchSchema
from app.core.chains import (
    MAX_CONDITIONS,
    MAX_RULES,
    BuyChain,
    InvalidChain,
    OnDemandCondition,
    Operator,
    PredictionTrigger,
    RuleType,
    SellChain,
    SellRule,
    WorkflowType,
    chain_to_json,
    check_amounts,
    check_workflow,
    format_path,
    parse_chain,
    positive_amount_problem,
    summarize,
)
from app.core.solana import decimal_places, mint_address_problem, sol_amount_problem
from app.errors import Invalid
from app.services.coin_metrics import require_mint_address
from tests import factories

BUY = "BUY"
SELL = "SELL"
NAN = float("nan")
INF = float("inf")


# --- builders ------------------------------------------------------------

def trig(model_id: Any = 18, min_probability: Any = 0.7, **extra: Any) -> dict[str, Any]:
    return {"type": "prediction_alert", "model_id": model_id, "min_probability": min_probability, **extra}


def cond(model_id: Any = 23, operator: Any = "gte", threshold: Any = 0.6, **extra: Any) -> dict[str, Any]:
    return {"type": "on_demand_prediction", "model_id": model_id, "operator": operator, "threshold": threshold,
            **extra}


def buy(trigger: Any = None, conditions: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"trigger": trig() if trigger is None else trigger, **extra}
    if conditions is not None:
        out["conditions"] = conditions
    return out


def sl(percent: Any = -5, **extra: Any) -> dict[str, Any]:
    return {"type": "stop_loss", "percent": percent, **extra}


def ts(percent: Any = -3, **extra: Any) -> dict[str, Any]:
    return {"type": "trailing_stop", "percent": percent, **extra}


def tp(percent: Any = 20, **extra: Any) -> dict[str, Any]:
    return {"type": "take_profit", "percent": percent, **extra}


def timeout(minutes: Any = 30, **extra: Any) -> dict[str, Any]:
    return {"type": "timeout", "minutes": minutes, **extra}


def sell(*rules: Any, **extra: Any) -> dict[str, Any]:
    return {"rules": list(rules), **extra}


def without(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != key}


def rules_path(index: int, *rest: str | int) -> tuple[str | int, ...]:
    return ("chain", "rules", index, *rest)


def trigger_path(*rest: str) -> tuple[str | int, ...]:
    return ("chain", "trigger", *rest)


def cond_path(index: int, *rest: str) -> tuple[str | int, ...]:
    return ("chain", "conditions", index, *rest)


MIN_P = trigger_path("min_probability")


# --- 1. parse_chain table ------------------------------------------------

VALID = [
    # BUY
    pytest.param(BUY, buy(), None, id="buy-trigger-only-no-conditions-key"),
    pytest.param(BUY, buy(conditions=[]), None, id="buy-empty-conditions"),
    pytest.param(BUY, buy(conditions=[cond(), cond(24, "gt", 0.5), cond(25, "lt", 0.2)]), None,
                 id="buy-three-conditions"),
    pytest.param(BUY, buy(conditions=[cond(operator="gte")]), None, id="buy-operator-gte"),
    pytest.param(BUY, buy(conditions=[cond(operator="gt")]), None, id="buy-operator-gt"),
    pytest.param(BUY, buy(conditions=[cond(operator="lte")]), None, id="buy-operator-lte"),
    pytest.param(BUY, buy(conditions=[cond(operator="lt")]), None, id="buy-operator-lt"),
    pytest.param(BUY, buy(conditions=[without(cond(), "operator")]), None, id="buy-operator-omitted-defaults"),
    pytest.param(BUY, buy(trig(min_probability=0)), None, id="buy-min-probability-0"),
    pytest.param(BUY, buy(trig(min_probability=1)), None, id="buy-min-probability-1"),
    pytest.param(BUY, buy(trig(min_probability=1.0), [cond(threshold=0), cond(24, threshold=1.0)]), None,
                 id="buy-thresholds-0-and-1"),
    pytest.param(BUY, buy(trig(18), [cond(18)]), None, id="buy-same-model-in-trigger-and-condition"),
    pytest.param(BUY, buy(conditions=[cond(100 + i) for i in range(MAX_CONDITIONS)]), None,
                 id="buy-max-conditions"),
    pytest.param(WorkflowType.BUY, buy(conditions=[cond()]), None, id="buy-enum-type"),
    # SELL
    pytest.param(SELL, sell(sl()), None, id="sell-stop-loss-alone-from-omitted"),
    pytest.param(SELL, sell(sl(**{"from": "entry"})), None, id="sell-stop-loss-from-entry"),
    pytest.param(SELL, sell(ts()), None, id="sell-trailing-alone-from-omitted"),
    pytest.param(SELL, sell(ts(**{"from": "peak"})), None, id="sell-trailing-from-peak"),
    pytest.param(SELL, sell(tp()), None, id="sell-take-profit-alone"),
    pytest.param(SELL, sell(timeout()), None, id="sell-timeout-alone"),
    pytest.param(SELL, sell(sl(**{"from": "entry"}), ts(**{"from": "peak"}), tp(), timeout()), None,
                 id="sell-all-four-rules"),
    pytest.param(SELL, sell(sl(sell_pct=1), tp(sell_pct=100)), None, id="sell-per-rule-sell-pct-1-and-100"),
    pytest.param(SELL, sell(tp(20, sell_pct=50), tp(50, sell_pct=100), sl()), None, id="sell-take-profit-ladder"),
    pytest.param(SELL, sell(tp(20), tp(20, sell_pct=50)), None, id="sell-same-percent-different-sell-pct"),
    pytest.param(SELL, sell(timeout(0.5)), None, id="sell-fractional-minutes"),
    pytest.param(SELL, sell(sl(-99.99), ts(-0.01), tp(0.01), tp(1000)), None, id="sell-near-bounds"),
    pytest.param(SELL, sell(sl(-2.5), ts(-1.25)), None, id="sell-fractional-percents"),
    pytest.param(SELL, sell(*[tp(i + 1) for i in range(MAX_RULES)]), None, id="sell-max-rules"),
    pytest.param(WorkflowType.SELL, sell(sl()), None, id="sell-enum-type"),
]

INVALID = [
    # chain shape
    pytest.param(BUY, [trig()], ("chain",), id="buy-chain-is-list"),
    pytest.param(SELL, "stop_loss -5", ("chain",), id="sell-chain-is-string"),
    pytest.param(BUY, None, ("chain",), id="buy-chain-is-none"),
    # unknown keys at every level
    pytest.param(BUY, buy(extra=1), ("chain", "extra"), id="buy-unknown-top-key"),
    pytest.param(BUY, buy(trig(extra=1)), trigger_path("extra"), id="buy-unknown-trigger-key"),
    pytest.param(BUY, buy(conditions=[cond(extra=1)]), cond_path(0, "extra"), id="buy-unknown-condition-key"),
    pytest.param(SELL, sell(sl(), extra=1), ("chain", "extra"), id="sell-unknown-top-key"),
    pytest.param(SELL, sell(sl(extra=1)), rules_path(0, "extra"), id="sell-unknown-rule-key"),
    pytest.param(SELL, sell(tp(**{"from": "entry"})), rules_path(0, "from"), id="sell-take-profit-with-from"),
    pytest.param(SELL, sell(timeout(percent=-5)), rules_path(0, "percent"), id="sell-timeout-with-percent"),
    pytest.param(SELL, sell(sl(minutes=5)), rules_path(0, "minutes"), id="sell-stop-loss-with-minutes"),
    # wrong signs / ranges on SELL rules
    pytest.param(SELL, sell(sl(0)), rules_path(0, "percent"), id="sell-stop-loss-zero"),
    pytest.param(SELL, sell(sl(5)), rules_path(0, "percent"), id="sell-stop-loss-positive"),
    pytest.param(SELL, sell(sl(-100)), rules_path(0, "percent"), id="sell-stop-loss-minus-100"),
    pytest.param(SELL, sell(sl(-150)), rules_path(0, "percent"), id="sell-stop-loss-below-minus-100"),
    pytest.param(SELL, sell(ts(3)), rules_path(0, "percent"), id="sell-trailing-positive"),
    pytest.param(SELL, sell(ts(0)), rules_path(0, "percent"), id="sell-trailing-zero"),
    pytest.param(SELL, sell(ts(-100)), rules_path(0, "percent"), id="sell-trailing-minus-100"),
    pytest.param(SELL, sell(sl(), tp(0)), rules_path(1, "percent"), id="sell-take-profit-zero"),
    pytest.param(SELL, sell(tp(-20)), rules_path(0, "percent"), id="sell-take-profit-negative"),
    pytest.param(SELL, sell(timeout(0)), rules_path(0, "minutes"), id="sell-timeout-zero"),
    pytest.param(SELL, sell(timeout(-30)), rules_path(0, "minutes"), id="sell-timeout-negative"),
    pytest.param(SELL, sell(sl(sell_pct=0)), rules_path(0, "sell_pct"), id="sell-rule-sell-pct-0"),
    pytest.param(SELL, sell(sl(sell_pct=0.5)), rules_path(0, "sell_pct"), id="sell-rule-sell-pct-half"),
    pytest.param(SELL, sell(sl(sell_pct=101)), rules_path(0, "sell_pct"), id="sell-rule-sell-pct-101"),
    # missing / non-numeric values on SELL rules
    pytest.param(SELL, sell(without(sl(), "percent")), rules_path(0, "percent"), id="sell-stop-loss-no-percent"),
    pytest.param(SELL, sell(without(timeout(), "minutes")), rules_path(0, "minutes"), id="sell-timeout-no-minutes"),
    pytest.param(SELL, sell(sl("-5")), rules_path(0, "percent"), id="sell-percent-string"),
    pytest.param(SELL, sell(sl(True)), rules_path(0, "percent"), id="sell-percent-bool"),
    pytest.param(SELL, sell(timeout(True)), rules_path(0, "minutes"), id="sell-minutes-bool"),
    pytest.param(SELL, sell(sl(sell_pct="50")), rules_path(0, "sell_pct"), id="sell-sell-pct-string"),
    pytest.param(SELL, sell(sl(NAN)), rules_path(0, "percent"), id="sell-percent-nan"),
    pytest.param(SELL, sell(timeout(INF)), rules_path(0, "minutes"), id="sell-minutes-infinity"),
    pytest.param(SELL, sell(timeout(10 ** 400)), rules_path(0, "minutes"), id="sell-minutes-huge-int"),
    pytest.param(SELL, sell(sl(-(10 ** 400))), rules_path(0, "percent"), id="sell-percent-huge-negative-int"),
    # rule type / from
    pytest.param(SELL, sell({"type": "stop_gain", "percent": 5}), rules_path(0, "type"), id="sell-unknown-rule-type"),
    pytest.param(SELL, sell(without(sl(), "type")), rules_path(0, "type"), id="sell-rule-without-type"),
    pytest.param(SELL, sell(sl(**{"from": "peak"})), rules_path(0, "from"), id="sell-stop-loss-from-peak"),
    pytest.param(SELL, sell(ts(**{"from": "entry"})), rules_path(0, "from"), id="sell-trailing-from-entry"),
    pytest.param(SELL, sell(sl(), "stop_loss"), rules_path(1), id="sell-rule-not-object"),
    # rules list
    pytest.param(SELL, sell(), ("chain", "rules"), id="sell-empty-rules"),
    pytest.param(SELL, {}, ("chain", "rules"), id="sell-missing-rules"),
    pytest.param(SELL, {"rules": sl()}, ("chain", "rules"), id="sell-rules-not-list"),
    pytest.param(SELL, sell(*[tp(i + 1) for i in range(MAX_RULES + 1)]), ("chain", "rules"), id="sell-too-many-rules"),
    pytest.param(SELL, sell(sl(), tp(), sl()), rules_path(2), id="sell-duplicate-identical-rules"),
    pytest.param(SELL, sell(sl(-5), sl(-5.0, **{"from": "entry"})), rules_path(1),
                 id="sell-duplicate-equivalent-rules"),
    # BUY trigger
    pytest.param(BUY, {"conditions": []}, trigger_path(), id="buy-missing-trigger"),
    pytest.param(BUY, buy("prediction_alert"), trigger_path(), id="buy-trigger-not-object"),
    pytest.param(BUY, buy(trig(type="on_demand_prediction")), trigger_path("type"), id="buy-wrong-trigger-type"),
    pytest.param(BUY, buy(without(trig(), "type")), trigger_path("type"), id="buy-trigger-type-missing"),
    pytest.param(BUY, buy(without(trig(), "model_id")), trigger_path("model_id"), id="buy-model-id-missing"),
    pytest.param(BUY, buy(trig(0)), trigger_path("model_id"), id="buy-model-id-zero"),
    pytest.param(BUY, buy(trig(-3)), trigger_path("model_id"), id="buy-model-id-negative"),
    pytest.param(BUY, buy(trig(18.0)), trigger_path("model_id"), id="buy-model-id-float"),
    pytest.param(BUY, buy(trig(True)), trigger_path("model_id"), id="buy-model-id-bool"),
    pytest.param(BUY, buy(trig("18")), trigger_path("model_id"), id="buy-model-id-string"),
    pytest.param(BUY, buy(without(trig(), "min_probability")), MIN_P,
                 id="buy-min-probability-missing"),
    pytest.param(BUY, buy(trig(min_probability=1.01)), MIN_P, id="buy-min-probability-above-1"),
    pytest.param(BUY, buy(trig(min_probability=-0.1)), MIN_P, id="buy-min-probability-negative"),
    pytest.param(BUY, buy(trig(min_probability=70)), MIN_P, id="buy-min-probability-percent"),
    pytest.param(BUY, buy(trig(min_probability="0.7")), MIN_P, id="buy-min-probability-string"),
    pytest.param(BUY, buy(trig(min_probability=True)), MIN_P, id="buy-min-probability-bool"),
    pytest.param(BUY, buy(trig(min_probability=NAN)), MIN_P, id="buy-min-probability-nan"),
    pytest.param(BUY, buy(trig(min_probability=10 ** 400)), trigger_path("min_probability"),
                 id="buy-min-probability-huge-int"),
    # BUY conditions
    pytest.param(BUY, buy(conditions=[cond(type="prediction_alert")]), cond_path(0, "type"),
                 id="buy-wrong-condition-type"),
    pytest.param(BUY, buy(conditions=[cond(), cond(operator="eq")]), cond_path(1, "operator"), id="buy-bad-operator"),
    pytest.param(BUY, buy(conditions=[cond(operator=">=")]), cond_path(0, "operator"), id="buy-operator-symbol"),
    pytest.param(BUY, buy(conditions=[cond(operator=None)]), cond_path(0, "operator"), id="buy-operator-null"),
    pytest.param(BUY, buy(conditions=[cond(threshold=1.5)]), cond_path(0, "threshold"), id="buy-threshold-above-1"),
    pytest.param(BUY, buy(conditions=[cond(threshold=-0.01)]), cond_path(0, "threshold"), id="buy-threshold-negative"),
    pytest.param(BUY, buy(conditions=[cond(threshold=False)]), cond_path(0, "threshold"), id="buy-threshold-bool"),
    pytest.param(BUY, buy(conditions=[cond(threshold=NAN)]), cond_path(0, "threshold"), id="buy-threshold-nan"),
    pytest.param(BUY, buy(conditions=[without(cond(), "threshold")]), cond_path(0, "threshold"),
                 id="buy-threshold-missing"),
    pytest.param(BUY, buy(conditions=[cond(0)]), cond_path(0, "model_id"), id="buy-condition-model-id-zero"),
    pytest.param(BUY, buy(conditions=[cond(2.5)]), cond_path(0, "model_id"), id="buy-condition-model-id-float"),
    pytest.param(BUY, buy(conditions=[without(cond(), "model_id")]), cond_path(0, "model_id"),
                 id="buy-condition-model-id-missing"),
    pytest.param(BUY, buy(conditions=[cond(), "x"]), cond_path(1), id="buy-condition-not-object"),
    pytest.param(BUY, buy(conditions=cond()), ("chain", "conditions"), id="buy-conditions-not-list"),
    pytest.param(BUY, buy(conditions=[cond(100 + i) for i in range(MAX_CONDITIONS + 1)]), ("chain", "conditions"),
                 id="buy-too-many-conditions"),
    # chain that does not match the type
    pytest.param(SELL, buy(conditions=[cond()]), ("chain", "trigger"), id="buy-chain-given-to-sell"),
    pytest.param(SELL, buy(), ("chain", "rules"), id="buy-chain-given-to-sell-rules-missing"),
    pytest.param(BUY, sell(sl()), ("chain", "rules"), id="sell-chain-given-to-buy"),
    pytest.param(BUY, sell(sl()), ("chain", "trigger"), id="sell-chain-given-to-buy-trigger-missing"),
]

CHAIN_CASES = VALID + INVALID


@pytest.mark.parametrize(("workflow_type", "raw", "expected_error_path"), CHAIN_CASES)
def test_parse_chain(workflow_type, raw, expected_error_path):
    if expected_error_path is None:
        parsed = parse_chain(workflow_type, raw)
        assert isinstance(parsed, BuyChain if WorkflowType(workflow_type) is WorkflowType.BUY else SellChain)
        assert parse_chain(workflow_type, chain_to_json(parsed)) == parsed
        # chain_to_json is what goes into JSONB: it must survive real JSON too.
        assert parse_chain(workflow_type, json.loads(json.dumps(chain_to_json(parsed)))) == parsed
        if isinstance(parsed, SellChain):
            assert len(parsed.rules) == len(raw["rules"])
        else:
            assert len(parsed.conditions) == len(raw.get("conditions", []))
    else:
        with pytest.raises(InvalidChain) as info:
            parse_chain(workflow_type, raw)
        assert expected_error_path in info.value.errors, info.value.errors
        assert all(isinstance(msgs, list) and msgs for msgs in info.value.errors.values())
        assert format_path(expected_error_path) in str(info.value)


def test_chain_case_table_size():
    assert len(CHAIN_CASES) >= 45
    assert len(VALID) >= 20 and len(INVALID) >= 45


def test_parse_buy_values():
    parsed = parse_chain(BUY, buy(trig(18, 0.7), [cond(23, "gte", 0.6), without(cond(24, threshold=0.3), "operator")]))
    assert parsed == BuyChain(
        PredictionTrigger(18, 0.7),
        (OnDemandCondition(23, Operator.GTE, 0.6), OnDemandCondition(24, Operator.GTE, 0.3)),
    )


def test_parse_sell_values_are_exact_decimals_and_from_is_canonical():
    parsed = parse_chain(SELL, sell(sl(-5), ts(-2.5, **{"from": "peak"}), tp(20, sell_pct=50), timeout(0.5)))
    assert parsed.rules == (
        SellRule(RuleType.STOP_LOSS, percent=Decimal("-5")),
        SellRule(RuleType.TRAILING_STOP, percent=Decimal("-2.5")),
        SellRule(RuleType.TAKE_PROFIT, percent=Decimal("20"), sell_pct=Decimal("50")),
        SellRule(RuleType.TIMEOUT, minutes=Decimal("0.5")),
    )
    assert chain_to_json(parsed) == {"rules": [
        {"type": "stop_loss", "percent": -5, "from": "entry"},
        {"type": "trailing_stop", "percent": -2.5, "from": "peak"},
        {"type": "take_profit", "percent": 20, "sell_pct": 50},
        {"type": "timeout", "minutes": 0.5},
    ]}


def test_every_failing_field_is_reported_at_once():
    with pytest.raises(InvalidChain) as info:
        parse_chain(SELL, sell(sl(5), ts(3), tp(-1), timeout(0), extra=True))
    assert set(info.value.errors) >= {
        ("chain", "extra"), rules_path(0, "percent"), rules_path(1, "percent"), rules_path(2, "percent"),
        rules_path(3, "minutes"),
    }


def test_custom_root_path():
    with pytest.raises(InvalidChain) as info:
        parse_chain(SELL, sell(sl(5)), path=("body", "chain"))
    assert ("body", "chain", "rules", 0, "percent") in info.value.errors


# --- 2. WorkflowCreateSchema table ----------------------------------------

BUY_CHAIN = buy(trig(18, 0.7), [cond(23, "gte", 0.6)])
SELL_CHAIN = sell(sl(-5), ts(-3), tp(20), timeout(30))


def buy_body(**changes: Any) -> dict[str, Any]:
    """factories.buy_body with BUY_CHAIN's models, changed (a _DROP value removes the key)."""
    return _apply(factories.buy_body(18, [(23, "gte", 0.6)]), changes)


def sell_body(**changes: Any) -> dict[str, Any]:
    """factories.sell_body with SELL_CHAIN, changed (a _DROP value removes the key)."""
    return _apply(factories.sell_body(chain=SELL_CHAIN), changes)


_DROP = object()


def _apply(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(body)
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


BODY_CASES = [
    # valid
    pytest.param(buy_body(), None, id="buy-fixed-defaults"),
    pytest.param(buy_body(buy_amount_mode="percent", buy_amount_value=100), None, id="buy-percent-100"),
    pytest.param(buy_body(buy_amount_value="0.000000001"), None, id="buy-fixed-one-lamport-string"),
    pytest.param(buy_body(chain=buy(), is_active=True, cooldown_seconds=0, max_open_positions=100,
                          sell_amount_pct=1), None, id="buy-all-fields-at-bounds"),
    pytest.param(sell_body(), None, id="sell-defaults"),
    pytest.param(sell_body(sell_amount_pct=100, cooldown_seconds=30 * 86400, max_open_positions=1), None,
                 id="sell-all-fields-at-bounds"),
    pytest.param(sell_body(buy_amount_mode=None, buy_amount_value=None), None, id="sell-null-buy-amount"),
    pytest.param(buy_body(name="x" * 100), None, id="name-100-chars"),
    # missing required
    pytest.param(buy_body(wallet_alias=_DROP), ("wallet_alias",), id="missing-wallet-alias"),
    pytest.param(buy_body(name=_DROP), ("name",), id="missing-name"),
    pytest.param(buy_body(type=_DROP), ("type",), id="missing-type"),
    pytest.param(buy_body(chain=_DROP), ("chain",), id="missing-chain"),
    pytest.param(buy_body(name=""), ("name",), id="name-empty"),
    pytest.param(buy_body(name="x" * 101), ("name",), id="name-101-chars"),
    pytest.param(buy_body(type="HOLD"), ("type",), id="type-hold"),
    pytest.param(buy_body(chain="stop_loss"), ("chain",), id="chain-not-object"),
    # amounts
    pytest.param(buy_body(buy_amount_mode=_DROP), ("buy_amount_mode",), id="buy-without-mode"),
    pytest.param(buy_body(buy_amount_value=_DROP), ("buy_amount_value",), id="buy-without-value"),
    pytest.param(buy_body(buy_amount_mode="all"), ("buy_amount_mode",), id="buy-unknown-mode"),
    pytest.param(buy_body(buy_amount_mode="percent", buy_amount_value=150), ("buy_amount_value",),
                 id="buy-percent-150"),
    pytest.param(buy_body(buy_amount_value=0), ("buy_amount_value",), id="buy-fixed-zero"),
    pytest.param(buy_body(buy_amount_value=-1), ("buy_amount_value",), id="buy-fixed-negative"),
    pytest.param(buy_body(buy_amount_value="0.0000000001"), ("buy_amount_value",), id="buy-fixed-10-decimals"),
    pytest.param(buy_body(buy_amount_value="NaN"), ("buy_amount_value",), id="buy-fixed-nan"),
    pytest.param(buy_body(buy_amount_value=1e30), ("buy_amount_value",), id="buy-fixed-1e30-too-large"),
    pytest.param(sell_body(buy_amount_mode="fixed"), ("buy_amount_mode",), id="sell-with-buy-amount-mode"),
    pytest.param(sell_body(buy_amount_value=1), ("buy_amount_value",), id="sell-with-buy-amount-value"),
    # other fields
    pytest.param(sell_body(sell_amount_pct=0), ("sell_amount_pct",), id="sell-amount-pct-0"),
    pytest.param(sell_body(sell_amount_pct=101), ("sell_amount_pct",), id="sell-amount-pct-101"),
    pytest.param(buy_body(cooldown_seconds=-1), ("cooldown_seconds",), id="cooldown-negative"),
    pytest.param(buy_body(cooldown_seconds="60"), ("cooldown_seconds",), id="cooldown-string"),
    pytest.param(buy_body(cooldown_seconds=1.5), ("cooldown_seconds",), id="cooldown-float"),
    pytest.param(buy_body(max_open_positions=0), ("max_open_positions",), id="max-open-positions-0"),
    pytest.param(buy_body(max_open_positions=101), ("max_open_positions",), id="max-open-positions-101"),
    pytest.param(buy_body(extra=1), ("extra",), id="unknown-top-level-key"),
    # chain errors nest under "chain"
    pytest.param(buy_body(chain=SELL_CHAIN), ("chain", "rules"), id="buy-type-with-sell-chain"),
    pytest.param(buy_body(chain=SELL_CHAIN), ("chain", "trigger"), id="buy-type-with-sell-chain-trigger"),
    pytest.param(sell_body(chain=BUY_CHAIN), ("chain", "trigger"), id="sell-type-with-buy-chain"),
    pytest.param(sell_body(chain=sell(sl(5))), ("chain", "rules", 0, "percent"), id="sell-chain-positive-stop-loss"),
    pytest.param(buy_body(chain=buy(conditions=[cond(threshold=2)])), ("chain", "conditions", 0, "threshold"),
                 id="buy-chain-threshold-2"),
    pytest.param(buy_body(buy_amount_value=0, chain=buy(trig(0))), ("chain", "trigger", "model_id"),
                 id="chain-errors-reported-with-field-errors"),
]


def _has_path(messages: Any, path: tuple[str | int, ...]) -> bool:
    node = messages
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return bool(node)


@pytest.mark.parametrize(("body", "expected_error_path"), BODY_CASES)
def test_workflow_create_schema(body, expected_error_path):
    if expected_error_path is None:
        data = WorkflowCreateSchema().load(body)
        assert data["type"] == body["type"]
        assert data["chain"] == body["chain"]
        assert data["is_active"] is body.get("is_active", False)
        if body["type"] == "BUY":
            assert isinstance(data["buy_amount_value"], Decimal)
            assert data["buy_amount_value"] == Decimal(str(body["buy_amount_value"]))
        assert parse_chain(data["type"], data["chain"])
    else:
        with pytest.raises(ValidationError) as info:
            WorkflowCreateSchema().load(body)
        assert _has_path(info.value.messages, expected_error_path), info.value.messages


def test_body_case_table_size():
    assert len(BODY_CASES) >= 20


def test_create_schema_reports_amount_and_chain_errors_together():
    with pytest.raises(ValidationError) as info:
        WorkflowCreateSchema().load(buy_body(buy_amount_mode=_DROP, chain=buy(trig(min_probability=2))))
    messages = info.value.messages
    assert "buy_amount_mode" in messages
    assert _has_path(messages, ("chain", "trigger", "min_probability"))


def test_create_schema_does_not_double_report_a_failed_amount_field():
    with pytest.raises(ValidationError) as info:
        WorkflowCreateSchema().load(buy_body(buy_amount_value=0))
    assert info.value.messages == {"buy_amount_value": info.value.messages["buy_amount_value"]}
    assert len(info.value.messages["buy_amount_value"]) == 1


PATCH_CASES = [
    pytest.param({"name": "Renamed"}, None, id="patch-name"),
    pytest.param({"type": "SELL"}, None, id="patch-type-repeated"),
    pytest.param({"cooldown_seconds": 0, "max_open_positions": 3}, None, id="patch-numbers"),
    pytest.param({}, ("_schema",), id="patch-empty"),
    pytest.param({"type": "HOLD"}, ("type",), id="patch-type-hold"),
    pytest.param({"name": ""}, ("name",), id="patch-name-empty"),
    pytest.param({"wallet_alias": "other"}, ("wallet_alias",), id="patch-wallet-alias-unknown-field"),
    pytest.param({"is_active": True}, ("is_active",), id="patch-is-active-unknown-field"),
    pytest.param({"max_open_positions": 0}, ("max_open_positions",), id="patch-max-open-positions-0"),
    pytest.param({"sell_amount_pct": 101}, ("sell_amount_pct",), id="patch-sell-amount-pct-101"),
]


@pytest.mark.parametrize(("body", "expected_error_path"), PATCH_CASES)
def test_workflow_patch_schema(body, expected_error_path):
    if expected_error_path is None:
        assert WorkflowPatchSchema().load(body).keys() == body.keys()
    else:
        with pytest.raises(ValidationError) as info:
            WorkflowPatchSchema().load(body)
        assert _has_path(info.value.messages, expected_error_path), info.value.messages


# --- 3. check_amounts, summarize, Operator.holds ------------------------

AMOUNT_CASES = [
    pytest.param(BUY, "fixed", Decimal("0.05"), set(), id="buy-fixed-ok"),
    pytest.param(BUY, "fixed", Decimal("0.000000001"), set(), id="buy-fixed-one-lamport"),
    pytest.param(BUY, "fixed", Decimal("1E+19"), set(), id="buy-fixed-1e19-whole-sol"),
    pytest.param(BUY, "percent", Decimal("100"), set(), id="buy-percent-100"),
    pytest.param(BUY, "percent", Decimal("0.5"), set(), id="buy-percent-fraction"),
    pytest.param(WorkflowType.BUY, "percent", Decimal("12.345678901"), set(), id="buy-percent-many-decimals"),
    pytest.param(BUY, None, Decimal("1"), {("buy_amount_mode",)}, id="buy-no-mode"),
    pytest.param(BUY, "fixed", None, {("buy_amount_value",)}, id="buy-no-value"),
    pytest.param(BUY, None, None, {("buy_amount_mode",), ("buy_amount_value",)}, id="buy-nothing"),
    pytest.param(BUY, "fixed", Decimal("0"), {("buy_amount_value",)}, id="buy-fixed-zero"),
    pytest.param(BUY, "percent", Decimal("-1"), {("buy_amount_value",)}, id="buy-percent-negative"),
    pytest.param(BUY, "percent", Decimal("100.01"), {("buy_amount_value",)}, id="buy-percent-above-100"),
    pytest.param(BUY, "fixed", Decimal("0.0000000001"), {("buy_amount_value",)}, id="buy-fixed-sub-lamport"),
    pytest.param(SELL, None, None, set(), id="sell-no-amount"),
    pytest.param(SELL, "fixed", None, {("buy_amount_mode",)}, id="sell-with-mode"),
    pytest.param(WorkflowType.SELL, "percent", Decimal("5"), {("buy_amount_mode",), ("buy_amount_value",)},
                 id="sell-with-mode-and-value"),
]


@pytest.mark.parametrize(("workflow_type", "mode", "value", "expected_paths"), AMOUNT_CASES)
def test_check_amounts(workflow_type, mode, value, expected_paths):
    errors = check_amounts(workflow_type, mode, value)
    assert set(errors) == expected_paths
    assert all(isinstance(msgs, list) and msgs for msgs in errors.values())


SUMMARY_CASES = [
    pytest.param(BUY, BUY_CHAIN, "fixed", Decimal("0.05"), "Model #18 ≥ 70% → Model #23 ≥ 60% → Buy 0.05 SOL",
                 id="buy-fixed"),
    pytest.param(BUY, buy(trig(7, 0.85)), "percent", Decimal("25"), "Model #7 ≥ 85% → Buy 25% of balance",
                 id="buy-percent-no-conditions"),
    pytest.param(BUY, buy(trig(7, 1), [cond(8, "lt", 0.25), cond(9, "lte", 0), cond(10, "gt", 0.5)]),
                 "fixed", Decimal("1.500"),
                 "Model #7 ≥ 100% → Model #8 < 25% → Model #9 ≤ 0% → Model #10 > 50% → Buy 1.5 SOL",
                 id="buy-every-operator-symbol"),
    pytest.param(BUY, buy(trig(18, 0.7)), None, None, "Model #18 ≥ 70%", id="buy-without-amount"),
    pytest.param(SELL, SELL_CHAIN, None, None, "SL -5% | TS -3% | TP +20% | 30 min", id="sell-all-four"),
    pytest.param(SELL, sell(tp(20, sell_pct=50), tp(50.5), timeout(0.5)), None, None,
                 "TP +20% (sell 50%) | TP +50.5% | 0.5 min", id="sell-ladder-with-sell-pct"),
    pytest.param(SELL, sell(sl(-2.5, sell_pct=100)), None, None, "SL -2.5% (sell 100%)", id="sell-stop-loss-full"),
]


@pytest.mark.parametrize(("workflow_type", "raw", "mode", "value", "expected"), SUMMARY_CASES)
def test_summarize(workflow_type, raw, mode, value, expected):
    assert summarize(parse_chain(workflow_type, raw), mode, value) == expected


HOLDS_CASES = [
    pytest.param(Operator.GTE, 0.6, 0.6, True, id="gte-equal"),
    pytest.param(Operator.GTE, 0.59999, 0.6, False, id="gte-just-below"),
    pytest.param(Operator.GTE, 0.61, 0.6, True, id="gte-above"),
    pytest.param(Operator.GT, 0.6, 0.6, False, id="gt-equal"),
    pytest.param(Operator.GT, 0.60001, 0.6, True, id="gt-just-above"),
    pytest.param(Operator.LTE, 0.6, 0.6, True, id="lte-equal"),
    pytest.param(Operator.LTE, 0.60001, 0.6, False, id="lte-just-above"),
    pytest.param(Operator.LT, 0.6, 0.6, False, id="lt-equal"),
    pytest.param(Operator.LT, 0.59999, 0.6, True, id="lt-just-below"),
    pytest.param(Operator.GTE, 0.0, 0.0, True, id="gte-zero-zero"),
    pytest.param(Operator.LTE, 1.0, 1.0, True, id="lte-one-one"),
    pytest.param(Operator.GT, 1.0, 1.0, False, id="gt-one-one"),
    pytest.param(Operator.LT, 0.0, 0.0, False, id="lt-zero-zero"),
]


@pytest.mark.parametrize(("operator", "value", "threshold", "expected"), HOLDS_CASES)
def test_operator_holds(operator, value, threshold, expected):
    assert operator.holds(value, threshold) is expected


def test_operator_holds_on_parsed_threshold_equal_to_probability():
    parsed = parse_chain(BUY, buy(trig(18, 0.7), [cond(23, "gte", 0.6)]))
    assert parsed.conditions[0].operator.holds(0.6, parsed.conditions[0].threshold)
    assert 0.7 >= parsed.trigger.min_probability


@pytest.mark.parametrize("workflow_type, raw", [
    ("BUY", {"trigger": {"type": "prediction_alert", "model_id": 3, "min_probability": 0.25},
             "conditions": [{"type": "on_demand_prediction", "model_id": 4, "operator": "lt", "threshold": 0.1}]}),
    ("SELL", {"rules": [{"type": "stop_loss", "percent": -5.5}, {"type": "take_profit", "percent": 20, "sell_pct": 50},
                        {"type": "timeout", "minutes": 0.5}]}),
])
def test_load_stored_chain_equals_validated_parse(workflow_type, raw):
    from app.core.chains import load_stored_chain

    parsed = parse_chain(workflow_type, raw)
    assert load_stored_chain(workflow_type, chain_to_json(parsed)) == parsed


# --- 4. check_workflow, and one rule with one message for schemas and core ---

def test_check_workflow_returns_the_chain_when_the_body_means_something():
    chain, problems = check_workflow(BUY, BUY_CHAIN, "fixed", Decimal("0.05"))
    assert (chain, problems) == (parse_chain(BUY, BUY_CHAIN), {})


def test_check_workflow_reports_amounts_and_chain_together():
    chain, problems = check_workflow(BUY, buy(trig(min_probability=2)), None, Decimal("0.05"))
    assert chain is None
    assert set(problems) == {("buy_amount_mode",), MIN_P}


@pytest.mark.parametrize("value, places", [
    ("1", 0), ("1.50", 1), ("1E+3", 0), ("0.000000001", 9), ("0.0000000010", 9), ("-2.125", 3), ("0", 0),
])
def test_decimal_places(value, places):
    assert decimal_places(Decimal(value)) == places


@pytest.mark.parametrize("value", ["0.0000000001", "1E+30"])
def test_sol_amount_rule_has_one_message_in_schema_and_core(value):
    message = sol_amount_problem(Decimal(value))
    assert message
    assert check_amounts(BUY, "fixed", Decimal(value)) == {("buy_amount_value",): [message]}
    with pytest.raises(ValidationError) as info:
        WalletCreateSchema().load(factories.wallet_body(virtual_sol_balance=value))
    assert info.value.messages == {"virtual_sol_balance": [message]}


def test_positive_buy_amount_rule_has_one_message_in_schema_and_core():
    message = positive_amount_problem(Decimal(0))
    assert check_amounts(BUY, "percent", Decimal(0)) == {("buy_amount_value",): [message]}
    with pytest.raises(ValidationError) as info:
        WorkflowPatchSchema().load({"buy_amount_value": 0})
    assert info.value.messages == {"buy_amount_value": [message]}


def test_mint_address_rule_has_one_message_in_schema_and_service():
    message = mint_address_problem("not-a-mint")
    assert message and mint_address_problem("So11111111111111111111111111111111111111112") is None
    with pytest.raises(ValidationError) as info:
        PredictionInSchema().load({"mint": "not-a-mint", "model_id": 1, "probability": 0.5,
                                   "timestamp": "2026-11-21T10:00:00+00:00"})
    assert info.value.messages == {"mint": [message]}
    with pytest.raises(Invalid) as raised:
        require_mint_address("not-a-mint")
    assert raised.value.errors == {"path": {"mint": [message]}}
