"""Start the real process stack (`python -m app run`) for end-to-end tests, and stop it like Ctrl-C does."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import requests

from app.config import PROJECT_ROOT


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_using(path: str) -> list[psutil.Process]:
    """Live processes whose command line mentions path (embedded servers run with their data folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if path in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def still_running(processes: list[psutil.Process], timeout: float = 0) -> list[psutil.Process]:
    """Those of the processes that still run after waiting up to timeout for all of them to end."""
    deadline = time.monotonic() + timeout
    while True:
        running = [proc for proc in processes if _running(proc)]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.1)


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


RUN = [sys.executable, "-m", "app", "run"]
MAKE_RUN = ["make", "--no-print-directory", "-o", ".venv/.installed", "run"]  # -o: never reinstall from a test


class Stack:
    """`python -m app run` (or `make run`) as a child process group; `base_url` once ready.

    terminal=True gives it a pseudo-terminal for stdin/stdout/stderr, which `hang_up()` closes like a closed window.
    """

    def __init__(self, env_overrides: dict[str, str], log_path: Path, command: list[str] = RUN,
                 terminal: bool = False, port: int | None = None):
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update({"PORT": str(self.port), "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING", "DEMO": "0"},
                   **env_overrides)
        self.log_path = log_path
        data_dir = env.get("DATA_DIR")
        self.data_dir = Path(data_dir) if data_dir else PROJECT_ROOT / ".data"
        self.api_key = ""
        self.db_url = f"postgresql://postgres:@/trading?host={data_dir}/postgres" if data_dir else None
        self.redis_url = f"unix://{data_dir}/redis/redis.sock" if data_dir else None
        self._log = open(log_path, "wb")
        self._terminal: int | None = None
        if terminal:
            self._terminal, output = pty.openpty()
            threading.Thread(target=self._copy_terminal, args=(self._terminal,), daemon=True).start()
        else:
            output = self._log.fileno()
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdin=output if terminal else subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
        if terminal:
            os.close(output)

    def wait_ready(self, timeout: float = 60) -> dict:
        """Poll /readyz until it answers 200 (then read the local admin key); fail with the stack's log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"stack exited early:\n{self.log()}")
            try:
                response = requests.get(self.base_url + "/readyz", timeout=2)
                if response.status_code == 200:
                    self.api_key = (self.data_dir / "admin.key").read_text().strip()
                    return response.json()
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"stack not ready after {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 30) -> int:
        """Ctrl-C the whole process group and wait for the runner to exit."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        return self.process.returncode

    @property
    def headers(self) -> dict[str, str]:
        """The local admin key as a request header."""
        return {"Authorization": f"Bearer {self.api_key}"}

    def wait_all_up(self, single_workers: int = 2) -> list[psutil.Process]:
        """Wait until web answers and every single worker runs; returns all of the stack's processes."""
        self.wait_ready()
        deadline = time.monotonic() + 20
        while sum("--single" in proc.cmdline() for proc in self.processes()) != single_workers:
            if time.monotonic() > deadline:
                raise AssertionError(f"not {single_workers} single workers after 20 s:\n{self.log()}")
            time.sleep(0.1)
        return self.processes()

    def runner(self) -> psutil.Process:
        """The `python -m app run` process (make's child when started through make)."""
        root = psutil.Process(self.process.pid)
        if root.cmdline()[1:4] == ["-m", "app", "run"]:
            return root
        return next(proc for proc in root.children(recursive=True) if proc.cmdline()[1:4] == ["-m", "app", "run"])

    def processes(self) -> list[psutil.Process]:
        """Every process of the stack now: the whole tree under it (whatever session) and the embedded servers."""
        root = psutil.Process(self.process.pid)
        found = {proc.pid: proc for proc in [root, *root.children(recursive=True)]}
        if self.data_dir is not None:
            found.update((proc.pid, proc) for proc in processes_using(str(self.data_dir)))
        return list(found.values())

    def hang_up(self) -> None:
        """Close the terminal (its output after this is lost, as in a closed window)."""
        terminal = self._terminal
        if terminal is not None:
            time.sleep(0.3)  # let the copier take what is already there
            self._terminal = None
            time.sleep(0.2)  # and leave
            os.close(terminal)

    def _copy_terminal(self, terminal: int) -> None:
        while self._terminal == terminal:
            try:
                if select.select([terminal], [], [], 0.1)[0]:
                    self._log.write(os.read(terminal, 65536))
            except (OSError, ValueError):
                return

    def log(self) -> str:
        """What the stack printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")
