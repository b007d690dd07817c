"""Notifications, pure: event names, the events the engines report, webhook bodies and signatures, message text.

A webhook POST carries a JSON body and `X-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
(Stripe-style); `verify_signature` is the receiver's side of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

SIGNATURE_HEADER = "X-Signature"
DELIVERY_HEADER = "X-Delivery-Id"  # the outbox row's id: the same on every attempt, so a receiver can drop repeats


class EventKind(StrEnum):
    """What an endpoint can subscribe to."""

    BUY_EXECUTED = "buy_executed"
    SELL_EXECUTED = "sell_executed"
    APPROVAL_WAITING = "approval_waiting"
    CIRCUIT_BREAKER_TRIPPED = "circuit_breaker_tripped"
    TRADING_HALTED = "trading_halted"
    TRADING_RESUMED = "trading_resumed"
    EXECUTION_ERROR = "execution_error"
    DAILY_SUMMARY = "daily_summary"


class EndpointKind(StrEnum):
    """How an endpoint is reached."""

    WEBHOOK = "webhook"
    TELEGRAM = "telegram"


class DeliveryStatus(StrEnum):
    """A delivery's state: PENDING until sent, DELIVERED once, FAILED after the last attempt."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Event:
    """One thing that happened: its kind, a key unique per occurrence (exactly once per endpoint), its data."""

    kind: EventKind
    key: str
    data: Mapping[str, Any] = field(default_factory=dict)
    workflow_id: UUID | None = None


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def buy_event(outcome: str, execution_id: Any, workflow: Mapping[str, Any], mint: str, reason: str | None,
              steps: tuple[dict[str, Any], ...]) -> Event | None:
    """The event a logged BUY execution reports (EXECUTED or ERROR; None for anything else)."""
    if outcome not in ("EXECUTED", "ERROR") or execution_id is None:
        return None
    kind = EventKind.BUY_EXECUTED if outcome == "EXECUTED" else EventKind.EXECUTION_ERROR
    fill = next((s for s in steps if s.get("step") == "execute_buy"), {})
    data = {"side": "BUY", "execution_id": str(execution_id), "workflow_id": str(workflow["id"]),
            "workflow_name": workflow.get("name"), "mint": mint, "error": reason if outcome == "ERROR" else None,
            "sol_spent": fill.get("sol_spent"), "entry_price_sol": fill.get("entry_price_sol"),
            "tokens_raw": fill.get("tokens_raw")}
    return Event(kind, f"execution:{execution_id}", data, workflow["id"])


def sell_event(position: Mapping[str, Any], workflow_id: UUID | None, reason: str, rule_key: str | None,
               trade_id: Any, fill: Mapping[str, Any]) -> Event:
    """The event a booked sell reports, with the rule that fired (or `manual`)."""
    data = {"side": "SELL", "trade_id": _text(trade_id), "position_id": str(position["id"]),
            "workflow_id": _text(workflow_id), "mint": position["mint"], "rule": reason, "rule_key": rule_key,
            **{k: _text(v) for k, v in fill.items()}}
    return Event(EventKind.SELL_EXECUTED, f"sell:{trade_id}", data, workflow_id)


def sell_error_event(position: Mapping[str, Any], workflow_id: UUID | None, rule_key: str | None,
                     error: str) -> Event:
    """The event a failed sell reports (once per position and rule: the key says so)."""
    data = {"side": "SELL", "position_id": str(position["id"]), "workflow_id": _text(workflow_id),
            "mint": position["mint"], "rule_key": rule_key, "error": error}
    return Event(EventKind.EXECUTION_ERROR, f"sell-error:{position['id']}:{rule_key}", data, workflow_id)


def halt_event(halted: bool, reason: str | None, sells: str | None, by: str | None, at: str) -> Event:
    """The event a halt or a resume reports (one per call: the key holds its time)."""
    kind = EventKind.TRADING_HALTED if halted else EventKind.TRADING_RESUMED
    data = {"reason": reason, "sells": sells, "by": by, "at": at}
    return Event(kind, f"{kind.value}:{at}", data)


def breaker_event(wallet: Mapping[str, Any], reason: str, at: str) -> Event:
    """The event a tripped circuit breaker reports (the wallet's BUY workflows are paused)."""
    data = {"wallet_alias": wallet["alias"], "reason": reason, "at": at}
    return Event(EventKind.CIRCUIT_BREAKER_TRIPPED, f"breaker:{wallet['alias']}:{at}", data)


def body_of(kind: str, key: str, data: Mapping[str, Any], created_at: str) -> dict[str, Any]:
    """The JSON document a webhook receives for one event."""
    return {"event": kind, "id": key, "created_at": created_at, "data": dict(data)}


def webhook_document(payload: Mapping[str, Any], delivery_id: int) -> dict[str, Any]:
    """What one delivery POSTs: the event's document plus its `delivery_id` (signed with it, the same on retries)."""
    return {**payload, "delivery_id": delivery_id}


def encode_body(document: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Signature header value: `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = 300) -> bool:
    """True when the header signs this body with this secret and its time is within the tolerance of now."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


_TITLES = {
    EventKind.BUY_EXECUTED: "✅ Buy executed", EventKind.SELL_EXECUTED: "💰 Sell executed",
    EventKind.APPROVAL_WAITING: "⏳ Approval waiting", EventKind.CIRCUIT_BREAKER_TRIPPED: "🛑 Circuit breaker tripped",
    EventKind.TRADING_HALTED: "⏸ Trading halted", EventKind.TRADING_RESUMED: "▶️ Trading resumed",
    EventKind.EXECUTION_ERROR: "⚠️ Execution error", EventKind.DAILY_SUMMARY: "📊 Daily summary",
}
_FIELDS = ("day", "workflow_name", "mint", "buys", "sells", "sol_spent", "entry_price_sol", "rule", "net_sol",
           "price_sol", "sol_received", "realized_pnl_sol", "errors", "error", "reason")


def message_text(kind: str, data: Mapping[str, Any]) -> str:
    """A short human message for a chat (Telegram): a title, then the event's main figures."""
    title = _TITLES.get(EventKind(kind), kind) if kind in EventKind.__members__.values() else kind
    lines = [title] + [f"{name.replace('_', ' ')}: {data[name]}" for name in _FIELDS if data.get(name) is not None]
    return "\n".join(lines)[:4000]
