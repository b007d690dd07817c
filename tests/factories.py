"""The one place that builds test data: request bodies, rows, engine dependencies, models and mints.

Bodies are what a client posts (JSON values); rows are written through the services with the typed values the
API's schemas would hand them, or inserted directly where no service writes them (predictions, prices,
executions, hand-made positions). Every test wallet is WALLET_ALIAS unless a test says otherwise.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import numpy as np
import xgboost as xgb
from psycopg import Connection, sql
from psycopg.types.json import Jsonb

from app.config import Config
from app.core.chains import chain_to_json
from app.core.solana import b58encode
from app.pricing.sources import FixedPriceSource, PriceUnavailable
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.sell_engine import SellDeps
from app.store.postgres import PostgresStore

WALLET_ALIAS = "w1"
WALLET_BALANCE = Decimal("10")
REAL_PUBLIC_KEY = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


def signing_key(seed: int) -> tuple[str, str]:
    """(base58 64-byte secret key, its public key) of a fixed test keypair."""
    from solders.keypair import Keypair

    from app.core.solana import b58encode

    keypair = Keypair.from_seed(bytes([seed]) * 32)
    return b58encode(bytes(keypair)), str(keypair.pubkey())


REAL_SECRET_KEY, REAL_SIGNED_PUBLIC_KEY = signing_key(4)  # a REAL wallet's keypair and its public key

MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"
OTHER_MINT = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"
WSOL_MINT = "So11111111111111111111111111111111111111112"

ENTRY_PRICE = Decimal("0.0001")  # SOL per whole token: what the engine tests buy at
LOSING = ENTRY_PRICE * Decimal("0.9")  # a stop-loss at -5 % sells below the entry
FEE_BPS = 30
MODEL_FEATURES = ["price_sol", "price_sol_pct_change_5m", "volume_sol_sum_5m"]
PREDICTED_AT = "2026-11-21T10:00:00+00:00"
SELL_RULES = [
    {"type": "stop_loss", "percent": -5.0, "from": "entry"},
    {"type": "trailing_stop", "percent": -3.0, "from": "peak"},
    {"type": "take_profit", "percent": 20.0},
    {"type": "timeout", "minutes": 30},
]
_TYPED_AMOUNTS = ("buy_amount_value", "sell_amount_pct")
_POSITION_DEFAULTS = {"token_decimals": 6, "initial_tokens_raw": 1000, "tokens_raw": 1000,
                      "sol_spent": Decimal("0.1"), "entry_price_sol": ENTRY_PRICE}


# --- mints and prices ------------------------------------------------------

def mint_for(name: str) -> str:
    """A valid, stable base58 mint address for a name."""
    return b58encode(hashlib.sha256(name.encode()).digest())


def add_mint(conn: Connection, mint: str = MINT, decimals: int = 6) -> None:
    """Record (or correct) a mint's decimals."""
    conn.execute("INSERT INTO mints (mint, decimals) VALUES (%s, %s) ON CONFLICT (mint) DO UPDATE "
                 "SET decimals = EXCLUDED.decimals", (mint, decimals))


def add_prices(conn: Connection, prices: Sequence[str], mint: str = MINT,
               every: timedelta = timedelta(seconds=30)) -> None:
    """Coin metric rows with these SOL prices, `every` apart, the last one now."""
    now = datetime.now(UTC)
    for i, price in enumerate(prices):
        conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol) VALUES (%s, %s, %s)",
                     (mint, now - every * (len(prices) - 1 - i), Decimal(price)))


def metric_point(ts: str | datetime, price: Any = "0.000001", **values: Any) -> dict[str, Any]:
    """One point of a POST /api/coins/<mint>/metrics body."""
    return {"ts": ts.isoformat() if isinstance(ts, datetime) else ts, "price_sol": price, **values}


# --- wallets ---------------------------------------------------------------

def wallet_body(alias: str = WALLET_ALIAS, **overrides: Any) -> dict[str, Any]:
    """The JSON body of POST /api/wallets (a TEST wallet with the configured balance unless overridden)."""
    return {"alias": alias, **overrides}


