"""The audit log: record a change made through the API, and read the log back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection

from app.core.access import redact
from app.core.pages import page_envelope
from app.repos import audit as audit_repo


def record(conn: Connection, entry: dict[str, Any]) -> None:
    """Append an entry (before/after redacted); call it inside the transaction that made the change."""
    audit_repo.insert(conn, {**entry, "before": redact(entry.get("before")), "after": redact(entry.get("after"))})


def audit_page(conn: Connection, filters: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
    """One page of entries, newest first, with the total count."""
    since: datetime | None = filters.get("since")
    rows, total = audit_repo.page(conn, since, filters.get("key"), filters.get("target"), page, page_size)
    return page_envelope(rows, total, page, page_size)
