"""Per-workflow BUY filters and confidence sizing (SPEC §7) as pure functions over frozen values.

A BUY chain may carry `filters` (mint allow and deny lists, a minimum liquidity and/or volume from the
mint's latest stored metrics point) and `sizing` (`confidence`: the amount scales linearly with the
trigger's probability between the workflow's threshold and 1, from `min_amount` up to the configured
amount). Each logs its step; a workflow without them logs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from app.core.buy import LAMPORT, Decision
from app.core.chains import BuyFilters, ConfidenceSizing
from app.core.states import BuyOutcome


@dataclass(frozen=True)
class MarketPoint:
    """The mint's latest stored metrics point at or before the decision time (None fields: not reported)."""

    ts: datetime
    liquidity_sol: Decimal | None
    volume_sol: Decimal | None


def mint_list_check(filters: BuyFilters, mint: str) -> Decision:
    """The allow list (when set) must hold the mint and the deny list must not."""
    step = {"step": "mint_filter", "mint": mint}
    if mint in filters.mint_deny:
        return Decision(BuyOutcome.REJECTED, ({**step, "result": "denied"},), "mint is on the workflow's deny list")
    if filters.mint_allow is not None and mint not in filters.mint_allow:
        return Decision(BuyOutcome.REJECTED, ({**step, "result": "not_allowed"},),
                        "mint is not on the workflow's allow list")
    if filters.mint_allow is None and not filters.mint_deny:
        return Decision(None)
    return Decision(None, ({**step, "result": "passed"},))


def market_check(filters: BuyFilters, point: MarketPoint | None) -> Decision:
    """The latest metrics point must report at least the minimum liquidity and volume the workflow asks."""
    if not filters.needs_metrics:
        return Decision(None)
    step: dict[str, Any] = {"step": "market_filter", "min_liquidity_sol": _opt(filters.min_liquidity_sol),
                            "min_volume_sol": _opt(filters.min_volume_sol)}
    if point is None:
        return Decision(BuyOutcome.REJECTED, ({**step, "result": "no_metrics"},),
                        "no stored metrics point for this mint at or before now")
    step = {**step, "metrics_ts": point.ts.isoformat(), "liquidity_sol": _opt(point.liquidity_sol),
            "volume_sol": _opt(point.volume_sol)}
    for name, minimum, value in (("liquidity", filters.min_liquidity_sol, point.liquidity_sol),
                                 ("volume", filters.min_volume_sol, point.volume_sol)):
        if minimum is not None and (value is None or value < minimum):
            return Decision(BuyOutcome.REJECTED, ({**step, "result": f"low_{name}"},),
                            f"{name} {_opt(value) or 'not reported'} below the workflow's minimum "
                            f"{_opt(minimum)} SOL")
    return Decision(None, ({**step, "result": "passed"},))


def confidence_amount(sizing: ConfidenceSizing, configured: Decimal, threshold: float,
                      probability: float) -> tuple[Decimal, dict[str, Any]]:
    """The amount value (same mode as `configured`) for this probability, floored to 9 decimals, and its step."""
    if threshold >= 1:
        fraction = Decimal(1)
    else:
        fraction = (Decimal(str(probability)) - Decimal(str(threshold))) / (1 - Decimal(str(threshold)))
    fraction = min(Decimal(1), max(Decimal(0), fraction))
    value = (sizing.min_amount + (configured - sizing.min_amount) * fraction).quantize(LAMPORT, rounding=ROUND_FLOOR)
    step = {"step": "confidence_sizing", "probability": probability, "min_probability": threshold,
            "min_amount": _opt(sizing.min_amount), "max_amount": _opt(configured), "amount": _opt(value),
            "result": "passed"}
    return value, step


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
