"""Start the real process stack (`python -m app run`) for end-to-end tests, and stop it like Ctrl-C does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.config import PROJECT_ROOT


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """`python -m app run` as a child process group; `base_url` once ready."""

    def __init__(self, env_overrides: dict[str, str], log_path: Path):
        self.port = free_port()
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
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "run"], cwd=PROJECT_ROOT, env=env,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

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

    def log(self) -> str:
        """What the stack printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")
