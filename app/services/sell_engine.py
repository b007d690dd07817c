"""SELL checks (SPEC §5) and manual sells: price, decide with the pure core, sell exactly once.

Read → decide → act → apply, on a TradingStore: a check reads the position (with its SELL workflow and the
halt), prices it with the interval's shared per-mint price and asks `should_exit`; no rule: the price and
raised peak are stored, no lock. A rule fires: a paper sell quotes the exact amount with no transaction
open, then one short transaction locks the position, decides again on its state (re-quoting if the amount
changed) and writes the sell (balance, position, trade, execution); a REAL one reserves its order. The lock
plus the rule recorded in `fired_rules` make a trigger sell at most once whatever the number of workers,
duplicated jobs or retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict
from uuid import UUID

from app.core.chains import SellChain, WorkflowType, cached_stored_chain
from app.core.clock import Clock, utc_now
from app.core.guards import CONFIG_HALT_SELLS_REASON, after_sell
from app.core.notifications import Event, breaker_event, sell_error_event, sell_event
from app.core.paper import price_per_token, sell_fill
from app.core.sell import ExitDecision, PositionState, realized_pnl, should_exit, tokens_to_sell
from app.core.solana import lamports_to_sol
from app.core.states import (
    CheckResult,
    CloseReason,
    ExecutionResult,
    OrderState,
    PositionStatus,
    TradeAction,
    WalletType,
)
from app.errors import Conflict, NotFound
from app.pricing.shared import MintPrice
from app.pricing.sources import PriceSource, PriceUnavailable, Quote, quoted_price
from app.services.chain_orders import NO_CHAIN
from app.services.paper_quotes import REQUOTES, PaperQuotes, Requote
from app.store.port import Row, TradingStore

if TYPE_CHECKING:
    from app.services.chain_orders import ChainExecutor, ChainResult

log = logging.getLogger(__name__)


class CannotSell(Exception):
    """The sell cannot be carried out (e.g. REAL wallet): record it, do not retry blindly."""


class CheckOutcome(TypedDict):
    """What one sell check did: its result, the rule that fired and, for a sell, the fill's figures."""

    result: CheckResult
    rule: NotRequired[str | None]
    closed: NotRequired[bool]
    error: NotRequired[str]
    measures: NotRequired[dict[str, str]]
    order: NotRequired[dict[str, Any]]
    order_id: NotRequired[str]


@dataclass
class SellDeps:
    """What checks and sells need from the outside world."""

    price_source: PriceSource  # exact quotes for fills
    fee_bps: int
    mint_price: MintPrice | None = None  # checks: (mint, decimals, tokens_raw) -> SOL per token, shared per interval
    on_position_closed: Callable[[UUID], None] = lambda position_id: None
    on_event: Callable[[Event | None], Any] = lambda event: None  # notifications (the outbox, in the same transaction)
    clock: Clock = utc_now
    chain: ChainExecutor | None = None  # REAL wallets' orders (None: SOLANA_RPC_URL is not set)
    on_order_placed: Callable[[UUID], None] = lambda order_id: None  # a manual REAL sell: a worker sends it
    config_halt_sells: bool = False  # TRADING_HALTED=all: no sell, whatever the stored trading state says


def check_position(store: TradingStore, position_id: UUID, deps: SellDeps) -> CheckOutcome:
    """One scheduled check of one position; returns what happened (hold, sold, closed, error, …)."""
    target = store.check_target(position_id)
    unchecked = _cannot_check(store, position_id, target, deps)
    if unchecked is not None:
        return unchecked
    price_of = deps.mint_price or partial(quoted_price, deps.price_source)
    try:
        price = price_of(target["mint"], target["token_decimals"], int(target["tokens_raw"]))
    except PriceUnavailable as exc:
        store.record_check_error(position_id, f"no price: {exc}")
        return {"result": CheckResult.NO_PRICE, "error": str(exc)}
    chain = cached_stored_chain(WorkflowType.SELL, target["sell_chain"])
    decision = should_exit(chain, target["sell_amount_pct"], _state(target), price, deps.clock())
    if decision.rule is None:
        return _hold(store, target, decision, price)  # the common case: two statements, no lock
    return _sell_fired(store, target, chain, price, decision, deps)


