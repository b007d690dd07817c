"""SELL decisions (SPEC §5) as pure functions: measure, rule_holds, rule_key, tokens_to_sell, should_exit,
realized_pnl and open_pnl, table-driven.

No database, no network. Prices are built from entry/peak prices that are not round (0.000123456789) so
that every boundary row is exact: the tests also check the expected verdict against exact rational
arithmetic on the very price used, so a row cannot silently test the wrong side of a threshold.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest

from app.core.chains import RuleType, SellChain, SellRule, WorkflowType, chain_to_json, load_stored_chain, parse_chain
from app.core.sell import (
    ExitDecision,
    Measures,
    PositionState,
    measure,
    open_pnl,
    realized_pnl,
    rule_holds,
    rule_key,
    should_exit,
    tokens_to_sell,
)

D = Decimal
ENTRY = D("0.000123456789")
PEAK = D("0.000234567891")
OPENED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DEFAULT_PCT = D(100)
LAMPORTS_PER_SOL = 10**9
U64_MAX = 2**64 - 1


def sl(percent: str, sell: str | None = None) -> SellRule:
    return SellRule(RuleType.STOP_LOSS, percent=D(percent), sell_pct=None if sell is None else D(sell))


def ts(percent: str, sell: str | None = None) -> SellRule:
    return SellRule(RuleType.TRAILING_STOP, percent=D(percent), sell_pct=None if sell is None else D(sell))


def tp(percent: str, sell: str | None = None) -> SellRule:
    return SellRule(RuleType.TAKE_PROFIT, percent=D(percent), sell_pct=None if sell is None else D(sell))


def to(minutes: str, sell: str | None = None) -> SellRule:
    return SellRule(RuleType.TIMEOUT, minutes=D(minutes), sell_pct=None if sell is None else D(sell))


def at(base: Decimal, change_pct: str) -> Decimal:
    """The price `change_pct` percent away from `base`, computed exactly (no 28-digit rounding)."""
    with localcontext() as ctx:
        ctx.prec = 80
        price = base * (1 + D(change_pct) / 100)
    assert len(price.normalize().as_tuple().digits) <= 28, "test prices stay within a 28-digit quote"
    return price


def position(entry: Decimal = ENTRY, peak: Decimal | None = None, tokens: int = 1_000_001,
             fired: tuple[str, ...] = (), opened: datetime = OPENED) -> PositionState:
    return PositionState(entry, entry if peak is None else peak, opened, tokens, frozenset(fired))


def exact_change(price: Decimal, base: Decimal) -> Fraction:
    return (Fraction(price) - Fraction(base)) / Fraction(base) * 100


def exact_minutes(elapsed: timedelta) -> Fraction:
    return Fraction(elapsed // timedelta(microseconds=1), 60_000_000)


def exact_holds(rule: SellRule, entry: Decimal, peak: Decimal, price: Decimal, elapsed: timedelta) -> bool:
    """The rule's condition in exact rational arithmetic (the reference for every boundary row)."""
    raised_peak = max(peak, price)
    if rule.type is RuleType.STOP_LOSS:
        return exact_change(price, entry) <= Fraction(rule.percent)
    if rule.type is RuleType.TRAILING_STOP:
        return exact_change(price, raised_peak) <= Fraction(rule.percent)
    if rule.type is RuleType.TAKE_PROFIT:
        return exact_change(price, entry) >= Fraction(rule.percent)
    return exact_minutes(elapsed) >= Fraction(rule.minutes)


# --- every rule at its boundary ------------------------------------------------------------------------

