"""A deterministic simulated market (pure): the same seed, mint and time always give the same price."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from decimal import Decimal

_PRICE_PLACES = Decimal("1e-18")
NOISE_BUCKET_SECONDS = 15


def _unit(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) from the seed and parts."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sim_price(mint: str, at: datetime, seed: int) -> Decimal:
    """SOL per whole token of `mint` at `at`: a base price times three seeded waves and 15-second noise."""
    base = 10 ** (-7 + 3 * _unit(seed, mint, "base"))  # 1e-7 .. 1e-4 SOL per token
    minutes = at.timestamp() / 60
    log_move = 0.0
    for k, (period, amplitude) in enumerate(((7.0, 0.04), (23.0, 0.08), (61.0, 0.15))):
        period_k = period * (0.7 + 0.6 * _unit(seed, mint, "period", k))
        phase = 2 * math.pi * _unit(seed, mint, "phase", k)
        log_move += amplitude * math.sin(2 * math.pi * minutes / period_k + phase)
    bucket = int(at.timestamp() // NOISE_BUCKET_SECONDS)
    log_move += 0.01 * (_unit(seed, mint, "noise", bucket) - 0.5)
    return Decimal(repr(base * math.exp(log_move))).quantize(_PRICE_PLACES)


def sim_volume(mint: str, at: datetime, seed: int) -> Decimal:
    """SOL traded in the minute before `at` in the simulated market (busier when the price moves)."""
    minute = int(at.timestamp() // 60)
    base = 5 + 45 * _unit(seed, mint, "volume")
    wave = 1 + 0.5 * math.sin(2 * math.pi * minute / (11 + 10 * _unit(seed, mint, "vperiod")))
    noise = 0.5 + _unit(seed, mint, "vnoise", minute)
    return Decimal(repr(base * wave * noise)).quantize(Decimal("1e-9"))
