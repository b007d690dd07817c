"""BUY evaluation (SPEC §4): a prediction meets every active BUY workflow its model triggers.

Read → decide → act → apply, on a TradingStore: read the prediction and its candidates (each workflow with
its wallet's state); decide with the pure core (trigger, cooldown, held mint, max positions, conditions);
act with no transaction open (a paper buy's quote, a REAL wallet's chain balance); then apply once in a
short transaction that locks the wallet, re-checks halt, limits, breaker and the same rules on fresh state,
sizes the buy (re-quoting when the amount changed) and books order, position, trade, balance and execution
together. The store keeps it exactly-once: one OPEN position per wallet and mint and one execution per
prediction and workflow.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

from app.chain.rpc import ChainError
from app.core.buy import BuyWorkflow, Decision, PredictionSignal, WalletState, condition_step, precheck, size_buy
from app.core.chains import AmountMode, WorkflowType, cached_stored_chain
from app.core.clock import Clock
from app.core.filters import MarketPoint, confidence_amount, market_check, mint_list_check
from app.core.guards import DailyUsage, HaltState, WalletLimits, effective_halt, halt_check, limits_check
from app.core.notifications import Event, EventKind, buy_event
from app.core.paper import buy_fill, buy_swap_lamports, price_per_token
from app.core.solana import lamports_to_sol, sol_to_lamports
from app.core.states import BuyOutcome, OrderState, PredictionStatus, TradeAction, WalletType
from app.pricing.shared import PriceRecorder
from app.pricing.sources import PriceSource, PriceUnavailable, Quote, stated_price
from app.services.chain_orders import NO_CHAIN
from app.services.paper_quotes import REQUOTES, PaperQuotes, Requote
from app.store.port import Row, SlotTaken, TradingStore

if TYPE_CHECKING:
    from app.services.chain_orders import ChainExecutor, ChainResult

log = logging.getLogger(__name__)

Predictor = Callable[[int, str, datetime], float]  # (model_id, mint, at) -> probability
Outcome = dict[str, Any]  # one workflow's result on a prediction, as stored in the prediction's outcomes
Steps = tuple[dict[str, Any], ...]  # an execution's steps log so far


@dataclass
class BuyDeps:
    """What the engine needs from the outside world."""

    price_source: PriceSource
    predict: Predictor
    fee_bps: int
    on_position_opened: Callable[[UUID], None] = lambda position_id: None
    on_order_placed: Callable[[UUID], None] = lambda order_id: None  # an approved REAL buy: a worker sends it
    record_price: PriceRecorder | None = None  # a paper fill's quoted price, recorded in its apply transaction
    on_event: Callable[[Event | None], Any] = lambda event: None  # notifications (the outbox, in the same transaction)
    clock: Clock | None = None  # None: the database's now(); set for simulated time
    lease_seconds: float = 20.0  # an evaluation's claim on its prediction, renewed per workflow
    max_age_seconds: float | None = None  # a prediction received longer ago is EXPIRED, not evaluated
    config_halt: bool = False  # TRADING_HALTED: no buy, whatever the stored trading state says
    approval_ttl_seconds: float = 3600.0  # a BUY waiting for approval expires after this (APPROVAL_TTL_SECONDS)
    chain: ChainExecutor | None = None  # REAL wallets' orders (None: SOLANA_RPC_URL is not set)


@dataclass
class _Evaluation:
    """One prediction's evaluation: its trigger data and a per-model probability cache."""

    prediction: Row
    deps: BuyDeps
    probabilities: dict[int, tuple[float | None, str | None]] = field(default_factory=dict)
    approval: Row | None = None  # the approved approval this evaluation buys for
    spendable_lamports: int | None = None  # a REAL wallet's SOL on chain minus the reserve, read before locking
    known_decimals: dict[str, int | None] = field(default_factory=dict)
    quotes: PaperQuotes | None = None  # a paper buy's quotes by swap lamports, taken with no transaction open
    finish: Callable[[Outcome], None] | None = None  # stores the prediction's outcomes, given the last one
    finished: bool = False  # the outcomes were stored with the last workflow's buy

    def decimals(self, store: TradingStore, row: Row | None = None) -> int | None:
        """The mint's decimals (read once per evaluation; a candidate row carries them)."""
        mint = self.prediction["mint"]
        if mint not in self.known_decimals:
            known = row is not None and "mint_decimals" in row
            self.known_decimals[mint] = row["mint_decimals"] if known else store.mint_decimals(mint)
        return self.known_decimals[mint]

    def paper_quotes(self) -> PaperQuotes:
        """This evaluation's paper quotes (of its mint, at its decimals)."""
        if self.quotes is None:
            mint, decimals = self.prediction["mint"], self.known_decimals.get(self.prediction["mint"])
            self.quotes = PaperQuotes(lambda lamports: self.deps.price_source.quote_buy(mint, decimals, lamports))
        return self.quotes

    @property
    def signal(self) -> PredictionSignal:
        p = self.prediction
        return PredictionSignal(p["mint"], p["model_id"], p["probability"])

    def at(self) -> datetime | None:
        """The timestamp to write (None: the database's now())."""
        return self.deps.clock() if self.deps.clock else None

    def trigger_data(self) -> dict[str, Any]:
        return trigger_data(self.prediction)


