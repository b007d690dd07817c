"""Paper execution arithmetic (SPEC §6): fees and fills in exact lamports and raw token units, table-driven."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from app.core.paper import (
    BuyFill,
    SellFill,
    buy_fill,
    buy_swap_lamports,
    fee_lamports,
    lamports_for_tokens,
    price_per_token,
    sell_fill,
    tokens_for_lamports,
)
from app.core.solana import LAMPORTS_PER_SOL

D = Decimal


# --- fee_lamports: rounds up, never in the trader's favour ---------------------------

@pytest.mark.parametrize(("lamports", "fee_bps", "fee"), [
    pytest.param(1, 30, 1, id="one_lamport_30bps_rounds_up"),
    pytest.param(0, 30, 0, id="zero_lamports"),
    pytest.param(1, 0, 0, id="zero_bps_one_lamport"),
    pytest.param(123_456_789, 0, 0, id="zero_bps"),
    pytest.param(123_456_789, 10_000, 123_456_789, id="all_10000bps"),
    pytest.param(1, 10_000, 1, id="all_10000bps_one_lamport"),
    pytest.param(1_000_000_000, 30, 3_000_000, id="one_sol_30bps_exact"),
    pytest.param(3_333, 30, 10, id="9.999_rounds_up_to_10"),
    pytest.param(10_000, 1, 1, id="exactly_one_lamport"),
    pytest.param(10_001, 1, 2, id="just_over_one_lamport"),
    pytest.param(9_999, 1, 1, id="just_under_one_lamport"),
    pytest.param(100, 25, 1, id="quarter_lamport_up"),
    pytest.param(50_000_000, 100, 500_000, id="one_percent"),
    pytest.param(10**18, 30, 3 * 10**15, id="large_exact"),
    pytest.param(10**18 + 1, 30, 3 * 10**15 + 1, id="large_rounds_up"),
])
def test_fee_lamports(lamports, fee_bps, fee):
    assert fee_lamports(lamports, fee_bps) == fee
    assert isinstance(fee_lamports(lamports, fee_bps), int)


@pytest.mark.parametrize(("total", "fee_bps", "fee", "swap"), [
    pytest.param(1_000_000_000, 30, 3_000_000, 997_000_000, id="one_sol_30bps"),
    pytest.param(1_001, 30, 4, 997, id="fee_rounded_up"),
    pytest.param(1, 30, 1, 0, id="one_lamport_all_fee"),
    pytest.param(5_000, 0, 0, 5_000, id="no_fee"),
    pytest.param(5_000, 10_000, 5_000, 0, id="all_fee"),
])
def test_buy_swap_lamports(total, fee_bps, fee, swap):
    assert buy_swap_lamports(total, fee_bps) == (fee, swap)


# --- price_per_token -------------------------------------------------------------------

@pytest.mark.parametrize(("lamports", "tokens_raw", "decimals", "price"), [
    pytest.param(1_000_000_000, 1, 0, D("1"), id="d0_one_sol_one_token"),
    pytest.param(997_000_000, 1_000_000, 0, D("0.000000997"), id="d0"),
    pytest.param(1, 1, 0, D("0.000000001"), id="d0_one_lamport_one_token"),
    pytest.param(99_000_000, 5_000_000_000, 6, D("0.0000198"), id="d6"),
    pytest.param(1_000_000_000, 1_000_000, 6, D("1"), id="d6_one_whole_token"),
    pytest.param(50_000_000, 2_500_000_000_000, 9, D("0.00002"), id="d9"),
    pytest.param(3, 1, 9, D("3"), id="d9_three_lamports_per_raw_unit"),
    pytest.param(1, 3, 9, D(1) / D(3), id="d9_one_third"),
])
def test_price_per_token(lamports, tokens_raw, decimals, price):
    assert price_per_token(lamports, tokens_raw, decimals) == price


# --- buy_fill / sell_fill ----------------------------------------------------------------

@pytest.mark.parametrize(("total", "fee_bps", "tokens_raw", "decimals", "expected"), [
    pytest.param(1_000_000_000, 30, 1_000_000, 0,
                 BuyFill(1_000_000_000, 3_000_000, 997_000_000, 1_000_000, D("0.000000997")), id="d0_30bps"),
    pytest.param(1_001, 30, 1_000, 0, BuyFill(1_001, 4, 997, 1_000, D("9.97E-10")), id="d0_fee_rounded_up"),
    pytest.param(100_000_000, 100, 5_000_000_000, 6,
                 BuyFill(100_000_000, 1_000_000, 99_000_000, 5_000_000_000, D("0.0000198")), id="d6_100bps"),
    pytest.param(50_000_000, 0, 2_500_000_000_000, 9,
                 BuyFill(50_000_000, 0, 50_000_000, 2_500_000_000_000, D("0.00002")), id="d9_no_fee"),
    pytest.param(2_000_000_000, 50, 123_456_789_012, 9,
                 BuyFill(2_000_000_000, 10_000_000, 1_990_000_000, 123_456_789_012,
                         D("1.99") / D("123.456789012")), id="d9_odd_tokens"),
])
def test_buy_fill(total, fee_bps, tokens_raw, decimals, expected):
    fill = buy_fill(total, fee_bps, tokens_raw, decimals)
    assert fill == expected
    assert fill.fee_lamports + fill.swap_lamports == fill.total_lamports
    assert all(isinstance(v, int) for v in (fill.total_lamports, fill.fee_lamports, fill.swap_lamports,
                                             fill.tokens_raw))


@pytest.mark.parametrize(("tokens_raw", "gross", "fee_bps", "decimals", "expected"), [
    pytest.param(1_000_000, 997_000_000, 30, 0,
                 SellFill(1_000_000, 997_000_000, 2_991_000, 994_009_000, D("0.000000997")), id="d0_30bps"),
    pytest.param(5_000_000_000, 99_000_000, 100, 6,
                 SellFill(5_000_000_000, 99_000_000, 990_000, 98_010_000, D("0.0000198")), id="d6_100bps"),
    pytest.param(2_500_000_000_000, 50_000_000, 0, 9,
                 SellFill(2_500_000_000_000, 50_000_000, 0, 50_000_000, D("0.00002")), id="d9_no_fee"),
    pytest.param(3, 1, 30, 9, SellFill(3, 1, 1, 0, D(1) / D(3)), id="d9_one_lamport_fee_eats_all"),
    pytest.param(1_000, 0, 30, 6, SellFill(1_000, 0, 0, 0, D(0)), id="d6_zero_gross_price_zero"),
    pytest.param(7, 10_001, 1, 0, SellFill(7, 10_001, 2, 9_999, D("0.000010001") / 7), id="d0_fee_rounded_up"),
])
def test_sell_fill(tokens_raw, gross, fee_bps, decimals, expected):
    fill = sell_fill(tokens_raw, gross, fee_bps, decimals)
    assert fill == expected
    assert fill.fee_lamports + fill.net_lamports == fill.gross_lamports
    assert all(isinstance(v, int) for v in (fill.tokens_raw, fill.gross_lamports, fill.fee_lamports,
                                             fill.net_lamports))


# --- conversions at a price: floored --------------------------------------------------------

@pytest.mark.parametrize(("lamports", "price", "decimals", "tokens_raw"), [
    pytest.param(1_000_000_000, D("0.000001"), 6, 1_000_000_000_000, id="d6_exact"),
    pytest.param(1_000_000_000, D("0.000003"), 6, 333_333_333_333, id="d6_floored"),
    pytest.param(3_000_000_000, D("3"), 0, 1, id="d0_exact_one"),
    pytest.param(2_999_999_999, D("3"), 0, 0, id="d0_one_lamport_short"),
    pytest.param(10, D("3"), 0, 0, id="d0_far_short"),
    pytest.param(10, D("0.000000003"), 0, 3, id="d0_floored"),
    pytest.param(7, D("0.000000003"), 9, 2_333_333_333, id="d9_floored"),
    pytest.param(1, D("2"), 9, 0, id="d9_half_raw_unit_floored"),
    pytest.param(0, D("0.0001"), 9, 0, id="zero_lamports"),
    pytest.param(1_000_000, D("0.000012345678901234"), 6, 81_000_000, id="d6_18_decimal_price"),
])
def test_tokens_for_lamports(lamports, price, decimals, tokens_raw):
    assert tokens_for_lamports(lamports, price, decimals) == tokens_raw


@pytest.mark.parametrize(("tokens_raw", "price", "decimals", "lamports"), [
    pytest.param(1_000_000_000_000, D("0.000001"), 6, 1_000_000_000, id="d6_exact"),
    pytest.param(333_333_333_333, D("0.000003"), 6, 999_999_999, id="d6_floored"),
    pytest.param(1, D("0.000001"), 6, 0, id="d6_sub_lamport"),
    pytest.param(1, D("3"), 0, 3_000_000_000, id="d0_exact"),
    pytest.param(5, D("0.0000000015"), 0, 7, id="d0_floored"),
    pytest.param(2_333_333_333, D("0.000000003"), 9, 6, id="d9_floored"),
    pytest.param(1, D("1"), 9, 1, id="d9_one_raw_at_one_sol"),
    pytest.param(0, D("5"), 9, 0, id="zero_tokens"),
    pytest.param(10**15, D("0.000000028"), 6, 28_000_000_000, id="d6_whole_pump_supply"),
    # Exact value 731.963651771999999...: the floor must not round up to ...772 (no lamport created).
    pytest.param(59_289_056_327_121_827, D("0.000012345678901237"), 9, 731_963_651_771,
                 id="d9_18_decimal_price_just_below_lamport"),
    # A price sim_price really returns; exact value 10205.445020198999...
    pytest.param(256_254_373_662_893, D("0.000039825447169243"), 6, 10_205_445_020_198,
                 id="d6_sim_price_just_below_lamport"),
])
def test_lamports_for_tokens(tokens_raw, price, decimals, lamports):
    assert lamports_for_tokens(tokens_raw, price, decimals) == lamports


U64_MAX = 2**64 - 1  # SPL token amounts are u64
MAX_LAMPORTS = 10**18  # a billion SOL: more than exists


def _random_price(rng: random.Random) -> Decimal:
    """A price with at most 18 decimals (NUMERIC(38, 18)), from 1e-12 up to ~100 SOL per whole token."""
    return Decimal(rng.randint(10**6, 10**rng.randint(7, 20))).scaleb(-18)


def test_conversions_match_exact_integer_floor():
    """Against exact integer arithmetic (price = p / 1e18), over realistic amounts: u64 tokens, < 1e9 SOL."""
    rng = random.Random(20240601)
    mismatches = []
    checked = 0
    for _ in range(20_000):
        decimals = rng.choice((0, 6, 9))
        price = _random_price(rng)
        p = int(price.scaleb(18))
        lamports = rng.randint(0, 10**rng.randint(1, 13))
        tokens = rng.randint(0, 10**rng.randint(1, 19))
        # tokens = lamports * 10^d / (p/1e18 * 1e9) = lamports * 10^d * 1e9 / p
        exact_tokens = lamports * 10**decimals * 10**9 // p
        if exact_tokens <= U64_MAX:
            checked += 1
            got = tokens_for_lamports(lamports, price, decimals)
            if got != exact_tokens:
                mismatches.append(("tokens_for_lamports", lamports, price, decimals, got, exact_tokens))
        # lamports = tokens * p/1e18 * 1e9 / 10^d = tokens * p / (10^d * 1e9)
        exact_lamports = tokens * p // (10**decimals * 10**9)
        if exact_lamports <= MAX_LAMPORTS:
            checked += 1
            got = lamports_for_tokens(tokens, price, decimals)
            if got != exact_lamports:
                mismatches.append(("lamports_for_tokens", tokens, price, decimals, got, exact_lamports))
    assert checked > 20_000
    assert mismatches == []


def test_buy_then_sell_at_same_price_creates_no_money():
    """Seeded property check: a round trip at one price never returns more lamports than were spent."""
    rng = random.Random(1234567)
    checked = 0
    for _ in range(5_000):
        decimals = rng.choice((0, 6, 9))
        price = _random_price(rng)
        total = rng.randint(1, 10**rng.randint(1, 12))  # up to 1000 SOL
        fee_bps = rng.choice((0, 1, 25, 30, 100, 500, rng.randint(0, 1_000)))

        fee, swap = buy_swap_lamports(total, fee_bps)
        tokens = tokens_for_lamports(swap, price, decimals)
        if tokens == 0:
            assert lamports_for_tokens(0, price, decimals) == 0
            continue
        bought = buy_fill(total, fee_bps, tokens, decimals)
        assert (bought.fee_lamports, bought.swap_lamports) == (fee, swap)
        assert bought.price_sol >= price  # flooring the tokens can only make the entry dearer

        gross = lamports_for_tokens(tokens, price, decimals)
        assert 0 <= gross <= swap
        sold = sell_fill(tokens, gross, fee_bps, decimals)
        assert 0 <= sold.net_lamports <= gross <= swap <= total
        assert sold.net_lamports <= total
        assert sold.fee_lamports >= 0
        if gross:
            assert sold.price_sol <= price  # flooring the lamports can only make the exit cheaper
        checked += 1
    assert checked > 1_000  # the loop did exercise real round trips


def test_lamports_per_sol():
    assert LAMPORTS_PER_SOL == 1_000_000_000