# stop_loss / take_profit: price = ENTRY moved by change %; trailing_stop: price = PEAK moved by change %
# (PEAK is far above ENTRY, so the trailing stop fires while the position is still in profit).
# id, rule, change in percent, fires
PRICE_BOUNDARIES = [
    ("stop_loss-5-at", sl("-5"), "-5", True),
    ("stop_loss-5-above", sl("-5"), "-4.9999", False),
    ("stop_loss-5-below", sl("-5"), "-5.0001", True),
    ("stop_loss-5-1e-14-above", sl("-5"), "-4.99999999999999", False),
    ("stop_loss-5-1e-14-below", sl("-5"), "-5.00000000000001", True),
    ("stop_loss-12.5-at", sl("-12.5"), "-12.5", True),
    ("stop_loss-12.5-above", sl("-12.5"), "-12.4999", False),
    ("stop_loss-12.5-below", sl("-12.5"), "-12.5001", True),
    ("stop_loss-99.99-at", sl("-99.99"), "-99.99", True),
    ("stop_loss-99.99-above", sl("-99.99"), "-99.9899", False),
    ("stop_loss-5-gain-no", sl("-5"), "3", False),
    ("take_profit20-at", tp("20"), "20", True),
    ("take_profit20-below", tp("20"), "19.9999", False),
    ("take_profit20-above", tp("20"), "20.0001", True),
    ("take_profit20-1e-14-below", tp("20"), "19.99999999999999", False),
    ("take_profit20-1e-14-above", tp("20"), "20.00000000000001", True),
    ("take_profit0.5-at", tp("0.5"), "0.5", True),
    ("take_profit0.5-below", tp("0.5"), "0.4999", False),
    ("take_profit0.5-above", tp("0.5"), "0.5001", True),
    ("take_profit1000-at", tp("1000"), "1000", True),
    ("take_profit1000-below", tp("1000"), "999.9999", False),
    ("take_profit20-loss-no", tp("20"), "-20", False),
    ("trailing_stop-10-at", ts("-10"), "-10", True),
    ("trailing_stop-10-above", ts("-10"), "-9.9999", False),
    ("trailing_stop-10-below", ts("-10"), "-10.0001", True),
    ("trailing_stop-10-1e-14-above", ts("-10"), "-9.99999999999999", False),
    ("trailing_stop-10-1e-14-below", ts("-10"), "-10.00000000000001", True),
    ("trailing_stop-33.3-at", ts("-33.3"), "-33.3", True),
    ("trailing_stop-33.3-above", ts("-33.3"), "-33.2999", False),
    ("trailing_stop-33.3-below", ts("-33.3"), "-33.3001", True),
    ("trailing_stop-10-at-peak-no", ts("-10"), "0", False),
]


@pytest.mark.parametrize(("rule", "change", "fires"), [pytest.param(*row[1:], id=row[0]) for row in PRICE_BOUNDARIES])
def test_price_rule_boundary(rule: SellRule, change: str, fires: bool) -> None:
    trailing = rule.type is RuleType.TRAILING_STOP
    peak = PEAK if trailing else ENTRY
    price = at(peak, change)
    now = OPENED + timedelta(minutes=1)
    assert exact_holds(rule, ENTRY, peak, price, now - OPENED) is fires  # the row itself is right

    m = measure(position(peak=peak), price, now)
    measured = m.change_from_peak_pct if trailing else m.change_from_entry_pct
    assert measured == D(change)  # exact: the division is not rounded toward the threshold
    assert rule_holds(rule, m) is fires

    decision = should_exit(SellChain((rule,)), DEFAULT_PCT, position(peak=peak), price, now)
    assert (decision.rule is rule) is fires
    assert decision.rule_key == (rule_key(rule) if fires else None)


# id, rule (timeout), elapsed, fires
TIME_BOUNDARIES = [
    ("timeout30-at", to("30"), timedelta(minutes=30), True),
    ("timeout30-1us-before", to("30"), timedelta(minutes=30) - timedelta(microseconds=1), False),
    ("timeout30-1us-after", to("30"), timedelta(minutes=30, microseconds=1), True),
    ("timeout30-1s-before", to("30"), timedelta(seconds=1799), False),
    ("timeout0.5-at-30s", to("0.5"), timedelta(seconds=30), True),
    ("timeout0.5-29.999999s", to("0.5"), timedelta(seconds=29, microseconds=999_999), False),
    ("timeout0.5-30.000001s", to("0.5"), timedelta(seconds=30, microseconds=1), True),
    ("timeout2.25-at-135s", to("2.25"), timedelta(seconds=135), True),
    ("timeout2.25-1us-before", to("2.25"), timedelta(seconds=134, microseconds=999_999), False),
    ("timeout0.000001-at-60us", to("0.000001"), timedelta(microseconds=60), True),
    ("timeout0.000001-59us", to("0.000001"), timedelta(microseconds=59), False),
    # 1799.999999 s is 29.999999983333... minutes (a repeating decimal, rounded by Decimal division)
    ("timeout-repeating-just-below-elapsed", to("29.99999998333333"), timedelta(seconds=1799, microseconds=999_999),
     True),
    ("timeout-repeating-just-above-elapsed", to("29.99999998333334"), timedelta(seconds=1799, microseconds=999_999),
     False),
    ("timeout1440-one-day", to("1440"), timedelta(days=1), True),
    ("timeout1440-day-minus-1us", to("1440"), timedelta(days=1) - timedelta(microseconds=1), False),
    ("timeout525600-one-year", to("525600"), timedelta(days=365), True),
    ("timeout1-clock-skew-negative", to("1"), timedelta(microseconds=-1), False),
]


