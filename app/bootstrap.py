"""The composition root: every per-process resource, and the engines' dependencies built from them.

Web workers, RQ workers, the scheduler and the command line all start here (cosmicpython's
`bootstrap.py`): `process()` returns this process's `Process`, created on first use after a fork
(PostgreSQL pool, Redis connection, booster cache, Jupiter client), and its `buy_deps` /
`sell_deps` / `dispatcher` are what services receive. Nothing else in `app/` keeps a
per-process singleton, and nothing in `app/` imports `jobs/`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis
from psycopg import Connection
from psycopg_pool import ConnectionPool

from app.chain.rpc import SolanaRpcClient
from app.config import Config, ConfigError, PriceSourceName, load_config
from app.core.clock import Clock, utc_now
from app.core.notifications import Event
from app.db import open_pool
from app.ml import BoosterCache
from app.pricing import jupiter
from app.pricing.shared import MintPrice, shared_mint_price
from app.pricing.sources import JupiterPriceSource, PriceSource, metrics_source, sim_source
from app.queues.dispatch import RqDispatcher
from app.repos import coin_metrics as metrics_repo
from app.repos import price_history as price_history_repo
from app.services import models as model_service
from app.services import notifications as notification_service
from app.services.buy_engine import BuyDeps, Predictor
from app.services.chain_orders import ChainExecutor
from app.services.ports import Dispatcher
from app.services.sell_engine import SellDeps
from app.store.postgres import PostgresStore


@dataclass
class Process:
    """One process's resources for one configuration, opened lazily."""

    config: Config
    boosters: BoosterCache = field(default_factory=BoosterCache)
    _pool: ConnectionPool | None = None
    _redis: redis.Redis | None = None
    _jupiter: jupiter.JupiterClient | None = None
    _chain: SolanaRpcClient | None = None
    _chain_executor: ChainExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def db(self) -> Iterator[Connection]:
        """A pooled autocommit connection; services open transactions on it."""
        with self._lock:
            if self._pool is None:
                self._pool = open_pool(_require(self.config.database_url, "DATABASE_URL"), self.config.db_pool_max)
        with self._pool.connection() as conn:
            yield conn

    @property
    def redis(self) -> redis.Redis:
        """This process's Redis connection (RQ, the scheduler, shared prices and rate limits use it)."""
        if self._redis is None:
            url = _require(self.config.redis_url, "REDIS_URL")
            self._redis = redis.Redis.from_url(url, socket_connect_timeout=5)
        return self._redis

    @property
    def dispatcher(self) -> Dispatcher:
        """The job-queue port handed to services."""
        return RqDispatcher(self.redis, self.config.sell_check_interval_seconds, self.config.notify_retry_intervals)

    @property
    def chain(self) -> SolanaRpcClient:
        """This process's Solana RPC client; ConfigError naming SOLANA_RPC_URL when it is not set."""
        if self._chain is None:
            if not self.config.solana_rpc_url:
                raise ConfigError("SOLANA_RPC_URL is not set: REAL wallets read balances and trade through a "
                                  "Solana JSON-RPC node; set it, e.g. SOLANA_RPC_URL=https://api.mainnet-beta.solana.com")
            self._chain = SolanaRpcClient(self.config.solana_rpc_url, self.config.solana_commitment.value)
        return self._chain

    @property
    def chain_executor(self) -> ChainExecutor:
        """REAL orders' executor (Jupiter swaps, signed and sent through SOLANA_RPC_URL); ConfigError without it."""
        if self._chain_executor is None:
            self._chain_executor = ChainExecutor(self.config, self.chain, self._jupiter_client())
        return self._chain_executor

    def _jupiter_client(self) -> jupiter.JupiterClient:
        if self._jupiter is None:
            self._jupiter = jupiter.from_config(self.config, self.redis)
        return self._jupiter

    def _optional_chain_executor(self) -> ChainExecutor | None:
        return self.chain_executor if self.config.solana_rpc_url else None

    def price_source(self, conn: Connection, clock: Clock = utc_now) -> PriceSource:
        """The price source PRICE_SOURCE names, ready to quote (`metrics` reads through conn)."""
        if self.config.price_source is PriceSourceName.SIM:
            return sim_source(self.config.sim_seed, clock)
        if self.config.price_source is PriceSourceName.METRICS:
            staleness = timedelta(seconds=self.config.price_max_staleness_seconds)
            return metrics_source(lambda mint: metrics_repo.latest_price(conn, mint), staleness, clock)
        return JupiterPriceSource(self._jupiter_client())

    def predictor(self, conn: Connection) -> Predictor:
        """On-demand model probabilities from the metrics stored in conn's database, with this process's boosters."""
        staleness = timedelta(seconds=self.config.feature_max_staleness_seconds)

        def predict(model_id: int, mint: str, at: datetime) -> float:
            return model_service.predict_for_mint(conn, model_id, mint, at, self.boosters, staleness)[0]

        return predict

    def buy_deps(self, conn: Connection, dispatcher: Dispatcher | None = None) -> BuyDeps:
        """The BUY engine's dependencies in this process (an API write passes its after-commit dispatcher)."""
        dispatcher = dispatcher or self.dispatcher
        deps = buy_deps(self.config, self.price_source(conn), self.predictor(conn), dispatcher,
                        outbox=_outbox(conn, dispatcher))
        deps.record_price = partial(price_history_repo.record, conn)
        deps.chain = self._optional_chain_executor()
        return deps

    def sell_deps(self, conn: Connection, dispatcher: Dispatcher | None = None) -> SellDeps:
        """The SELL engine's dependencies in this process: fills quoted exactly, checks priced once per mint."""
        source = self.price_source(conn)
        shared = shared_mint_price(self.redis, source, self.config.sell_check_interval_seconds,
                                   partial(price_history_repo.record, conn))
        dispatcher = dispatcher or self.dispatcher
        deps = sell_deps(self.config, source, shared, dispatcher, outbox=_outbox(conn, dispatcher))
        deps.chain = self._optional_chain_executor()
        return deps

    def close(self) -> None:
        """Close the pool and the Redis connection."""
        if self._pool is not None:
            self._pool.close()
        if self._redis is not None:
            self._redis.close()


