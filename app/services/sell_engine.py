"""SELL checks (SPEC §5) and manual sells: price, decide with the pure core, sell exactly once.

A check prices the position with the interval's shared per-mint price, then, holding the
position's row lock, raises the peak, asks `should_exit`, and when a rule fires quotes the
exact amount and writes the sell (balance, position, trade, execution) in the same
transaction. The lock plus the rule recorded in `fired_rules` make a trigger sell at most
once whatever the number of workers, duplicated jobs or retries.
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

from psycopg import Connection

from app.core.chains import SellChain, WorkflowType, load_stored_chain
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
from app.pricing.sources import PriceSource, PriceUnavailable, quoted_price
from app.repos import executions as execution_repo
from app.repos import orders as order_repo
from app.repos import positions as position_repo
from app.repos import trading_state
from app.repos import wallets as wallet_repo
from app.services.chain_orders import NO_CHAIN

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
    on_event: Callable[[Connection, Event | None], Any] = lambda conn, event: None  # notifications (outbox)
    clock: Clock = utc_now
    chain: ChainExecutor | None = None  # REAL wallets' orders (None: SOLANA_RPC_URL is not set)
    on_order_placed: Callable[[UUID], None] = lambda order_id: None  # a manual REAL sell: a worker sends it
    config_halt_sells: bool = False  # TRADING_HALTED=all: no sell, whatever the stored trading state says


def check_position(conn: Connection, position_id: UUID, deps: SellDeps) -> CheckOutcome:
    """One scheduled check of one position; returns what happened (hold, sold, closed, error, …)."""
    target = position_repo.check_target(conn, position_id)
    if target is None or target["status"] != PositionStatus.OPEN:
        deps.on_position_closed(position_id)
        return {"result": CheckResult.NOT_OPEN}
    if target["sell_workflow_id"] is None or not target["trading_enabled"]:
        position_repo.record_check_error(conn, position_id, "no active SELL workflow or trading disabled")
        return {"result": CheckResult.NO_SELL_WORKFLOW}
    halt = _sells_halted(conn, deps, read=target)
    if halt is not None:
        position_repo.record_check_error(conn, position_id, halt)
        return {"result": CheckResult.HALTED, "error": halt}
    price_of = deps.mint_price or partial(quoted_price, deps.price_source)
    try:
        price = price_of(target["mint"], target["token_decimals"], int(target["tokens_raw"]))
    except PriceUnavailable as exc:
        position_repo.record_check_error(conn, position_id, f"no price: {exc}")
        return {"result": CheckResult.NO_PRICE, "error": str(exc)}
    chain = load_stored_chain(WorkflowType.SELL, target["sell_chain"])
    decision = should_exit(chain, target["sell_amount_pct"], _state(target), price, deps.clock())
    if decision.rule is None:
        return _hold(conn, target, decision, price)  # the common case: two statements, no lock
    with conn.transaction():
        outcome = _check_locked(conn, target, chain, price, deps)
    return _after_locked(position_id, outcome, conn, deps)


def _after_locked(position_id: UUID, outcome: CheckOutcome, conn: Connection, deps: SellDeps) -> CheckOutcome:
    """Send the REAL order a check placed (its result applied by apply_sell_order); stop checking a closed one."""
    if "order" in outcome:
        return _run_chain_order(conn, outcome["order"], deps)
    if outcome.get("closed"):
        deps.on_position_closed(position_id)
    return outcome


def _state(position: dict[str, Any]) -> PositionState:
    return PositionState(position["entry_price_sol"], position["peak_price_sol"] or position["entry_price_sol"],
                         position["opened_at"], int(position["tokens_raw"]), frozenset(position["fired_rules"]))


def _hold(conn: Connection, position: dict[str, Any], decision: ExitDecision, price: Decimal) -> CheckOutcome:
    """No rule fires: store the price and the raised peak (atomic GREATEST, so no lock is needed)."""
    position_repo.record_price(conn, position["id"], price, decision.measures.peak_price_sol)
    return {"result": CheckResult.HOLD, "measures": decision.measures.as_dict()}


def _check_locked(conn: Connection, target: dict[str, Any], chain: SellChain, price: Decimal,
                  deps: SellDeps) -> CheckOutcome:
    """A rule fired on the unlocked snapshot: lock the position and decide again on its current state."""
    position = position_repo.lock_open(conn, target["id"])
    if position is None:
        return {"result": CheckResult.NOT_OPEN, "closed": True}
    halt = _sells_halted(conn, deps, lock=True)
    if halt is not None:
        return {"result": CheckResult.HALTED, "error": halt}
    in_flight = order_repo.open_for_position(conn, position["id"])
    if in_flight is not None:
        return {"result": CheckResult.ORDER_OPEN, "order_id": str(in_flight["id"])}
    decision = should_exit(chain, target["sell_amount_pct"], _state(position), price, deps.clock())
    position_repo.record_price(conn, position["id"], price, decision.measures.peak_price_sol,
                               rule_fired=decision.rule is not None)
    if decision.rule is None:
        return {"result": CheckResult.HOLD, "measures": decision.measures.as_dict()}
    try:
        with conn.transaction():
            return _sell(conn, position, target, decision, deps)
    except (PriceUnavailable, CannotSell) as exc:
        deps.on_event(conn, sell_error_event(position, target["sell_workflow_id"], decision.rule_key, str(exc)))
        return _sell_failed(conn, position, target, decision, str(exc), deps.clock())


def _sells_halted(conn: Connection, deps: SellDeps, lock: bool = False,
                  read: dict[str, Any] | None = None) -> str | None:
    """Why sells are halted (stored "sells": "halt" or TRADING_HALTED=all), or None.

    `lock` share-locks the state; `read` is the state as a check's first query already read it (no lock).
    """
    if deps.config_halt_sells:
        return f"trading halted, sells too: {CONFIG_HALT_SELLS_REASON}"
    if read is not None:
        state = {"halted": read["halted"], "halt_sells": read["halt_sells"], "reason": read["halt_reason"]}
    else:
        state = trading_state.read_for_buy(conn) if lock else trading_state.get(conn)
    if state is None or not (state["halted"] and state["halt_sells"]):
        return None
    return f"trading halted, sells too: {state['reason'] or 'no reason given'}"


def _trigger_data(position: dict[str, Any], decision: ExitDecision) -> dict[str, Any]:
    return {"position_id": str(position["id"]), "rule": decision.rule.type.value, "rule_key": decision.rule_key,
            "sell_pct": str(decision.sell_pct), "tokens_to_sell": str(decision.tokens_to_sell),
            **decision.measures.as_dict()}


def _sell(conn: Connection, position: dict[str, Any], target: dict[str, Any], decision: ExitDecision,
          deps: SellDeps) -> CheckOutcome:
    if target["wallet_type"] == WalletType.REAL:
        return _reserve_sell(conn, position, target, decision, deps)
    fill = _fill(conn, position, decision.tokens_to_sell, CloseReason(decision.rule.type), decision.rule_key, deps,
                 target["sell_workflow_id"])
    return _log_sell(conn, position, target["sell_workflow_id"], _trigger_data(position, decision),
                     _rule_step(decision), fill, deps)


def _reserve_sell(conn: Connection, position: dict[str, Any], target: dict[str, Any], decision: ExitDecision,
                  deps: SellDeps) -> CheckOutcome:
    """A REAL rule sell: reserve its PENDING order; it is sent after commit."""
    if deps.chain is None:
        raise CannotSell(NO_CHAIN)
    order = _insert_sell_order(conn, position, decision.tokens_to_sell, deps, {
        "reason": decision.rule.type.value, "rule_key": decision.rule_key,
        "trigger_data": _trigger_data(position, decision), "rule_step": _rule_step(decision)},
        target["sell_workflow_id"], target.get("sell_slippage_bps"))
    return {"result": CheckResult.ORDER_PLACED, "rule": decision.rule_key, "order": order}


def _insert_sell_order(conn: Connection, position: dict[str, Any], amount: int, deps: SellDeps,
                       context: dict[str, Any], workflow_id: UUID | None = None,
                       slippage_bps: int | None = None) -> dict[str, Any]:
    """A REAL sell's PENDING order of `amount` raw tokens (one open order per position, by unique index)."""
    return order_repo.insert(conn, {
        "wallet_id": position["wallet_id"], "side": TradeAction.SELL, "mint": position["mint"], "is_paper": False,
        "workflow_id": workflow_id, "position_id": position["id"], "in_amount": amount,
        "slippage_bps": slippage_bps, "at": deps.clock(), "context": context})


