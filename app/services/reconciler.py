"""The order reconciler: every REAL order a worker left unresolved is finished from the chain, exactly once.

Run at scheduler start and every minute (as a job). A SENT order's stored bytes are rebroadcast and its
signature looked up: landed -> FILLED (the actual fill booked) or FAILED (fee recorded); blockhash expired with
no status -> EXPIRED and its slot (position or wallet/mint) released. A PENDING order older than the grace
period was never stored as SENT, so it was never sent: FAILED. The engines' guarded transitions
(UPDATE ... WHERE state IN ('PENDING', 'SENT')) keep a result applied once, whoever gets there first.
"""

from __future__ import annotations

import logging
from uuid import UUID

from app.chain.fills import FillUnreadable
from app.chain.rpc import ChainError
from app.core.states import OrderState, TradeAction
from app.services.buy_engine import BuyDeps, apply_buy_order
from app.services.chain_orders import NEVER_SENT, ChainExecutor, ChainResult
from app.services.sell_engine import SellDeps, apply_sell_order
from app.store.port import Row, TradingStore

log = logging.getLogger(__name__)

PENDING_GRACE_SECONDS = 120.0  # longer than a quote + swap + sign can take before the order is stored SENT


def reconcile_orders(store: TradingStore, chain: ChainExecutor, buy_deps: BuyDeps, sell_deps: SellDeps,
                     pending_grace_seconds: float = PENDING_GRACE_SECONDS) -> dict[str, int]:
    """Resolve every SENT order (and stale PENDING one) whose result can be known now; returns counts by state."""
    counts = {state.value: 0 for state in OrderState}
    for order in store.orders_to_reconcile(pending_grace_seconds):
        try:
            result = _result_of(store, order, chain)
            if result.final:
                _apply(store, order, result, buy_deps, sell_deps)
        except Exception:  # one order's trouble never keeps the others unresolved
            log.exception("order %s could not be reconciled now; trying again next run", order["id"])
            result = ChainResult(OrderState(order["state"]))
        counts[result.state.value] += 1
    if any(counts[state.value] for state in OrderState if not state.is_open):
        log.info("order reconciler: %s", counts)
    return counts


def execute_order(store: TradingStore, order_id: UUID, chain: ChainExecutor, buy_deps: BuyDeps,
                  sell_deps: SellDeps) -> str:
    """Send a PENDING order handed to a worker (a manual REAL sell) and apply its result; returns its state."""
    order = store.get_order(order_id)
    if order is None or order["state"] != OrderState.PENDING:
        return "gone" if order is None else order["state"]
    result = chain.run(store, order)
    if result.final:
        _apply(store, order, result, buy_deps, sell_deps)
    return result.state.value


def _result_of(store: TradingStore, order: Row, chain: ChainExecutor) -> ChainResult:
    """What the chain says about an order (an unreachable node leaves it SENT, to look again next time)."""
    if order["state"] == OrderState.PENDING:
        return ChainResult(OrderState.FAILED, error=NEVER_SENT)
    wallet = store.wallet(order["wallet_id"])
    try:
        return chain.look(order, wallet["public_key"])
    except (ChainError, FillUnreadable) as exc:
        log.warning("order %s: cannot reach the chain (%s); looking again next run", order["id"], exc)
        return ChainResult(OrderState.SENT, signature=order["signature"])


def _apply(store: TradingStore, order: Row, result: ChainResult, buy_deps: BuyDeps,
           sell_deps: SellDeps) -> None:
    if order["side"] == TradeAction.BUY:
        apply_buy_order(store, order["id"], result, buy_deps)
    else:
        apply_sell_order(store, order["id"], result, sell_deps)
