"""Keep child processes running: restart crashed ones with backoff, stop them all on SIGINT/SIGTERM/SIGHUP.

Used by the local runner (web, worker, scheduler, demo) and by the worker process (its single workers).
Each child runs in its own session, so a signal to the terminal's process group reaches only the
supervisor, which stops the children in order; on Linux a child also gets SIGTERM if the supervisor
dies without stopping it (even by SIGKILL).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import psutil

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
KILL_WAIT_SECONDS = 5.0  # after SIGKILL, how long to wait for the kernel to end the processes
Log = Callable[[int, str], None]  # (logging level, message)
Output = Callable[[str, bytes], None]  # (child name, one line of its output)

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the process that started it dies (Linux; no-op elsewhere)."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def backoff(first: float = 1.0, cap: float = 30.0) -> Iterator[float]:
    """Seconds to wait before each retry: first, twice that, four times, ... up to cap."""
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * 2)


def describe_exit(code: int) -> str:
    """'code 1' or the name of the signal that ended the process ('SIGKILL')."""
    if code >= 0:
        return f"code {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class StopSignals:
    """Records SIGINT/SIGTERM/SIGHUP instead of dying, so the owner can stop its children first."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def install(self) -> StopSignals:
        """Handle the stop signals from now on; returns self."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._record)
        return self

    @property
    def requested(self) -> bool:
        """True once any stop signal arrived."""
        return bool(self.received)

    def _record(self, signum: int, _frame: object) -> None:
        self.received.append(signum)


@dataclass(frozen=True)
class RestartPolicy:
    """When a crashed child comes back, and when to stop trying."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 30.0  # a child that ran this long before exiting starts the count over
    give_up_after: int = 4  # exits in a row, each sooner than stable_after (1 + 2 + 4 s of backoff)

    def delay(self, failures: int) -> float:
        """Seconds before the restart after the given number of exits in a row."""
        return min(self.max_delay, self.first_delay * 2 ** (failures - 1))


@dataclass(frozen=True)
class ChildSpec:
    """One supervised command; a string runs through /bin/sh."""

    name: str
    command: Sequence[str] | str
    env: dict[str, str] | None = None
    cwd: str | None = None


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen | None = None
    started: float = 0.0
    failures: int = 0
    restart_at: float = 0.0


@dataclass
class _Lines:
    """Splits a child's output into lines."""

    name: str
    partial: bytes = field(default=b"", repr=False)

    def feed(self, data: bytes) -> list[bytes]:
        """Complete lines so far (the rest waits for more data; empty data flushes it)."""
        if not data:
            rest, self.partial = self.partial, b""
            return [rest] if rest else []
        *lines, self.partial = (self.partial + data).split(b"\n")
        return lines


class Supervisor:
    """Runs children until a stop signal; restarts any that exits meanwhile, or gives up on one that keeps failing."""

    def __init__(self, specs: Sequence[ChildSpec], log: Log, *, output: Output | None = None,
                 signals: StopSignals | None = None, policy: RestartPolicy = RestartPolicy(),
                 stop_timeout: float = 10.0, on_tick: Callable[[], bool] | None = None):
        self._children = [_Child(spec) for spec in specs]
        self._log, self._output, self._policy = log, output, policy
        self.signals = signals or StopSignals().install()
        self._stop_timeout = stop_timeout
        self._on_tick = on_tick or (lambda: True)
        self._selector = selectors.DefaultSelector()

    def run(self) -> int:
        """0 after a stop signal, 1 after giving up on a child; either way every child is stopped on return."""
        try:
            if self.signals.requested:
                return 0
            for child in self._children:
                self._start(child)
            while not self.signals.requested:
                if not self._keep_running():
                    return 1
                self._pump(0.2)
            return 0
        finally:
            self.stop()

    def _keep_running(self) -> bool:
        now = time.monotonic()
        for child in self._children:
            if child.process is None and now >= child.restart_at:
                self._start(child)
            elif child.process is not None and child.process.poll() is not None and not self._exited(child, now):
                return False
        return self._on_tick()

    def _start(self, child: _Child) -> None:
        spec, capture = child.spec, self._output is not None
        child.process = subprocess.Popen(
            spec.command, shell=isinstance(spec.command, str), env=spec.env, cwd=spec.cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None, start_new_session=True, preexec_fn=die_with_parent,
        )
        child.started = time.monotonic()
        if capture:
            self._selector.register(child.process.stdout, selectors.EVENT_READ, _Lines(spec.name))
        self._log(logging.INFO, f"{spec.name} started (pid={child.process.pid})")

    def _exited(self, child: _Child, now: float) -> bool:
        """Schedule the restart of an exited child; False when it failed too often in a row."""
        code, name = child.process.returncode, child.spec.name
        child.process = None
        child.failures = 1 if now - child.started >= self._policy.stable_after else child.failures + 1
        if child.failures >= self._policy.give_up_after:
            self._log(logging.ERROR, f"{name} exited with {describe_exit(code)}, {child.failures} times in a row;"
                                     " giving up")
            return False
        delay = self._policy.delay(child.failures)
        child.restart_at = now + delay
        self._log(logging.WARNING, f"{name} exited with {describe_exit(code)}; restarting in {delay:g}s")
        return True

    def _pump(self, timeout: float) -> None:
        """Relay the children's output for up to timeout seconds."""
        if not self._selector.get_map():
            time.sleep(timeout)
            return
        for key, _ in self._selector.select(timeout):
            data = os.read(key.fd, 65536)
            for line in key.data.feed(data):
                self._output(key.data.name, line)
            if not data:
                self._selector.unregister(key.fileobj)
                key.fileobj.close()

    def stop(self) -> None:
        """SIGTERM each child's process group, wait up to stop_timeout (a second stop signal cuts it short),
        then SIGKILL whatever is left of their process trees."""
        running = [child for child in self._children if child.process is not None]
        tree = [proc for child in running for proc in _tree(child.process.pid)]
        for child in running:
            self._log(logging.INFO, f"sending SIGTERM to {child.spec.name} (pid {child.process.pid})")
            _signal_group(child.process.pid, signal.SIGTERM)
        deadline, signals_before = time.monotonic() + self._stop_timeout, len(self.signals.received)
        while (any(child.process.poll() is None for child in running) and time.monotonic() < deadline
               and len(self.signals.received) <= signals_before):
            self._pump(0.1)
        self._kill_leftovers(running, tree)
        self._drain(deadline=time.monotonic() + 2)

    def _kill_leftovers(self, running: list[_Child], tree: list[psutil.Process]) -> None:
        for child in running:
            if child.process.poll() is None:
                self._log(logging.WARNING, f"sending SIGKILL to {child.spec.name} (pid {child.process.pid})")
                _signal_group(child.process.pid, signal.SIGKILL)
        for proc in tree:
            if _alive(proc):
                with contextlib.suppress(psutil.Error):
                    proc.kill()
        for child in running:
            child.process.wait()
            child.process = None
        _wait_gone(tree, KILL_WAIT_SECONDS)

    def _drain(self, deadline: float) -> None:
        while self._selector.get_map() and time.monotonic() < deadline:
            self._pump(0.1)
        for key in list(self._selector.get_map().values()):
            self._selector.unregister(key.fileobj)
            key.fileobj.close()


def _tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants (empty when it is gone)."""
    with contextlib.suppress(psutil.Error):
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    return []


def _alive(proc: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    return False


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_gone(processes: list[psutil.Process], timeout: float) -> None:
    """Return once none of the processes is alive (exited or a zombie), or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while any(_alive(proc) for proc in processes) and time.monotonic() < deadline:
        time.sleep(0.02)