@pytest.mark.parametrize(("rule", "elapsed", "fires"), [pytest.param(*row[1:], id=row[0]) for row in TIME_BOUNDARIES])
def test_timeout_boundary(rule: SellRule, elapsed: timedelta, fires: bool) -> None:
    assert exact_holds(rule, ENTRY, ENTRY, ENTRY, elapsed) is fires
    m = measure(position(), ENTRY, OPENED + elapsed)
    assert rule_holds(rule, m) is fires
    decision = should_exit(SellChain((rule,)), DEFAULT_PCT, position(), ENTRY, OPENED + elapsed)
    assert (decision.rule is rule) is fires


# id, elapsed -> exact minutes since open
ELAPSED_CASES = [
    ("zero", timedelta(0)),
    ("one-microsecond", timedelta(microseconds=1)),
    ("ninety-seconds", timedelta(seconds=90)),
    ("fraction-of-second", timedelta(seconds=7, microseconds=250_000)),
    ("days-and-microseconds", timedelta(days=2, seconds=1, microseconds=500_000)),
    ("just-under-an-hour", timedelta(hours=1) - timedelta(microseconds=1)),
    ("negative-skew", timedelta(seconds=-3, microseconds=1)),
]


@pytest.mark.parametrize("elapsed", [pytest.param(e, id=i) for i, e in ELAPSED_CASES])
def test_minutes_since_open_microsecond_precision(elapsed: timedelta) -> None:
    minutes = measure(position(), ENTRY, OPENED + elapsed).minutes_since_open
    exact = exact_minutes(elapsed)
    assert abs(Fraction(minutes) - exact) <= abs(exact) * Fraction(1, 10**26)
    assert (Fraction(minutes) > 0) == (exact > 0)


def test_fractional_measures_exact_when_terminating() -> None:
    m = measure(position(), ENTRY, OPENED + timedelta(days=2, seconds=1, microseconds=500_000))
    assert m.minutes_since_open == D("2880.025")
    m = measure(position(), ENTRY, OPENED + timedelta(seconds=90))
    assert m.minutes_since_open == D("1.5")


def test_log_rounding_does_not_trigger() -> None:
    """-4.99999 % shows as -5.0000 in the logged values yet the -5 % stop loss holds back."""
    price = at(ENTRY, "-4.99999")
    decision = should_exit(SellChain((sl("-5"),)), DEFAULT_PCT, position(), price, OPENED)
    assert decision.rule is None
    assert decision.measures.as_dict()["change_from_entry_pct"] == "-5.0000"
    assert decision.measures.change_from_entry_pct == D("-4.99999")


# --- trailing stop and the raised peak -------------------------------------------------------------------


def test_trailing_stop_after_new_peak() -> None:
    rule = ts("-10")
    chain = SellChain((rule,))
    state = position()
    steps = [  # price, whether it is a new peak (the rule never holds on the way up)
        (at(ENTRY, "50"), True),
        (at(ENTRY, "40"), False),
        (at(ENTRY, "80"), True),
    ]
    peak = ENTRY
    for price, new_peak in steps:
        decision = should_exit(chain, DEFAULT_PCT, state, price, OPENED)
        if new_peak:
            assert decision.measures.peak_price_sol == price
            assert decision.measures.change_from_peak_pct == 0
            peak = price
        else:
            assert decision.measures.peak_price_sol == peak
        assert decision.rule is None
        state = position(peak=decision.measures.peak_price_sol)

    top = at(ENTRY, "80")
    assert state.peak_price_sol == top
    nine = should_exit(chain, DEFAULT_PCT, state, at(top, "-9.9999"), OPENED)
    assert nine.rule is None and nine.measures.peak_price_sol == top
    fired = should_exit(chain, DEFAULT_PCT, state, at(top, "-10"), OPENED)
    assert fired.rule is rule
    assert fired.measures.change_from_peak_pct == D("-10")
    assert fired.measures.change_from_entry_pct == D("62")  # still in profit: the drop is from the peak
    assert fired.measures.peak_price_sol == top


