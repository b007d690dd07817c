"""Workflow chains as frozen values, and their validation from raw JSON.

`parse_chain` turns a client's chain JSON into a BuyChain or SellChain or raises
InvalidChain with one message per offending field path (e.g.
``chain.rules.0.percent``). `check_amounts` holds the cross-field rules of a
workflow body. Both are pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

MAX_CONDITIONS = 10
MAX_RULES = 20
MAX_MODEL_ID = 2**63 - 1  # ml_models.id is a BIGINT
MAX_FIXED_BUY_SOL = Decimal(10) ** 21 - 1  # what NUMERIC(30, 9) holds

FieldPath = tuple[str | int, ...]


class WorkflowType(StrEnum):
    """What a workflow does: open positions or close them."""

    BUY = "BUY"
    SELL = "SELL"


class AmountMode(StrEnum):
    """How a BUY workflow sizes its buy."""

    FIXED = "fixed"
    PERCENT = "percent"


class Operator(StrEnum):
    """Comparison of a model probability against a threshold."""

    GTE = "gte"
    GT = "gt"
    LTE = "lte"
    LT = "lt"

    def holds(self, value: float, threshold: float) -> bool:
        """True when `value <op> threshold`."""
        if self is Operator.GTE:
            return value >= threshold
        if self is Operator.GT:
            return value > threshold
        if self is Operator.LTE:
            return value <= threshold
        return value < threshold

    @property
    def symbol(self) -> str:
        """The mathematical symbol, for summaries."""
        return {"gte": "≥", "gt": ">", "lte": "≤", "lt": "<"}[self.value]


class RuleType(StrEnum):
    """The four SELL rules."""

    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"
    TAKE_PROFIT = "take_profit"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class PredictionTrigger:
    """A BUY chain starts when this model's prediction reaches min_probability."""

    model_id: int
    min_probability: float


@dataclass(frozen=True)
class OnDemandCondition:
    """A further model is asked for the mint; its probability must satisfy operator/threshold."""

    model_id: int
    operator: Operator
    threshold: float


@dataclass(frozen=True)
class BuyChain:
    """Trigger then conditions, all of which must pass for a buy."""

    trigger: PredictionTrigger
    conditions: tuple[OnDemandCondition, ...] = ()


@dataclass(frozen=True)
class SellRule:
    """One exit rule; `percent` for price rules, `minutes` for timeout; optional own sell_pct."""

    type: RuleType
    percent: Decimal | None = None
    minutes: Decimal | None = None
    sell_pct: Decimal | None = None


@dataclass(frozen=True)
class SellChain:
    """Exit rules, OR-combined in order: the first that holds fires."""

    rules: tuple[SellRule, ...]


Chain = BuyChain | SellChain


class InvalidChain(ValueError):
    """The chain (or workflow body) breaks rules; `errors` maps field paths to messages."""

    def __init__(self, errors: dict[FieldPath, list[str]]):
        self.errors = errors
        super().__init__(describe_errors(errors))


def describe_errors(errors: Mapping[FieldPath, list[str]]) -> str:
    """One readable line naming every failing field, e.g. `chain.rules[0].percent: must be < 0`."""
    return "; ".join(f"{format_path(path)}: {' '.join(msgs)}" for path, msgs in errors.items())