def trigger_data(p: Row) -> dict[str, Any]:
    """An execution's trigger_data: the prediction that caused it."""
    return {"prediction_id": str(p["id"]), "client_id": p["client_id"], "model_id": p["model_id"],
            "probability": p["probability"], "prediction": p["prediction"], "tag": p["tag"],
            "timestamp": p["predicted_at"].isoformat()}


def buy_approved(store: TradingStore, approval: Row, key_name: str | None, deps: BuyDeps) -> Outcome:
    """Buy for an approved approval through the engine's path: every check again on fresh state, then the buy.

    Paper: quoted, then filled. REAL: sized from the chain balance (minus the reserve), its PENDING order
    reserved and handed to a worker (`deps.on_order_placed`, after the caller commits). The execution references
    the approval; the execution's unique index on (prediction, workflow) keeps it to one buy.
    """
    prediction = store.get_prediction(approval["prediction_id"])
    row = store.buy_candidate(approval["workflow_id"], approval["mint"])
    if prediction is None or row is None:
        return {"result": BuyOutcome.SKIPPED.value, "reason": "the prediction or workflow is gone",
                "execution_id": None}
    ev = _Evaluation(prediction, deps, approval=approval)
    steps = (*approval["steps_log"], {"step": "approval", "result": "approved", "by": key_name})
    if row["wallet_type"] == WalletType.REAL:
        problem = _read_chain_balance(ev, row)
        if problem is not None:
            return _conclude(store, ev, row, BuyOutcome.ERROR, steps, problem)
    workflow = workflow_of(row)
    _quote_ahead(store, ev, row, workflow)
    return _buy(store, ev, row, workflow, steps, send=False)


def evaluate_prediction(store: TradingStore, prediction_id: UUID, deps: BuyDeps) -> list[Outcome]:
    """Evaluate one stored prediction against its BUY workflows; returns (and stores) the outcome per workflow.

    The prediction is claimed first (a lease, renewed per workflow): a second evaluator gets the stored
    outcomes instead, and one whose worker died loses the claim so the scheduler's sweep can requeue it.
    """
    prediction = store.claim_prediction(prediction_id, deps.lease_seconds)
    if prediction is None or prediction["model_id"] is None:
        return _final_outcomes(store, prediction_id, prediction)
    if deps.max_age_seconds is not None and prediction["age_seconds"] > deps.max_age_seconds:
        return _expire(store, prediction, deps.max_age_seconds)
    evaluation = _Evaluation(prediction, deps)
    candidates, outcomes = store.buy_candidates(prediction["model_id"], prediction["mint"]), []
    for index, row in enumerate(candidates):
        if index:  # the claim itself holds the lease for the first workflow
            store.renew_claim(prediction_id)
        if index == len(candidates) - 1:  # the last outcome: stored with its buy, in the same transaction
            evaluation.finish = partial(_mark_with, store, prediction_id, list(outcomes))
        outcomes.append(_evaluate_guarded(store, evaluation, row))
    if not evaluation.finished:
        store.mark_evaluated(prediction_id, outcomes)
    return outcomes


