"""Service configuration: read once from the environment, validated at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """The environment holds a value the service cannot run with."""


class Commitment(StrEnum):
    """How final chain reads and confirmations must be (SOLANA_COMMITMENT)."""

    PROCESSED = "processed"
    CONFIRMED = "confirmed"
    FINALIZED = "finalized"


class PriorityLevel(StrEnum):
    """Jupiter's priorityLevelWithMaxLamports level (PRIORITY_FEE_LEVEL)."""

    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "veryHigh"


class PriceSourceName(StrEnum):
    """Which price source PRICE_SOURCE selects."""

    JUPITER = "jupiter"
    METRICS = "metrics"
    SIM = "sim"


@dataclass(frozen=True)
class Config:
    """Every setting the service reads, with safe defaults."""

    database_url: str | None
    redis_url: str | None
    port: int
    data_dir: Path
    sell_check_interval_seconds: int
    price_source: PriceSourceName
    jupiter_base_url: str
    jupiter_price_url: str
    jupiter_api_key: str | None
    jupiter_rate_limit_per_min: int
    paper_fee_bps: int
    default_virtual_balance_sol: str
    wallet_encryption_key: str | None
    db_pool_max: int
    log_level: str
    sim_seed: int = 42
    feature_max_staleness_seconds: int = 300
    price_max_staleness_seconds: int = 120
    worker_processes: int = 2
    demo: bool = True
    price_source_explicit: bool = False
    prediction_max_age_seconds: int = 120
    prediction_lease_seconds: int = 20
    host: str | None = None  # HOST: the web bind address (`make run`: 127.0.0.1 unless set; Procfile: 0.0.0.0)
    rate_limit_read: str = "1200/minute"
    rate_limit_write: str = "600/minute"
    worker_class: str | None = None  # dotted RQ worker class; None: SimpleWorker (jobs run in the worker process)
    worker_queues: tuple[str, ...] = ()  # empty: every queue of the service
    max_request_bytes: int = 8 * 1024 * 1024  # request body limit of every route but the model upload
    max_model_upload_bytes: int = 40 * 1024 * 1024  # POST /api/models: a 20 MiB model as base64, and its fields
    max_clock_skew_seconds: int = 60  # how far in the future a posted timestamp may be
    approval_ttl_seconds: int = 3600  # APPROVAL_TTL_SECONDS: a BUY waiting for approval expires after this
    trading_halted: bool = False  # TRADING_HALTED=1 (or all): no buy from the start; cleared only by unsetting it
    trading_halted_sells: bool = False  # TRADING_HALTED=all: no sell either (as a stored halt with "sells": "halt")
    notify_timeout_seconds: int = 5  # one notification POST waits at most this long
    notify_retry_intervals: tuple[int, ...] = (10, 60, 300, 1800)  # seconds before each retry of a failed delivery
    telegram_api_base: str = "https://api.telegram.org"
    solana_rpc_url: str | None = None  # SOLANA_RPC_URL: required only when a REAL wallet reads or trades on chain
    slippage_bps: int = 50
    priority_fee_level: PriorityLevel = PriorityLevel.MEDIUM
    priority_fee_max_lamports: int = 1_000_000
    solana_commitment: Commitment = Commitment.CONFIRMED
    sol_reserve: str = "0.01"  # SOL kept for fees and rent: percent sizing of a REAL wallet leaves it untouched
    price_history_retention_days: int = 30  # recorded prices older than this are purged by maintenance
    backtest_max_days: int = 31  # the longest period one backtest may cover

    @property
    def embedded(self) -> bool:
        """True when PostgreSQL or Redis must be started locally."""
        return not self.database_url or not self.redis_url


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} must be between {low} and {high}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} must be true or false (1/0, yes/no, on/off)")


def _halt_settings(env: Mapping[str, str]) -> dict[str, bool]:
    """TRADING_HALTED: 0 (trade), 1 or buys (no buy; sells go on), all (no buy and no sell)."""
    raw = env.get("TRADING_HALTED", "").strip().lower()
    if raw == "all":
        return {"trading_halted": True, "trading_halted_sells": True}
    if raw == "buys":
        return {"trading_halted": True, "trading_halted_sells": False}
    try:
        return {"trading_halted": _bool(env, "TRADING_HALTED", False), "trading_halted_sells": False}
    except ConfigError:
        raise ConfigError(f"TRADING_HALTED={raw!r} must be 0 (trade), 1 or buys (halt buys, sells go on) "
                          "or all (halt buys and sells)") from None


