"""Workflow chains: frozen values (types), their validation from raw JSON (parse, amounts, workflow), error
paths (paths), the stored JSON form (codec) and readable summaries (display). All pure.

Import from here: every public name of the package is re-exported.
"""

from app.core.chains.amounts import MAX_FIXED_BUY_SOL, check_amounts, positive_amount_problem
from app.core.chains.codec import cached_stored_chain, chain_to_json, json_decimal, load_stored_chain
from app.core.chains.display import summarize
from app.core.chains.parse import MAX_CONDITIONS, MAX_RULES, parse_chain
from app.core.chains.paths import FieldPath, InvalidChain, describe_errors, format_path
from app.core.chains.types import (
    MAX_MODEL_ID,
    RULE_FROM,
    AmountMode,
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
    referenced_model_ids,
)
from app.core.chains.workflow import check_workflow

__all__ = [
    "MAX_CONDITIONS",
    "MAX_FIXED_BUY_SOL",
    "MAX_MODEL_ID",
    "MAX_RULES",
    "RULE_FROM",
    "AmountMode",
    "BuyChain",
    "BuyFilters",
    "Chain",
    "ConfidenceSizing",
    "FieldPath",
    "InvalidChain",
    "OnDemandCondition",
    "Operator",
    "PredictionTrigger",
    "RuleType",
    "SellChain",
    "SellRule",
    "WorkflowType",
    "cached_stored_chain",
    "chain_to_json",
    "check_amounts",
    "check_workflow",
    "describe_errors",
    "format_path",
    "json_decimal",
    "load_stored_chain",
    "parse_chain",
    "positive_amount_problem",
    "referenced_model_ids",
    "summarize",
]
