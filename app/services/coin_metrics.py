"""Coin metrics use cases: ingest a mint's metrics, read them back, compute model features from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import Connection

from app.core.features import MetricPoint, compute_features, lookback
from app.core.solana import mint_address_problem
from app.errors import Invalid, NotFound
from app.repos import coin_metrics as metrics_repo

# timestamptz resolution: turns the repo's exclusive lower bound into an inclusive one.
_RESOLUTION = timedelta(microseconds=1)


def require_mint_address(mint: str, location: str = "path") -> None:
    """Raise Invalid (naming `mint`) unless mint is a base58 32-byte Solana address."""
    message = mint_address_problem(mint)
    if message:
        raise Invalid(f"mint: {message}", {location: {"mint": [message]}})


def ingest_metrics(conn: Connection, mint: str, data: dict[str, Any]) -> dict[str, Any]:
    """Store a batch of points for a mint (same ts replaces), and its decimals/symbol if given; all or nothing."""
    require_mint_address(mint)
    decimals, symbol = data.get("decimals"), data.get("symbol")
    with conn.transaction():
        if decimals is not None:
            metrics_repo.upsert_mint(conn, mint, decimals, symbol)
        elif symbol is not None and not metrics_repo.set_symbol(conn, mint, symbol):
            raise Invalid.from_paths({("decimals",): [
                "Required when giving a symbol for a mint whose decimals are not yet known."]})
        stored = metrics_repo.upsert_points(conn, mint, data["metrics"])
        known = metrics_repo.get_mint(conn, mint)
    return {"mint": mint, "stored": stored, "decimals": known["decimals"] if known else None}


def list_metrics(
    conn: Connection, mint: str, after: datetime | None, until: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """A mint's points with ts in (after, until], newest first; until defaults to now (an explicit later
    `until` shows mis-dated future points, so they can be found and deleted)."""
    require_mint_address(mint)
    return metrics_repo.points_between(conn, mint, after, until, limit, future=until is not None)


def delete_metrics(conn: Connection, mint: str, after: datetime | None, until: datetime | None) -> dict[str, Any]:
    """Delete a mint's points with ts in (after, until] (no bound: all of them); how many were deleted."""
    require_mint_address(mint)
    with conn.transaction():
        deleted = metrics_repo.delete_points(conn, mint, after, until)
    return {"mint": mint, "deleted": deleted}


def get_coin(conn: Connection, mint: str) -> dict[str, Any]:
    """A mint's decimals, symbol and newest stored metric (None if none); NotFound if nothing is known."""
    require_mint_address(mint)
    known = metrics_repo.get_mint(conn, mint)
    latest = metrics_repo.latest_point(conn, mint)
    if known is None and latest is None:
        raise NotFound(f"Nothing is known about mint {mint}: post its metrics first.")
    return {"mint": mint, "decimals": known and known["decimals"], "symbol": known and known["symbol"],
            "latest": latest}


def features_for(
    conn: Connection, mint: str, feature_names: Sequence[str], at: datetime, max_staleness: timedelta
) -> list[float]:
    """The model feature vector of a mint at `at`, from stored metrics only (one query, no look-ahead).

    Raises UnknownFeature for a bad name and FeatureDataError when the stored metrics cannot give a value.
    """
    rows = metrics_repo.points_between(conn, mint, *feature_window(feature_names, at, max_staleness))
    points = [MetricPoint(row["ts"], row) for row in rows]
    return compute_features(feature_names, points, at, max_staleness)


def feature_window(feature_names: Sequence[str], at: datetime, max_staleness: timedelta) -> tuple[datetime, datetime]:
    """(after, until]: the metric points the features at `at` can read."""
    return at - lookback(feature_names) - max_staleness - _RESOLUTION, at
