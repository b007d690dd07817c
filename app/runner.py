"""Local process runner: embedded services if needed, migrations, then the Procfile's processes."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from app.config import PROJECT_ROOT, Config, load_config
from app.embedded import EmbeddedServices
from app.migrate import migrate

PROCFILE = PROJECT_ROOT / "Procfile"


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
               PYTHONUNBUFFERED="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    return env


def run(names: list[str] | None = None) -> int:
    """Run web, worker and scheduler until Ctrl-C; embedded services are stopped on the way out."""
    from honcho.manager import Manager
    from honcho.printer import Printer

    config, services = start_embedded(load_config())
    try:
        applied = migrate(config.database_url)
        print(f"database ready (migrations applied now: {applied or 'none'})", flush=True)
        manager = Manager(Printer(sys.stdout))
        env = process_env(config)
        for name, command in procfile_processes().items():
            if names and name not in names:
                continue
            copies = config.worker_processes if name == "worker" else 1
            for index in range(1, copies + 1):
                label = f"{name}.{index}" if copies > 1 else name
                manager.add_process(label, command, env=env, cwd=str(PROJECT_ROOT))
        _print_banner(config, services)
        manager.loop()
        return manager.returncode or 0
    finally:
        if services is not None:
            services.stop()
            print("embedded PostgreSQL and Redis stopped", flush=True)


def _print_banner(config: Config, services: EmbeddedServices | None) -> None:
    url = f"http://127.0.0.1:{config.port}"
    where = f"embedded, data in {config.data_dir}" if services else "external DATABASE_URL/REDIS_URL"
    print(f"\n  Trading Workflows on {url}  ({where})\n"
          f"  API docs: {url}/docs   OpenAPI: {url}/openapi.json   RQ dashboard: {url}/rq\n"
          f"  Ctrl-C stops everything.\n", flush=True)