def _run_chain_order(conn: Connection, order: dict[str, Any], deps: SellDeps) -> CheckOutcome:
    """Send a reserved REAL sell (no transaction open) and apply its result; one still in flight is the reconciler's."""
    result = deps.chain.run(conn, order)
    if not result.final:
        return {"result": CheckResult.ORDER_PLACED, "rule": order["context"]["rule_key"], "order_id": str(order["id"])}
    return apply_sell_order(conn, order["id"], result, deps)


def apply_sell_order(conn: Connection, order_id: UUID, result: ChainResult, deps: SellDeps) -> CheckOutcome:
    """Apply a REAL sell order's final result exactly once: the actual fill booked, or the failure logged."""
    with conn.transaction():
        order = order_repo.finish(conn, order_id, (OrderState.PENDING, OrderState.SENT), result.figures())
        if order is None:
            return {"result": CheckResult.ORDER_OPEN, "order_id": str(order_id)}
        position = position_repo.lock_open(conn, order["position_id"])
        ctx = order["context"]
        if result.state is not OrderState.FILLED or position is None:
            return _order_failed(conn, order, result, deps)
        booked = _book_sell(conn, position, _booked_chain_sell(order, result, position["token_decimals"]),
                            CloseReason(ctx["reason"]), ctx["rule_key"], deps, order["workflow_id"])
        booked["chain"] = result.step(order)
        outcome = _log_sell(conn, position, order["workflow_id"], ctx["trigger_data"], ctx["rule_step"], booked, deps)
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


