"""Local process runner: embedded services if needed, migrations, then the Procfile's processes."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from app.config import PROJECT_ROOT, Config, load_config
from app.embedded import EmbeddedServices
from app.local_key import ensure_local_admin_key, key_path
from app.migrate import migrate

PROCFILE = PROJECT_ROOT / "Procfile"
_STOPPED_BY_SIGNAL = (130, 143)  # honcho's return code after Ctrl-C / SIGTERM: a clean stop


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
    """Run web, worker and scheduler (and the demo market) until Ctrl-C; embedded services stop on the way out."""
    from honcho.manager import Manager
    from honcho.printer import Printer

    config, services = start_embedded(load_config())
    try:
        applied = migrate(config.database_url)
        print(f"database ready (migrations applied now: {applied or 'none'})", flush=True)
        admin_key = ensure_local_admin_key(config)
        with_demo = demo and wants_demo(config)
        env = process_env(config)
        if with_demo:
            env["PRICE_SOURCE"] = "sim"
        manager = Manager(Printer(sys.stdout))
        for label, command in _process_list(config, names, with_demo):
            manager.add_process(label, command, env=env, cwd=str(PROJECT_ROOT))
        _print_banner(config, services, with_demo, admin_key)
        manager.loop()
        return 0 if manager.returncode in _STOPPED_BY_SIGNAL else (manager.returncode or 0)
    finally:
        if services is not None:
            services.stop()
            print("embedded PostgreSQL and Redis stopped", flush=True)


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
        print(f"demo: off (PRICE_SOURCE={config.price_source.value}; the demo market needs sim)", flush=True)
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
    print(f"\n  Trading Workflows on {url}  ({where})\n"
          f"  API docs: {url}/docs   OpenAPI: {url}/openapi.json   RQ dashboard: {url}/rq\n"
          f"  API key (admin, kept in {key_path(config)}): {admin_key}\n"
          f"  e.g. curl -H 'Authorization: Bearer {admin_key}' {url}/api/wallets\n"
          f"{demo}  Ctrl-C stops everything.\n", flush=True)