def _cannot_check(store: TradingStore, position_id: UUID, target: Row | None, deps: SellDeps) -> CheckOutcome | None:
    """Why the position is not checked now (closed, no SELL workflow, sells halted), recorded; None: check it."""
    if target is None or target["status"] != PositionStatus.OPEN:
        deps.on_position_closed(position_id)
        return {"result": CheckResult.NOT_OPEN}
    if target["sell_workflow_id"] is None or not target["trading_enabled"]:
        store.record_check_error(position_id, "no active SELL workflow or trading disabled")
        return {"result": CheckResult.NO_SELL_WORKFLOW}
    halt = _sells_halted(store, deps, read=target)
    if halt is not None:
        store.record_check_error(position_id, halt)
        return {"result": CheckResult.HALTED, "error": halt}
    return None


def _sell_fired(store: TradingStore, target: Row, chain: SellChain, price: Decimal, decision: ExitDecision,
                deps: SellDeps) -> CheckOutcome:
    """A rule fired on the unlocked snapshot: quote (paper, no transaction open), then decide again and apply under
    the position's lock; re-quote when the amount changed meanwhile."""
    quotes = _paper_quotes(target, deps, decision.tokens_to_sell)
    for _ in range(REQUOTES + 1):
        try:
            with store.transaction():
                outcome = _check_locked(store, target, chain, price, deps, quotes)
        except Requote as requote:
            quotes.take(requote.amount)
            continue
        return _after_locked(target["id"], outcome, store, deps)
    return {"result": CheckResult.SELL_FAILED, "rule": decision.rule_key,
            "error": f"the amount to sell kept changing over {REQUOTES + 1} quotes"}


def _paper_quotes(position: Row, deps: SellDeps, amount: int | None) -> PaperQuotes:
    """A paper sell's quotes; the amount the unlocked snapshot decides is quoted now (no transaction open)."""
    quotes = PaperQuotes(partial(deps.price_source.quote_sell, position["mint"], position["token_decimals"]))
    if amount and position["wallet_type"] == WalletType.TEST:
        quotes.take(amount)
    return quotes


def _after_locked(position_id: UUID, outcome: CheckOutcome, store: TradingStore, deps: SellDeps) -> CheckOutcome:
    """Send the REAL order a check placed (its result applied by apply_sell_order); stop checking a closed one."""
    if "order" in outcome:
        return _run_chain_order(store, outcome["order"], deps)
    if outcome.get("closed"):
        deps.on_position_closed(position_id)
    return outcome


def _state(position: dict[str, Any]) -> PositionState:
    return PositionState(position["entry_price_sol"], position["peak_price_sol"] or position["entry_price_sol"],
                         position["opened_at"], int(position["tokens_raw"]), frozenset(position["fired_rules"]))


def _hold(store: TradingStore, position: dict[str, Any], decision: ExitDecision, price: Decimal) -> CheckOutcome:
    """No rule fires: store the price and the raised peak (atomic GREATEST, so no lock is needed)."""
    store.record_price(position["id"], price, decision.measures.peak_price_sol)
    return {"result": CheckResult.HOLD, "measures": decision.measures.as_dict()}


def _check_locked(store: TradingStore, target: Row, chain: SellChain, price: Decimal, deps: SellDeps,
                  quotes: PaperQuotes) -> CheckOutcome:
    """A rule fired on the unlocked snapshot: lock the position and decide again on its current state."""
    position = store.lock_open_position(target["id"])
    if position is None:
        return {"result": CheckResult.NOT_OPEN, "closed": True}
    halt = _sells_halted(store, deps, lock=True)
    if halt is not None:
        return {"result": CheckResult.HALTED, "error": halt}
    in_flight = store.open_order_for_position(position["id"])
    if in_flight is not None:
        return {"result": CheckResult.ORDER_OPEN, "order_id": str(in_flight["id"])}
    decision = should_exit(chain, target["sell_amount_pct"], _state(position), price, deps.clock())
    store.record_price(position["id"], price, decision.measures.peak_price_sol,
                               rule_fired=decision.rule is not None)
    if decision.rule is None:
        return {"result": CheckResult.HOLD, "measures": decision.measures.as_dict()}
    try:
        with store.transaction():
            return _sell(store, position, target, decision, deps, quotes)
    except (PriceUnavailable, CannotSell) as exc:
        deps.on_event(sell_error_event(position, target["sell_workflow_id"], decision.rule_key, str(exc)))
        return _sell_failed(store, position, target, decision, str(exc), deps.clock())


