"""API key use cases: create (shown once), list, revoke, authenticate a request's key."""

from __future__ import annotations

import re
from typing import Any

from psycopg import Connection, errors

from app.core.access import hash_key, new_key
from app.core.states import KeyRole
from app.errors import Conflict, Invalid, NotFound
from app.repos import api_keys as key_repo

KEY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TOUCH_EVERY_SECONDS = 30


def create_key(conn: Connection, name: str, role: KeyRole = KeyRole.ADMIN) -> tuple[dict[str, Any], str]:
    """Create a key; returns its stored row and the key itself (never stored, never shown again)."""
    if not KEY_NAME.match(name):
        raise Invalid.from_paths({("name",): ["1-64 letters, digits, '_', '-' or '.'."]})
    key = new_key()
    try:
        with conn.transaction():
            return key_repo.insert(conn, name, KeyRole(role), hash_key(key)), key
    except errors.UniqueViolation:
        raise Conflict(f"An API key named {name!r} already exists (revoked keys keep their name).") from None


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every key's name, role and times (never the key or its hash)."""
    return key_repo.list_all(conn)


def revoke_key(conn: Connection, name: str) -> dict[str, Any]:
    """Revoke a key at once for every process (they look keys up per request)."""
    row = key_repo.revoke(conn, name)
    if row is None:
        raise NotFound(f"No active API key named {name!r}.")
    return row


def authenticate(conn: Connection, key: str) -> dict[str, Any] | None:
    """The active key row for a presented key (None: unknown or revoked); notes its use."""
    return authenticate_hash(conn, hash_key(key))


def authenticate_hash(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """The active key row with this hash (None: unknown or revoked); notes its use."""
    row = key_repo.active_by_hash(conn, key_hash)
    if row is not None:
        key_repo.touch(conn, row["id"], TOUCH_EVERY_SECONDS)
    return row
