"""Notifications: endpoints, events recorded in the transaction they report (outbox), delivery with retries.

`emit(conn, event, dispatcher)` records one PENDING delivery per subscribed endpoint inside the caller's
transaction and enqueues one job per delivery on the `notifications` queue (never `buy`/`sell`); the job waits
for that transaction to end (an advisory lock the rows hold), so it sends only what committed. A failure
to record or enqueue is logged and never breaks the trade; the scheduler's sweep enqueues lost deliveries.
`deliver` sends one delivery (5 s timeout), DELIVERED once, or raises `DeliveryFailed` so RQ retries it;
after the last attempt it is FAILED. Delivery is at least once (a worker that dies after the POST, or a
receiver answering after the timeout, means a repeat): every webhook POST carries the delivery's id
(`X-Delivery-Id` header and `delivery_id` in the signed body), the same on every attempt. Every event is
emitted the same way: `emit(conn, Event(EventKind.TRADING_HALTED, key, data), dispatcher)`.
"""

from __future__ import annotations

import logging
import secrets as token_source
import time
from datetime import datetime
from typing import Any

import requests
from psycopg import Connection

from app import secrets
from app.config import Config
from app.core.notifications import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    DeliveryStatus,
    EndpointKind,
    Event,
    EventKind,
    body_of,
    encode_body,
    message_text,
    signature,
    webhook_document,
)
from app.core.pages import page_envelope
from app.errors import Invalid, NotFound
from app.repos import notifications as repo
from app.repos import workflows as workflow_repo
from app.services.ports import Dispatcher

log = logging.getLogger(__name__)

LOST_AFTER_SECONDS = 60  # a PENDING delivery this old with no job waiting is enqueued again


class DeliveryFailed(Exception):
    """This attempt did not deliver: let the queue retry it."""


def create_endpoint(conn: Connection, data: dict[str, Any], encryption_key: str | None) -> dict[str, Any]:
    """Store a webhook or Telegram endpoint; a webhook's signing secret is in the answer, this once only."""
    kind = EndpointKind(data["kind"])
    values = {"kind": kind.value, "url": data.get("url"), "chat_id": data.get("chat_id"),
              "events": sorted(set(data["events"])), "workflow_id": data.get("workflow_id"),
              "signing_secret": None, "bot_token_enc": None}
    if kind is EndpointKind.WEBHOOK:
        _require(data, "url")
        values["signing_secret"] = "whsec_" + token_source.token_hex(32)
    else:
        _require(data, "chat_id")
        _require(data, "bot_token")
        if not encryption_key:
            _refuse("bot_token", "Storing a bot token needs WALLET_ENCRYPTION_KEY on the server.")
        values["bot_token_enc"] = secrets.encrypt(encryption_key, data["bot_token"])
    if values["workflow_id"] is not None and workflow_repo.get(conn, values["workflow_id"]) is None:
        _refuse("workflow_id", f"Workflow {values['workflow_id']} not found.")
    row = repo.insert_endpoint(conn, values)
    return {**row, "signing_secret": values["signing_secret"]}


def _require(data: dict[str, Any], name: str) -> None:
    if not data.get(name):
        _refuse(name, f"Required for a {data['kind']} endpoint.")


def _refuse(name: str, message: str) -> None:
    raise Invalid(f"{name}: {message}", {"json": {name: [message]}})


def list_endpoints(conn: Connection) -> list[dict[str, Any]]:
    """Every endpoint (never a secret)."""
    return repo.list_endpoints(conn)


def delete_endpoint(conn: Connection, endpoint_id: int) -> None:
    """Delete an endpoint; its past deliveries stay listed."""
    if not repo.delete_endpoint(conn, endpoint_id):
        raise NotFound(f"Notification endpoint {endpoint_id} not found.")


def emit(conn: Connection, event: Event | None, dispatcher: Dispatcher) -> list[int]:
    """Record the event for every subscribed endpoint in the caller's transaction and enqueue its delivery.

    Never raises: notifications must not break or delay what they report.
    """
    if event is None:
        return []
    try:
        with conn.transaction():  # a savepoint: a failure here leaves the caller's transaction intact
            created = datetime.now().astimezone().isoformat()
            ids = repo.record_event(conn, event.kind.value, event.key, event.workflow_id,
                                    body_of(event.kind.value, event.key, event.data, created))
    except Exception:
        log.exception("could not record the %s notification %s", event.kind.value, event.key)
        return []
    _enqueue(dispatcher, ids)
    return ids