def _sells_halted(store: TradingStore, deps: SellDeps, lock: bool = False,
                  read: dict[str, Any] | None = None) -> str | None:
    """Why sells are halted (stored "sells": "halt" or TRADING_HALTED=all), or None.

    `lock` share-locks the state; `read` is the state as a check's first query already read it (no lock).
    """
    if deps.config_halt_sells:
        return f"trading halted, sells too: {CONFIG_HALT_SELLS_REASON}"
    if read is not None:
        state = {"halted": read["halted"], "halt_sells": read["halt_sells"], "reason": read["halt_reason"]}
    else:
        state = store.halt_state(lock=lock)
    if state is None or not (state["halted"] and state["halt_sells"]):
        return None
    return f"trading halted, sells too: {state['reason'] or 'no reason given'}"


def _trigger_data(position: dict[str, Any], decision: ExitDecision) -> dict[str, Any]:
    return {"position_id": str(position["id"]), "rule": decision.rule.type.value, "rule_key": decision.rule_key,
            "sell_pct": str(decision.sell_pct), "tokens_to_sell": str(decision.tokens_to_sell),
            **decision.measures.as_dict()}


def _sell(store: TradingStore, position: Row, target: Row, decision: ExitDecision, deps: SellDeps,
          quotes: PaperQuotes) -> CheckOutcome:
    if target["wallet_type"] == WalletType.REAL:
        return _reserve_sell(store, position, target, decision, deps)
    amount = decision.tokens_to_sell
    fill = _fill(store, position, amount, quotes.for_fill(amount), CloseReason(decision.rule.type),
                 decision.rule_key, deps, target["sell_workflow_id"])
    return _log_sell(store, position, target["sell_workflow_id"], _trigger_data(position, decision),
                     _rule_step(decision), fill, deps)


def _reserve_sell(store: TradingStore, position: dict[str, Any], target: dict[str, Any], decision: ExitDecision,
                  deps: SellDeps) -> CheckOutcome:
    """A REAL rule sell: reserve its PENDING order; it is sent after commit."""
    if deps.chain is None:
        raise CannotSell(NO_CHAIN)
    order = _insert_sell_order(store, position, decision.tokens_to_sell, deps, {
        "reason": decision.rule.type.value, "rule_key": decision.rule_key,
        "trigger_data": _trigger_data(position, decision), "rule_step": _rule_step(decision)},
        target["sell_workflow_id"], target.get("sell_slippage_bps"))
    return {"result": CheckResult.ORDER_PLACED, "rule": decision.rule_key, "order": order}


def _insert_sell_order(store: TradingStore, position: dict[str, Any], amount: int, deps: SellDeps,
                       context: dict[str, Any], workflow_id: UUID | None = None,
                       slippage_bps: int | None = None) -> dict[str, Any]:
    """A REAL sell's PENDING order of `amount` raw tokens (one open order per position, by unique index)."""
    return store.insert_order({
        "wallet_id": position["wallet_id"], "side": TradeAction.SELL, "mint": position["mint"], "is_paper": False,
        "workflow_id": workflow_id, "position_id": position["id"], "in_amount": amount,
        "slippage_bps": slippage_bps, "at": deps.clock(), "context": context})


def _run_chain_order(store: TradingStore, order: dict[str, Any], deps: SellDeps) -> CheckOutcome:
    """Send a reserved REAL sell (no transaction open) and apply its result; one still in flight is the reconciler's."""
    result = deps.chain.run(store, order)
    if not result.final:
        return {"result": CheckResult.ORDER_PLACED, "rule": order["context"]["rule_key"], "order_id": str(order["id"])}
    return apply_sell_order(store, order["id"], result, deps)


def apply_sell_order(store: TradingStore, order_id: UUID, result: ChainResult, deps: SellDeps) -> CheckOutcome:
    """Apply a REAL sell order's final result exactly once: the actual fill booked, or the failure logged."""
    with store.transaction():
        order = store.finish_order(order_id, (OrderState.PENDING, OrderState.SENT), result.figures())
        if order is None:
            return {"result": CheckResult.ORDER_OPEN, "order_id": str(order_id)}
        position = store.lock_open_position(order["position_id"])
        ctx = order["context"]
        if result.state is not OrderState.FILLED or position is None:
            return _order_failed(store, order, result, deps)
        booked = _book_sell(store, position, _booked_chain_sell(order, result, position["token_decimals"]),
                            CloseReason(ctx["reason"]), ctx["rule_key"], deps, order["workflow_id"])
        booked["chain"] = result.step(order)
        outcome = _log_sell(store, position, order["workflow_id"], ctx["trigger_data"], ctx["rule_step"], booked, deps)
    if outcome.get("closed"):
        deps.on_position_closed(order["position_id"])
    return outcome