def create_wallet(conn: Connection, config: Config, alias: str = WALLET_ALIAS, **fields: Any) -> dict[str, Any]:
    """A TEST wallet holding WALLET_BALANCE SOL, created through the wallet service; returns its row."""
    data = {"type": "TEST", "virtual_sol_balance": WALLET_BALANCE, **wallet_body(alias, **fields)}
    return wallet_service.create_wallet(conn, data, config)


# --- workflows -------------------------------------------------------------

def buy_body(trigger: int, conditions: Sequence[tuple[int, str, float]] = (), min_probability: float = 0.7,
             **overrides: Any) -> dict[str, Any]:
    """A valid BUY workflow body: trigger model ≥ min_probability, then each (model, operator, threshold), 0.05 SOL."""
    body = {
        "wallet_alias": WALLET_ALIAS,
        "name": "Aggressive Buy Bot",
        "type": "BUY",
        "chain": {
            "trigger": {"type": "prediction_alert", "model_id": trigger, "min_probability": min_probability},
            "conditions": [
                {"type": "on_demand_prediction", "model_id": model, "operator": operator, "threshold": threshold}
                for model, operator, threshold in conditions
            ],
        },
        "buy_amount_mode": "fixed",
        "buy_amount_value": 0.05,
    }
    return {**body, **overrides}


def sell_body(**overrides: Any) -> dict[str, Any]:
    """A valid SELL workflow body (seed 000's four rules, SELL_RULES)."""
    rules = [dict(rule) for rule in SELL_RULES]
    body = {"wallet_alias": WALLET_ALIAS, "name": "Exit rules", "type": "SELL", "chain": {"rules": rules}}
    return {**body, **overrides}


def _typed(body: dict[str, Any]) -> dict[str, Any]:
    """A body with its amounts typed as Decimal, as the API's schema hands them to the service."""
    return {key: Decimal(str(value)) if key in _TYPED_AMOUNTS and value is not None else value
            for key, value in body.items()}


def create_workflow(conn: Connection, body: dict[str, Any], active: bool = True) -> dict[str, Any]:
    """Create a workflow from a body through the workflow service (amounts typed as Decimal), active unless not."""
    created = workflow_service.create_workflow(conn, _typed(body))
    return workflow_service.set_active(conn, created["id"], True) if active else created


def workflow_columns(body: dict[str, Any], active: bool = True) -> dict[str, Any]:
    """A body as the trading_workflows columns a store's add_workflow takes: typed amounts, the chain validated
    and stored in its canonical form (as the service stores it), active unless not; no wallet_alias."""
    typed = {key: value for key, value in _typed(body).items() if key != "wallet_alias"}
    chain = workflow_service.validated_chain(typed["type"], typed["chain"], typed.get("buy_amount_mode"),
                                             typed.get("buy_amount_value"))
    return {**typed, "chain": chain_to_json(chain), "is_active": active}


def buy_workflow(conn: Connection, trigger: int, conditions: Sequence[tuple[int, str, float]] = (),
                 **overrides: Any) -> dict[str, Any]:
    """An active BUY workflow (buy_body's) on WALLET_ALIAS."""
    return create_workflow(conn, buy_body(trigger, conditions, **overrides))


