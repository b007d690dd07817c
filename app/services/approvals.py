"""Human approval of BUYs: list, approve (the buy re-runs every check under the wallet lock), reject, expire.

Approving and rejecting are state transitions of a PENDING, unexpired approval: one UPDATE decides, so of two
concurrent callers one wins and the other gets a Conflict; the execution's unique index on (prediction,
workflow) keeps the buy to one even so. A rejected or expired approval is logged as a REJECTED execution.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from psycopg import Connection

from app.core.states import ApprovalStatus, ExecutionResult
from app.errors import Conflict, NotFound
from app.repos import approvals as repo
from app.repos import executions as execution_repo
from app.repos import predictions as prediction_repo
from app.services import buy_engine
from app.store.postgres import PostgresStore

log = logging.getLogger(__name__)


def list_approvals(conn: Connection, status: str | None, limit: int = 200) -> list[dict[str, Any]]:
    """Approvals, newest first, optionally of one status."""
    return repo.list_approvals(conn, status, limit)


def approve(conn: Connection, approval_id: UUID, key_name: str | None, deps: buy_engine.BuyDeps) -> dict[str, Any]:
    """Approve a PENDING approval and buy through the engine's path; returns the approval with its outcome.

    Paper: the buy is quoted and filled now. REAL: its PENDING order is reserved with the approval and a worker
    sends it after the commit (`deps.on_order_placed`), sized from the chain balance.
    """
    with conn.transaction():
        approval = _decide(conn, approval_id, ApprovalStatus.APPROVED, key_name)
        outcome = buy_engine.buy_approved(PostgresStore(conn), approval, key_name, deps)
        repo.set_outcome(conn, approval_id, outcome)
        return repo.get(conn, approval_id)


def reject(conn: Connection, approval_id: UUID, key_name: str | None) -> dict[str, Any]:
    """Reject a PENDING approval (logged as a REJECTED execution naming the key); returns it."""
    with conn.transaction():
        approval = _decide(conn, approval_id, ApprovalStatus.REJECTED, key_name)
        _log_rejected(conn, approval, {"step": "approval", "result": "rejected", "by": key_name},
                      f"rejected by {key_name}")
        return repo.get(conn, approval_id)


def expire_due(conn: Connection) -> int:
    """Mark PENDING approvals past their expiry EXPIRED, each logged as a REJECTED execution; returns how many."""
    with conn.transaction():
        expired = repo.expire_due(conn)
        for approval in expired:
            _log_rejected(conn, approval, {"step": "approval", "result": "expired",
                                           "expires_at": approval["expires_at"].isoformat()}, "approval expired")
    if expired:
        log.info("approvals: %d expired without a decision", len(expired))
    return len(expired)


def _decide(conn: Connection, approval_id: UUID, status: ApprovalStatus, key_name: str | None) -> dict[str, Any]:
    decided = repo.decide(conn, approval_id, status, key_name)
    if decided is not None:
        return decided
    current = repo.get(conn, approval_id)
    if current is None:
        raise NotFound(f"Approval {approval_id} not found.")
    state = "expired" if current["status"] == ApprovalStatus.PENDING else current["status"]
    raise Conflict(f"Approval {approval_id} is {state}: only a PENDING, unexpired approval can be decided.")


def _log_rejected(conn: Connection, approval: dict[str, Any], step: dict[str, Any], reason: str) -> None:
    prediction = prediction_repo.get(conn, approval["prediction_id"])
    execution_id = execution_repo.insert(conn, {
        "workflow_id": approval["workflow_id"], "mint": approval["mint"],
        "trigger_data": {} if prediction is None else buy_engine.trigger_data(prediction),
        "steps_log": [*approval["steps_log"], step], "result": ExecutionResult.REJECTED,
        "prediction_id": approval["prediction_id"], "approval_id": approval["id"]})
    repo.set_outcome(conn, approval["id"], {"result": ExecutionResult.REJECTED.value, "reason": reason,
                                            "execution_id": None if execution_id is None else str(execution_id)})
