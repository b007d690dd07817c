"""Command line: `python -m app migrate | run | demo | backtest | api-keys ...`."""

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

    return run(args.process or None, demo=not args.no_demo)


def _demo_feed(args: argparse.Namespace) -> int:
    from app.demo.live import run
    from app.local_key import key_path

    config = load_config()
    return run(args.url or f"http://127.0.0.1:{config.port}", config.sim_seed, key_path(config).read_text().strip())


def _demo(args: argparse.Namespace) -> int:
    from app.demo.headless import MemoryDemo, format_summary, main_progress, run_demo

    config = load_config()
    if args.replay:
        return _demo_replay(args, config)
    summary = run_demo(MemoryDemo(config), config, args.minutes, args.seed, main_progress)
    print(format_summary(summary))
    return 0


def _demo_replay(args: argparse.Namespace, config) -> int:
    from app.demo.headless import MemoryDemo, format_summary, main_progress
    from app.demo.replay import format_replay, replay_demo

    report = replay_demo(MemoryDemo(config), config, args.minutes, args.seed, main_progress)
    print(format_summary(report["summary"]))
    print(format_replay(report))
    return 0 if report["identical"] == report["total"] else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Trading Workflows")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply schema.sql migrations (idempotent)").set_defaults(func=_migrate)
    run_parser = commands.add_parser("run", help="run web + worker + scheduler (embedded DB/Redis if URLs unset)")
    run_parser.add_argument("process", nargs="*", help="only these Procfile processes (default: all but release)")
    run_parser.add_argument("--no-demo", action="store_true",
                            help="do not start the demo market on an empty database (or set DEMO=0)")
    run_parser.set_defaults(func=_run)
    demo_parser = commands.add_parser("demo", help="run the demo scenario headless on a simulated clock")
    demo_parser.add_argument("--minutes", type=int, default=60, help="market minutes to simulate (default 60)")
    demo_parser.add_argument("--seed", type=int, default=7, help="seed of market and models (default 7)")
    demo_parser.add_argument("--replay", action="store_true",
                             help="then backtest the same workflows over what the demo recorded and compare trades")
    demo_parser.set_defaults(func=_demo)
    feed_parser = commands.add_parser("demo-feed", help="the live demo's market feed (started by `run`)")
    feed_parser.add_argument("--url", help="the web process (default http://127.0.0.1:$PORT)")
    feed_parser.set_defaults(func=_demo_feed)
    from app.cli_backtest import add_command
    from app.cli_keys import add_commands

    add_commands(commands)
    add_command(commands)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