def sell_workflow(conn: Connection, rules: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """An active SELL workflow with these rules on WALLET_ALIAS."""
    return create_workflow(conn, sell_body(chain={"rules": rules}, **overrides))


def add_execution(conn: Connection, workflow_id: Any, result: str, *, mint: str = MINT,
                  trigger_data: dict[str, Any] | None = None, steps: list[dict[str, Any]] | None = None,
                  error: str | None = None, minutes_ago: float = 0) -> None:
    """A workflow_executions row, `minutes_ago` old (default: a passed trigger at probability 0.8)."""
    conn.execute(
        """INSERT INTO workflow_executions (workflow_id, mint, result, trigger_data, steps_log, error_message,
               created_at) VALUES (%s, %s, %s, %s, %s, %s, now() - make_interval(mins => %s))""",
        (workflow_id, mint, result, Jsonb(trigger_data if trigger_data is not None else {"probability": 0.8}),
         Jsonb(steps if steps is not None else [{"step": "trigger", "result": "passed"}]), error, minutes_ago))


# --- models and predictions ------------------------------------------------

def add_model(conn: Connection, name: str = "model") -> int:
    """An ml_models row with no model data (for workflows that only reference it); returns its id."""
    return conn.execute("INSERT INTO ml_models (name) VALUES (%s) RETURNING id", (name,)).fetchone()["id"]


def train_booster(num_features: int = len(MODEL_FEATURES), seed: int = 0,
                  objective: str = "binary:logistic") -> xgb.Booster:
    """A tiny real XGBoost model (200 seeded rows, 5 trees) over num_features inputs."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(200, num_features))
    labels = (features[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    return xgb.train({"objective": objective, "max_depth": 2, "nthread": 1},
                     xgb.DMatrix(features, label=labels), num_boost_round=5)


def model_body(booster: xgb.Booster, name: str = "pump", fmt: str = "ubjson", **overrides: Any) -> dict[str, Any]:
    """The JSON body of POST /api/models uploading this booster over MODEL_FEATURES."""
    raw = bytes(booster.save_raw("ubj" if fmt == "ubjson" else "json"))
    body = {"name": name, "description": "test model", "feature_names": MODEL_FEATURES, "model_format": fmt,
            "model_base64": base64.b64encode(raw).decode()}
    return {**body, **overrides}


def prediction_body(model_id: int, /, mint: str = MINT, **overrides: Any) -> dict[str, Any]:
    """The JSON body of one POST /api/predictions (probability 0.82 at PREDICTED_AT unless overridden)."""
    return {"mint": mint, "model_id": model_id, "probability": 0.82, "timestamp": PREDICTED_AT, **overrides}


def store_prediction(conn: Connection, model_id: int, probability: float, mint: str = MINT,
                     client_id: str | None = None) -> UUID:
    """A PENDING predictions row made now; returns its id."""
    return conn.execute(
        """INSERT INTO predictions (client_id, mint, model_id, probability, predicted_at)
           VALUES (%s, %s, %s, %s, %s) RETURNING id""",
        (client_id, mint, model_id, probability, datetime.now(UTC))).fetchone()["id"]


# --- engine dependencies ---------------------------------------------------

class Predictor:
    """Model probabilities the test decides (the model layer is tested on its own); records calls."""

    def __init__(self, probabilities: dict[int, float | Exception]):
        self.probabilities = probabilities
        self.calls: list[int] = []

    def __call__(self, model_id: int, mint: str, at: datetime) -> float:
        """The decided probability of model_id (raises it if it is an exception)."""
        self.calls.append(model_id)
        value = self.probabilities[model_id]
        if isinstance(value, Exception):
            raise value
        return value


class MovingPrice:
    """A price the test sets and moves (None: no price); `fail_fills` makes exact quotes fail."""

    def __init__(self, price: Decimal | None = ENTRY_PRICE):
        self.price = price
        self.fail_fills = False

    def source(self) -> FixedPriceSource:
        """A price source quoting the current price in SOL per whole token."""
        def price_of(mint: str) -> tuple[Decimal, dict[str, Any]]:
            if self.fail_fills:
                raise PriceUnavailable("route vanished")
            if self.price is None:
                raise PriceUnavailable("test source has no price")
            return self.price, {}
        return FixedPriceSource("test", price_of)


def buy_deps(predictor: Predictor | None = None, price: Decimal | None = ENTRY_PRICE, fee_bps: int = FEE_BPS,
             opened: list | None = None, max_age_seconds: float | None = None,
             clock: Callable[[], datetime] | None = None) -> BuyDeps:
    """The BUY engine's dependencies: a fixed price, decided model probabilities, opened positions into `opened`,
    predictions received more than max_age_seconds ago expired (None: never), times from `clock` (None: the
    database's now())."""
    return BuyDeps(price_source=MovingPrice(price).source(), predict=predictor or Predictor({}), fee_bps=fee_bps,
                   on_position_opened=opened.append if opened is not None else (lambda _: None),
                   max_age_seconds=max_age_seconds, clock=clock)


def sell_deps(market: MovingPrice, closed: list | None = None, clock: Callable[[], datetime] | None = None,
              shared_price: bool = True, mint_price: Callable[[str, int, int], Decimal] | None = None) -> SellDeps:
    """The SELL engine's dependencies on a moving market: fills at its price; checks at `mint_price`, else at the
    market's shared price (unless shared_price is off: then at an exact quote); closed positions into `closed`."""
    if mint_price is None and shared_price:
        mint_price = _shared_price(market)
    return SellDeps(price_source=market.source(), fee_bps=FEE_BPS, mint_price=mint_price,
                    on_position_closed=closed.append if closed is not None else (lambda _: None),
                    clock=clock or (lambda: datetime.now(UTC)))


def _shared_price(market: MovingPrice) -> Callable[[str, int, int], Decimal]:
    return lambda mint, decimals, tokens_raw: market.price


# --- positions -------------------------------------------------------------

def bought_position(conn: Connection, trigger: int) -> dict[str, Any]:
    """A 0.05 SOL paper position bought by the BUY engine at ENTRY_PRICE (FEE_BPS fee) on WALLET_ALIAS; its row."""
    add_mint(conn)
    buy_workflow(conn, trigger)
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps())
    return conn.execute("SELECT * FROM positions WHERE mint = %s AND status = 'OPEN'", (MINT,)).fetchone()


def add_position(conn: Connection, wallet_id: Any, mint: str = MINT, **columns: Any) -> UUID:
    """A positions row written directly (1000 raw tokens of a 6-decimal mint for 0.1 SOL unless overridden)."""
    values = {"wallet_id": wallet_id, "mint": mint, **_POSITION_DEFAULTS, **columns}
    query = sql.SQL("INSERT INTO positions ({}) VALUES ({}) RETURNING id").format(
        sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join(map(sql.Placeholder, values)))
    return conn.execute(query, values).fetchone()["id"]


def upload_body(name: str, feature_names: list[str], seed: int = 0) -> dict[str, Any]:
    """The JSON body of POST /api/models for a freshly trained model over these feature names."""
    return model_body(train_booster(len(feature_names), seed), name, feature_names=feature_names)


# --- trades made by the engines -----------------------------------------------

def engine_buy(conn: Connection, model_id: int, mint: str) -> dict[str, Any]:
    """The BUY engine buys `mint` (0.05 SOL at ENTRY_PRICE) on a 0.9 prediction of `model_id`; the new position."""
    add_mint(conn, mint)
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, model_id, 0.9, mint=mint), buy_deps())
    return conn.execute("SELECT * FROM positions WHERE mint = %s AND status = 'OPEN'", (mint,)).fetchone()