def _mark_with(store: TradingStore, prediction_id: UUID, earlier: list[Outcome], last: Outcome) -> None:
    store.mark_evaluated(prediction_id, [*earlier, last])


def _final_outcomes(store: TradingStore, prediction_id: UUID, claimed: Row | None) -> list[Outcome]:
    """What is stored for a prediction this evaluator cannot (or need not) evaluate."""
    if claimed is not None:  # its model was deleted: nothing can trigger on it
        store.mark_evaluated(prediction_id, [])
    stored = store.get_prediction(prediction_id)
    return [] if stored is None else stored["outcomes"]


def _expire(store: TradingStore, prediction: Row, max_age_seconds: float) -> list[Outcome]:
    outcomes = [{"result": BuyOutcome.EXPIRED.value,
                 "reason": f"received {prediction['age_seconds']:.0f} s ago, older than the {max_age_seconds:.0f} s "
                           "limit (PREDICTION_MAX_AGE_SECONDS): too old to act on"}]
    store.mark_evaluated(prediction["id"], outcomes, PredictionStatus.EXPIRED)
    return outcomes


def _evaluate_guarded(store: TradingStore, ev: _Evaluation, row: Row) -> Outcome:
    """One workflow's evaluation; an unexpected failure becomes its logged ERROR, not the whole job's."""
    try:
        return _evaluate_workflow(store, ev, row)
    except Exception as exc:
        log.exception("BUY workflow %s failed on prediction %s", row["id"], ev.prediction["id"])
        return _log_error(store, ev, row, (), f"internal error: {type(exc).__name__}: {exc}")


def workflow_of(row: Row) -> BuyWorkflow:
    """The pure core's BuyWorkflow of a stored BUY workflow row."""
    return BuyWorkflow(row["id"], row["name"], cached_stored_chain(WorkflowType.BUY, row["chain"]),
                       AmountMode(row["buy_amount_mode"]), row["buy_amount_value"], row["cooldown_seconds"],
                       row["max_open_positions"])


def _precheck(ev: _Evaluation, workflow: BuyWorkflow, state: Row) -> Decision:
    wallet = WalletState(state["virtual_sol_balance"], state["open_positions"], state["holds_mint"])
    now = ev.deps.clock() if ev.deps.clock else state["db_now"]
    return precheck(workflow, wallet, ev.signal, state["last_executed_at"], now)


def _evaluate_workflow(store: TradingStore, ev: _Evaluation, row: Row) -> Outcome:
    workflow = workflow_of(row)
    first = _precheck(ev, workflow, row)
    if not first.goes_on:
        return _conclude(store, ev, row, first.outcome, first.steps, first.reason)
    steps = first.steps
    for index, condition in enumerate(workflow.chain.conditions):
        probability, error = _probability(ev, condition.model_id)
        decision = condition_step(index, condition, probability, error)
        steps += decision.steps
        if not decision.goes_on:
            return _conclude(store, ev, row, decision.outcome, steps, decision.reason)
    if row["wallet_type"] == WalletType.REAL:
        problem = _read_chain_balance(ev, row)
        if problem is not None:
            return _conclude(store, ev, row, BuyOutcome.ERROR, steps, problem)
    _quote_ahead(store, ev, row, workflow)
    return _buy(store, ev, row, workflow, steps)


