"""SQL for the ml_models aggregate (the parts the workflow API needs)."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import Connection


def existing_ids(conn: Connection, model_ids: Iterable[int]) -> set[int]:
    """The subset of model_ids that exist."""
    ids = list(model_ids)
    if not ids:
        return set()
    rows = conn.execute("SELECT id FROM ml_models WHERE id = ANY(%s)", (ids,)).fetchall()
    return {row["id"] for row in rows}


def lock_ids(conn: Connection, model_ids: Iterable[int]) -> set[int]:
    """Share-lock the models that exist (so a concurrent delete waits) and return their ids."""
    ids = sorted(set(model_ids))
    if not ids:
        return set()
    rows = conn.execute(
        "SELECT id FROM ml_models WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE", (ids,)
    ).fetchall()
    return {row["id"] for row in rows}