def engine_sell_check(conn: Connection, position: dict[str, Any], factor: str, after: timedelta) -> dict[str, Any]:
    """One SELL engine check of `position` with the market at ENTRY_PRICE x factor, `after` it opened; its outcome."""
    from app.services.sell_engine import check_position

    clock = position["opened_at"] + after
    return check_position(PostgresStore(conn), position["id"], sell_deps(MovingPrice(ENTRY_PRICE * Decimal(factor)),
                                                          clock=lambda: clock))


# --- backtest history ------------------------------------------------------

BACKTEST_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the start of the backtest history
# MINT rises 30 % (take profit at +20 %); OTHER_MINT falls 1 % a minute (trailing stop at -3 % from the peak)
BACKTEST_PATHS = {
    MINT: [Decimal("0.0001") * (1 + Decimal(k) / 100) for k in range(31)] + [Decimal("0.00013")] * 30,
    OTHER_MINT: [Decimal("0.0002") * (1 - Decimal(k) / 100) for k in range(61)],
}


def seed_backtest_history(conn: Connection, model_id: int) -> None:
    """A backtest history: coin metrics each minute for an hour from BACKTEST_T0, one prediction per mint."""
    for mint, prices in BACKTEST_PATHS.items():
        add_mint(conn, mint)
        for minute, price in enumerate(prices):
            conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol) VALUES (%s, %s, %s)",
                         (mint, BACKTEST_T0 + timedelta(minutes=minute), price))
    for mint, minute in ((MINT, 1), (OTHER_MINT, 5)):
        at = BACKTEST_T0 + timedelta(minutes=minute, seconds=7)
        conn.execute("INSERT INTO predictions (mint, model_id, probability, predicted_at, status) "
                     "VALUES (%s, %s, 0.9, %s, 'EVALUATED')", (mint, model_id, at))