@pytest.mark.parametrize(("peak", "price", "expected_peak"), [
    pytest.param(ENTRY, at(ENTRY, "0.0001"), at(ENTRY, "0.0001"), id="raised-by-a-hair"),
    pytest.param(PEAK, PEAK, PEAK, id="equal-to-peak-kept"),
    pytest.param(PEAK, at(PEAK, "-0.0001"), PEAK, id="below-peak-kept"),
    pytest.param(PEAK, at(PEAK, "300"), at(PEAK, "300"), id="far-above-raised"),
])
def test_measure_raises_peak(peak: Decimal, price: Decimal, expected_peak: Decimal) -> None:
    m = measure(position(peak=peak), price, OPENED)
    assert m.peak_price_sol == expected_peak
    assert m.price_sol == price
    if price >= peak:
        assert m.change_from_peak_pct == 0
    else:
        assert m.change_from_peak_pct < 0


@pytest.mark.parametrize(("rule", "from_entry", "from_peak", "holds"), [
    pytest.param(ts("-10"), "-15", "-5", False, id="trailing-ignores-entry-drop"),
    pytest.param(ts("-10"), "5", "-15", True, id="trailing-reads-peak-drop"),
    pytest.param(sl("-10"), "-5", "-15", False, id="stop-loss-ignores-peak-drop"),
    pytest.param(sl("-10"), "-15", "0", True, id="stop-loss-reads-entry-drop"),
    pytest.param(tp("20"), "20", "-30", True, id="take-profit-reads-entry"),
    pytest.param(tp("20"), "19", "0", False, id="take-profit-below"),
])
def test_each_rule_reads_its_own_measure(rule: SellRule, from_entry: str, from_peak: str, holds: bool) -> None:
    m = Measures(ENTRY, PEAK, D(from_entry), D(from_peak), D(0))
    assert rule_holds(rule, m) is holds


def test_entry_drop_without_peak_drop_does_not_fire_trailing_stop() -> None:
    """A recorded peak below entry: the price is -15 % from entry but a new peak, so only the stop loss holds."""
    low_peak = at(ENTRY, "-20")
    price = at(ENTRY, "-15")
    m = measure(position(peak=low_peak), price, OPENED)
    assert m.change_from_entry_pct == D("-15")
    assert m.peak_price_sol == price and m.change_from_peak_pct == 0
    assert not rule_holds(ts("-10"), m)
    assert rule_holds(sl("-10"), m)
    decision = should_exit(SellChain((ts("-10"), sl("-10"))), DEFAULT_PCT, position(peak=low_peak), price, OPENED)
    assert decision.rule == sl("-10")


# --- OR-combination, first match in chain order ----------------------------------------------------------

LATE = OPENED + timedelta(minutes=31)
EARLY = OPENED + timedelta(minutes=1)