def _read_chain_balance(ev: _Evaluation, row: Row) -> str | None:
    """Read a REAL wallet's spendable SOL from the chain (outside any transaction); why not, when it cannot."""
    if ev.deps.chain is None:
        return f"{NO_CHAIN} to trade this wallet"
    try:
        ev.spendable_lamports = ev.deps.chain.spendable_lamports(row["public_key"])
    except ChainError as exc:
        return f"cannot read the wallet's SOL balance on chain: {exc}"
    return None


def _probability(ev: _Evaluation, model_id: int) -> tuple[float | None, str | None]:
    """The model's on-demand probability for the mint at the prediction's time, computed once per evaluation."""
    if model_id not in ev.probabilities:
        try:
            ev.probabilities[model_id] = (ev.deps.predict(model_id, ev.prediction["mint"],
                                                          ev.prediction["predicted_at"]), None)
        except Exception as exc:  # noqa: BLE001 - any failure is this condition's ERROR, with its message
            ev.probabilities[model_id] = (None, str(exc) or type(exc).__name__)
    return ev.probabilities[model_id]


def _buy(store: TradingStore, ev: _Evaluation, row: Row, workflow: BuyWorkflow, steps: Steps,
         send: bool = True) -> Outcome:
    """Apply the buy in one short transaction that re-checks everything on fresh state; a paper buy's quote is
    taken before it (no lock held across the network) and taken again if the amount changed meanwhile.
    A reserved REAL order is sent now (`send`) or handed to a worker."""
    for _ in range(REQUOTES + 1):
        try:
            outcome = _apply_buy(store, ev, row, workflow, steps)
        except Requote as requote:
            ev.paper_quotes().take(requote.amount)
            continue
        except SlotTaken:
            return _outcome(row, BuyOutcome.SKIPPED, "a concurrent evaluation bought this mint for the wallet first")
        except PriceUnavailable as exc:
            return _log_error(store, ev, row, (*steps, {"step": "quote", "result": "error", "error": str(exc)}),
                              f"no price: {exc}")
        if "order" in outcome:
            return _send_order(store, ev, row, outcome["order"], send)
        if outcome.get("position_id"):
            ev.deps.on_position_opened(UUID(outcome["position_id"]))
        return outcome
    return _log_error(store, ev, row, steps, f"the amount to buy kept changing over {REQUOTES + 1} quotes")


def _apply_buy(store: TradingStore, ev: _Evaluation, row: Row, workflow: BuyWorkflow, steps: Steps) -> Outcome:
    """The apply transaction; when this is the prediction's last workflow and its outcome is final here (not a
    REAL order still to send), the prediction's outcomes are stored in the same transaction."""
    finishing = ev.finish is not None
    with store.transaction():
        outcome = _buy_locked(store, ev, row, workflow, steps)
        finishing = finishing and "order" not in outcome
        if finishing:
            ev.finish(outcome)
    ev.finished = ev.finished or finishing
    return outcome


def _quote_ahead(store: TradingStore, ev: _Evaluation, row: Row, workflow: BuyWorkflow) -> None:
    """A paper buy: quote the amount the unlocked snapshot sizes, before any lock (the apply re-sizes on fresh
    state and re-quotes if it differs). Nothing to quote for REAL wallets, approvals to wait for, unknown decimals."""
    if row["wallet_type"] != WalletType.TEST or (row.get("require_approval") and ev.approval is None):
        return
    if ev.decimals(store, row) is None:
        return
    sized = size_buy(_scaled(ev, workflow)[0], row["virtual_sol_balance"])
    if sized.goes_on:
        ev.paper_quotes().take(buy_swap_lamports(sol_to_lamports(sized.amount_sol), ev.deps.fee_bps)[1])


