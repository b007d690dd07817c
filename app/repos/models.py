"""SQL for the ml_models aggregate: uploaded models, their metadata and who references them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import Connection
from psycopg.types.json import Jsonb


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


_COLUMNS = """id, name, version, description, feature_names, num_features, model_format, sha256,
    octet_length(model_data) AS size_bytes, created_at"""


def insert_next_version(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    """Store a model as the next version of its name (1 for a new name); call inside a transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('ml_models.name:' || %s, 0))", (values["name"],))
    return conn.execute(
        f"""INSERT INTO ml_models (name, version, description, model_format, feature_names, num_features,
                model_data, sha256)
            SELECT %(name)s, COALESCE(max(version), 0) + 1, %(description)s, %(model_format)s, %(feature_names)s,
                %(num_features)s, %(model_data)s, %(sha256)s
            FROM ml_models WHERE name = %(name)s
            RETURNING {_COLUMNS}""",
        {**values, "feature_names": Jsonb(list(values["feature_names"]))},
    ).fetchone()


def get(conn: Connection, model_id: int) -> dict[str, Any] | None:
    """One model's metadata (not its bytes)."""
    return conn.execute(f"SELECT {_COLUMNS} FROM ml_models WHERE id = %s", (model_id,)).fetchone()


def list_all(conn: Connection) -> list[dict[str, Any]]:
    """Every model's metadata, by name then version."""
    return conn.execute(f"SELECT {_COLUMNS} FROM ml_models ORDER BY name, version, id").fetchall()


def model_bytes(conn: Connection, model_id: int) -> bytes | None:
    """A model's stored bytes (None when the model or its bytes are missing)."""
    row = conn.execute("SELECT model_data FROM ml_models WHERE id = %s", (model_id,)).fetchone()
    return bytes(row["model_data"]) if row and row["model_data"] is not None else None


def lock_for_delete(conn: Connection, model_id: int) -> bool:
    """Row-lock a model against concurrent workflow references; False when it does not exist."""
    return conn.execute("SELECT 1 FROM ml_models WHERE id = %s FOR UPDATE", (model_id,)).fetchone() is not None


def active_workflows_using(conn: Connection, model_id: int) -> list[dict[str, Any]]:
    """Active BUY workflows whose trigger or a condition names the model (id, name)."""
    reference = Jsonb({"model_id": model_id})
    return conn.execute(
        """SELECT id, name FROM trading_workflows
           WHERE type = 'BUY' AND is_active
             AND (chain -> 'trigger' @> %(ref)s OR chain -> 'conditions' @> jsonb_build_array(%(ref)s))
           ORDER BY name, id""",
        {"ref": reference},
    ).fetchall()


def delete(conn: Connection, model_id: int) -> None:
    """Delete a model (predictions keep their rows with model_id set to null)."""
    conn.execute("DELETE FROM ml_models WHERE id = %s", (model_id,))
