"""Which queues each RQ worker listens on, in priority order."""

from __future__ import annotations

from app.queues import ALL_QUEUES, worker_queues


def test_trading_queues_come_first_then_maintenance_notifications_and_backtests():
    assert ALL_QUEUES == ("buy", "sell", "default", "notifications", "backtests")


def test_the_first_worker_takes_every_queue_and_the_others_leave_backtests_to_it():
    assert worker_queues(1) == ALL_QUEUES
    assert worker_queues(2) == worker_queues(3) == ("buy", "sell", "default", "notifications")


def test_worker_queues_from_the_environment_apply_to_every_worker():
    assert worker_queues(1, ("sell",)) == worker_queues(2, ("sell",)) == ("sell",)