def _booked_chain_sell(order: dict[str, Any], result: ChainResult, decimals: int) -> BookedSell:
    """The actual fill of a landed sell: tokens that left the wallet, SOL out of the swap, network fee, SOL in."""
    fill = result.fill
    tokens = -fill.token_change_raw
    price = price_per_token(fill.swap_lamports, tokens, decimals) if tokens else Decimal(0)
    return BookedSell(order["id"], tokens, fill.swap_lamports, fill.fee_lamports, fill.sol_change_lamports, price,
                      "chain", signature=result.signature)


def _order_failed(store: TradingStore, order: dict[str, Any], result: ChainResult, deps: SellDeps) -> CheckOutcome:
    """A REAL sell that did not fill: the position stays open (a later check may fire again), an ERROR is logged."""
    message = f"sell order {result.state.value}: {result.error}"
    if order["position_id"] is not None:
        store.record_check_error(order["position_id"], message)
    if order["workflow_id"] is not None:
        execution_id = store.insert_execution({
            "workflow_id": order["workflow_id"], "mint": order["mint"], "result": ExecutionResult.ERROR,
            "trigger_data": order["context"].get("trigger_data", {}), "error_message": message,
            "steps_log": [order["context"].get("rule_step", {}), result.step(order)],
            "position_id": order["position_id"], "at": deps.clock()})
        store.link_order(order["id"], execution_id=execution_id)
    return {"result": CheckResult.SELL_FAILED, "rule": order["context"].get("rule_key"), "error": message,
            "order_id": str(order["id"])}


_LINKS = ("trade_log_id", "order_id")  # rows a sell wrote: linked by id columns, not copied into its steps


def _rule_step(decision: ExitDecision) -> dict[str, Any]:
    return {"step": "rule_check", "rule": decision.rule.type.value, "rule_key": decision.rule_key,
            **decision.measures.as_dict(), "result": "fired"}


def _log_sell(store: TradingStore, position: dict[str, Any], workflow_id: UUID | None, trigger_data: dict[str, Any],
              rule_step: dict[str, Any], fill: dict[str, Any], deps: SellDeps) -> CheckOutcome:
    """Log a rule's booked sell as an EXECUTED execution, linked to its order."""
    steps = [rule_step, {"step": "execute_sell", **{k: v for k, v in fill.items() if k not in _LINKS},
                         "result": "executed"}]
    if workflow_id is not None:  # a manual sell answers to no workflow: its trade is its record
        execution_id = store.insert_execution({
            "workflow_id": workflow_id, "mint": position["mint"], "result": ExecutionResult.EXECUTED,
            "trigger_data": trigger_data, "steps_log": steps, "trade_log_id": fill["trade_log_id"],
            "position_id": position["id"], "at": deps.clock()})
        store.link_order(UUID(fill["order_id"]), execution_id=execution_id)
    return {"result": CheckResult.SOLD, "rule": rule_step.get("rule_key"), "closed": fill["tokens_left"] == "0", **fill}


def _fill(store: TradingStore, position: Row, amount: int, quote: Quote, reason: CloseReason,
          rule_key: str | None, deps: SellDeps, workflow_id: UUID | None) -> dict[str, Any]:
    """Book a paper sell of `amount` raw tokens of a locked OPEN position at its quote (taken before the
    transaction), with its FILLED paper order."""
    fill = sell_fill(amount, quote.amount_out, deps.fee_bps, position["token_decimals"])
    order = store.insert_order({
        "wallet_id": position["wallet_id"], "side": TradeAction.SELL, "mint": position["mint"],
        "state": OrderState.FILLED, "is_paper": True, "workflow_id": workflow_id, "position_id": position["id"],
        "in_amount": amount, "quoted_out": quote.amount_out, "out_amount": fill.gross_lamports,
        "fee_lamports": fill.fee_lamports, "at": deps.clock()})
    booked = BookedSell(order["id"], amount, fill.gross_lamports, fill.fee_lamports, fill.net_lamports,
                        fill.price_sol, quote.source)
    return _book_sell(store, position, booked, reason, rule_key, deps, workflow_id)


