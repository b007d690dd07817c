"""Validation of a client's chain JSON: `parse_chain` returns a BuyChain or SellChain or raises InvalidChain
with one message per offending field path (e.g. ``chain.rules.0.percent``). Pure."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.core.chains.codec import json_decimal
from app.core.chains.paths import FieldPath, InvalidChain
from app.core.chains.types import (
    MAX_MODEL_ID,
    RULE_FROM,
    BuyChain,
    BuyFilters,
    Chain,
    ConfidenceSizing,
    OnDemandCondition,
    Operator,
    PredictionTrigger,
    RuleType,
    SellChain,
    SellRule,
    WorkflowType,
)
from app.core.solana import mint_address_problem, sol_amount_problem

MAX_CONDITIONS = 10
MAX_RULES = 20
MAX_MINT_LIST = 1000


class _Collector:
    """Accumulates messages per path while parsing."""

    def __init__(self) -> None:
        self.errors: dict[FieldPath, list[str]] = {}

    def add(self, path: FieldPath, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def unknown_keys(self, raw: Mapping[str, Any], allowed: set[str], path: FieldPath, hint: str = "") -> None:
        for key in sorted(set(raw) - allowed):
            self.add(path + (key,), "Unknown field." + hint)

    def number(self, raw: Mapping[str, Any], key: str, path: FieldPath, required: bool = True) -> Decimal | None:
        if key not in raw or raw[key] is None:
            if required:
                self.add(path + (key,), "Missing data for required field.")
            return None
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            self.add(path + (key,), "Not a valid number.")
            return None
        return json_decimal(value)

    def model_id(self, raw: Mapping[str, Any], path: FieldPath) -> int | None:
        value = raw.get("model_id")
        if value is None:
            self.add(path + ("model_id",), "Missing data for required field.")
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_MODEL_ID:
            self.add(path + ("model_id",), "Must be a positive integer model id.")
        else:
            return value
        return None

    def probability(self, raw: Mapping[str, Any], key: str, path: FieldPath) -> float | None:
        value = self.number(raw, key, path)
        if value is not None and not Decimal(0) <= value <= Decimal(1):
            self.add(path + (key,), "Must be a probability between 0 and 1.")
            return None
        return None if value is None else float(value)

    def literal(self, raw: Mapping[str, Any], key: str, expected: str, path: FieldPath, required: bool) -> None:
        if key not in raw:
            if required:
                self.add(path + (key,), f"Missing data for required field; expected {expected!r}.")
        elif raw[key] != expected:
            self.add(path + (key,), f"Must be {expected!r}.")

    def as_object(self, raw: Any, path: FieldPath) -> Mapping[str, Any] | None:
        if not isinstance(raw, Mapping):
            self.add(path, "Must be an object.")
            return None
        return raw

    def as_list(self, raw: Any, path: FieldPath, limit: int) -> list | None:
        if not isinstance(raw, list):
            self.add(path, "Must be a list.")
            return None
        if len(raw) > limit:
            self.add(path, f"At most {limit} entries.")
            return None
        return raw


def parse_chain(workflow_type: WorkflowType | str, raw: Any, path: FieldPath = ("chain",)) -> Chain:
    """Validate raw chain JSON for the workflow type; returns the frozen chain or raises InvalidChain."""
    collector = _Collector()
    obj = collector.as_object(raw, path)
    chain: Chain | None = None
    if obj is not None:
        if WorkflowType(workflow_type) is WorkflowType.BUY:
            chain = _parse_buy(collector, obj, path)
        else:
            chain = _parse_sell(collector, obj, path)
    if collector.errors or chain is None:
        raise InvalidChain(collector.errors)
    return chain


# --- BUY -------------------------------------------------------------------

def _parse_buy(c: _Collector, raw: Mapping[str, Any], path: FieldPath) -> BuyChain | None:
    c.unknown_keys(raw, {"trigger", "conditions", "filters", "sizing"}, path,
                   hint=" BUY chains have trigger, conditions, filters and sizing.")
    trigger = None
    if "trigger" not in raw:
        c.add(path + ("trigger",), "Missing data for required field.")
    else:
        trigger = _parse_trigger(c, raw["trigger"], path + ("trigger",))
    conditions: list[OnDemandCondition | None] = []
    items = c.as_list(raw.get("conditions", []), path + ("conditions",), MAX_CONDITIONS)
    for i, item in enumerate(items or []):
        conditions.append(_parse_condition(c, item, path + ("conditions", i)))
    filters, sizing = _parse_extras(c, raw, path)
    if trigger is None or None in conditions or c.errors:
        return None
    return BuyChain(trigger, tuple(conditions), filters, sizing)  # type: ignore[arg-type]


def _parse_extras(c: _Collector, raw: Mapping[str, Any], path: FieldPath) -> tuple[BuyFilters | None,
                                                                                   ConfidenceSizing | None]:
    """The optional `filters` and `sizing` of a BUY chain."""
    filters = _parse_filters(c, raw["filters"], path + ("filters",)) if "filters" in raw else None
    sizing = _parse_sizing(c, raw["sizing"], path + ("sizing",)) if "sizing" in raw else None
    return filters, sizing


def _parse_filters(c: _Collector, raw: Any, path: FieldPath) -> BuyFilters | None:
    obj = c.as_object(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, {"mint_allow", "mint_deny", "min_liquidity_sol", "min_volume_sol"}, path)
    allow = _mints(c, obj["mint_allow"], path + ("mint_allow",)) if "mint_allow" in obj else None
    deny = _mints(c, obj["mint_deny"], path + ("mint_deny",)) if "mint_deny" in obj else None
    return BuyFilters(allow, deny or frozenset(), _min_sol(c, obj, "min_liquidity_sol", path),
                      _min_sol(c, obj, "min_volume_sol", path))


def _mints(c: _Collector, raw: Any, path: FieldPath) -> frozenset[str] | None:
    items = c.as_list(raw, path, MAX_MINT_LIST)
    if items is None:
        return None
    for i, item in enumerate(items):
        if not isinstance(item, str) or mint_address_problem(item):
            c.add(path + (i,), "Not a Solana mint address (base58, 32 bytes).")
    return frozenset(item for item in items if isinstance(item, str))


def _min_sol(c: _Collector, raw: Mapping[str, Any], key: str, path: FieldPath) -> Decimal | None:
    value = c.number(raw, key, path, required=False)
    if value is not None and (value < 0 or sol_amount_problem(value)):
        c.add(path + (key,), "Must be a SOL amount >= 0 with at most 9 decimals, below 1e21.")
        return None
    return value


def _parse_sizing(c: _Collector, raw: Any, path: FieldPath) -> ConfidenceSizing | None:
    obj = c.as_object(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, {"type", "min_amount"}, path)
    c.literal(obj, "type", "confidence", path, required=True)
    amount = c.number(obj, "min_amount", path)
    if amount is not None and (amount <= 0 or sol_amount_problem(amount)):
        c.add(path + ("min_amount",), "Must be > 0 with at most 9 decimals (SOL when fixed, % when percent).")
        return None
    return None if amount is None else ConfidenceSizing(amount)


def _parse_trigger(c: _Collector, raw: Any, path: FieldPath) -> PredictionTrigger | None:
    obj = c.as_object(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, {"type", "model_id", "min_probability"}, path)
    c.literal(obj, "type", "prediction_alert", path, required=True)
    model_id = c.model_id(obj, path)
    min_probability = c.probability(obj, "min_probability", path)
    if model_id is None or min_probability is None:
        return None
    return PredictionTrigger(model_id, min_probability)


def _parse_condition(c: _Collector, raw: Any, path: FieldPath) -> OnDemandCondition | None:
    obj = c.as_object(raw, path)
    if obj is None:
        return None
    c.unknown_keys(obj, {"type", "model_id", "operator", "threshold"}, path)
    c.literal(obj, "type", "on_demand_prediction", path, required=True)
    model_id = c.model_id(obj, path)
    threshold = c.probability(obj, "threshold", path)
    operator = None
    try:
        operator = Operator(obj.get("operator", "gte"))
    except (ValueError, TypeError):
        c.add(path + ("operator",), "Must be one of gte, gt, lte, lt.")
    if model_id is None or threshold is None or operator is None:
        return None
    return OnDemandCondition(model_id, operator, threshold)


# --- SELL ------------------------------------------------------------------

def _parse_sell(c: _Collector, raw: Mapping[str, Any], path: FieldPath) -> SellChain | None:
    c.unknown_keys(raw, {"rules"}, path, hint=" SELL chains have only rules.")
    if "rules" not in raw:
        c.add(path + ("rules",), "Missing data for required field.")
        return None
    items = c.as_list(raw["rules"], path + ("rules",), MAX_RULES)
    if items is None:
        return None
    if not items:
        c.add(path + ("rules",), "At least one rule is required.")
        return None
    rules = [_parse_rule(c, item, path + ("rules", i)) for i, item in enumerate(items)]
    _reject_duplicate_rules(c, rules, path + ("rules",))
    if None in rules or c.errors:
        return None
    return SellChain(tuple(rules))  # type: ignore[arg-type]


_RULE_KEYS = {
    RuleType.STOP_LOSS: {"type", "percent", "from", "sell_pct"},
    RuleType.TRAILING_STOP: {"type", "percent", "from", "sell_pct"},
    RuleType.TAKE_PROFIT: {"type", "percent", "sell_pct"},
    RuleType.TIMEOUT: {"type", "minutes", "sell_pct"},
}


def _parse_rule(c: _Collector, raw: Any, path: FieldPath) -> SellRule | None:
    obj = c.as_object(raw, path)
    rule_type = None if obj is None else _rule_type(c, obj, path)
    if rule_type is None:
        return None
    errors_before = len(c.errors)
    c.unknown_keys(obj, _RULE_KEYS[rule_type], path)
    if rule_type in RULE_FROM:
        c.literal(obj, "from", RULE_FROM[rule_type], path, required=False)
    sell_pct = _sell_pct(c, obj, path)
    if rule_type is RuleType.TIMEOUT:
        rule = SellRule(rule_type, minutes=_minutes(c, obj, path), sell_pct=sell_pct)
    else:
        rule = SellRule(rule_type, percent=_percent(c, rule_type, obj, path), sell_pct=sell_pct)
    return None if len(c.errors) > errors_before else rule


def _rule_type(c: _Collector, obj: Mapping[str, Any], path: FieldPath) -> RuleType | None:
    try:
        return RuleType(obj.get("type"))
    except ValueError:
        c.add(path + ("type",), "Must be one of stop_loss, trailing_stop, take_profit, timeout.")
        return None


def _sell_pct(c: _Collector, obj: Mapping[str, Any], path: FieldPath) -> Decimal | None:
    sell_pct = c.number(obj, "sell_pct", path, required=False)
    if sell_pct is not None and not Decimal(1) <= sell_pct <= Decimal(100):
        c.add(path + ("sell_pct",), "Must be between 1 and 100.")
    return sell_pct


def _minutes(c: _Collector, obj: Mapping[str, Any], path: FieldPath) -> Decimal | None:
    minutes = c.number(obj, "minutes", path)
    if minutes is not None and not Decimal(0) < minutes <= Decimal(525_600):
        c.add(path + ("minutes",), "Must be greater than 0 (and at most one year).")
    return minutes


def _percent(c: _Collector, rule_type: RuleType, obj: Mapping[str, Any], path: FieldPath) -> Decimal | None:
    percent = c.number(obj, "percent", path)
    if percent is None:
        return None
    if rule_type is RuleType.TAKE_PROFIT:
        if not Decimal(0) < percent <= Decimal(100_000):
            c.add(path + ("percent",), "Must be greater than 0 (a gain in percent).")
    elif not Decimal(-100) < percent < Decimal(0):
        c.add(path + ("percent",), "Must be negative, between -100 and 0 (a drop in percent).")
    return percent


def _reject_duplicate_rules(c: _Collector, rules: list[SellRule | None], path: FieldPath) -> None:
    seen: dict[SellRule, int] = {}
    for i, rule in enumerate(rules):
        if rule is None:
            continue
        if rule in seen:
            c.add(path + (i,), f"Duplicates rule {seen[rule]}.")
        seen.setdefault(rule, i)
