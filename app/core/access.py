"""API keys and the audit record as pure functions: key material, what a role may do, redaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from app.core.states import KeyRole

KEY_PREFIX = "tw_"
KEY_BYTES = 32
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REDACTED = "[redacted]"
_SECRET_NAMES = ("secret", "password", "private", "token", "api_key", "seed_phrase", "mnemonic")
_SAFE_NAMES = frozenset({"public_key", "has_secret_key", "rule_key", "key_name"})
_LONG_TEXT = 2000


def new_key() -> str:
    """A fresh API key: a prefix and 32 random bytes, URL-safe (shown once, stored only as a hash)."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """The stored form of a key (SHA-256 hex; the key itself has 256 bits of entropy)."""
    return hashlib.sha256(key.encode()).hexdigest()


def may(role: KeyRole | str, method: str) -> bool:
    """True when a key of this role may make a request with this HTTP method."""
    return KeyRole(role) is KeyRole.ADMIN or method.upper() in READ_METHODS


def redact(value: Any, name: str = "") -> Any:
    """A JSON value safe for the audit log: secrets replaced, very long strings (model bytes) summarised."""
    lowered = name.lower()
    if lowered not in _SAFE_NAMES and any(part in lowered for part in _SECRET_NAMES):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(key): redact(item, str(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item, name) for item in value]
    if isinstance(value, str) and len(value) > _LONG_TEXT:
        return f"[{len(value)} characters omitted]"
    return value
