"""Wallet use cases: create, read, change, delete."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from psycopg import Connection, errors

from app import secrets
from app.chain.rpc import ChainRefused, ChainUnavailable
from app.config import Config, ConfigError
from app.core.keys import KeyProblem, SigningKey, generate_key, parse_secret_key, public_key_mismatch
from app.core.solana import credit_problem, lamports_to_sol, sol_to_lamports
from app.core.states import WalletType
from app.errors import Conflict, Invalid, NotFound
from app.repos import wallets as wallet_repo

ChainBalance = Callable[[str], int]  # public key -> lamports on chain
LAMPORT = Decimal("0.000000001")
LIMIT_FIELDS = ("max_buys_per_day", "max_daily_loss_sol", "max_position_pct", "breaker_losing_sells")


def create_wallet(conn: Connection, data: dict[str, Any], config: Config) -> dict[str, Any]:
    """Create a TEST (paper) or REAL wallet.

    REAL: with secret_key its public key is derived (a given public_key must match); with generate a new
    keypair is made; with only public_key it is watch-only. A signing key is stored encrypted, never returned.
    """
    is_test = data["type"] == WalletType.TEST
    key = _signing_key(data, config)
    public_key = key.public_key if key else data.get("public_key")
    if not is_test and not public_key:
        raise Invalid.from_paths({("public_key",): [
            "REAL wallets need public_key (watch-only), secret_key or generate: true."]})
    default_balance = Decimal(config.default_virtual_balance_sol) if is_test else Decimal(0)
    values = {
        "alias": data["alias"],
        "type": data["type"],
        "public_key": public_key,
        "encrypted_secret_key": secrets.encrypt(config.wallet_encryption_key, key.secret_b58) if key else None,
        "trading_enabled": data.get("trading_enabled", True),
        "virtual_sol_balance": data.get("virtual_sol_balance", default_balance),
    }
    try:
        with conn.transaction():
            return _insert_with_limits(conn, values, {k: v for k, v in data.items() if k in LIMIT_FIELDS})
    except errors.UniqueViolation:
        raise Conflict(f"Wallet alias {data['alias']!r} already exists.") from None


def _insert_with_limits(conn: Connection, values: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """Insert the wallet and set the limits given with it (in the caller's transaction); the stored wallet."""
    wallet = wallet_repo.insert(conn, values)
    if not limits:
        return wallet
    wallet_repo.set_limits(conn, wallet["id"], limits)
    return wallet_repo.get(conn, wallet["id"])


def _signing_key(data: dict[str, Any], config: Config) -> SigningKey | None:
    """The keypair to store (given or generated), None for none; Invalid naming the field otherwise."""
    field = _key_field(data)
    if field is None:
        return None
    if not config.wallet_encryption_key:
        raise Invalid.from_paths({(field,): [
            "Signing keys are stored encrypted: set WALLET_ENCRYPTION_KEY on the server first."]})
    return generate_key() if field == "generate" else _given_key(data["secret_key"], data.get("public_key"))


def _key_field(data: dict[str, Any]) -> str | None:
    """Which field brings a signing key ("generate", "secret_key" or None); generate stands alone, REAL only."""
    if not data.get("generate"):
        return "secret_key" if data.get("secret_key") else None
    if data.get("secret_key") or data.get("public_key") or data["type"] != WalletType.REAL:
        raise Invalid.from_paths({("generate",): [
            "generate: true makes a new REAL wallet keypair: give it without secret_key and public_key."]})
    return "generate"


def _given_key(secret_key: str, public_key: str | None) -> SigningKey:
    """The keypair of a given secret key, whose public key must match a given one (messages never hold the key)."""
    try:
        key = parse_secret_key(secret_key)
    except KeyProblem as problem:
        raise Invalid.from_paths({("secret_key",): [str(problem)]}) from None
    mismatch = public_key_mismatch(key, public_key)
    if mismatch:
        raise Invalid.from_paths({("public_key",): [mismatch]})
    return key


def list_wallets(conn: Connection) -> list[dict[str, Any]]:
    """Every wallet."""
    return wallet_repo.list_all(conn)


def get_wallet(conn: Connection, alias: str, chain_balance: ChainBalance | None = None) -> dict[str, Any]:
    """One wallet by alias, or NotFound; a REAL wallet's SOL on chain when `chain_balance` is given."""
    wallet = wallet_repo.get_by_alias(conn, alias)
    if wallet is None:
        raise NotFound(f"Wallet {alias!r} not found.")
    if chain_balance is not None and wallet["type"] == WalletType.REAL and wallet["public_key"]:
        wallet = {**wallet, **read_chain_balance(wallet["public_key"], chain_balance)}
    return wallet


def read_chain_balance(public_key: str, chain_balance: ChainBalance) -> dict[str, str]:
    """{"sol_balance": exact SOL} from the chain, or {"chain_error": why not} (unreachable node, no RPC URL)."""
    try:
        lamports = chain_balance(public_key)
    except ChainUnavailable as error:
        return {"chain_error": f"Chain unavailable, try again later: {error}"}
    except ChainRefused as error:
        return {"chain_error": f"The RPC node refused getBalance: {error}"}
    except ConfigError as error:
        return {"chain_error": str(error)}
    return {"sol_balance": format(lamports_to_sol(lamports).quantize(LAMPORT), "f")}


def spendable_lamports(balance_lamports: int, config: Config) -> int:
    """A REAL wallet's SOL available to percent sizing: its chain balance minus SOL_RESERVE (never below 0)."""
    return max(0, balance_lamports - sol_to_lamports(Decimal(config.sol_reserve)))


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