def _order_failed(conn: Connection, order: dict[str, Any], result: ChainResult, deps: SellDeps) -> CheckOutcome:
    """A REAL sell that did not fill: the position stays open (a later check may fire again), an ERROR is logged."""
    message = f"sell order {result.state.value}: {result.error}"
    if order["position_id"] is not None:
        position_repo.record_check_error(conn, order["position_id"], message)
    if order["workflow_id"] is not None:
        execution_id = execution_repo.insert(conn, {
            "workflow_id": order["workflow_id"], "mint": order["mint"], "result": ExecutionResult.ERROR,
            "trigger_data": order["context"].get("trigger_data", {}), "error_message": message,
            "steps_log": [order["context"].get("rule_step", {}), result.step(order)],
            "position_id": order["position_id"], "at": deps.clock()})
        order_repo.link(conn, order["id"], execution_id=execution_id)
    return {"result": CheckResult.SELL_FAILED, "rule": order["context"].get("rule_key"), "error": message,
            "order_id": str(order["id"])}


_LINKS = ("trade_log_id", "order_id")  # rows a sell wrote: linked by id columns, not copied into its steps


def _rule_step(decision: ExitDecision) -> dict[str, Any]:
    return {"step": "rule_check", "rule": decision.rule.type.value, "rule_key": decision.rule_key,
            **decision.measures.as_dict(), "result": "fired"}


def _log_sell(conn: Connection, position: dict[str, Any], workflow_id: UUID | None, trigger_data: dict[str, Any],
              rule_step: dict[str, Any], fill: dict[str, Any], deps: SellDeps) -> CheckOutcome:
    """Log a rule's booked sell as an EXECUTED execution, linked to its order."""
    steps = [rule_step, {"step": "execute_sell", **{k: v for k, v in fill.items() if k not in _LINKS},
                         "result": "executed"}]
    if workflow_id is not None:  # a manual sell answers to no workflow: its trade is its record
        execution_id = execution_repo.insert(conn, {
            "workflow_id": workflow_id, "mint": position["mint"], "result": ExecutionResult.EXECUTED,
            "trigger_data": trigger_data, "steps_log": steps, "trade_log_id": fill["trade_log_id"],
            "position_id": position["id"], "at": deps.clock()})
        order_repo.link(conn, fill["order_id"], execution_id=execution_id)
    return {"result": CheckResult.SOLD, "rule": rule_step.get("rule_key"), "closed": fill["tokens_left"] == "0", **fill}


