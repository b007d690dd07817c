"""The demo's simulated market: its mints and their coin metrics at any time (deterministic per seed)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from app.core.sim import sim_price, sim_volume
from app.core.solana import b58encode

DEMO_MINT_COUNT = 8
DEMO_DECIMALS = 6
HISTORY = timedelta(minutes=20)


def demo_mints(seed: int, count: int = DEMO_MINT_COUNT, prefix: str = "demo") -> list[str]:
    """Stable base58 mint addresses for the seed."""
    return [b58encode(hashlib.sha256(f"{prefix}-{seed}-{i}".encode()).digest()) for i in range(count)]


def metric_point(mint: str, at: datetime, seed: int) -> dict[str, Any]:
    """One coin-metrics point of the simulated market."""
    return {"ts": at, "price_sol": sim_price(mint, at, seed), "volume_sol": sim_volume(mint, at, seed)}


def history(mint: str, until: datetime, seed: int, span: timedelta = HISTORY,
            step: timedelta = timedelta(minutes=1)) -> list[dict[str, Any]]:
    """Points every `step` over `span` ending at `until` (backfill so features exist from the start)."""
    count = int(span / step)
    return [metric_point(mint, until - step * k, seed) for k in range(count, -1, -1)]


def as_json(point: dict[str, Any]) -> dict[str, str]:
    """A point as the coin-metrics API takes it (decimal strings in plain digits, never "1.2E-7")."""
    return {"ts": point["ts"].isoformat(), "price_sol": format(point["price_sol"], "f"),
            "volume_sol": format(point["volume_sol"], "f")}


def price(mint: str, at: datetime, seed: int) -> Decimal:
    """The simulated price (re-exported for the demo's callers)."""
    return sim_price(mint, at, seed)
