"""Wallet use cases: create, read, change, delete."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psycopg import Connection, errors

from app import secrets
from app.config import Config
from app.core.solana import credit_problem
from app.core.states import WalletType
from app.errors import Conflict, Invalid, NotFound
from app.repos import wallets as wallet_repo

LIMIT_FIELDS = ("max_buys_per_day", "max_daily_loss_sol", "max_position_pct", "breaker_losing_sells")


def create_wallet(conn: Connection, data: dict[str, Any], config: Config) -> dict[str, Any]:
    """Create a TEST (paper) or REAL wallet; its signing key, if given, is stored encrypted."""
    is_test = data["type"] == WalletType.TEST
    if not is_test and not data.get("public_key"):
        raise Invalid.from_paths({("public_key",): ["REAL wallets require public_key."]})
    secret = data.get("secret_key")
    if secret and not config.wallet_encryption_key:
        raise Invalid.from_paths({("secret_key",): [
            "Signing keys are stored encrypted: set WALLET_ENCRYPTION_KEY on the server first."]})
    default_balance = Decimal(config.default_virtual_balance_sol) if is_test else Decimal(0)
    values = {
        "alias": data["alias"],
        "type": data["type"],
        "public_key": data.get("public_key"),
        "encrypted_secret_key": secrets.encrypt(config.wallet_encryption_key, secret) if secret else None,
        "trading_enabled": data.get("trading_enabled", True),
        "virtual_sol_balance": data.get("virtual_sol_balance", default_balance),
    }
    try:
        with conn.transaction():
            return wallet_repo.insert(conn, values)
    except errors.UniqueViolation:
        raise Conflict(f"Wallet alias {data['alias']!r} already exists.") from None


def list_wallets(conn: Connection) -> list[dict[str, Any]]:
    """Every wallet."""
    return wallet_repo.list_all(conn)


def get_wallet(conn: Connection, alias: str) -> dict[str, Any]:
    """One wallet by alias, or NotFound."""
    wallet = wallet_repo.get_by_alias(conn, alias)
    if wallet is None:
        raise NotFound(f"Wallet {alias!r} not found.")
    return wallet


def update_wallet(conn: Connection, alias: str, data: dict[str, Any]) -> dict[str, Any]:
    """Switch trading on/off, top up a TEST wallet's paper balance and/or set its limits."""
    with conn.transaction():
        wallet = wallet_repo.get_by_alias(conn, alias, for_update=True)
        if wallet is None:
            raise NotFound(f"Wallet {alias!r} not found.")
        if "top_up_sol" in data:
            _check_top_up(wallet, data["top_up_sol"])
        if "trading_enabled" in data:
            wallet_repo.set_trading_enabled(conn, wallet["id"], data["trading_enabled"])
        if "top_up_sol" in data:
            wallet_repo.credit(conn, wallet["id"], data["top_up_sol"])
        wallet_repo.set_limits(conn, wallet["id"], {k: v for k, v in data.items() if k in LIMIT_FIELDS})
        return wallet_repo.get(conn, wallet["id"])


def reset_circuit_breaker(conn: Connection, alias: str) -> dict[str, Any]:
    """Close a wallet's circuit breaker (its BUY workflows buy again) and restart its losing streak."""
    with conn.transaction():
        wallet = wallet_repo.get_by_alias(conn, alias, for_update=True)
        if wallet is None:
            raise NotFound(f"Wallet {alias!r} not found.")
        wallet_repo.reset_breaker(conn, wallet["id"])
        return wallet_repo.get(conn, wallet["id"])


def _check_top_up(wallet: dict[str, Any], amount: Decimal) -> None:
    """Raise Invalid naming top_up_sol unless the wallet is TEST and the new balance is storable."""
    if wallet["type"] != WalletType.TEST:
        raise Invalid.from_paths({("top_up_sol",): ["Only TEST wallets have a virtual balance to top up."]})
    problem = credit_problem(wallet["virtual_sol_balance"], amount)
    if problem:
        raise Invalid.from_paths({("top_up_sol",): [problem]})


def delete_wallet(conn: Connection, alias: str) -> None:
    """Delete a wallet with no open positions (its workflows go with it)."""
    with conn.transaction():
        wallet = wallet_repo.get_by_alias(conn, alias, for_update=True)
        if wallet is None:
            raise NotFound(f"Wallet {alias!r} not found.")
        if wallet["open_positions"]:
            raise Conflict(
                f"Wallet {alias!r} has {wallet['open_positions']} open position(s): sell or close them first."
            )
        wallet_repo.delete(conn, wallet["id"])


def rotate_signing_keys(conn: Connection, config: Config) -> int:
    """Re-encrypt every stored signing key under the first WALLET_ENCRYPTION_KEY; returns how many (one transaction)."""
    if not config.wallet_encryption_key:
        raise Invalid("WALLET_ENCRYPTION_KEY is not set: give the new key first, then the old one(s), comma-separated.")
    with conn.transaction():
        rows = wallet_repo.encrypted_secrets(conn, lock=True)
        for row in rows:
            wallet_repo.set_encrypted_secret(conn, row["id"],
                                             secrets.rotate(config.wallet_encryption_key, row["encrypted_secret_key"]))
    return len(rows)