def _fill(conn: Connection, position: dict[str, Any], amount: int, reason: CloseReason, rule_key: str | None,
          deps: SellDeps, workflow_id: UUID | None) -> dict[str, Any]:
    """Quote and book a paper sell of `amount` raw tokens of a locked OPEN position, with its FILLED paper order."""
    quote = deps.price_source.quote_sell(position["mint"], position["token_decimals"], amount)
    fill = sell_fill(amount, quote.amount_out, deps.fee_bps, position["token_decimals"])
    order = order_repo.insert(conn, {
        "wallet_id": position["wallet_id"], "side": TradeAction.SELL, "mint": position["mint"],
        "state": OrderState.FILLED, "is_paper": True, "workflow_id": workflow_id, "position_id": position["id"],
        "in_amount": amount, "quoted_out": quote.amount_out, "out_amount": fill.gross_lamports,
        "fee_lamports": fill.fee_lamports, "at": deps.clock()})
    booked = BookedSell(order["id"], amount, fill.gross_lamports, fill.fee_lamports, fill.net_lamports,
                        fill.price_sol, quote.source)
    return _book_sell(conn, position, booked, reason, rule_key, deps, workflow_id)


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


def _book_sell(conn: Connection, position: dict[str, Any], fill: BookedSell, reason: CloseReason,
               rule_key: str | None, deps: SellDeps, workflow_id: UUID | None) -> dict[str, Any]:
    """Reduce or close the locked position, credit the wallet (paper only), count the streak, write the trade."""
    net = lamports_to_sol(fill.net_lamports)
    left = int(position["tokens_raw"]) - fill.tokens_raw
    realized = realized_pnl(position["sol_spent"], int(position["initial_tokens_raw"]), fill.tokens_raw, left, net,
                            position["sol_received"], position["realized_pnl_sol"])
    position_repo.apply_sell(conn, position["id"], {"tokens_left": left, "net_sol": net, "realized": realized,
                                                    "rule_key": rule_key, "reason": reason, "at": deps.clock()})
    if fill.signature is None:
        wallet_repo.credit(conn, position["wallet_id"], net)
    _count_sell(conn, position["wallet_id"], realized - position["realized_pnl_sol"], deps)
    trade_id = position_repo.insert_trade(conn, {
        "wallet_id": position["wallet_id"], "position_id": position["id"], "workflow_id": workflow_id,
        "mint": position["mint"], "action": TradeAction.SELL, "sol_amount": net, "token_amount_raw": fill.tokens_raw,
        "price_sol": fill.price_sol, "fee_sol": lamports_to_sol(fill.fee_lamports),
        "realized_pnl_sol": realized - position["realized_pnl_sol"], "rule": reason, "at": deps.clock(),
        "order_id": fill.order_id, "is_paper": fill.signature is None, "tx_signature": fill.signature})
    order_repo.link(conn, fill.order_id, trade_log_id=trade_id)
    booked = {"trade_log_id": trade_id, "tokens_sold": str(fill.tokens_raw), "tokens_left": str(left),
              "gross_lamports": fill.gross_lamports, "fee_lamports": fill.fee_lamports, "net_sol": str(net),
              "price_sol": str(fill.price_sol), "realized_pnl_sol": str(realized), "quote_source": fill.source,
              "order_id": str(fill.order_id), **({} if fill.signature is None else {"signature": fill.signature})}
    deps.on_event(conn, sell_event(position, workflow_id, reason.value, rule_key, trade_id, booked))
    return booked


def _count_sell(conn: Connection, wallet_id: UUID, pnl_sol: Decimal, deps: SellDeps) -> None:
    """Extend or end the wallet's losing streak under its row lock (exact under concurrency); log and notify a trip."""
    wallet = wallet_repo.lock_streak(conn, wallet_id)
    update = after_sell(wallet["losing_streak"], wallet["breaker_losing_sells"],
                        wallet["breaker_tripped_at"] is not None, pnl_sol < 0)
    at = deps.clock()
    wallet_repo.set_streak(conn, wallet_id, update.streak, at if update.trips else None, update.trips)
    if update.trips:
        log.warning("circuit breaker tripped on wallet %s: %s; its BUY workflows are paused until "
                    "POST /api/wallets/%s/circuit-breaker/reset", wallet["alias"], update.trips, wallet["alias"])
        deps.on_event(conn, breaker_event(wallet, update.trips, at.isoformat()))


