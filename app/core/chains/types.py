"""Workflow chains as frozen values: the workflow type, the BUY trigger and conditions, the SELL rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

MAX_MODEL_ID = 2**63 - 1  # ml_models.id is a BIGINT


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


# What a price-drop rule measures from; fixed per rule type (the JSON `from` field).
RULE_FROM = {RuleType.STOP_LOSS: "entry", RuleType.TRAILING_STOP: "peak"}


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
class BuyFilters:
    """Which mints a BUY workflow may buy (allow list: None for any), and the market it needs (SOL)."""

    mint_allow: frozenset[str] | None = None
    mint_deny: frozenset[str] = frozenset()
    min_liquidity_sol: Decimal | None = None
    min_volume_sol: Decimal | None = None

    @property
    def needs_metrics(self) -> bool:
        """True when the check reads the mint's latest metrics point."""
        return self.min_liquidity_sol is not None or self.min_volume_sol is not None


@dataclass(frozen=True)
class ConfidenceSizing:
    """Sizing by confidence: this amount (in the workflow's amount mode) at the trigger's threshold,
    the configured amount at probability 1, linear in between."""

    min_amount: Decimal


@dataclass(frozen=True)
class BuyChain:
    """Trigger then conditions, all of which must pass for a buy; optional filters and confidence sizing."""

    trigger: PredictionTrigger
    conditions: tuple[OnDemandCondition, ...] = ()
    filters: BuyFilters | None = None
    sizing: ConfidenceSizing | None = None


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


def referenced_model_ids(chain: Chain) -> list[int]:
    """Model ids the chain uses, in order of first use."""
    if isinstance(chain, SellChain):
        return []
    ids = [chain.trigger.model_id] + [cond.model_id for cond in chain.conditions]
    return list(dict.fromkeys(ids))