# id, chain, price, now, fired rule keys, expected index of the firing rule (None: hold)
ORDER_CASES = [
    ("timeout-before-stop-loss", (to("30"), sl("-5")), at(ENTRY, "-6"), LATE, (), 0),
    ("stop-loss-before-timeout", (sl("-5"), to("30")), at(ENTRY, "-6"), LATE, (), 0),
    ("stop-loss-before-trailing", (sl("-5"), ts("-10")), at(ENTRY, "-12"), EARLY, (), 0),
    ("trailing-before-stop-loss", (ts("-10"), sl("-5")), at(ENTRY, "-12"), EARLY, (), 0),
    ("take-profit-before-timeout", (tp("20"), to("30")), at(ENTRY, "25"), LATE, (), 0),
    ("only-second-holds", (tp("20"), sl("-5")), at(ENTRY, "-5"), EARLY, (), 1),
    ("only-third-holds", (tp("20"), sl("-5"), to("30")), ENTRY, LATE, (), 2),
    ("none-hold", (tp("20"), sl("-5"), ts("-10"), to("30")), at(ENTRY, "1"), EARLY, (), None),
    ("first-fired-next-holds", (to("30"), sl("-5")), at(ENTRY, "-6"), LATE, ("timeout:30:-",), 1),
    ("all-holding-fired", (to("30"), sl("-5")), at(ENTRY, "-6"), LATE, ("timeout:30:-", "stop_loss:-5:-"), None),
    ("unrelated-fired-key", (sl("-5"),), at(ENTRY, "-6"), EARLY, ("stop_loss:-6:-",), 0),
]


@pytest.mark.parametrize(("rules", "price", "now", "fired", "index"),
                         [pytest.param(*row[1:], id=row[0]) for row in ORDER_CASES])
def test_first_match_in_chain_order(rules: tuple[SellRule, ...], price: Decimal, now: datetime,
                                    fired: tuple[str, ...], index: int | None) -> None:
    decision = should_exit(SellChain(rules), D(50), position(fired=fired), price, now)
    assert decision.measures == measure(position(fired=fired), price, now)
    if index is None:
        assert decision == ExitDecision(decision.measures)
        assert (decision.rule, decision.rule_key, decision.sell_pct, decision.tokens_to_sell) == (None, None, None, 0)
    else:
        assert decision.rule is rules[index]
        assert decision.rule_key == rule_key(rules[index])
        assert decision.sell_pct == D(50)
        assert decision.tokens_to_sell == 500_000


# --- ladders and sell_pct ---------------------------------------------------------------------------------


def test_take_profit_ladder() -> None:
    first, second, stop = tp("20", "50"), tp("50", "100"), sl("-10")
    chain = SellChain((first, second, stop))
    state = position(tokens=1_000_001)

    d1 = should_exit(chain, DEFAULT_PCT, state, at(ENTRY, "25"), EARLY)
    assert d1.rule is first and d1.rule_key == "take_profit:20:50"
    assert d1.sell_pct == D(50) and d1.tokens_to_sell == 500_000

    state = position(tokens=1_000_001 - d1.tokens_to_sell, fired=(d1.rule_key,), peak=at(ENTRY, "25"))
    again = should_exit(chain, DEFAULT_PCT, state, at(ENTRY, "30"), EARLY)
    assert again.rule is None and again.tokens_to_sell == 0  # the first rung never fires twice

    d2 = should_exit(chain, DEFAULT_PCT, state, at(ENTRY, "50"), EARLY)
    assert d2.rule is second and d2.rule_key == "take_profit:50:100"
    assert d2.sell_pct == D(100) and d2.tokens_to_sell == 500_001  # all that is left

    dropped = should_exit(chain, DEFAULT_PCT, state, at(ENTRY, "-10"), EARLY)
    assert dropped.rule is stop and dropped.tokens_to_sell == 500_001  # default 100 % of what is held


def test_ladder_both_rungs_hold_first_fires_first() -> None:
    first, second = tp("20", "50"), tp("50", "100")
    chain = SellChain((first, second))
    d1 = should_exit(chain, DEFAULT_PCT, position(tokens=7), at(ENTRY, "60"), EARLY)
    assert d1.rule is first and d1.tokens_to_sell == 3
    d2 = should_exit(chain, DEFAULT_PCT, position(tokens=4, fired=(d1.rule_key,)), at(ENTRY, "60"), EARLY)
    assert d2.rule is second and d2.tokens_to_sell == 4
    done = position(tokens=4, fired=(d1.rule_key, d2.rule_key))
    assert should_exit(chain, DEFAULT_PCT, done, at(ENTRY, "60"), EARLY).rule is None


