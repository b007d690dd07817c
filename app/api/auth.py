"""Keys on every door: who is calling (API key by Bearer header, Basic password or the sign-in cookie).

`/api/*` takes `Authorization: Bearer <key>`; `/rq/*` also takes HTTP Basic (the key as password) or
the session cookie set at sign-in. 401 without a valid key, 403 for a read-only key on a write or
for a cookie-authenticated state change from another origin. Keys are looked up per request, so a
revoked key is refused at once by every process. `/healthz`, `/readyz`, the UI's pages and assets,
the docs and the OpenAPI document stay open (the UI's data comes from `/api`).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Request, g, jsonify, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_smorest import abort

from app.api.deps import process
from app.core.access import hash_key, may
from app.repos import service_secrets
from app.services import api_keys as key_service

PROTECTED_PREFIXES = ("/api/", "/rq")
SESSION_KEY = "key_hash"
_RQ_STATE_CHANGING_GET = "/rq/requeue/"

sessions = Blueprint("auth", __name__, url_prefix="/auth")


def init_auth(app: Flask) -> None:
    """Refuse every request to a protected path that does not carry a valid key for what it asks."""
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
    app.session_interface = _SharedSecretSessions()
    app.before_request(_authenticate)
    app.register_blueprint(sessions)


@sessions.post("/session")
def sign_in():
    """Sign the browser in with a key: a session cookie for /rq (the UI keeps the key for /api calls)."""
    body = request.get_json(silent=True)
    key = body.get("key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key.strip():
        abort(422, message="key: give the API key.", errors={"json": {"key": ["Missing data for required field."]}})
    with process().db() as conn:
        row = key_service.authenticate(conn, key.strip())
    if row is None:
        abort(401, message="The API key is unknown or revoked.")
    session[SESSION_KEY] = hash_key(key.strip())
    return jsonify({"name": row["name"], "role": row["role"]})


@sessions.get("/session")
def who_am_i():
    """Who is signed in (Bearer, Basic or the session cookie, as on /rq): the key's name and role, else 401."""
    presented, by_cookie = _presented_key("/rq")
    row = None
    if presented:
        with process().db() as conn:
            row = key_service.authenticate_hash(conn, presented if by_cookie else hash_key(presented))
    if row is None:
        abort(401, message="Not signed in: the API key is missing, unknown or revoked.",
              headers={"WWW-Authenticate": "Bearer"})
    return jsonify({"name": row["name"], "role": row["role"]})


@sessions.delete("/session")
def sign_out():
    """Forget the browser's session."""
    session.pop(SESSION_KEY, None)
    return jsonify({"status": "signed out"})


class _SharedSecretSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions whose key is loaded before the session is opened (which precedes every hook)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session, after loading the signing key on /rq and /auth paths."""
        if not app.secret_key and request.path.startswith(("/rq", "/auth")):
            _load_session_secret(app)
        return super().open_session(app, request)


def _load_session_secret(app: Flask) -> None:
    """The cookie-signing key, generated once and shared by every process through PostgreSQL."""
    import secrets

    with process().db() as conn:  # the app context is pushed before the session is opened
        app.secret_key = service_secrets.get_or_create(conn, "session_key", secrets.token_hex(32))


def current_key() -> dict[str, Any] | None:
    """The key row the current request authenticated with (None on open paths)."""
    return g.get("api_key")


def _authenticate() -> None:
    path = request.path
    if not path.startswith(PROTECTED_PREFIXES) or request.method == "OPTIONS":
        return
    if path.startswith(_RQ_STATE_CHANGING_GET) and request.method == "GET":
        abort(405, message="Requeueing changes state: POST it (with an admin key).", headers={"Allow": "POST"})
    presented, by_cookie = _presented_key(path)
    if not presented:
        _refuse_unauthenticated(path, "An API key is required: send `Authorization: Bearer <key>`.")
    with process().db() as conn:
        row = key_service.authenticate_hash(conn, presented if by_cookie else hash_key(presented))
    if row is None:
        _refuse_unauthenticated(path, "The API key is unknown or revoked.")
    g.api_key = row
    _authorize(row, by_cookie)


def _authorize(row: dict[str, Any], by_cookie: bool) -> None:
    if not may(row["role"], request.method):
        abort(403, message=f"The key {row['name']!r} is read-only: {request.method} needs an admin key.")
    if by_cookie and request.method not in ("GET", "HEAD") and not _same_origin():
        abort(403, message="Cross-site request refused: a cookie-authenticated change must come from this site.")


def _presented_key(path: str) -> tuple[str | None, bool]:
    """The key the request carries and whether it came from the session cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    if path.startswith("/rq"):
        if scheme.lower() == "basic":
            return _basic_password(value), False
        if session.get(SESSION_KEY):
            return session[SESSION_KEY], True
    return None, False


def _basic_password(value: str) -> str | None:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2] or None


def _same_origin() -> bool:
    """The request's Origin (or, failing that, Referer) names this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    return bool(source) and urlsplit(source).netloc == request.host


def _refuse_unauthenticated(path: str, message: str) -> None:
    challenge = 'Basic realm="rq", charset="UTF-8"' if path.startswith("/rq") else "Bearer"
    abort(401, message=message, headers={"WWW-Authenticate": challenge})
