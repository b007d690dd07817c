"""Per-workflow filters and confidence sizing: validation, stored form, pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.core.chains import InvalidChain, chain_to_json, check_workflow, load_stored_chain, parse_chain
from app.core.filters import MarketPoint, confidence_amount, market_check, mint_list_check
from tests.factories import MINT, OTHER_MINT

TRIGGER = {"type": "prediction_alert", "model_id": 1, "min_probability": 0.6}


def chain(**extras):
    return {"trigger": TRIGGER, "conditions": [], **extras}


def test_filters_and_sizing_round_trip_through_the_stored_form():
    parsed = parse_chain("BUY", chain(filters={"mint_allow": [MINT], "mint_deny": [OTHER_MINT],
                                               "min_liquidity_sol": 12.5, "min_volume_sol": 3},
                                      sizing={"type": "confidence", "min_amount": 0.01}))
    stored = chain_to_json(parsed)
    assert stored["filters"] == {"mint_allow": [MINT], "mint_deny": [OTHER_MINT], "min_liquidity_sol": 12.5,
                                 "min_volume_sol": 3}
    assert load_stored_chain("BUY", stored) == parsed
    assert "filters" not in chain_to_json(parse_chain("BUY", chain()))  # older chains keep their form


@pytest.mark.parametrize("extras, path", [
    ({"filters": {"mint_allow": ["nope"]}}, ("chain", "filters", "mint_allow", 0)),
    ({"filters": {"min_liquidity_sol": -1}}, ("chain", "filters", "min_liquidity_sol")),
    ({"filters": {"colour": "red"}}, ("chain", "filters", "colour")),
    ({"sizing": {"type": "kelly", "min_amount": 0.01}}, ("chain", "sizing", "type")),
    ({"sizing": {"type": "confidence", "min_amount": 0}}, ("chain", "sizing", "min_amount")),
])
def test_invalid_filters_name_their_field(extras, path):
    with pytest.raises(InvalidChain) as caught:
        parse_chain("BUY", chain(**extras))
    assert path in caught.value.errors


def test_sizing_minimum_above_the_amount_is_refused():
    _, problems = check_workflow("BUY", chain(sizing={"type": "confidence", "min_amount": 0.2}), "fixed",
                                 Decimal("0.1"))
    assert ("chain", "sizing", "min_amount") in problems


def test_decisions():
    parsed = parse_chain("BUY", chain(filters={"mint_deny": [OTHER_MINT], "min_volume_sol": 1}))
    assert mint_list_check(parsed.filters, MINT).goes_on
    assert not mint_list_check(parsed.filters, OTHER_MINT).goes_on
    at = datetime(2026, 11, 21, tzinfo=UTC)
    assert not market_check(parsed.filters, MarketPoint(at, None, None)).goes_on  # volume not reported
    assert market_check(parsed.filters, MarketPoint(at, None, Decimal(1))).goes_on
    sizing = parse_chain("BUY", chain(sizing={"type": "confidence", "min_amount": 1})).sizing
    assert confidence_amount(sizing, Decimal(3), 0.6, 0.8)[0] == Decimal(2)
    assert confidence_amount(sizing, Decimal(3), 1.0, 1.0)[0] == Decimal(3)