def _outbox(conn: Connection, dispatcher: Dispatcher) -> Callable[[Event | None], Any]:
    """Notifications written to conn's outbox (in the engine's transaction), delivered through the dispatcher."""
    return partial(notification_service.emit, conn, dispatcher=dispatcher)


def store(conn: Connection) -> PostgresStore:
    """The trading store on this connection (what the engines receive in live trading)."""
    return PostgresStore(conn)


def buy_deps(config: Config, source: PriceSource, predict: Predictor, dispatcher: Dispatcher | None = None,
             clock: Clock | None = None, outbox: Callable[[Event | None], Any] | None = None) -> BuyDeps:
    """BuyDeps from parts (live trading passes a dispatcher and its outbox; simulated runs a clock and none)."""
    deps = BuyDeps(price_source=source, predict=predict, fee_bps=config.paper_fee_bps, clock=clock,
                   lease_seconds=config.prediction_lease_seconds, approval_ttl_seconds=config.approval_ttl_seconds)
    if dispatcher is not None:  # live trading: TRADING_HALTED holds; a prediction that waited too long is not acted on
        deps.config_halt = config.trading_halted or config.trading_halted_sells
        deps.on_position_opened = dispatcher.watch_position
        deps.on_order_placed = dispatcher.execute_order
        deps.max_age_seconds = config.prediction_max_age_seconds
    if outbox is not None:
        deps.on_event = outbox
    return deps


def sell_deps(config: Config, source: PriceSource, mint_price: MintPrice | None = None,
              dispatcher: Dispatcher | None = None, clock: Clock = utc_now,
              outbox: Callable[[Event | None], Any] | None = None) -> SellDeps:
    """SellDeps from parts (live trading passes a dispatcher and its outbox; simulated runs a clock and none)."""
    deps = SellDeps(price_source=source, fee_bps=config.paper_fee_bps, mint_price=mint_price, clock=clock)
    if dispatcher is not None:  # live trading: TRADING_HALTED=all halts sells (simulated runs ignore it)
        deps.config_halt_sells = config.trading_halted_sells
        deps.on_position_closed = dispatcher.unwatch_position
        deps.on_order_placed = dispatcher.execute_order
    if outbox is not None:
        deps.on_event = outbox
    return deps


_processes: dict[tuple[int, Config | None], Process] = {}
_processes_lock = threading.Lock()


def process(config: Config | None = None) -> Process:
    """This process's resources for `config` (default: read from the environment once), created after fork."""
    key = (os.getpid(), config)
    with _processes_lock:
        if key not in _processes:
            _processes[key] = Process(config or load_config())
        return _processes[key]


def close_all() -> None:
    """Close every resource this process opened."""
    with _processes_lock:
        for key in [k for k in _processes if k[0] == os.getpid()]:
            _processes.pop(key).close()


def _require(url: str | None, name: str) -> str:
    if not url:
        raise ConfigError(f"{name} is not set: run `make run` (embedded PostgreSQL and Redis) or export it.")
    return url
