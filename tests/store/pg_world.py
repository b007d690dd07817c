"""PostgresStore with MemoryStore's seeding and reading methods, so one test body arranges and asserts on both.

Each method writes or reads what MemoryStore's method of the same name does: through the services where they
write it (wallets, workflows), through the repos' SQL otherwise, or with plain INSERTs as tests/factories.py
does. Models are only numbers to MemoryStore: here a workflow or prediction naming a model id that has no
ml_models row gets one (with that id), so the same ids work on both stores.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from uuid import UUID

from psycopg import Connection, sql

from app.config import Config
from app.core.chains import parse_chain, referenced_model_ids
from app.repos import backtests as backtest_repo
from app.repos import coin_metrics as metrics_repo
from app.repos import price_history as price_repo
from app.repos import reports as report_repo
from app.repos import trading_state
from app.repos import wallets as wallet_repo
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.store.memory import TABLES
from app.store.port import Row
from app.store.postgres import PostgresStore

_INSERTION_ORDER = {"positions": "seq", "trade_logs": "seq", "predictions": "seq"}  # others: created_at


def _frozen(rows: list[dict[str, Any]]) -> list[Row]:
    return [MappingProxyType(row) for row in rows]


class PgWorld(PostgresStore):
    """The PostgreSQL side of the contract fixture: the port on `conn`, plus MemoryStore's test-facing methods."""

    def __init__(self, conn: Connection, config: Config) -> None:
        super().__init__(conn)
        self.config = config

    # --- seeding ------------------------------------------------------------
    def add_wallet(self, alias: str, type: str = "TEST", virtual_sol_balance: Decimal = Decimal(0),
                   public_key: str | None = None, encrypted_secret_key: str | None = None,
                   trading_enabled: bool = True, **limits: Any) -> UUID:
        """A wallet created through the wallet service (limits as MemoryStore.add_wallet takes them)."""
        data = {"alias": alias, "type": type, "virtual_sol_balance": virtual_sol_balance, "public_key": public_key,
                "trading_enabled": trading_enabled, **limits}
        wallet_id = wallet_service.create_wallet(self.conn, data, self.config)["id"]
        if encrypted_secret_key is not None:  # stored as given, as MemoryStore stores it
            self.conn.execute("UPDATE wallets SET encrypted_secret_key = %s WHERE id = %s",
                              (encrypted_secret_key, wallet_id))
        return wallet_id

    def add_workflow(self, wallet_id: UUID, body: dict[str, Any]) -> UUID:
        """A workflow created (and, if is_active, activated) through the workflow service from its columns."""
        columns = dict(body)
        active = columns.pop("is_active", False)
        self._ensure_models(referenced_model_ids(parse_chain(columns["type"], columns["chain"])))
        alias = wallet_repo.get(self.conn, wallet_id)["alias"]
        created = workflow_service.create_workflow(self.conn, {**columns, "wallet_alias": alias})
        if active:
            workflow_service.set_active(self.conn, created["id"], True)
        return created["id"]

    def add_mint(self, mint: str, decimals: int, symbol: str | None = None) -> None:
        """Record a mint's decimals (and symbol; None keeps the stored one)."""
        metrics_repo.upsert_mint(self.conn, mint, decimals, symbol)

    def add_metrics(self, mint: str, points: list[dict[str, Any]]) -> None:
        """Insert or replace (same mint and ts) coin_metrics points of a mint."""
        metrics_repo.upsert_points(self.conn, mint, points)

    def add_prediction(self, mint: str, model_id: int | None, probability: float, predicted_at: datetime,
                       client_id: str | None = None, prediction: int | None = None, tag: str | None = None,
                       received_at: datetime | None = None) -> UUID:
        """Store a PENDING prediction (received now unless `received_at` is given)."""
        self._ensure_models([] if model_id is None else [model_id])
        return self.conn.execute(
            """INSERT INTO predictions (client_id, mint, model_id, probability, prediction, tag, predicted_at,
                   received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, COALESCE(%s, now())) RETURNING id""",
            (client_id, mint, model_id, probability, prediction, tag, predicted_at, received_at)).fetchone()["id"]

    def add_price(self, mint: str, price_sol: Decimal, source: str, at: datetime | None = None) -> None:
        """Record one decided price (price_history) at `at` (None: now)."""
        price_repo.record(self.conn, mint, price_sol, source, at)

    def set_halt(self, halted: bool, halt_sells: bool = False, reason: str | None = None) -> None:
        """Halt or resume trading: the trading service's statement, without its notification."""
        trading_state.set_halt(self.conn, halted, halt_sells, reason, None)

    def _ensure_models(self, model_ids: list[int]) -> None:
        for model_id in model_ids:
            self.conn.execute("INSERT INTO ml_models (id, name) OVERRIDING SYSTEM VALUE VALUES (%s, %s) "
                              "ON CONFLICT (id) DO NOTHING", (model_id, f"model-{model_id}"))

    # --- reading ------------------------------------------------------------
    def rows(self, table: str) -> list[Row]:
        """Every row of a table in insertion order (seq where the table has one, else created_at)."""
        if table not in TABLES:
            raise KeyError(table)
        query = sql.SQL("SELECT * FROM {} ORDER BY {}").format(
            sql.Identifier(table), sql.Identifier(_INSERTION_ORDER.get(table, "created_at")))
        return _frozen(self.conn.execute(query).fetchall())

    def positions_with_trades(self) -> list[dict[str, Any]]:
        """Every position with its buy's steps and its sells, in opening order (the backtests repo's query)."""
        return backtest_repo.positions_with_trades(self.conn)

    def metric_points(self, mint: str, after: datetime | None, until: datetime | None) -> list[Row]:
        """A mint's metrics points with ts in (after, until], newest first, never one after now."""
        return _frozen(metrics_repo.points_between(self.conn, mint, after, until))

    def latest_price(self, mint: str) -> tuple[Decimal, datetime] | None:
        """The mint's latest price_sol at or before now, with its ts (None: none stored)."""
        return metrics_repo.latest_price(self.conn, mint)

    def price_history(self, mint: str) -> list[Row]:
        """A mint's recorded prices in ts order (ties: in recording order)."""
        return _frozen(self.conn.execute("SELECT * FROM price_history WHERE mint = %s ORDER BY ts, id",
                                         (mint,)).fetchall())

    def closed_positions(self, wallet_id: UUID) -> list[Row]:
        """The wallet's CLOSED positions (id, opened_at, closed_at, realized_pnl_sol), oldest close first."""
        return _frozen(report_repo.closed_positions(self.conn, "wallet", wallet_id, None, None))

    def sell_exits(self, position_ids: list[UUID]) -> list[Row]:
        """The SELL trades of these positions (position_id, rule, realized_pnl_sol), in order of time."""
        return _frozen(report_repo.sell_exits(self.conn, position_ids))