def _buy_locked(store: TradingStore, ev: _Evaluation, row: Row, workflow: BuyWorkflow,
                steps: Steps) -> Outcome:
    state = store.lock_buy_state(workflow.id, ev.prediction["mint"])
    if state is None or not state["is_active"] or not state["trading_enabled"]:
        return _outcome(row, BuyOutcome.SKIPPED, "workflow or wallet switched off meanwhile")
    state = _with_chain_balance(ev, state)
    checked = _recheck(store, ev, workflow, state)
    steps += checked.steps
    if not checked.goes_on:
        return _conclude(store, ev, row, checked.outcome, steps, checked.reason)
    sized = _size_within_limits(store, ev, workflow, state)
    steps += sized.steps
    if not sized.goes_on:
        return _conclude(store, ev, row, sized.outcome, steps, sized.reason)
    return _place_buy(store, ev, row, sized.amount_sol, steps)


def _with_chain_balance(ev: _Evaluation, state: Row) -> Row:
    """REAL wallets: the balance to size and check against is the chain's (less the reserve and open buys)."""
    if ev.spendable_lamports is None:
        return state
    spendable = max(0, ev.spendable_lamports - int(state["open_buy_lamports"]))
    return {**state, "virtual_sol_balance": lamports_to_sol(spendable)}


def _place_buy(store: TradingStore, ev: _Evaluation, row: Row, amount_sol: Decimal,
               steps: Steps) -> Outcome:
    """Every check passed: wait for approval, reserve a REAL order, or fill on paper."""
    decimals = ev.decimals(store, row)
    if decimals is None and row["wallet_type"] == WalletType.TEST:
        return _conclude(store, ev, row, BuyOutcome.ERROR, steps,
                         "decimals of this mint are unknown: POST /api/coins/{mint}/metrics with \"decimals\"")
    if row.get("require_approval") and ev.approval is None:
        return _await_approval(store, ev, row, amount_sol, steps)
    if row["wallet_type"] == WalletType.REAL:
        return _reserve_buy(store, ev, row, amount_sol, steps)
    return _fill_buy(store, ev, row, amount_sol, decimals, steps)


def _reserve_buy(store: TradingStore, ev: _Evaluation, row: Row, amount_sol: Decimal,
                 steps: Steps) -> Outcome:
    """A REAL buy: reserve its PENDING order (the wallet/mint slot, by unique index); it is sent after commit."""
    order = store.insert_order({
        "wallet_id": row["wallet_id"], "side": TradeAction.BUY, "mint": ev.prediction["mint"], "is_paper": False,
        "workflow_id": row["id"], "prediction_id": ev.prediction["id"], "in_amount": sol_to_lamports(amount_sol),
        "slippage_bps": row.get("slippage_bps"), "at": ev.at(),
        "context": {"steps": list(steps), "approval_id": None if ev.approval is None else str(ev.approval["id"])}})
    return {"order": order}


def _await_approval(store: TradingStore, ev: _Evaluation, row: Row, amount_sol: Decimal,
                    steps: Steps) -> Outcome:
    """Every check passed: store a PENDING approval (with the steps so far) instead of buying, and notify it."""
    steps += ({"step": "approval", "result": "waiting", "amount_sol": str(amount_sol)},)
    stored = store.insert_approval({
        "prediction_id": ev.prediction["id"], "workflow_id": row["id"], "mint": ev.prediction["mint"],
        "amount_sol": amount_sol, "steps_log": list(steps), "ttl_seconds": ev.deps.approval_ttl_seconds,
        "at": ev.at()})
    if stored is None:
        return _outcome(row, BuyOutcome.SKIPPED, "an approval already waits for this prediction and workflow")
    ev.deps.on_event(Event(EventKind.APPROVAL_WAITING, f"approval:{stored['id']}", {
        "approval_id": str(stored["id"]), "workflow_name": row["name"], "mint": ev.prediction["mint"],
        "amount_sol": str(amount_sol), "expires_at": stored["expires_at"].isoformat()}, row["id"]))
    return {**_outcome(row, BuyOutcome.AWAITING_APPROVAL, "waiting for approval (POST /api/approvals/{id}/approve)"),
            "approval_id": str(stored["id"])}