def normalize_database_url(url: str | None) -> str | None:
    """Accept Heroku's postgres:// scheme; psycopg wants postgresql://."""
    if not url:
        return None
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://"):]
    if not url.startswith("postgresql://"):
        raise ConfigError(f"DATABASE_URL must start with postgresql:// or postgres://, got {url[:20]!r}")
    return url


def _redis_url(url: str | None) -> str | None:
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
    return url


def _price_source(raw: str) -> PriceSourceName:
    try:
        return PriceSourceName(raw.strip().lower() or "jupiter")
    except ValueError:
        choices = "|".join(p.value for p in PriceSourceName)
        raise ConfigError(f"PRICE_SOURCE={raw!r} must be one of {choices}") from None


def _decimal_sol(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < 0 or value != value.quantize(Decimal("0.000000001")):
        raise ConfigError(f"{name}={raw!r} must be >= 0 with at most 9 decimals (lamports)")
    return raw


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of names (empty entries dropped)."""
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit such as `600/minute` or `10/second` (limits' notation)."""
    raw = _text(env, name) or default
    from limits import parse

    try:
        parse(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a rate limit such as 600/minute or 10/second") from None
    return raw


def _text(env: Mapping[str, str], name: str) -> str | None:
    """A setting's stripped text, None when unset or blank."""
    return env.get(name, "").strip() or None


def _http_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL setting without its trailing slash."""
    url = _text(env, name) or default
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL")
    return url.rstrip("/")


def _jupiter_base_url(env: Mapping[str, str]) -> str:
    return _http_url(env, "JUPITER_BASE_URL", "https://api.jup.ag/swap/v1")


def _encryption_key(env: Mapping[str, str]) -> str | None:
    encryption_key = _text(env, "WALLET_ENCRYPTION_KEY")
    if encryption_key:
        from app.secrets import check_key

        try:
            check_key(encryption_key)
        except ValueError:
            raise ConfigError(
                "WALLET_ENCRYPTION_KEY must be a Fernet key: generate one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
    return encryption_key


def _service_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Where the service's storage is and how its processes run."""
    return {
        "database_url": normalize_database_url(_text(env, "DATABASE_URL")),
        "redis_url": _redis_url(_text(env, "REDIS_URL")),
        "port": _int(env, "PORT", 5000, 1, 65535),
        "host": _text(env, "HOST"),
        "data_dir": Path(_text(env, "DATA_DIR") or PROJECT_ROOT / ".data"),
        "db_pool_max": _int(env, "DB_POOL_MAX", 8, 1, 200),
        "log_level": (_text(env, "LOG_LEVEL") or "INFO").upper(),
        "worker_processes": _int(env, "WORKER_PROCESSES", 2, 1, 32),
        "worker_class": _text(env, "WORKER_CLASS"),
        "worker_queues": _names(env, "WORKER_QUEUES"),
        "demo": _bool(env, "DEMO", True),
    }


def _trading_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """How the engines price, check, fill and keep keys."""
    return {
        "sell_check_interval_seconds": _int(env, "SELL_CHECK_INTERVAL_SECONDS", 15, 1, 3600),
        "price_source": _price_source(env.get("PRICE_SOURCE", "")),
        "price_source_explicit": _text(env, "PRICE_SOURCE") is not None,
        "jupiter_base_url": _jupiter_base_url(env),
        "jupiter_price_url": _http_url(env, "JUPITER_PRICE_URL", "https://api.jup.ag/price/v3"),
        "jupiter_api_key": _text(env, "JUPITER_API_KEY"),
        "jupiter_rate_limit_per_min": _int(env, "JUPITER_RATE_LIMIT_PER_MIN", 60, 1, 100_000),
        "paper_fee_bps": _int(env, "PAPER_FEE_BPS", 30, 0, 10_000),
        "default_virtual_balance_sol": _decimal_sol(env, "DEFAULT_VIRTUAL_BALANCE_SOL", "10"),
        "wallet_encryption_key": _encryption_key(env),
        "sim_seed": _int(env, "SIM_SEED", 42, 0, 2**31),
        "feature_max_staleness_seconds": _int(env, "FEATURE_MAX_STALENESS_SECONDS", 300, 1, 86_400),
        "price_max_staleness_seconds": _int(env, "PRICE_MAX_STALENESS_SECONDS", 120, 1, 86_400),
        "prediction_max_age_seconds": _int(env, "PREDICTION_MAX_AGE_SECONDS", 120, 1, 86_400),
        "prediction_lease_seconds": _int(env, "PREDICTION_LEASE_SECONDS", 20, 1, 3600),
        "rate_limit_read": _rate(env, "RATE_LIMIT_READ", "1200/minute"),
        "rate_limit_write": _rate(env, "RATE_LIMIT_WRITE", "600/minute"),
        "max_clock_skew_seconds": _int(env, "MAX_CLOCK_SKEW_SECONDS", 60, 0, 3600),
        **_halt_settings(env),
        "price_history_retention_days": _int(env, "PRICE_HISTORY_RETENTION_DAYS", 30, 1, 3650),
        "backtest_max_days": _int(env, "BACKTEST_MAX_DAYS", 31, 1, 3650),
        "approval_ttl_seconds": _int(env, "APPROVAL_TTL_SECONDS", 3600, 1, 30 * 86_400),
    }


def _notification_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """How notifications are sent: timeout, retry backoff, Telegram's API."""
    telegram = (_text(env, "TELEGRAM_API_BASE") or "https://api.telegram.org").rstrip("/")
    if not telegram.startswith(("http://", "https://")):
        raise ConfigError("TELEGRAM_API_BASE must be an http(s) URL")
    return {"notify_timeout_seconds": _int(env, "NOTIFY_TIMEOUT_SECONDS", 5, 1, 60),
            "notify_retry_intervals": _intervals(env, "NOTIFY_RETRY_INTERVALS", (10, 60, 300, 1800)),
            "telegram_api_base": telegram}


def _intervals(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Comma-separated whole seconds (1 to 20 of them, each 0..86400)."""
    names = _names(env, name)
    if not names:
        return default
    try:
        values = tuple(int(part) for part in names)
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated whole seconds, e.g. 10,60,300") from None
    if len(values) > 20 or any(not 0 <= value <= 86_400 for value in values):
        raise ConfigError(f"{name}: 1 to 20 intervals, each between 0 and 86400 seconds")
    return values


def _choice(env: Mapping[str, str], name: str, kind: type[StrEnum], default: StrEnum) -> Any:
    """One of a str enum's values (exact spelling), default when unset."""
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} must be one of {'|'.join(v.value for v in kind)}") from None


def _rpc_url(env: Mapping[str, str]) -> str | None:
    """SOLANA_RPC_URL: an http(s) URL with a host, or None when unset."""
    from urllib.parse import urlsplit

    raw = _text(env, "SOLANA_RPC_URL")
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in raw):
        raise ConfigError("SOLANA_RPC_URL must be an http(s) URL of a Solana JSON-RPC node, "
                          "e.g. https://api.mainnet-beta.solana.com")
    return raw


def _chain_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """How REAL wallets reach the chain: RPC node, slippage, priority fee, commitment, SOL reserve."""
    return {
        "solana_rpc_url": _rpc_url(env),
        "slippage_bps": _int(env, "SLIPPAGE_BPS", 50, 0, 10_000),
        "priority_fee_level": _choice(env, "PRIORITY_FEE_LEVEL", PriorityLevel, PriorityLevel.MEDIUM),
        "priority_fee_max_lamports": _int(env, "PRIORITY_FEE_MAX_LAMPORTS", 1_000_000, 0, 10**10),
        "solana_commitment": _choice(env, "SOLANA_COMMITMENT", Commitment, Commitment.CONFIRMED),
        "sol_reserve": _decimal_sol(env, "SOL_RESERVE", "0.01"),
    }


def _request_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """How much the web process reads from one request."""
    return {
        "max_request_bytes": _int(env, "MAX_REQUEST_BYTES", 8 * 1024 * 1024, 1024, 1024**3),
        "max_model_upload_bytes": _int(env, "MAX_MODEL_UPLOAD_BYTES", 40 * 1024 * 1024, 1024, 1024**3),
    }


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from environment variables, failing fast on bad values."""
    env = os.environ if env is None else env
    return Config(**_service_settings(env), **_trading_settings(env), **_request_settings(env),
                  **_notification_settings(env), **_chain_settings(env))
