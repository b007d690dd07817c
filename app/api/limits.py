"""Rate limits per API key (flask-limiter, moving window in Redis): one budget for reads, one for writes."""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded

from app.config import Config
from app.core.access import READ_METHODS


def init_limits(app: Flask, config: Config) -> Limiter:
    """Limit every authenticated /api request by its key; call after the authentication hook is registered."""
    limiter = Limiter(
        key_func=_bucket, app=app, storage_uri=_storage_uri(config.redis_url), strategy="moving-window",
        application_limits=[lambda: config.rate_limit_read if _is_read() else config.rate_limit_write],
        application_limits_exempt_when=lambda: not (request.path.startswith("/api/") and g.get("api_key")),
        headers_enabled=True, key_prefix="tw-limits", swallow_errors=True,
    )
    app.extensions["trading_limiter"] = limiter
    return limiter


def retry_message(error: RateLimitExceeded) -> str:
    """The envelope's message for a 429: which budget ran out and when to retry."""
    limiter: Limiter = current_app.extensions["trading_limiter"]
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 1
    return f"Rate limit of {error.description} for this key's {_kind()}s reached: retry after {wait} s."


def _is_read() -> bool:
    return request.method in READ_METHODS


def _kind() -> str:
    return "read" if _is_read() else "write"


def _bucket() -> str:
    """One bucket per key and kind of request (reads and writes have separate budgets)."""
    key = g.get("api_key") or {}
    return f"{key.get('name', request.remote_addr)}:{_kind()}"


def _storage_uri(redis_url: str | None) -> str:
    """flask-limiter's name for the same Redis (`redis+unix://` for a socket)."""
    if not redis_url:
        return "memory://"
    return "redis+unix://" + redis_url[len("unix://"):] if redis_url.startswith("unix://") else redis_url