def format_path(path: FieldPath) -> str:
    """('chain', 'rules', 0, 'percent') -> 'chain.rules[0].percent'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


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
        return Decimal(value) if isinstance(value, int) else Decimal(str(value))

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


def _parse_buy(c: _Collector, raw: Mapping[str, Any], path: FieldPath) -> BuyChain | None:
    c.unknown_keys(raw, {"trigger", "conditions"}, path, hint=" BUY chains have trigger and conditions.")
    trigger = None
    if "trigger" not in raw:
        c.add(path + ("trigger",), "Missing data for required field.")
    else:
        trigger = _parse_trigger(c, raw["trigger"], path + ("trigger",))
    conditions: list[OnDemandCondition | None] = []
    items = c.as_list(raw.get("conditions", []), path + ("conditions",), MAX_CONDITIONS)
    for i, item in enumerate(items or []):
        conditions.append(_parse_condition(c, item, path + ("conditions", i)))
    if trigger is None or None in conditions or c.errors:
        return None
    return BuyChain(trigger, tuple(conditions))  # type: ignore[arg-type]


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
_RULE_FROM = {RuleType.STOP_LOSS: "entry", RuleType.TRAILING_STOP: "peak"}


def _parse_rule(c: _Collector, raw: Any, path: FieldPath) -> SellRule | None:
    obj = c.as_object(raw, path)
    if obj is None:
        return None
    try:
        rule_type = RuleType(obj.get("type"))
    except ValueError:
        c.add(path + ("type",), "Must be one of stop_loss, trailing_stop, take_profit, timeout.")
        return None
    errors_before = len(c.errors)
    c.unknown_keys(obj, _RULE_KEYS[rule_type], path)
    if rule_type in _RULE_FROM:
        c.literal(obj, "from", _RULE_FROM[rule_type], path, required=False)
    sell_pct = c.number(obj, "sell_pct", path, required=False)
    if sell_pct is not None and not Decimal(1) <= sell_pct <= Decimal(100):
        c.add(path + ("sell_pct",), "Must be between 1 and 100.")
    if rule_type is RuleType.TIMEOUT:
        minutes = c.number(obj, "minutes", path)
        if minutes is not None and not Decimal(0) < minutes <= Decimal(525_600):
            c.add(path + ("minutes",), "Must be greater than 0 (and at most one year).")
        return None if len(c.errors) > errors_before else SellRule(rule_type, minutes=minutes, sell_pct=sell_pct)
    percent = c.number(obj, "percent", path)
    if percent is not None:
        _check_percent_sign(c, rule_type, percent, path + ("percent",))
    return None if len(c.errors) > errors_before else SellRule(rule_type, percent=percent, sell_pct=sell_pct)


def _check_percent_sign(c: _Collector, rule_type: RuleType, percent: Decimal, path: FieldPath) -> None:
    if rule_type is RuleType.TAKE_PROFIT:
        if not Decimal(0) < percent <= Decimal(100_000):
            c.add(path, "Must be greater than 0 (a gain in percent).")
    elif not Decimal(-100) < percent < Decimal(0):
        c.add(path, "Must be negative, between -100 and 0 (a drop in percent).")


def _reject_duplicate_rules(c: _Collector, rules: list[SellRule | None], path: FieldPath) -> None:
    seen: dict[SellRule, int] = {}
    for i, rule in enumerate(rules):
        if rule is None:
            continue
        if rule in seen:
            c.add(path + (i,), f"Duplicates rule {seen[rule]}.")
        seen.setdefault(rule, i)


def check_amounts(
    workflow_type: WorkflowType | str,
    amount_mode: str | None,
    amount_value: Decimal | None,
) -> dict[FieldPath, list[str]]:
    """Cross-field rules of a workflow body: BUY needs a valid amount, SELL has none."""
    errors: dict[FieldPath, list[str]] = {}
    if WorkflowType(workflow_type) is WorkflowType.SELL:
        for key, value in (("buy_amount_mode", amount_mode), ("buy_amount_value", amount_value)):
            if value is not None:
                errors[(key,)] = ["Only BUY workflows have a buy amount."]
        return errors
    if amount_mode is None:
        errors[("buy_amount_mode",)] = ["BUY workflows require buy_amount_mode (fixed or percent)."]
    if amount_value is None:
        errors[("buy_amount_value",)] = ["BUY workflows require buy_amount_value."]
    elif amount_value <= 0:
        errors[("buy_amount_value",)] = ["Must be greater than 0."]
    elif amount_mode == AmountMode.PERCENT.value and amount_value > 100:
        errors[("buy_amount_value",)] = ["A percent of the balance must be at most 100."]
    elif amount_mode == AmountMode.FIXED.value and amount_value.normalize().as_tuple().exponent < -9:
        errors[("buy_amount_value",)] = ["SOL amounts have at most 9 decimals (lamports)."]
    elif amount_mode == AmountMode.FIXED.value and amount_value > MAX_FIXED_BUY_SOL:
        errors[("buy_amount_value",)] = ["Too large for a SOL amount."]
    return errors


def referenced_model_ids(chain: Chain) -> list[int]:
    """Model ids the chain uses, in order of first use."""
    if isinstance(chain, SellChain):
        return []
    ids = [chain.trigger.model_id] + [cond.model_id for cond in chain.conditions]
    return list(dict.fromkeys(ids))


def chain_to_json(chain: Chain) -> dict[str, Any]:
    """The canonical JSON form stored in trading_workflows.chain."""
    if isinstance(chain, BuyChain):
        return {
            "trigger": {"type": "prediction_alert", "model_id": chain.trigger.model_id,
                        "min_probability": chain.trigger.min_probability},
            "conditions": [
                {"type": "on_demand_prediction", "model_id": c.model_id, "operator": c.operator.value,
                 "threshold": c.threshold}
                for c in chain.conditions
            ],
        }
    return {"rules": [_rule_to_json(rule) for rule in chain.rules]}


def _rule_to_json(rule: SellRule) -> dict[str, Any]:
    out: dict[str, Any] = {"type": rule.type.value}
    if rule.percent is not None:
        out["percent"] = _num(rule.percent)
    if rule.type in _RULE_FROM:
        out["from"] = _RULE_FROM[rule.type]
    if rule.minutes is not None:
        out["minutes"] = _num(rule.minutes)
    if rule.sell_pct is not None:
        out["sell_pct"] = _num(rule.sell_pct)
    return out


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def summarize(chain: Chain, amount_mode: str | None = None, amount_value: Decimal | None = None) -> str:
    """Readable one-liner, e.g. `Model #18 ≥ 70% → Model #23 ≥ 60% → Buy 0.05 SOL` or `SL -5% | TP +20%`."""
    if isinstance(chain, SellChain):
        return " | ".join(_summarize_rule(rule) for rule in chain.rules)
    parts = [f"Model #{chain.trigger.model_id} ≥ {_pct(chain.trigger.min_probability)}"]
    parts += [f"Model #{c.model_id} {c.operator.symbol} {_pct(c.threshold)}" for c in chain.conditions]
    if amount_value is not None:
        amount = f"{_plain(amount_value)}% of balance" if amount_mode == "percent" else f"{_plain(amount_value)} SOL"
        parts.append(f"Buy {amount}")
    return " → ".join(parts)


_RULE_ABBREVIATION = {RuleType.STOP_LOSS: "SL", RuleType.TRAILING_STOP: "TS", RuleType.TAKE_PROFIT: "TP"}


def _summarize_rule(rule: SellRule) -> str:
    if rule.type is RuleType.TIMEOUT:
        text = f"{_plain(rule.minutes)} min"
    else:
        sign = "+" if rule.percent > 0 else ""
        text = f"{_RULE_ABBREVIATION[rule.type]} {sign}{_plain(rule.percent)}%"
    return text + (f" (sell {_plain(rule.sell_pct)}%)" if rule.sell_pct is not None else "")


def _pct(probability: float) -> str:
    return f"{_plain(Decimal(str(probability)) * 100)}%"


def _plain(value: Decimal | None) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def load_stored_chain(workflow_type: WorkflowType | str, stored: Mapping[str, Any]) -> Chain:
    """Rebuild a chain from its canonical stored JSON (written by chain_to_json) without re-validating it."""
    if WorkflowType(workflow_type) is WorkflowType.BUY:
        trigger = stored["trigger"]
        return BuyChain(
            PredictionTrigger(trigger["model_id"], trigger["min_probability"]),
            tuple(OnDemandCondition(c["model_id"], Operator(c["operator"]), c["threshold"])
                  for c in stored.get("conditions", ())),
        )
    return SellChain(tuple(
        SellRule(RuleType(r["type"]), _stored_decimal(r.get("percent")), _stored_decimal(r.get("minutes")),
                 _stored_decimal(r.get("sell_pct")))
        for r in stored["rules"]
    ))


def _stored_decimal(value: int | float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(str(value))