def _enqueue(dispatcher: Dispatcher, ids: list[int]) -> None:
    for delivery_id in ids:
        try:
            dispatcher.deliver_notification(delivery_id)
        except Exception:
            log.exception("could not enqueue notification delivery %s now; the sweep will", delivery_id)


def deliver(conn: Connection, delivery_id: int, config: Config, final: bool) -> str:
    """Send one PENDING delivery once it is committed; returns its status (raises DeliveryFailed to retry)."""
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '30s'")
        repo.wait_for_emitter(conn, delivery_id)
        row = repo.lock_pending(conn, delivery_id)
        if row is None:
            return "nothing to send"
        error = _send(row, config)
        status = DeliveryStatus.DELIVERED if error is None else (
            DeliveryStatus.FAILED if final else DeliveryStatus.PENDING)
        repo.finish_attempt(conn, delivery_id, status.value, error)
    if status is DeliveryStatus.PENDING:
        raise DeliveryFailed(f"delivery {delivery_id}: {error}")
    return status.value


def _send(row: dict[str, Any], config: Config) -> str | None:
    """POST the delivery to its endpoint; None when it answered 2xx, else what went wrong (no secret in it)."""
    if row["endpoint"] is None:
        return "the endpoint was deleted"
    if row["kind"] == EndpointKind.WEBHOOK:
        body = encode_body(webhook_document(row["payload"], row["id"]))
        headers = {"Content-Type": "application/json", DELIVERY_HEADER: str(row["id"]),
                   SIGNATURE_HEADER: signature(row["signing_secret"], int(time.time()), body)}
        return _post(row["url"], body, headers, config.notify_timeout_seconds, secret=None)
    if not config.wallet_encryption_key:
        return "WALLET_ENCRYPTION_KEY is not set: the bot token cannot be read"
    token = secrets.decrypt(config.wallet_encryption_key, row["bot_token_enc"])
    text = message_text(row["event"], row["payload"].get("data", {}))
    body = encode_body({"chat_id": row["chat_id"], "text": text})
    url = f"{config.telegram_api_base}/bot{token}/sendMessage"
    return _post(url, body, {"Content-Type": "application/json"}, config.notify_timeout_seconds, secret=token)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float, secret: str | None) -> str | None:
    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        message = f"{type(exc).__name__}: {exc}"
    else:
        if 200 <= response.status_code < 300:
            return None
        message = f"HTTP {response.status_code}: {response.text[:200]}"
    return message.replace(secret, "***")[:500] if secret else message[:500]


def sweep_deliveries(conn: Connection, dispatcher: Dispatcher) -> int:
    """Enqueue PENDING deliveries whose job vanished (Redis lost it, or the enqueue failed); returns how many."""
    lost = [delivery_id for delivery_id in repo.stale_pending(conn, LOST_AFTER_SECONDS)
            if not dispatcher.job_waiting(notification_job_id(delivery_id))]
    _enqueue(dispatcher, lost)
    return len(lost)


def summarise_yesterday(conn: Connection, dispatcher: Dispatcher) -> int:
    """Emit yesterday's (UTC) daily summary to the global endpoints that want it and lack it; returns how many."""
    day = repo.yesterday(conn)
    key = f"daily:{day.isoformat()}"
    if not repo.awaits_event(conn, EventKind.DAILY_SUMMARY.value, key):
        return 0
    totals = {name: str(value) for name, value in repo.day_totals(conn, day).items()}
    return len(emit(conn, Event(EventKind.DAILY_SUMMARY, key, {"day": day.isoformat(), **totals}), dispatcher))


def notification_job_id(delivery_id: int) -> str:
    """The queue job id of a delivery (one job per delivery, retried in place)."""
    return f"notify-{delivery_id}"


def deliveries_page(conn: Connection, filters: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
    """One page of deliveries, newest first, with the total."""
    rows, total = repo.page(conn, filters.get("status"), filters.get("event"), page, page_size)
    return page_envelope(rows, total, page, page_size)