def _recheck(store: TradingStore, ev: _Evaluation, workflow: BuyWorkflow, state: Row) -> Decision:
    """Under the wallet's lock: the halt, the first pass's rules on fresh state, the workflow's filters."""
    halted = halt_check(_halt(state, ev.deps))  # read with the wallet's lock: a halt waits for this transaction
    if not halted.goes_on:
        return halted
    again = _precheck(ev, workflow, state)
    if not again.goes_on:
        return Decision(again.outcome, again.steps[1:], again.reason)
    return _filters(store, ev, workflow)


def _filters(store: TradingStore, ev: _Evaluation, workflow: BuyWorkflow) -> Decision:
    """The workflow's mint lists, then its market minimums against the mint's latest metrics point."""
    filters = workflow.chain.filters
    if filters is None:
        return Decision(None)
    listed = mint_list_check(filters, ev.prediction["mint"])
    if not listed.goes_on or not filters.needs_metrics:
        return listed
    row = store.latest_market_point(ev.prediction["mint"], ev.at())
    point = None if row is None else MarketPoint(row["ts"], row["liquidity_sol"], row["volume_sol"])
    market = market_check(filters, point)
    return Decision(market.outcome, (*listed.steps, *market.steps), market.reason)


def _halt(state: Row, deps: BuyDeps) -> HaltState:
    """The halt in force, as the locked re-read gives it (its row share-locked for the rest of the transaction)."""
    stored = None if state["halted"] is None else HaltState(state["halted"], state["halt_sells"],
                                                            state["halt_reason"], state["halted_at"])
    return effective_halt(stored, deps.config_halt)


def _scaled(ev: _Evaluation, workflow: BuyWorkflow) -> tuple[BuyWorkflow, Steps]:
    """The workflow with its amount scaled by the prediction's confidence (when sizing is set), and that step."""
    if workflow.chain.sizing is None:
        return workflow, ()
    value, step = confidence_amount(workflow.chain.sizing, workflow.amount_value,
                                    workflow.chain.trigger.min_probability, ev.signal.probability)
    return replace(workflow, amount_value=value), (step,)


def _size_within_limits(store: TradingStore, ev: _Evaluation, workflow: BuyWorkflow, state: Row) -> Decision:
    """Confidence sizing (if set), size_buy, then the wallet's limits on that amount (usage read under the lock)."""
    workflow, scaled = _scaled(ev, workflow)
    sized = size_buy(workflow, state["virtual_sol_balance"])
    sized = Decision(sized.outcome, (*scaled, *sized.steps), sized.reason, sized.amount_sol)
    if not sized.goes_on:
        return sized
    limits = WalletLimits(state["max_buys_per_day"], state["max_daily_loss_sol"], state["max_position_pct"],
                          state["breaker_tripped_at"], state["breaker_reason"])
    usage = DailyUsage(0, Decimal(0))
    if limits.configured:
        used = store.daily_usage(state["wallet_id"], ev.at())
        usage = DailyUsage(used["buys_today"], used["realized_pnl_today_sol"])
    limited = limits_check(limits, usage, sized.amount_sol, state["virtual_sol_balance"])
    if not limited.goes_on:
        return Decision(limited.outcome, (*sized.steps, *limited.steps), limited.reason)
    return Decision(None, (*sized.steps, *limited.steps), amount_sol=sized.amount_sol)


def _fill_buy(store: TradingStore, ev: _Evaluation, row: Row, amount_sol: Decimal, decimals: int,
              steps: Steps) -> Outcome:
    """A paper buy: the post-fee SOL's quote (taken before this transaction), then the fill booked with its FILLED
    paper order."""
    total = sol_to_lamports(amount_sol)
    fee, swap = buy_swap_lamports(total, ev.deps.fee_bps)
    quote = ev.paper_quotes().for_fill(swap)
    _record_quote(ev, quote, decimals)
    steps += ({"step": "quote", "source": quote.source, "in_lamports": swap, "fee_lamports": fee,
               "out_raw": str(quote.amount_out), "details": quote.details, "result": "passed"},)
    if quote.amount_out <= 0:
        return _conclude(store, ev, row, BuyOutcome.REJECTED, steps, "the quote returns no tokens for this amount")
    fill = buy_fill(total, ev.deps.fee_bps, quote.amount_out, decimals)
    booked = BookedBuy(None, fill.tokens_raw, amount_sol, fill.price_sol, lamports_to_sol(fill.fee_lamports),
                       decimals)
    paper_order = {"in_amount": swap, "quoted_out": quote.amount_out, "out_amount": fill.tokens_raw,
                   "fee_lamports": fee}
    return _book_buy(store, ev, row, booked, steps, paper_order)


