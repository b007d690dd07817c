"""Local process runner: embedded services if needed, migrations, then the Procfile's processes."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path

from psycopg import Connection

from app.config import PROJECT_ROOT, Config, load_config
from app.embedded import EmbeddedServices, EmbeddedStartError
from app.local_key import ensure_local_admin_key, key_path
from app.migrate import migrate
from app.supervisor import ChildSpec, StopSignals, Supervisor

PROCFILE = PROJECT_ROOT / "Procfile"
STOP_TIMEOUT_SECONDS = 15  # for gunicorn and the RQ workers to finish what they do; then SIGKILL


def start_embedded(config: Config, need_redis: bool = True) -> tuple[Config, EmbeddedServices | None]:
    """Start embedded PostgreSQL/Redis for whichever URL is unset; returns the config with the URLs filled."""
    need_postgres, need_redis = not config.database_url, need_redis and not config.redis_url
    if not need_postgres and not need_redis:
        return config, None
    services = EmbeddedServices(config.data_dir).start(need_postgres=need_postgres, need_redis=need_redis)
    return replace(
        config,
        database_url=config.database_url or services.database_url,
        redis_url=config.redis_url or services.redis_url,
    ), services


@contextmanager
def migrated_database() -> Iterator[tuple[Connection, Config]]:
    """A connection to the configured database (the embedded one when DATABASE_URL is unset), migrated first;
    for command-line tools. An embedded server started here stops on the way out."""
    from app.db import connect

    config, services = start_embedded(load_config(), need_redis=False)
    try:
        migrate(config.database_url)
        with connect(config.database_url) as conn:
            yield conn, config
    finally:
        if services is not None:
            services.stop()


def procfile_processes(path: Path = PROCFILE, skip: tuple[str, ...] = ("release",)) -> dict[str, str]:
    """Process name -> command from the Procfile."""
    from honcho.environ import parse_procfile

    return {name: cmd for name, cmd in parse_procfile(path.read_text()).processes.items() if name not in skip}


def process_env(config: Config) -> dict[str, str]:
    """Environment for child processes: the resolved URLs and the virtualenv on PATH."""
    env = dict(os.environ)
    env.update(DATABASE_URL=config.database_url, REDIS_URL=config.redis_url, PORT=str(config.port),
               HOST=config.host or "127.0.0.1", PYTHONUNBUFFERED="1")  # local runs listen on loopback only
    env.setdefault("LOG_LEVEL", "WARNING")  # a terminal wants the status line, not every job (LOG_LEVEL=INFO)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    return env


def run(names: list[str] | None = None, demo: bool = True) -> int:
    """Run web, worker and scheduler (and the demo market) until SIGINT/SIGTERM/SIGHUP, restarting what crashes.

    Returns 0 after a stop signal, 1 when a process keeps crashing; every process and embedded server is gone then.
    """
    signals = StopSignals().install()  # from here on a signal stops everything in order instead of killing us
    config, services = start_embedded(load_config())
    try:
        applied = migrate(config.database_url)
        say(f"database ready (migrations applied now: {applied or 'none'})")
        admin_key = ensure_local_admin_key(config)
        with_demo = demo and wants_demo(config)
        env = process_env(config)
        if with_demo:
            env["PRICE_SOURCE"] = "sim"
        specs = [ChildSpec(label, f"exec {command}", env=env, cwd=str(PROJECT_ROOT))
                 for label, command in _process_list(config, names, with_demo)]
        console = Console([spec.name for spec in specs])
        supervisor = Supervisor(specs, console.system, output=console.line, signals=signals,
                                stop_timeout=STOP_TIMEOUT_SECONDS, on_tick=partial(_revive, services, console))
        _print_banner(config, services, with_demo, admin_key)
        return supervisor.run()
    finally:
        if services is not None:
            stopped = services.stop()
            if stopped:
                say(f"embedded {' and '.join(stopped)} stopped")


class Console:
    """Prints `HH:MM:SS name | line` (honcho's format, a colour per process) and survives a closed terminal."""

    def __init__(self, names: list[str]):
        from honcho.colour import get_colours
        from honcho.printer import Printer

        self._printer = Printer(sys.stdout, width=max(len(name) for name in [*names, "system"]))
        colours = get_colours()
        self._colours = {name: next(colours) for name in names}

    def line(self, name: str, data: bytes | str) -> None:
        """One line of a process's output."""
        from honcho.printer import Message

        message = Message("line", data, datetime.now(), name, self._colours.get(name))
        _guarded(lambda: self._printer.write(message))

    def system(self, _level: int, text: str) -> None:
        """A line from the runner itself."""
        self.line("system", text)


def say(text: str) -> None:
    """Print a line of the runner's own, even when the terminal is gone."""
    _guarded(lambda: print(text, flush=True))


def _guarded(write) -> None:
    """A closed terminal (SIGHUP) or pipe must not stop the runner halfway: later output goes to /dev/null."""
    try:
        write()
    except BlockingIOError:  # a full non-blocking pipe: drop the line
        return
    except OSError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _revive(services: EmbeddedServices | None, console: Console) -> bool:
    """Restart an embedded server that died; False (give up) when it does not come back."""
    if services is None:
        return True
    try:
        for name in services.revive():
            console.system(logging.WARNING, f"embedded {name} had stopped; restarted it")
    except EmbeddedStartError as exc:
        console.system(logging.ERROR, f"{exc}; giving up")
        return False
    return True


def _process_list(config: Config, names: list[str] | None, with_demo: bool) -> list[tuple[str, str]]:
    processes = [(name, command) for name, command in procfile_processes().items() if not names or name in names]
    if with_demo:
        processes.append(("demo", f"{sys.executable} -m app demo-feed"))
    return processes


def wants_demo(config: Config) -> bool:
    """The demo runs on an empty database (and again once it exists), unless DEMO=0 or another price source."""
    if not config.demo:
        return False
    if config.price_source_explicit and config.price_source.value != "sim":
        say(f"demo: off (PRICE_SOURCE={config.price_source.value}; the demo market needs sim)")
        return False
    from app.db import connect
    from app.demo.scenario import WALLET
    from app.repos import wallets as wallet_repo

    with connect(config.database_url) as conn:
        counts = wallet_repo.count_with_alias(conn, WALLET)
    return counts["wallets"] == 0 or counts["matching"] > 0


def _print_banner(config: Config, services: EmbeddedServices | None, with_demo: bool, admin_key: str) -> None:
    url = f"http://{config.host or '127.0.0.1'}:{config.port}"
    where = f"embedded, data in {config.data_dir}" if services else "external DATABASE_URL/REDIS_URL"
    demo = ("  Demo: a simulated market trades on the paper wallet 'demo' (PRICE_SOURCE=sim);"
            " `make run ARGS=--no-demo` or DEMO=0 switches it off.\n" if with_demo else "")
    say(f"\n  Trading Workflows on {url}  ({where})\n"
        f"  API docs: {url}/docs   OpenAPI: {url}/openapi.json   RQ dashboard: {url}/rq\n"
        f"  API key (admin, kept in {key_path(config)}): {admin_key}\n"
        f"  e.g. curl -H 'Authorization: Bearer {admin_key}' {url}/api/wallets\n"
        f"{demo}  Ctrl-C stops everything.\n")
