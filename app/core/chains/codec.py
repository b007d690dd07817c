"""The canonical JSON form of a chain (stored in trading_workflows.chain) and its way back."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from app.core.chains.types import (
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


def json_decimal(value: int | float) -> Decimal:
    """A JSON number as an exact Decimal (a float through its shortest repr, so 0.1 stays 0.1)."""
    return Decimal(value) if isinstance(value, int) else Decimal(str(value))


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
            **_extras_to_json(chain),
        }
    return {"rules": [_rule_to_json(rule) for rule in chain.rules]}


def _extras_to_json(chain: BuyChain) -> dict[str, Any]:
    """The optional filters and sizing (absent when not set, so older chains keep their stored form)."""
    out: dict[str, Any] = {}
    f = chain.filters
    if f is not None:
        out["filters"] = {key: value for key, value in (
            ("mint_allow", None if f.mint_allow is None else sorted(f.mint_allow)),
            ("mint_deny", sorted(f.mint_deny) or None),
            ("min_liquidity_sol", None if f.min_liquidity_sol is None else _num(f.min_liquidity_sol)),
            ("min_volume_sol", None if f.min_volume_sol is None else _num(f.min_volume_sol))) if value is not None}
    if chain.sizing is not None:
        out["sizing"] = {"type": "confidence", "min_amount": _num(chain.sizing.min_amount)}
    return out


def _load_extras(stored: Mapping[str, Any]) -> tuple[BuyFilters | None, ConfidenceSizing | None]:
    f, s = stored.get("filters"), stored.get("sizing")
    filters = None if f is None else BuyFilters(
        None if "mint_allow" not in f else frozenset(f["mint_allow"]), frozenset(f.get("mint_deny", ())),
        _stored_decimal(f.get("min_liquidity_sol")), _stored_decimal(f.get("min_volume_sol")))
    return filters, None if s is None else ConfidenceSizing(json_decimal(s["min_amount"]))


def _rule_to_json(rule: SellRule) -> dict[str, Any]:
    out: dict[str, Any] = {"type": rule.type.value}
    if rule.percent is not None:
        out["percent"] = _num(rule.percent)
    if rule.type in RULE_FROM:
        out["from"] = RULE_FROM[rule.type]
    if rule.minutes is not None:
        out["minutes"] = _num(rule.minutes)
    if rule.sell_pct is not None:
        out["sell_pct"] = _num(rule.sell_pct)
    return out


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


_CACHED_CHAINS: dict[tuple[WorkflowType, str], Chain] = {}
_MAX_CACHED_CHAINS = 1024


def cached_stored_chain(workflow_type: WorkflowType | str, stored: Mapping[str, Any]) -> Chain:
    """load_stored_chain, remembered by the stored JSON's repr (chains are frozen: one per distinct JSON; the
    stored form holds only JSON values, whose repr is exact)."""
    key = (WorkflowType(workflow_type), repr(stored))
    chain = _CACHED_CHAINS.get(key)
    if chain is None:
        if len(_CACHED_CHAINS) >= _MAX_CACHED_CHAINS:
            _CACHED_CHAINS.clear()
        chain = _CACHED_CHAINS[key] = load_stored_chain(key[0], stored)
    return chain


def load_stored_chain(workflow_type: WorkflowType | str, stored: Mapping[str, Any]) -> Chain:
    """Rebuild a chain from its canonical stored JSON (written by chain_to_json) without re-validating it."""
    if WorkflowType(workflow_type) is WorkflowType.BUY:
        trigger = stored["trigger"]
        return BuyChain(
            PredictionTrigger(trigger["model_id"], trigger["min_probability"]),
            tuple(OnDemandCondition(c["model_id"], Operator(c["operator"]), c["threshold"])
                  for c in stored.get("conditions", ())),
            *_load_extras(stored),
        )
    return SellChain(tuple(
        SellRule(RuleType(r["type"]), _stored_decimal(r.get("percent")), _stored_decimal(r.get("minutes")),
                 _stored_decimal(r.get("sell_pct")))
        for r in stored["rules"]
    ))


def _stored_decimal(value: int | float | None) -> Decimal | None:
    return None if value is None else json_decimal(value)
