"""Liveness and readiness: /healthz, /readyz."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.api.deps import db, process

blp = Blueprint("health", __name__, description="Process and dependency health.")


class HealthSchema(Schema):
    """Status of the process and, for readiness, of each dependency."""

    status = fields.String()
    postgres = fields.String()
    redis = fields.String()


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The web process is up."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="PostgreSQL or Redis unreachable")
def readyz():
    """PostgreSQL and Redis are reachable (503 naming the failing one otherwise)."""
    checks = {"postgres": _check(_ping_postgres), "redis": _check(lambda: process().redis.ping())}
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", **checks}, (200 if ready else 503)


def _ping_postgres() -> None:
    with db() as conn:
        conn.execute("SELECT 1")


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"