@dataclass(frozen=True)
class BookedSell:
    """A sell's fill as booked: the order, tokens sold, SOL out of the swap, fee, SOL credited, price, source."""

    order_id: UUID
    tokens_raw: int
    gross_lamports: int
    fee_lamports: int
    net_lamports: int
    price_sol: Decimal
    source: str
    signature: str | None = None


def _book_sell(store: TradingStore, position: dict[str, Any], fill: BookedSell, reason: CloseReason,
               rule_key: str | None, deps: SellDeps, workflow_id: UUID | None) -> dict[str, Any]:
    """Reduce or close the locked position, credit the wallet (paper only), count the streak, write the trade."""
    net = lamports_to_sol(fill.net_lamports)
    left = int(position["tokens_raw"]) - fill.tokens_raw
    realized = realized_pnl(position["sol_spent"], int(position["initial_tokens_raw"]), fill.tokens_raw, left, net,
                            position["sol_received"], position["realized_pnl_sol"])
    store.apply_sell(position["id"], {"tokens_left": left, "net_sol": net, "realized": realized,
                                                    "rule_key": rule_key, "reason": reason, "at": deps.clock()})
    if fill.signature is None:
        store.credit(position["wallet_id"], net)
    _count_sell(store, position["wallet_id"], realized - position["realized_pnl_sol"], deps)
    trade_id = store.insert_trade({
        "wallet_id": position["wallet_id"], "position_id": position["id"], "workflow_id": workflow_id,
        "mint": position["mint"], "action": TradeAction.SELL, "sol_amount": net, "token_amount_raw": fill.tokens_raw,
        "price_sol": fill.price_sol, "fee_sol": lamports_to_sol(fill.fee_lamports),
        "realized_pnl_sol": realized - position["realized_pnl_sol"], "rule": reason, "at": deps.clock(),
        "order_id": fill.order_id, "is_paper": fill.signature is None, "tx_signature": fill.signature})
    store.link_order(fill.order_id, trade_log_id=trade_id)
    booked = {"trade_log_id": trade_id, "tokens_sold": str(fill.tokens_raw), "tokens_left": str(left),
              "gross_lamports": fill.gross_lamports, "fee_lamports": fill.fee_lamports, "net_sol": str(net),
              "price_sol": str(fill.price_sol), "realized_pnl_sol": str(realized), "quote_source": fill.source,
              "order_id": str(fill.order_id), **({} if fill.signature is None else {"signature": fill.signature})}
    deps.on_event(sell_event(position, workflow_id, reason.value, rule_key, trade_id, booked))
    return booked


def _count_sell(store: TradingStore, wallet_id: UUID, pnl_sol: Decimal, deps: SellDeps) -> None:
    """Extend or end the wallet's losing streak under its row lock (exact under concurrency); log and notify a trip."""
    wallet = store.lock_streak(wallet_id)
    update = after_sell(wallet["losing_streak"], wallet["breaker_losing_sells"],
                        wallet["breaker_tripped_at"] is not None, pnl_sol < 0)
    at = deps.clock()
    store.set_streak(wallet_id, update.streak, at if update.trips else None, update.trips)
    if update.trips:
        log.warning("circuit breaker tripped on wallet %s: %s; its BUY workflows are paused until "
                    "POST /api/wallets/%s/circuit-breaker/reset", wallet["alias"], update.trips, wallet["alias"])
        deps.on_event(breaker_event(wallet, update.trips, at.isoformat()))


def _sell_failed(store: TradingStore, position: dict[str, Any], target: dict[str, Any], decision: ExitDecision,
                 message: str, at: datetime) -> CheckOutcome:
    """Record a failed sell; its ERROR execution is logged once per rule, not at every check."""
    store.record_check_error(position["id"], f"sell failed: {message}")
    if position["failing_rule"] != decision.rule_key:
        store.set_failing_rule(position["id"], decision.rule_key)
        store.insert_execution({
            "workflow_id": target["sell_workflow_id"], "mint": position["mint"], "result": ExecutionResult.ERROR,
            "trigger_data": _trigger_data(position, decision), "error_message": f"sell failed: {message}",
            "steps_log": [{"step": "rule_check", "rule_key": decision.rule_key, "result": "fired"},
                          {"step": "execute_sell", "result": "error", "error": message}],
            "position_id": position["id"], "at": at})
    return {"result": CheckResult.SELL_FAILED, "rule": decision.rule_key, "error": message}