@pytest.mark.parametrize(("rule", "default", "pct", "tokens"), [
    pytest.param(tp("20", "25"), D(100), D(25), 250_000, id="rule-overrides-default"),
    pytest.param(tp("20"), D(40), D(40), 400_000, id="default-when-rule-has-none"),
    pytest.param(tp("20", "100"), D(10), D(100), 1_000_001, id="rule-100-sells-all"),
    pytest.param(tp("20", "1"), D(100), D(1), 10_000, id="rule-one-percent"),
])
def test_sell_pct_override(rule: SellRule, default: Decimal, pct: Decimal, tokens: int) -> None:
    decision = should_exit(SellChain((rule,)), default, position(tokens=1_000_001), at(ENTRY, "20"), EARLY)
    assert decision.sell_pct == pct
    assert decision.tokens_to_sell == tokens


def floor_reference(tokens: int, pct: Decimal) -> int:
    return int(Fraction(tokens) * Fraction(pct) / 100)


# id, tokens held (raw), sell_pct, expected raw tokens to sell
TOKENS_CASES = [
    ("odd-half-floors", 1_000_001, "50", 500_000),
    ("seven-half", 7, "50", 3),
    ("one-unit-half-never-zero", 1, "50", 1),
    ("one-unit-one-percent", 1, "1", 1),
    ("ninety-nine-one-percent-floors-to-zero-gives-one", 99, "1", 1),
    ("three-at-33.333", 3, "33.333", 1),
    ("five-at-99.999", 5, "99.999", 4),
    ("hundred-sells-all", 1_000_000_007, "100", 1_000_000_007),
    ("hundred-point-zero-sells-all", 12_345, "100.0", 12_345),
    ("nearly-all-floors", 1_000_000_007, "99.9999999", 1_000_000_005),
    ("one-unit-at-99", 1, "99", 1),
    ("two-at-100", 2, "100", 2),
    ("pump-supply-third", 999_999_999_999_999, "33.33", 333_299_999_999_999),
    ("u64-max-half", U64_MAX, "50", U64_MAX // 2),
    ("u64-max-all", U64_MAX, "100", U64_MAX),
    ("u64-odd-percent", U64_MAX, "12.5", U64_MAX // 8),
    # a float-typed sell_pct (33.333333333333336 from JSON 100/3) on a 17-digit raw amount: the exact product
    # is 4166666666666665.99999999999999992, so the floor is ...665, not ...666
    ("17-digit-raw-float-pct-floors", 12_499_999_999_999_997, "33.333333333333336", 4_166_666_666_666_665),
]


@pytest.mark.parametrize(("tokens", "pct", "expected"), [pytest.param(*row[1:], id=row[0]) for row in TOKENS_CASES])
def test_tokens_to_sell(tokens: int, pct: str, expected: int) -> None:
    reference = tokens if D(pct) >= 100 else max(1, floor_reference(tokens, D(pct)))
    assert expected == reference
    got = tokens_to_sell(tokens, D(pct))
    assert got == expected
    assert 1 <= got <= tokens


# --- rule_key ---------------------------------------------------------------------------------------------

RULE_KEYS = [
    ("timeout-30", to("30"), "timeout:30:-"),
    ("timeout-30.0", to("30.0"), "timeout:30:-"),
    ("timeout-3E+1", to("3E+1"), "timeout:30:-"),
    ("timeout-0.5", to("0.5"), "timeout:0.5:-"),
    ("timeout-1440-sell-25", to("1440", "25"), "timeout:1440:25"),
    ("timeout-0.00001", to("0.00001"), "timeout:0.00001:-"),
    ("take-profit-20-50", tp("20", "50"), "take_profit:20:50"),
    ("take-profit-1E+2-1E+2", tp("1E+2", "1E+2"), "take_profit:100:100"),
    ("take-profit-1000", tp("1000"), "take_profit:1000:-"),
    ("take-profit-100000", tp("100000", "100.00"), "take_profit:100000:100"),
    ("stop-loss-5.00", sl("-5.00"), "stop_loss:-5:-"),
    ("stop-loss-1E-7", sl("-1E-7"), "stop_loss:-0.0000001:-"),
    ("trailing-12.50-33.330", ts("-12.50", "33.330"), "trailing_stop:-12.5:33.33"),
]


@pytest.mark.parametrize(("rule", "key"), [pytest.param(*row[1:], id=row[0]) for row in RULE_KEYS])
def test_rule_key_plain_and_stable(rule: SellRule, key: str) -> None:
    assert rule_key(rule) == key
    assert rule_key(rule) == rule_key(SellRule(rule.type, rule.percent, rule.minutes, rule.sell_pct))
    assert all("e" not in part.lower() for part in key.split(":")[1:])


@pytest.mark.parametrize("raw", [
    pytest.param({"type": "timeout", "minutes": 30}, id="int-minutes"),
    pytest.param({"type": "timeout", "minutes": 30.0}, id="float-minutes"),
    pytest.param({"type": "take_profit", "percent": 20, "sell_pct": 50}, id="int-take-profit"),
    pytest.param({"type": "take_profit", "percent": 20.0, "sell_pct": 50.0}, id="float-take-profit"),
    pytest.param({"type": "stop_loss", "percent": -5.5, "from": "entry"}, id="stop-loss"),
    pytest.param({"type": "trailing_stop", "percent": -0.00001}, id="tiny-trailing"),
])
def test_rule_key_survives_parse_and_storage(raw: dict) -> None:
    chain = parse_chain(WorkflowType.SELL, {"rules": [raw]})
    stored = load_stored_chain(WorkflowType.SELL, chain_to_json(chain))
    key = rule_key(chain.rules[0])
    assert rule_key(stored.rules[0]) == key
    assert all("e" not in part.lower() for part in key.split(":")[1:])


def test_int_and_float_json_give_the_same_key() -> None:
    a = parse_chain(WorkflowType.SELL, {"rules": [{"type": "take_profit", "percent": 20, "sell_pct": 50}]})
    b = parse_chain(WorkflowType.SELL, {"rules": [{"type": "take_profit", "percent": 20.0, "sell_pct": 50.0}]})
    assert rule_key(a.rules[0]) == rule_key(b.rules[0]) == "take_profit:20:50"


# --- realised P&L -----------------------------------------------------------------------------------------


def lamports(sol: Decimal) -> int:
    value = sol * LAMPORTS_PER_SOL
    assert value == value.to_integral_value()
    return int(value)


def floored_cost(sol_spent: Decimal, initial: int, sold: int) -> Decimal:
    """The pro-rata cost of `sold` raw tokens, floored to the lamport, in exact integer arithmetic."""
    return D(lamports(sol_spent) * sold // initial) / LAMPORTS_PER_SOL


# id, sol_spent, initial raw, sold raw, left raw, net received, received before, realised before -> realised
PNL_CASES = [
    ("third-floors", "1", 3, 1, 2, "0.4", "0", "0", "0.066666667"),
    ("pro-rata-floors-to-lamport", "0.05", 1_000_001, 500_000, 500_001, "0.03", "0", "0", "0.005000025"),
    ("closing-after-partial-exact", "0.05", 1_000_001, 500_001, 0, "0.02", "0.03", "0.005000025", "0"),
    ("single-closing-loss", "0.123456789", 10**15, 10**15, 0, "0.1", "0", "0", "-0.023456789"),
    ("single-closing-gain", "0.123456789", 7, 7, 0, "0.5", "0", "0", "0.376543211"),
    ("half-exact", "2", 4, 1, 3, "0.75", "0", "0", "0.25"),
    ("partial-loss", "0.1", 3, 2, 1, "0.05", "0", "0", "-0.016666666"),
    ("second-partial", "0.1", 3, 1, 1, "0.02", "0.05", "-0.016666666", "-0.029999999"),
    ("one-raw-unit-of-many", "0.000000001", 10**12, 1, 10**12 - 1, "0", "0", "0", "0"),
    ("closing-ignores-rounding-of-partials", "0.1", 3, 1, 0, "0.04", "0.07", "0.003333334", "0.01"),
    # u64-range raw amounts (SPL amounts are u64; the schema allows NUMERIC(40,0)): still floored to the lamport
    ("u64-range-raw-floors", "12.345678901", 999_999_999_999_999_989, 888_348_302_669_013_332,
     999_999_999_999_999_989 - 888_348_302_669_013_332, "11", "0", "0", "0.032737104"),
    ("u64-max-raw-floors", "1.000000001", U64_MAX, 14_703_928_684_731_638_779,
     U64_MAX - 14_703_928_684_731_638_779, "1", "0", "0", "0.202898429"),
]


@pytest.mark.parametrize(("spent", "initial", "sold", "left", "net", "received_before", "realized_before",
                          "expected"), [pytest.param(*row[1:], id=row[0]) for row in PNL_CASES])
def test_realized_pnl(spent: str, initial: int, sold: int, left: int, net: str, received_before: str,
                      realized_before: str, expected: str) -> None:
    if left:
        reference = D(realized_before) + D(net) - floored_cost(D(spent), initial, sold)
    else:
        reference = D(received_before) + D(net) - D(spent)
    assert reference == D(expected)
    got = realized_pnl(D(spent), initial, sold, left, D(net), D(received_before), D(realized_before))
    assert got == D(expected)
    assert got == got.quantize(D("0.000000001"))


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in range(8)])
def test_realized_increments_sum_to_final(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        spent = D(rng.randint(1, 50 * LAMPORTS_PER_SOL)) / LAMPORTS_PER_SOL
        initial = rng.randint(1, 10**15) if rng.random() < 0.8 else rng.randint(5, 50)
        held, received, realized = initial, D(0), D(0)
        increments: list[Decimal] = []
        partials = rng.randint(1, 4)
        for i in range(partials + 1):
            closing = i == partials or held == 1
            sold = held if closing else rng.randint(1, held - 1)
            net = D(rng.randint(0, 100 * LAMPORTS_PER_SOL)) / LAMPORTS_PER_SOL
            after = realized_pnl(spent, initial, sold, held - sold, net, received, realized)
            if not closing:
                assert after - realized == net - floored_cost(spent, initial, sold)
                assert floored_cost(spent, initial, sold) <= spent * sold / initial
            assert after == after.quantize(D("0.000000001"))
            increments.append(after - realized)
            realized, received, held = after, received + net, held - sold
            if closing:
                break
        assert held == 0
        assert realized == received - spent
        assert sum(increments, D(0)) == realized


# --- open P&L ---------------------------------------------------------------------------------------------

# id, sol_spent, initial raw, held raw, decimals, last price -> cost basis, market value, unrealised (None: none)
OPEN_CASES = [
    ("no-price", "0.05", 1_000_000, 400_000, 6, None, "0.02", None, None),
    ("with-price-gain", "0.05", 1_000_000, 400_000, 6, "0.06", "0.02", "0.024", "0.004"),
    ("with-price-loss", "0.05", 1_000_000, 400_000, 6, "0.04", "0.02", "0.016", "-0.004"),
    ("full-position", "0.123456789", 3, 3, 0, "0.05", "0.123456789", "0.15", "0.026543211"),
    ("odd-third", "0.123456789", 3, 1, 0, "0.05", "0.041152263", "0.05", "0.008847737"),
    ("nothing-left", "0.05", 1_000_000, 0, 6, "0.06", "0", "0", "0"),
    ("nothing-left-no-price", "0.05", 1_000_000, 0, 6, None, "0", None, None),
    ("decimals-18", "1", 10**18, 10**17, 18, "0.123456789", "0.1", "0.0123456789", "-0.0876543211"),
    ("no-initial-guard", "0.05", 0, 0, 6, "0.06", "0", "0", "0"),
]


@pytest.mark.parametrize(("spent", "initial", "held", "decimals", "price", "cost", "value", "pnl"),
                         [pytest.param(*row[1:], id=row[0]) for row in OPEN_CASES])
def test_open_pnl(spent: str, initial: int, held: int, decimals: int, price: str | None, cost: str,
                  value: str | None, pnl: str | None) -> None:
    got = open_pnl(D(spent), initial, held, decimals, None if price is None else D(price))
    assert set(got) == {"cost_basis_sol", "market_value_sol", "unrealized_pnl_sol"}
    assert got["cost_basis_sol"] == D(cost)
    if value is None:
        assert got["market_value_sol"] is None and got["unrealized_pnl_sol"] is None
    else:
        assert got["market_value_sol"] == D(value)
        assert got["unrealized_pnl_sol"] == D(pnl)
        assert got["unrealized_pnl_sol"] == got["market_value_sol"] - got["cost_basis_sol"]