def _sell_failed(conn: Connection, position: dict[str, Any], target: dict[str, Any], decision: ExitDecision,
                 message: str, at: datetime) -> CheckOutcome:
    """Record a failed sell; its ERROR execution is logged once per rule, not at every check."""
    position_repo.record_check_error(conn, position["id"], f"sell failed: {message}")
    if position["failing_rule"] != decision.rule_key:
        position_repo.set_failing_rule(conn, position["id"], decision.rule_key)
        execution_repo.insert(conn, {
            "workflow_id": target["sell_workflow_id"], "mint": position["mint"], "result": ExecutionResult.ERROR,
            "trigger_data": _trigger_data(position, decision), "error_message": f"sell failed: {message}",
            "steps_log": [{"step": "rule_check", "rule_key": decision.rule_key, "result": "fired"},
                          {"step": "execute_sell", "result": "error", "error": message}],
            "position_id": position["id"], "at": at})
    return {"result": CheckResult.SELL_FAILED, "rule": decision.rule_key, "error": message}


def sell_manually(conn: Connection, position_id: UUID, pct: Decimal, deps: SellDeps,
                  reason: CloseReason = CloseReason.MANUAL) -> dict[str, Any]:
    """Sell pct % of a position's held tokens now, through the same locked path as rule exits.

    Paper: filled at once. REAL: a PENDING order is reserved and handed to a worker (`deps.on_order_placed`).
    """
    with conn.transaction():
        position = _lock_for_manual_sell(conn, position_id, deps)
        amount = tokens_to_sell(int(position["tokens_raw"]), pct)
        if wallet_repo.type_of(conn, position["wallet_id"]) == WalletType.REAL:
            order = _reserve_manual_sell(conn, position, amount, reason, deps)
        else:
            order, fill = None, _manual_fill(conn, position, amount, reason, deps)
    if order is not None:
        deps.on_order_placed(order["id"])
        return {"order_id": str(order["id"]), "state": order["state"]}
    if fill["tokens_left"] == "0":
        deps.on_position_closed(position_id)
    return fill


def _lock_for_manual_sell(conn: Connection, position_id: UUID, deps: SellDeps) -> dict[str, Any]:
    """The OPEN position, row-locked; Conflict when closed, halted, or a sell order of it is in flight."""
    position = position_repo.lock_open(conn, position_id)
    if position is None:
        _raise_not_open(conn, position_id)
    halt = _sells_halted(conn, deps, lock=True)
    if halt is not None:
        raise Conflict(f"No sell: {halt}. POST /api/trading/resume first.")
    if order_repo.open_for_position(conn, position_id) is not None:
        raise Conflict("A sell order of this position is in flight: GET /api/orders?state=SENT shows it.")
    return position


def _manual_fill(conn: Connection, position: dict[str, Any], amount: int, reason: CloseReason,
                 deps: SellDeps) -> dict[str, Any]:
    try:
        return _fill(conn, position, amount, reason, None, deps, None)
    except PriceUnavailable as exc:
        raise Conflict(f"No price to sell at: {exc}") from None


def _reserve_manual_sell(conn: Connection, position: dict[str, Any], amount: int, reason: CloseReason,
                         deps: SellDeps) -> dict[str, Any]:
    """A manual REAL sell's PENDING order (a worker sends it)."""
    if deps.chain is None:
        raise Conflict(f"{NO_CHAIN} to sell.")
    return _insert_sell_order(conn, position, amount, deps, {
        "reason": reason.value, "rule_key": None, "trigger_data": {"position_id": str(position["id"])},
        "rule_step": {"step": "manual_sell", "tokens": str(amount), "result": "requested"}})


def _raise_not_open(conn: Connection, position_id: UUID) -> None:
    status = position_repo.status_of(conn, position_id)
    if status is None:
        raise NotFound(f"Position {position_id} not found.")
    raise Conflict(f"Position {position_id} is {status}: nothing left to sell.")

