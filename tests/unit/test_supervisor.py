"""The supervisor with real child processes: restart with backoff, give up, stop everything."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import psutil

from app.supervisor import ChildSpec, RestartPolicy, StopSignals, Supervisor, describe_exit

FAST = RestartPolicy(first_delay=0.05, max_delay=0.2, stable_after=5, give_up_after=3)
SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def python(code: str) -> list[str]:
    """A child running this Python code."""
    return [sys.executable, "-c", code]


class Recorder:
    """Collects the supervisor's log and the children's output; sends SIGTERM once `stop_when` holds."""

    def __init__(self, stop_when: Callable[[Recorder], bool] = lambda _: False):
        self.lines: list[str] = []
        self.output: list[tuple[str, bytes]] = []
        self.signals = StopSignals()
        self.stop_when = stop_when

    def log(self, _level: int, text: str) -> None:
        self.lines.append(text)

    def out(self, name: str, line: bytes) -> None:
        self.output.append((name, line))

    def tick(self) -> bool:
        if not self.signals.requested and self.stop_when(self):
            self.signals.received.append(signal.SIGTERM)
        return True

    def supervisor(self, specs: list[ChildSpec], **kwargs) -> Supervisor:
        return Supervisor(specs, self.log, output=self.out, signals=self.signals, on_tick=self.tick, **kwargs)

    def pids(self, name: str) -> list[int]:
        """Pids the supervisor said it started for this child."""
        return [int(line.split("pid=")[1].rstrip(")")) for line in self.lines if line.startswith(f"{name} started")]


def test_a_child_that_exits_is_restarted_with_backoff_and_the_others_keep_running(tmp_path):
    marker = tmp_path / "ran-once"
    flaky = python(f"import pathlib, sys, time\np = pathlib.Path({str(marker)!r})\n"
                   "if not p.exists():\n    p.touch(); sys.exit(3)\nprint('up', flush=True); time.sleep(60)")
    recorder = Recorder(stop_when=lambda r: len(r.output) == 2)
    supervisor = recorder.supervisor([ChildSpec("steady", SLEEPER), ChildSpec("flaky", flaky)], policy=FAST)
    assert supervisor.run() == 0
    assert "flaky exited with code 3; restarting in 0.05s" in recorder.lines
    assert len(recorder.pids("steady")) == 1 and len(recorder.pids("flaky")) == 2
    assert sorted(recorder.output) == [("flaky", b"up"), ("steady", b"up")]
    assert not any(psutil.pid_exists(pid) for pid in recorder.pids("steady") + recorder.pids("flaky"))


def test_it_gives_up_on_a_child_that_keeps_failing_and_stops_the_rest():
    recorder = Recorder()
    supervisor = recorder.supervisor([ChildSpec("steady", SLEEPER), ChildSpec("broken", python("raise SystemExit(2)"))],
                                     policy=FAST)
    assert supervisor.run() == 1
    assert recorder.lines.count("broken exited with code 2; restarting in 0.05s") == 1
    assert "broken exited with code 2; restarting in 0.1s" in recorder.lines
    assert "broken exited with code 2, 3 times in a row; giving up" in recorder.lines
    steady = recorder.pids("steady")[0]
    assert f"sending SIGTERM to steady (pid {steady})" in recorder.lines and not psutil.pid_exists(steady)


def test_what_ignores_sigterm_is_killed_with_its_whole_tree():
    stubborn = python("import signal, subprocess, sys, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                      "child = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
                      "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'], start_new_session=True)\n"
                      "print(child.pid, flush=True); time.sleep(60)")
    recorder = Recorder(stop_when=lambda r: bool(r.output))
    assert recorder.supervisor([ChildSpec("stubborn", stubborn)], stop_timeout=0.5).run() == 0
    assert any(line.startswith("sending SIGKILL to stubborn") for line in recorder.lines)
    assert not psutil.pid_exists(recorder.pids("stubborn")[0])
    grandchild = int(recorder.output[0][1])  # in a session of its own, yet part of the tree
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE


def test_stop_signals_are_recorded_not_fatal():
    signals = StopSignals().install()
    try:
        for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.raise_signal(signum)
        assert signals.received == [signal.SIGHUP, signal.SIGTERM, signal.SIGINT]
    finally:
        for signum in (signal.SIGHUP, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_exits_are_described_by_code_or_signal():
    assert describe_exit(0) == "code 0" and describe_exit(3) == "code 3"
    assert describe_exit(-9) == "SIGKILL" and describe_exit(-15) == "SIGTERM"
