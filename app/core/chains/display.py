"""Readable one-line summaries of chains, as the API and the UI show them."""

from __future__ import annotations

from decimal import Decimal

from app.core.chains.types import Chain, RuleType, SellChain, SellRule


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
    return format(Decimal(value).normalize(), "f")
