"""BUY decisions (SPEC §4) as pure functions: snapshot in, decision with its steps out.

The shell (app/services/buy_engine.py) calls `precheck`, then `condition_step` for each
condition in order until one does not pass, then `size_buy`; each returns the step it
logged, so live trading and backtests produce the same steps_log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from uuid import UUID

from app.core.chains import AmountMode, BuyChain, OnDemandCondition
from app.core.states import BuyOutcome

LAMPORT = Decimal("0.000000001")


@dataclass(frozen=True)
class BuyWorkflow:
    """What evaluation needs of an active BUY workflow."""

    id: UUID
    name: str
    chain: BuyChain
    amount_mode: AmountMode
    amount_value: Decimal
    cooldown_seconds: int
    max_open_positions: int


@dataclass(frozen=True)
class WalletState:
    """The wallet as seen at decision time."""

    balance_sol: Decimal
    open_positions: int
    holds_mint: bool


@dataclass(frozen=True)
class PredictionSignal:
    """The incoming prediction."""

    mint: str
    model_id: int
    probability: float


@dataclass(frozen=True)
class Decision:
    """One step's conclusion: an outcome that ends the evaluation (None: go on to the next step),
    the steps that led to it (for steps_log) and, for a sized buy, the SOL amount."""

    outcome: BuyOutcome | None
    steps: tuple[dict[str, Any], ...] = ()
    reason: str | None = None
    amount_sol: Decimal | None = None

    @property
    def goes_on(self) -> bool:
        """True when the evaluation continues with the next step."""
        return self.outcome is None


def precheck(
    workflow: BuyWorkflow, wallet: WalletState, signal: PredictionSignal,
    last_executed_at: datetime | None, now: datetime,
) -> Decision:
    """SPEC §4 steps 1-4: trigger threshold, cooldown, position held, max open positions."""
    trigger = workflow.chain.trigger
    trigger_step = {"step": "trigger", "model_id": signal.model_id, "probability": signal.probability,
                    "min_probability": trigger.min_probability}
    if signal.model_id != trigger.model_id:
        return Decision(BuyOutcome.IGNORED, ({**trigger_step, "result": "other_model"},),
                        "not this workflow's trigger model")
    if signal.probability < trigger.min_probability:
        return Decision(BuyOutcome.IGNORED, ({**trigger_step, "result": "below_threshold"},), "below min_probability")
    steps: tuple[dict[str, Any], ...] = ({**trigger_step, "result": "passed"},)
    if last_executed_at is not None and workflow.cooldown_seconds > 0:  # 0: no cooldown, whatever the clocks say
        elapsed = (now - last_executed_at).total_seconds()
        if elapsed < workflow.cooldown_seconds:
            return Decision(BuyOutcome.SKIPPED, steps, f"cooldown: {elapsed:.1f}s of {workflow.cooldown_seconds}s")
    if wallet.holds_mint:
        return Decision(BuyOutcome.SKIPPED, steps, "wallet already holds an open position in this mint")
    max_step = {"step": "max_positions_check", "open": wallet.open_positions, "max": workflow.max_open_positions}
    if wallet.open_positions >= workflow.max_open_positions:
        return Decision(BuyOutcome.REJECTED, (*steps, {**max_step, "result": "rejected"}),
                        f"wallet at max_open_positions ({wallet.open_positions}/{workflow.max_open_positions})")
    return Decision(None, (*steps, {**max_step, "result": "passed"}))


def condition_step(index: int, condition: OnDemandCondition, probability: float | None,
                   error: str | None = None) -> Decision:
    """SPEC §4 step 5 for one condition: its model's probability against operator/threshold."""
    step = {"step": f"condition_{index + 1}", "type": "on_demand_prediction", "model_id": condition.model_id,
            "operator": condition.operator.value, "threshold": condition.threshold}
    if error is not None or probability is None:
        error = error or "the model returned no probability"
        return Decision(BuyOutcome.ERROR, ({**step, "result": "error", "error": error},),
                        f"condition {index + 1} (model {condition.model_id}): {error}")
    passed = condition.operator.holds(probability, condition.threshold)
    step = {**step, "probability": probability, "result": "passed" if passed else "failed"}
    if not passed:
        return Decision(BuyOutcome.REJECTED, (step,),
                        f"condition {index + 1}: {probability:.4f} {condition.operator.symbol} "
                        f"{condition.threshold} is false")
    return Decision(None, (step,))


def size_buy(workflow: BuyWorkflow, balance_sol: Decimal) -> Decision:
    """SPEC §4 step 6: the SOL amount (fixed, or % of balance floored to the lamport) and the balance check."""
    if workflow.amount_mode is AmountMode.PERCENT:
        amount = (balance_sol * workflow.amount_value / 100).quantize(LAMPORT, rounding=ROUND_FLOOR)
    else:
        amount = workflow.amount_value
    step = {"step": "amount_check", "mode": workflow.amount_mode.value, "value": _plain(workflow.amount_value),
            "balance_sol": _plain(balance_sol), "amount_sol": _plain(amount)}
    if amount <= 0:
        return Decision(BuyOutcome.REJECTED, ({**step, "result": "rejected"},), "buy amount rounds to 0 lamports")
    if amount > balance_sol:
        return Decision(BuyOutcome.REJECTED, ({**step, "result": "rejected"},),
                        f"insufficient balance: need {_plain(amount)} SOL, have {_plain(balance_sol)} SOL")
    return Decision(None, ({**step, "result": "passed"},), amount_sol=amount)


def _plain(value: Decimal) -> str:
    """A decimal without exponent notation (0.000000001, not 1E-9)."""
    return format(value, "f")
