"""Command line: `python -m app migrate | run`."""

from __future__ import annotations

import argparse
import sys

from app.config import ConfigError, load_config


def _migrate(_: argparse.Namespace) -> int:
    from app.migrate import migrate
    from app.runner import start_embedded

    config, services = start_embedded(load_config(), need_redis=False)
    try:
        applied = migrate(config.database_url)
    finally:
        if services is not None:
            services.stop()
    print(f"schema up to date; applied now: {applied or 'nothing'}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from app.runner import run

    return run(args.process or None)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Trading Workflows")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply schema.sql migrations (idempotent)").set_defaults(func=_migrate)
    run_parser = commands.add_parser("run", help="run web + worker + scheduler (embedded DB/Redis if URLs unset)")
    run_parser.add_argument("process", nargs="*", help="only these Procfile processes (default: all but release)")
    run_parser.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
