"""The contract fixture: `store` is the TradingStore under test, PostgreSQL or memory, with one arrange/assert API.

Both sides take MemoryStore's seeding and reading methods (add_wallet, add_workflow, add_mint, add_prediction,
set_halt, rows, ...): "memory" is MemoryStore itself, "postgres" is tests/store/pg_world.py's PgWorld on the
emptied database of the `conn` fixture. `clock` is the test's clock: the memory store runs on it from T0; on
PostgreSQL it stays unset (engines use the database's now()) until a test sets it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.store.memory import MemoryStore
from tests.store.pg_world import PgWorld

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # the memory store's start: mid-day, far from a UTC day's edge


class Clock:
    """A settable clock: `now` when set, else the wall clock (and the database's now() for the engines)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return datetime.now(UTC) if self.now is None else self.now

    def set(self, moment: datetime) -> None:
        """Make it `moment` from now on."""
        self.now = moment

    def advance(self, **delta: float) -> None:
        """Let time pass (an unset clock moves by itself)."""
        if self.now is not None:
            self.now += timedelta(**delta)

    @property
    def engine(self) -> Clock | None:
        """What the engines' deps take as their clock: this clock once set, else None (the database's now())."""
        return None if self.now is None else self


@pytest.fixture
def clock() -> Clock:
    """The test's clock (set at T0 on the memory store, unset on PostgreSQL)."""
    return Clock()


@pytest.fixture(params=["postgres", "memory"])
def store(request: pytest.FixtureRequest, clock: Clock) -> PgWorld | MemoryStore:
    """The store under test, empty: PgWorld on the test database, or MemoryStore on `clock`."""
    if request.param == "memory":
        clock.set(T0)
        return MemoryStore(clock)
    return PgWorld(request.getfixturevalue("conn"), request.getfixturevalue("config"))