@dataclass(frozen=True)
class BookedBuy:
    """A buy's fill as booked: the order, tokens received, SOL spent (fees included), entry price, fee."""

    order_id: UUID | None  # None: a paper fill (its FILLED order is written with it)
    tokens_raw: int
    sol_spent: Decimal
    price_sol: Decimal
    fee_sol: Decimal
    decimals: int
    signature: str | None = None


def _record_quote(ev: _Evaluation, quote: Quote, decimals: int) -> None:
    """Hand the fill's quote to the price history as SOL per whole token (in the apply transaction)."""
    if ev.deps.record_price is not None and quote.amount_out > 0:
        implied = price_per_token(quote.amount_in, quote.amount_out, decimals)
        ev.deps.record_price(ev.prediction["mint"], stated_price(quote, implied), quote.source)


def _book_buy(store: TradingStore, ev: _Evaluation, row: Row, fill: BookedBuy, steps: Steps,
              paper_order: dict[str, Any] | None = None) -> Outcome:
    """Write the filled buy at once (its paper order and the wallet's debit, or the link from its chain order;
    position, trade, EXECUTED execution); SlotTaken when the mint is held or the execution logged already."""
    paper = fill.signature is None
    steps += ({"step": "execute_buy", "result": "executed", "tokens_raw": str(fill.tokens_raw),
               "entry_price_sol": str(fill.price_sol), "sol_spent": str(fill.sol_spent),
               **({} if paper else {"signature": fill.signature})},)
    booked = store.book_buy({
        **(paper_order or {}), "order_id": fill.order_id, "wallet_id": row["wallet_id"], "mint": ev.prediction["mint"],
        "decimals": fill.decimals, "tokens_raw": fill.tokens_raw, "sol_spent": fill.sol_spent,
        "price_sol": fill.price_sol, "fee_sol": fill.fee_sol, "tx_signature": fill.signature,
        "workflow_id": row["id"], "prediction_id": ev.prediction["id"], "trigger_data": ev.trigger_data(),
        "steps_log": list(steps), "approval_id": None if ev.approval is None else ev.approval["id"], "at": ev.at()})
    ev.deps.on_event(buy_event(BuyOutcome.EXECUTED.value, booked["execution_id"], row, ev.prediction["mint"],
                               None, steps))
    return {**_outcome(row, BuyOutcome.EXECUTED, None), "execution_id": str(booked["execution_id"]),
            "position_id": str(booked["position_id"]), "order_id": str(booked["order_id"])}


def _send_order(store: TradingStore, ev: _Evaluation, row: Row, order: Row, send: bool) -> Outcome:
    """Send a reserved REAL buy now, or hand it to a worker (the caller's transaction must commit first)."""
    if send:
        return _run_chain_order(store, ev, row, order)
    ev.deps.on_order_placed(order["id"])
    return {**_outcome(row, BuyOutcome.ORDER_SENT, f"order {order['id']} reserved; a worker sends it"),
            "order_id": str(order["id"])}


def _run_chain_order(store: TradingStore, ev: _Evaluation, row: Row, order: Row) -> Outcome:
    """Send a reserved REAL buy (no transaction open) and apply its result; one still in flight is the reconciler's."""
    try:
        result = ev.deps.chain.run(store, order)
    except Exception:  # the order stays open: never an ERROR execution here that its fill could not replace
        log.exception("REAL buy order %s failed unexpectedly; the reconciler resolves it", order["id"])
        result = None
    if result is None or not result.final:
        return {**_outcome(row, BuyOutcome.ORDER_SENT, f"order {order['id']} sent; the reconciler confirms it"),
                "order_id": str(order["id"])}
    return apply_buy_order(store, order["id"], result, ev.deps)


