"""A crash under the runner is repaired, not spread: a killed worker is restarted, a killed embedded Redis or
PostgreSQL is restarted and waited out, and the runner and every other process stay up."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import redis
import requests
from rq import Queue
from rq.job import Job
from rq_scheduler import Scheduler

from tests.e2e.flows import wait_for
from tests.e2e.stack import RUN, Stack, processes_using, still_running

pytestmark = pytest.mark.e2e


def single_workers(stack: Stack) -> list:
    """The stack's `jobs.worker --single` processes."""
    return [proc for proc in stack.processes() if "--single" in proc.cmdline()]


def registered_worker_pids(stack: Stack) -> set[int]:
    """Pids of the RQ workers registered in the stack's Redis."""
    client = redis.Redis.from_url(stack.redis_url)
    return {int(client.hget(key, "pid") or 0) for key in client.smembers("rq:workers")}


def scheduled_job_runs(stack: Stack) -> int:
    """Schedule a job 1 s ahead through rq-scheduler and wait for a worker to run it; returns that worker's pid."""
    connection = redis.Redis.from_url(stack.redis_url)
    job = Scheduler(queue_name="default", connection=connection).enqueue_in(timedelta(seconds=1), os.getpid)
    wait_for(lambda: Job.fetch(job.id, connection=connection).get_status() == "finished", 20,
             "the scheduled job to run", stack)
    return Job.fetch(job.id, connection=connection).return_value()


def ready(stack: Stack) -> bool:
    """/readyz says PostgreSQL and Redis are both fine."""
    try:
        return requests.get(stack.base_url + "/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_worker_is_restarted_and_the_rest_stays_up(tmp_path):
    stack = Stack({"DATA_DIR": str(tmp_path / "data"), "WORKER_PROCESSES": "2"}, tmp_path / "stack.log")
    try:
        before = stack.wait_all_up()
        victim = single_workers(stack)[0]
        victim.kill()
        wait_for(lambda: re.search(r"worker \d exited with SIGKILL; restarting in 1s", stack.log()), 10,
                 "the supervisor to say it restarts the worker", stack)
        new = wait_for(lambda: [proc for proc in single_workers(stack) if proc not in before], 15,
                       "a new single worker", stack)
        wait_for(lambda: new[0].pid in registered_worker_pids(stack), 20, "the new worker to register", stack)
        others = [proc for proc in before if proc != victim]
        assert still_running(others) == others and stack.process.poll() is None, stack.log()
        assert len(single_workers(stack)) == 2
        assert Queue("default", connection=redis.Redis.from_url(stack.redis_url)).count == 0
    finally:
        assert stack.stop() == 0, stack.log()


def test_embedded_redis_and_postgres_crashes_are_waited_out(tmp_path):
    data_dir = tmp_path / "data"
    stack = Stack({"DATA_DIR": str(data_dir)}, tmp_path / "stack.log")
    try:
        before = stack.wait_all_up()
        servers = processes_using(str(data_dir))
        kept = [proc for proc in before if proc not in servers and "--single" not in proc.cmdline()]
        assert len(kept) == 5  # runner, gunicorn master and worker, worker supervisor, scheduler

        next(proc for proc in servers if "redis-server" in proc.name()).kill()
        wait_for(lambda: "embedded Redis (exited with SIGKILL) had stopped; restarted it" in stack.log(), 10,
                 "the runner to restart Redis", stack)
        wait_for(lambda: ready(stack), 20, "/readyz after the Redis restart", stack)
        assert scheduled_job_runs(stack) in {proc.pid for proc in single_workers(stack)}

        next(proc for proc in servers if proc.name() == "postgres").kill()
        wait_for(lambda: "embedded PostgreSQL had stopped; restarted it" in stack.log(), 15,
                 "the runner to restart PostgreSQL", stack)
        wait_for(lambda: ready(stack), 20, "/readyz after the PostgreSQL restart", stack)
        created = requests.post(stack.base_url + "/api/wallets", json={"alias": "after-crash"}, timeout=5,
                                headers=stack.headers)
        assert created.status_code == 201, created.text

        assert still_running(kept) == kept and stack.process.poll() is None, stack.log()
    finally:
        assert stack.stop() == 0, stack.log()
    assert still_running(processes_using(str(data_dir)), timeout=10) == []


def test_the_runner_gives_up_on_a_process_that_keeps_crashing_and_exits_non_zero(tmp_path):
    data_dir = tmp_path / "data"
    stack = Stack({"DATA_DIR": str(data_dir), "WORKER_PROCESSES": "1", "WORKER_CLASS": "no.such.Worker"},
                  tmp_path / "stack.log", command=[*RUN, "worker"])
    try:
        stack.process.wait(45)
    finally:
        returncode = stack.stop()
    assert returncode == 1, stack.log()
    assert "worker exited with code 1; restarting in 4s" in stack.log()
    assert "worker exited with code 1, 4 times in a row; giving up" in stack.log()
    assert "embedded PostgreSQL and Redis stopped" in stack.log()
    assert still_running(processes_using(str(data_dir)), timeout=10) == []
