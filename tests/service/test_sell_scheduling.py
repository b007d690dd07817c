"""The sell-check schedule against real Redis and PostgreSQL: one entry per open position, rebuilt from the DB."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rq_scheduler import Scheduler

from app.queues.dispatch import RqDispatcher
from app.queues.sell_schedule import cancel_position, schedule_position, sell_job_id, spread_first_run
from app.services.maintenance import reconcile_sell_checks
from tests.factories import add_position


def reconcile_schedules(conn, redis_conn, interval):
    """Rebuild the schedule from PostgreSQL the way the scheduler's maintenance does."""
    return reconcile_sell_checks(conn, RqDispatcher(redis_conn, interval))


@pytest.fixture
def positions(conn, wallet):
    return [add_position(conn, wallet["id"], f"mint{i}") for i in range(5)]


def scheduled(redis_conn) -> list[str]:
    key = Scheduler(connection=redis_conn).scheduled_jobs_key
    return sorted(m.decode() for m in redis_conn.zrange(key, 0, -1))


def test_scheduling_twice_keeps_one_entry(redis_conn, positions):
    schedule_position(redis_conn, positions[0], 15)
    schedule_position(redis_conn, positions[0], 15)
    assert scheduled(redis_conn) == [sell_job_id(positions[0])]
    cancel_position(redis_conn, positions[0])
    assert scheduled(redis_conn) == [] and not redis_conn.exists(f"rq:job:{sell_job_id(positions[0])}")


def test_reconcile_matches_postgres_exactly(conn, redis_conn, positions):
    schedule_position(redis_conn, positions[0], 15)
    schedule_position(redis_conn, "00000000-0000-0000-0000-000000000000", 15)  # a position that does not exist
    conn.execute("UPDATE positions SET status = 'CLOSED', closed_at = now() WHERE id = %s", (positions[1],))
    counts = reconcile_schedules(conn, redis_conn, 15)
    assert counts == {"open": 4, "added": 3, "removed": 1}
    expected = sorted(sell_job_id(pid) for pid in positions if pid != positions[1])
    assert scheduled(redis_conn) == expected
    assert reconcile_schedules(conn, redis_conn, 15) == {"open": 4, "added": 0, "removed": 0}


def test_after_a_flush_everything_is_rebuilt_within_one_interval(conn, redis_conn, positions):
    reconcile_schedules(conn, redis_conn, 15)
    redis_conn.flushdb()
    reconcile_schedules(conn, redis_conn, 15)
    key = Scheduler(connection=redis_conn).scheduled_jobs_key
    now = datetime.now(UTC).timestamp()
    scores = [score for _, score in redis_conn.zrange(key, 0, -1, withscores=True)]
    assert len(scores) == 5 and all(now - 1 <= s <= now + 15 for s in scores)


def test_first_runs_are_spread_over_the_interval():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    offsets = {(spread_first_run(f"p{i}", now, 15) - now).total_seconds() for i in range(200)}
    assert min(offsets) >= 0 and max(offsets) < 15 and len(offsets) > 150
    assert spread_first_run("p1", now, 15) == spread_first_run("p1", now, 15)
    assert Decimal(str(max(offsets))) > Decimal(10)