def apply_buy_order(store: TradingStore, order_id: UUID, result: ChainResult, deps: BuyDeps) -> Outcome:
    """Apply a REAL buy order's final result exactly once: its position and EXECUTED execution, or an ERROR one."""
    with store.transaction():
        order = store.finish_order(order_id, (OrderState.PENDING, OrderState.SENT), result.figures())
        if order is None:
            return {"result": BuyOutcome.SKIPPED.value, "reason": "this order's result was applied already",
                    "execution_id": None, "order_id": str(order_id)}
        ev, row = _evaluation_of(store, order, deps)
        steps = (*order["context"].get("steps", ()), result.step(order))
        if result.state is not OrderState.FILLED:
            outcome = _conclude(store, ev, row, BuyOutcome.ERROR, steps, f"order {result.state.value}: {result.error}")
            store.link_order(order_id, execution_id=outcome["execution_id"])
            return {**outcome, "order_id": str(order_id)}
        outcome = _book_buy(store, ev, row, _booked_chain_buy(order, result), steps)
    deps.on_position_opened(UUID(outcome["position_id"]))
    return outcome


def _evaluation_of(store: TradingStore, order: Row, deps: BuyDeps) -> tuple[_Evaluation, Row]:
    """The evaluation and workflow row a stored buy order was reserved for (to log its execution)."""
    prediction = store.get_prediction(order["prediction_id"])
    row = store.buy_candidate(order["workflow_id"], order["mint"])
    approval_id = order["context"].get("approval_id")
    approval = None if approval_id is None else {"id": UUID(approval_id)}
    return _Evaluation(prediction, deps, approval=approval), row


def _booked_chain_buy(order: Row, result: ChainResult) -> BookedBuy:
    """The actual fill of a landed buy: tokens received, SOL spent (swap + network fee; rent apart), entry price."""
    fill = result.fill
    price = price_per_token(fill.swap_lamports, fill.token_change_raw, fill.decimals)
    return BookedBuy(order["id"], fill.token_change_raw, lamports_to_sol(fill.swap_lamports + fill.fee_lamports),
                     price, lamports_to_sol(fill.fee_lamports), fill.decimals, signature=result.signature)


def _conclude(store: TradingStore, ev: _Evaluation, row: Row, outcome: BuyOutcome,
              steps: Steps, reason: str | None) -> Outcome:
    """Log REJECTED / ERROR / EXECUTED executions (ignored and skipped ones are only recorded on the prediction)."""
    result = outcome.execution_result
    if result is None:
        return _outcome(row, outcome, reason)
    execution_id = store.insert_execution({
        "workflow_id": row["id"], "mint": ev.prediction["mint"], "trigger_data": ev.trigger_data(),
        "steps_log": list(steps), "result": result, "prediction_id": ev.prediction["id"],
        "error_message": reason if outcome is BuyOutcome.ERROR else None, "at": ev.at(),
        "approval_id": None if ev.approval is None else ev.approval["id"]})
    ev.deps.on_event(buy_event(outcome.value, execution_id, row, ev.prediction["mint"], reason, steps))
    return {**_outcome(row, outcome, reason), "execution_id": str(execution_id) if execution_id else None}


def _log_error(store: TradingStore, ev: _Evaluation, row: Row, steps: Steps,
               message: str) -> Outcome:
    return _conclude(store, ev, row, BuyOutcome.ERROR, steps, message)


def _outcome(row: Row, outcome: BuyOutcome, reason: str | None) -> Outcome:
    return {"workflow_id": str(row["id"]), "workflow_name": row["name"], "result": outcome.value,
            "reason": reason, "execution_id": None}
