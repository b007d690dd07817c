"""Price API v3 answers turned into SOL per whole token: usdPrice(mint) / usdPrice(SOL), unusable prices left out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.pricing.jupiter import SOL_MINT, sol_prices

A, B = "MintA111111111111111111111111111111111111111", "MintB111111111111111111111111111111111111111"
SOL = {SOL_MINT: {"usdPrice": 150.0, "decimals": 9}}


@pytest.mark.parametrize(("answer", "expected"), [
    ({**SOL, A: {"usdPrice": 1.5}, B: {"usdPrice": 0.000015}}, {A: Decimal("0.01"), B: Decimal("1E-7")}),
    ({**SOL, A: {"usdPrice": 1.5}}, {A: Decimal("0.01")}),  # B absent: no reliable price
    ({**SOL, A: {"usdPrice": 0}, B: {"usdPrice": -2}}, {}),  # zero or negative: no price
    ({**SOL, A: {"usdPrice": "3"}, B: {"usdPrice": "abc"}}, {A: Decimal("0.02")}),  # text that is a number
    ({**SOL, A: {"usdPrice": True}, B: {"usdPrice": None}}, {}),  # not numbers
    ({**SOL, A: {"usdPrice": float("nan")}, B: {"usdPrice": float("inf")}}, {}),
    ({**SOL, A: {"decimals": 6}, B: "1.5"}, {}),  # entries without a usdPrice
    ({A: {"usdPrice": 1.5}, B: {"usdPrice": 3}}, {}),  # SOL missing: nothing can be converted
    ({SOL_MINT: {"usdPrice": 0}, A: {"usdPrice": 1.5}}, {}),  # SOL unusable
    ([], {}), (None, {}), ("oops", {}),  # not an object at all
])
def test_sol_prices(answer, expected):
    assert sol_prices(answer, [A, B]) == expected


def test_the_division_is_exact_decimal_arithmetic_on_the_answers_numbers():
    prices = sol_prices({SOL_MINT: {"usdPrice": 147.48}, A: {"usdPrice": 0.00012345}}, [A])
    assert prices == {A: Decimal("0.00012345") / Decimal("147.48")}
