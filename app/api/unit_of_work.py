"""One transaction per API write: the change and its audit entry commit together, queue side effects after.

A POST/PUT/PATCH/DELETE under /api gets one pooled connection with an open transaction (the
services' own transactions become savepoints in it). When the view answers < 400 the audit entry
(key, method, path, target, before and after, client address) is written in that transaction and it
commits; otherwise it rolls back, so a refused request writes nothing. Enqueueing and scheduling
wait for the commit (a job never runs before the rows it reads exist).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import Any
from uuid import UUID

from flask import Flask, Response, g, request
from psycopg import Connection, Rollback

from app import bootstrap
from app.queues.dispatch import new_evaluation_job_id
from app.repos import approvals as approval_repo
from app.repos import coin_metrics as coin_repo
from app.repos import models as model_repo
from app.repos import positions as position_repo
from app.repos import wallets as wallet_repo
from app.repos import workflows as workflow_repo
from app.services import audit as audit_service
from app.services.ports import Dispatcher

log = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_A_CHANGE = ("/predict",)  # POSTs that only compute
# view argument -> (target kind, loader of the target's current state)
_TARGETS: dict[str, tuple[str, Callable[[Connection, Any], Any]]] = {
    "alias": ("wallet", wallet_repo.get_by_alias),
    "workflow_id": ("workflow", workflow_repo.get),
    "model_id": ("model", model_repo.get),
    "position_id": ("position", position_repo.get_position),
    "mint": ("mint", coin_repo.get_mint),
    "approval_id": ("approval", approval_repo.get),
}


class DeferredDispatcher:
    """The queue port for a request: enqueues and (un)schedules run only after the request commits."""

    def __init__(self, dispatcher: Dispatcher):
        self._dispatcher = dispatcher
        self.pending: list[Callable[[], Any]] = []

    def evaluate_predictions(self, prediction_ids: list[UUID]) -> str:
        """Reserve the job id now; enqueue after the commit."""
        job_id = new_evaluation_job_id()
        self.pending.append(lambda: self._dispatcher.evaluate_predictions(prediction_ids, job_id=job_id))
        return job_id

    def job_waiting(self, job_id: str) -> bool:
        """As the real port."""
        return self._dispatcher.job_waiting(job_id)

    def watch_position(self, position_id: UUID) -> None:
        """Schedule after the commit."""
        self.pending.append(lambda: self._dispatcher.watch_position(position_id))

    def unwatch_position(self, position_id: UUID) -> None:
        """Unschedule after the commit."""
        self.pending.append(lambda: self._dispatcher.unwatch_position(position_id))

    def sync_sell_checks(self, open_ids: Iterable[UUID | str]) -> dict[str, int]:
        """As the real port."""
        return self._dispatcher.sync_sell_checks(open_ids)

    def deliver_notification(self, delivery_id: int) -> None:
        """Enqueue after the commit."""
        self.pending.append(lambda: self._dispatcher.deliver_notification(delivery_id))

    def run_backtest(self, backtest_id: UUID, timeout_seconds: int) -> None:
        """Enqueue after the commit."""
        self.pending.append(lambda: self._dispatcher.run_backtest(backtest_id, timeout_seconds))

    def execute_order(self, order_id: UUID) -> None:
        """Enqueue after the commit."""
        self.pending.append(lambda: self._dispatcher.execute_order(order_id))

    def reconcile_orders(self) -> None:
        """Enqueue after the commit."""
        self.pending.append(self._dispatcher.reconcile_orders)

    def flush(self) -> None:
        """Run what waited for the commit (each port call logs and swallows its own Redis failures)."""
        for call in self.pending:
            try:
                call()
            except Exception:
                log.exception("a queue call after the commit failed; the scheduler's maintenance will repair it")
        self.pending.clear()


class RequestWork:
    """The write request's connection, transaction, deferred dispatcher and audit target."""

    def __init__(self, resources: bootstrap.Process):
        self._resources = ExitStack()
        try:
            self.conn = self._resources.enter_context(resources.db())
            self._transaction = self.conn.transaction()
            self._transaction.__enter__()
            self.dispatcher = DeferredDispatcher(resources.dispatcher)
            self.target, self.before = _target_before(self.conn)
        except BaseException:
            self._resources.close()  # the transaction rolls back with its connection's return to the pool
            raise

    def finish(self, response: Response | None) -> None:
        """Audit and commit when the response is a success, roll back otherwise; then release the connection."""
        committed = False
        try:
            if response is not None and response.status_code < 400:
                if not request.path.endswith(_NOT_A_CHANGE):
                    audit_service.record(self.conn, _entry(self.target, self.before, response))
                self._transaction.__exit__(None, None, None)
                committed = True
            else:
                self._transaction.__exit__(Rollback, Rollback(), None)
        finally:
            self._resources.close()
        if committed:
            self.dispatcher.flush()


def init_unit_of_work(app: Flask) -> None:
    """Close each write request's transaction: commit with its audit entry, or roll back."""

    @app.after_request
    def _commit(response: Response) -> Response:
        work = g.pop("work", None)
        if work is not None:
            work.finish(response)
        return response

    @app.teardown_request
    def _rollback(_exc: BaseException | None) -> None:
        work = g.pop("work", None)
        if work is not None:
            work.finish(None)


def request_work(resources: bootstrap.Process) -> RequestWork | None:
    """This request's unit of work when it is an API write (opened on first use), else None."""
    if request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
        return None
    if "work" not in g:
        g.work = RequestWork(resources)
    return g.work


def _target_before(conn: Connection) -> tuple[str | None, Any]:
    """The changed thing named by the URL (e.g. 'wallet:paper') and its state before the change."""
    for name, value in (request.view_args or {}).items():
        if name in _TARGETS:
            kind, load = _TARGETS[name]
            return f"{kind}:{value}", _plain(load(conn, value))
    return None, None


def _entry(target: str | None, before: Any, response: Response) -> dict[str, Any]:
    after = response.get_json(silent=True) if request.method != "DELETE" else None
    key = g.get("api_key") or {}
    return {"key_name": key.get("name", "?"), "method": request.method, "path": request.path,
            "target": target or _created_target(after), "before": before, "after": after,
            "client_addr": request.remote_addr}


def _created_target(after: Any) -> str | None:
    """For a create: the blueprint's kind and the new id (or alias), e.g. 'wallets:paper'."""
    blueprint = request.blueprints[0] if request.blueprints else "api"
    items = after if isinstance(after, list) else [after]
    ids = [str(item.get("alias") or item.get("id")) for item in items if isinstance(item, dict)]
    return f"{blueprint}:{','.join(ids)}"[:500] if ids else blueprint


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a row (UUIDs, decimals and times as text)."""
    return None if value is None else json.loads(json.dumps(value, default=str))
