"""Command-line key management: `python -m app api-keys create|list|revoke`, `python -m app rotate-wallet-key`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from psycopg import Connection

from app.config import Config
from app.core.states import KeyRole
from app.errors import ServiceError
from app.runner import migrated_database


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the key commands on the main parser's subcommands."""
    keys = commands.add_parser("api-keys", help="create, list or revoke API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key (printed once, alone on the last line)")
    create.add_argument("--name", required=True, help="a name for the key: 1-64 of A-Z a-z 0-9 _ - .")
    create.add_argument("--read-only", action="store_true", help="the key may only read (GET)")
    create.set_defaults(func=_create)
    actions.add_parser("list", help="every key's name, role and times").set_defaults(func=_list)
    revoke = actions.add_parser("revoke", help="revoke a key at once in every process")
    revoke.add_argument("name")
    revoke.set_defaults(func=_revoke)
    commands.add_parser("rotate-wallet-key", help="re-encrypt stored signing keys under the first "
                        "WALLET_ENCRYPTION_KEY (set it to 'new,old')").set_defaults(func=_rotate)


def _run(action: Callable[[Connection, Config], None]) -> int:
    try:
        with migrated_database() as (conn, config):
            action(conn, config)
    except ServiceError as exc:
        print(f"error: {exc.message}")
        return 1
    return 0


def _create(args: argparse.Namespace) -> int:
    from app.services.api_keys import create_key

    def create(conn: Connection, _config: Config) -> None:
        role = KeyRole.READ_ONLY if args.read_only else KeyRole.ADMIN
        row, key = create_key(conn, args.name, role)
        print(f"created {row['role']} key {row['name']!r}; it is shown only now:")
        print(key)
    return _run(create)


def _list(_args: argparse.Namespace) -> int:
    from app.services.api_keys import list_keys

    def show(conn: Connection, _config: Config) -> None:
        print(f"{'name':<24} {'role':<10} {'created':<20} {'last used':<20} revoked")
        for row in list_keys(conn):
            times = [row[k].strftime("%Y-%m-%d %H:%M:%S") if row[k] else "-"
                     for k in ("created_at", "last_used_at", "revoked_at")]
            print(f"{row['name']:<24} {row['role']:<10} {times[0]:<20} {times[1]:<20} {times[2]}")
    return _run(show)


def _revoke(args: argparse.Namespace) -> int:
    from app.services.api_keys import revoke_key

    def revoke(conn: Connection, _config: Config) -> None:
        revoke_key(conn, args.name)
        print(f"revoked {args.name!r}: every web process refuses it from now on")
    return _run(revoke)


def _rotate(_args: argparse.Namespace) -> int:
    from app.services.wallets import rotate_signing_keys

    def rotate(conn: Connection, config: Config) -> None:
        count = rotate_signing_keys(conn, config)
        print(f"re-encrypted {count} signing key(s) under the first WALLET_ENCRYPTION_KEY; "
              "the old key can now be removed from the setting")
    return _run(rotate)
