"""The real process stack on embedded defaults: runner, web, worker, scheduler, PostgreSQL, Redis."""

from __future__ import annotations

import time

import pytest
import redis
import requests
from rq import Worker

from app.queues import ALL_QUEUES, worker_queues
from tests.e2e.stack import Stack, processes_using
from tests.factories import wallet_body

pytestmark = pytest.mark.e2e


def test_embedded_stack_answers_readyz_and_stops_cleanly(tmp_path):
    data_dir = tmp_path / "data"
    stack = Stack({"DATA_DIR": str(data_dir)}, tmp_path / "stack.log")
    try:
        assert stack.wait_ready() == {"status": "ok", "postgres": "ok", "redis": "ok"}
        wallet = requests.post(stack.base_url + "/api/wallets", json=wallet_body("e2e"), timeout=5,
                               headers=stack.headers)
        assert wallet.status_code == 201, wallet.text
        client = redis.Redis(unix_socket_path=str(data_dir / "redis" / "redis.sock"))
        deadline = time.monotonic() + 20
        while len(Worker.all(connection=client)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        listening = sorted(tuple(worker.queue_names()) for worker in Worker.all(connection=client))
        assert listening == sorted([ALL_QUEUES, worker_queues(2)]), stack.log()  # trading first; one takes backtests
        assert "Trading Workflows on http://127.0.0.1:" in stack.log()
        assert processes_using(str(data_dir)), "embedded servers should run inside the data folder"
    finally:
        returncode = stack.stop()
    deadline = time.monotonic() + 10
    while processes_using(str(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_using(str(data_dir)) == [], stack.log()
    assert "embedded PostgreSQL and Redis stopped" in stack.log()
    assert returncode is not None


def test_restart_keeps_the_data(tmp_path):
    data_dir = tmp_path / "data"
    first = Stack({"DATA_DIR": str(data_dir)}, tmp_path / "first.log")
    try:
        first.wait_ready()
        requests.post(first.base_url + "/api/wallets", json=wallet_body("kept"), timeout=5,
                      headers=first.headers).raise_for_status()
    finally:
        first.stop()
    second = Stack({"DATA_DIR": str(data_dir)}, tmp_path / "second.log")
    try:
        second.wait_ready()
        assert requests.get(second.base_url + "/api/wallets/kept", timeout=5, headers=second.headers).status_code == 200
        assert requests.get(second.base_url + "/api/wallets/kept", timeout=5).status_code == 401
    finally:
        second.stop()
    # the local admin key: created on the first run, kept owner-only in DATA_DIR, printed again on the next run
    assert first.api_key == second.api_key and first.api_key in second.log()
    assert (data_dir / "admin.key").stat().st_mode & 0o777 == 0o600