def sell_manually(store: TradingStore, position_id: UUID, pct: Decimal, deps: SellDeps,
                  reason: CloseReason = CloseReason.MANUAL) -> dict[str, Any]:
    """Sell pct % of a position's held tokens now, through the same locked path as rule exits.

    Paper: quoted with no transaction open, then filled. REAL: a PENDING order is reserved and handed to a
    worker (`deps.on_order_placed`).
    """
    target = store.check_target(position_id)
    if target is None or target["status"] != PositionStatus.OPEN:
        _raise_not_open(store, position_id)
    quotes = _paper_quotes(target, deps, tokens_to_sell(int(target["tokens_raw"]), pct))
    for _ in range(REQUOTES + 1):
        try:
            with store.transaction():
                order, fill = _manual_sell_locked(store, target, pct, reason, deps, quotes)
        except Requote as requote:
            quotes.take(requote.amount)
            continue
        return _after_manual_sell(position_id, order, fill, deps)
    raise Conflict(f"The position changed during {REQUOTES + 1} quotes: try again.")


def _manual_sell_locked(store: TradingStore, target: Row, pct: Decimal, reason: CloseReason, deps: SellDeps,
                        quotes: PaperQuotes) -> tuple[Row | None, dict[str, Any] | None]:
    """Under the position's lock: the REAL order reserved, or the paper fill booked."""
    position = _lock_for_manual_sell(store, target["id"], deps)
    amount = tokens_to_sell(int(position["tokens_raw"]), pct)
    if target["wallet_type"] == WalletType.REAL:
        return _reserve_manual_sell(store, position, amount, reason, deps), None
    return None, _manual_fill(store, position, amount, quotes, reason, deps)


def _after_manual_sell(position_id: UUID, order: Row | None, fill: dict[str, Any] | None,
                       deps: SellDeps) -> dict[str, Any]:
    if order is not None:
        deps.on_order_placed(order["id"])
        return {"order_id": str(order["id"]), "state": order["state"]}
    if fill["tokens_left"] == "0":
        deps.on_position_closed(position_id)
    return fill


def _lock_for_manual_sell(store: TradingStore, position_id: UUID, deps: SellDeps) -> dict[str, Any]:
    """The OPEN position, row-locked; Conflict when closed, halted, or a sell order of it is in flight."""
    position = store.lock_open_position(position_id)
    if position is None:
        _raise_not_open(store, position_id)
    halt = _sells_halted(store, deps, lock=True)
    if halt is not None:
        raise Conflict(f"No sell: {halt}. POST /api/trading/resume first.")
    if store.open_order_for_position(position_id) is not None:
        raise Conflict("A sell order of this position is in flight: GET /api/orders?state=SENT shows it.")
    return position


def _manual_fill(store: TradingStore, position: Row, amount: int, quotes: PaperQuotes, reason: CloseReason,
                 deps: SellDeps) -> dict[str, Any]:
    try:
        return _fill(store, position, amount, quotes.for_fill(amount), reason, None, deps, None)
    except PriceUnavailable as exc:
        raise Conflict(f"No price to sell at: {exc}") from None


def _reserve_manual_sell(store: TradingStore, position: dict[str, Any], amount: int, reason: CloseReason,
                         deps: SellDeps) -> dict[str, Any]:
    """A manual REAL sell's PENDING order (a worker sends it)."""
    if deps.chain is None:
        raise Conflict(f"{NO_CHAIN} to sell.")
    return _insert_sell_order(store, position, amount, deps, {
        "reason": reason.value, "rule_key": None, "trigger_data": {"position_id": str(position["id"])},
        "rule_step": {"step": "manual_sell", "tokens": str(amount), "result": "requested"}})


def _raise_not_open(store: TradingStore, position_id: UUID) -> None:
    status = store.position_status(position_id)
    if status is None:
        raise NotFound(f"Position {position_id} not found.")
    raise Conflict(f"Position {position_id} is {status}: nothing left to sell.")

