"""The trading store in memory: dicts keyed by id plus small indexes, for backtests and the headless demo.

It reproduces the SQL of `app/repos/` (schema.sql): the same columns, defaults, computed fields, orderings and
invariants (a write that would break a unique index raises SlotTaken; guarded transitions change nothing when
their guard fails; a paper balance below zero raises ValueError, as the CHECK does). Values are stored as the
columns store them: NUMERIC rounded half away from zero to the column's scale (Decimal), raw token amounts and
lamports as int, times as aware UTC datetimes, JSONB as plain lists/dicts (object keys in jsonb's order).

Single-threaded: locks are no-ops. `transaction()` keeps an undo log of closures; a nested one is a savepoint.
Ids are deterministic (`UUID(int=n)`, one counter per store), so two runs of the same calls give the same ids
and ordering by id is ordering by insertion. Rows come back as read-only snapshots (a copy of the stored row);
nested JSON values are shared with the store, which never changes them in place: do not mutate them either.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import partial, reduce
from math import inf
from types import MappingProxyType
from typing import Any
from uuid import UUID

from app.store.port import Row, SlotTaken

Record = dict[str, Any]
Key = tuple[str, Any]  # (index name, key) of one unique slot or one group membership

_CONTEXT = Context(prec=120, rounding=ROUND_HALF_UP)  # PostgreSQL rounds NUMERIC half away from zero
_SOL = Decimal("1e-9")  # NUMERIC(30, 9)
_PRICE = Decimal("1e-18")  # NUMERIC(38, 18), NUMERIC(40, 18)
_PCT = Decimal("0.01")  # NUMERIC(5, 2)
_WHOLE = Decimal(1)  # NUMERIC(40, 0)
_OPEN_STATES = ("PENDING", "SENT")
_MISSING = object()
_JSON_SCALARS = (str, int, float, bool, type(None))

TABLES = ("wallets", "trading_workflows", "positions", "trade_logs", "workflow_executions", "orders",
          "predictions", "approvals")
_SLOTS = ("alias", "client_id", "active_sell", "open_position", "open_sell", "open_buy", "buy_prediction",
          "signature", "execution", "approval")
_GROUPS = ("open_positions", "open_orders", "position_orders", "open_buys", "position_executions",
           "position_sells")
METRIC_COLUMNS = ("price_sol", "volume_sol", "buy_volume_sol", "sell_volume_sol", "market_cap_sol",
                  "liquidity_sol", "trades", "holders")
_METRIC_SCALES = {"price_sol": _PRICE, "trades": None, "holders": None}
_PREDICTION_COLUMNS = ("id", "client_id", "mint", "model_id", "probability", "prediction", "tag", "predicted_at",
                       "received_at", "job_id", "status", "evaluated_at", "outcomes", "attempts")
_WALLET_COLUMNS = ("id", "alias", "type", "public_key", "trading_enabled", "virtual_sol_balance", "created_at",
                   "updated_at")
_WALLET_LIMITS = ("max_buys_per_day", "max_daily_loss_sol", "max_position_pct", "breaker_losing_sells",
                  "losing_streak", "breaker_tripped_at", "breaker_reason")
_CANDIDATE_COLUMNS = ("id", "name", "chain", "buy_amount_mode", "buy_amount_value", "cooldown_seconds",
                      "max_open_positions", "require_approval", "slippage_bps")
_LOCK_LIMITS = ("max_buys_per_day", "max_daily_loss_sol", "max_position_pct", "breaker_tripped_at", "breaker_reason")
_REPORT_COLUMNS = ("id", "mint", "status", "opened_at", "closed_at", "sol_spent", "entry_price_sol",
                   "initial_tokens_raw", "realized_pnl_sol", "close_reason")
_WORKFLOW_DEFAULTS: Record = {"buy_amount_mode": None, "buy_amount_value": None, "sell_amount_pct": 100,
                              "cooldown_seconds": 60, "max_open_positions": 5, "require_approval": False,
                              "slippage_bps": None, "is_active": False}
_LIMIT_DEFAULTS: Record = {"max_buys_per_day": None, "max_daily_loss_sol": None, "max_position_pct": None,
                           "breaker_losing_sells": 3}
_ORDER_LINKS = ("execution_id", "trade_log_id", "position_id")
_FINISH_DEFAULTS: Record = {"out_amount": None, "fee_lamports": None, "rent_lamports": None,
                            "sol_change_lamports": None, "slot": None, "error": None}


# --- value conversions (as the columns store them) ---------------------------
def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _num(value: Any, exponent: Decimal) -> Decimal | None:
    """A NUMERIC value rounded to its column's scale (never a negative zero)."""
    if value is None:
        return None
    rounded = _dec(value).quantize(exponent, context=_CONTEXT)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _raw(value: Any) -> int | None:
    """A NUMERIC(40, 0) amount (raw token units, lamports) as an int."""
    if value is None or type(value) is int:
        return value
    return int(_dec(value).quantize(_WHOLE, context=_CONTEXT))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _jsonb_key(pair: tuple[str, Any]) -> tuple[int, bytes]:
    key = pair[0].encode()
    return len(key), key


def _jsonb_object(pairs: list[tuple[str, Any]]) -> Record:
    """An object as jsonb keeps it: keys by length, then bytes; the last of duplicate keys wins."""
    return dict(sorted(pairs, key=_jsonb_key)) if len(pairs) > 1 else dict(pairs)


def _json(value: Any) -> Any:
    """A JSONB value as it comes back from the database (tuples as lists, enums as text, keys in jsonb order)."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value
    if kind is dict:
        return _json_object(value)
    if kind is list or kind is tuple:
        return [_json(item) for item in value]
    if isinstance(value, str):  # a StrEnum member: its text
        return str(value)
    return _json_dumped(value)


def _json_object(value: Record) -> Any:
    if not all(type(key) is str for key in value):
        return _json_dumped(value)
    return _jsonb_object([(key, _json(item)) for key, item in value.items()])


def _json_dumped(value: Any) -> Any:
    """Anything else as json.dumps has it (TypeError for what it cannot encode, as psycopg's Jsonb)."""
    return json.loads(json.dumps(value), object_pairs_hook=_jsonb_object)


def _numeric_text(value: Decimal | int | None) -> str | None:
    """A stored NUMERIC as PostgreSQL's ::text prints it (its column's scale, no exponent)."""
    if value is None:
        return None
    return str(value) if isinstance(value, int) else format(value, "f")


def _greatest(left: Decimal | None, right: Decimal | None) -> Decimal | None:
    """GREATEST(left, right): NULLs ignored."""
    if left is None or right is None:
        return right if left is None else left
    return max(left, right)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _snap(row: Record) -> Row:
    return MappingProxyType(dict(row))


def _frozen(row: Record | None) -> Row | None:
    return None if row is None else MappingProxyType(dict(row))


def _restore(mapping: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        mapping.pop(key, None)
    else:
        mapping[key] = old


def _remove_sorted(items: list[Any], item: Any) -> None:
    del items[bisect_left(items, item)]


def _remove_at(lists: tuple[list[Any], ...], index: int) -> None:
    for items in lists:
        del items[index]


def _trigger_model(row: Record) -> int | None:
    """(chain -> 'trigger' ->> 'model_id')::bigint of a BUY workflow (None: no trigger model)."""
    trigger = row["chain"].get("trigger") if isinstance(row["chain"], dict) else None
    model = trigger.get("model_id") if isinstance(trigger, dict) else None
    return None if model is None else int(model)


def _jsonb_time(moment: datetime) -> str:
    """A timestamptz as jsonb holds it (in a UTC session): ISO 8601, fractional seconds without trailing zeros."""
    moment = _utc(moment)
    fraction = f".{moment.microsecond:06d}".rstrip("0") if moment.microsecond else ""
    return f"{moment:%Y-%m-%dT%H:%M:%S}{fraction}+00:00"


def _sell_json(trade: Record) -> Record:
    """One sell as positions_with_trades aggregates it (jsonb_build_object: its time and amounts as text)."""
    return _jsonb_object([
        ("at", _jsonb_time(trade["created_at"])), ("rule", trade["rule"]),
        ("sol_amount", _numeric_text(trade["sol_amount"])),
        ("token_amount_raw", _numeric_text(trade["token_amount_raw"])),
        ("price_sol", _numeric_text(trade["price_sol"])), ("fee_sol", _numeric_text(trade["fee_sol"])),
        ("realized_pnl_sol", _numeric_text(trade["realized_pnl_sol"]))])


def _sell_fields(sell: Record | None) -> Record:
    """check_target's columns of the wallet's active SELL workflow (NULLs when none)."""
    if sell is None:
        return dict.fromkeys(("sell_workflow_id", "sell_workflow_name", "sell_chain", "sell_amount_pct",
                              "sell_slippage_bps"))
    return {"sell_workflow_id": sell["id"], "sell_workflow_name": sell["name"], "sell_chain": sell["chain"],
            "sell_amount_pct": sell["sell_amount_pct"], "sell_slippage_bps": sell["slippage_bps"]}


def _position_keys(row: Record) -> tuple[set[Key], set[Key]]:
    """A position's unique slots and group memberships (uq_positions_open_wallet_mint)."""
    if row["status"] != "OPEN":
        return set(), set()
    return {("open_position", (row["wallet_id"], row["mint"]))}, {("open_positions", row["wallet_id"])}


def _order_slots(row: Record) -> set[Key]:
    """An order's unique slots: its open SELL/BUY slot, its BUY per prediction+workflow, its signature."""
    slots: set[Key] = set()
    is_open = row["state"] in _OPEN_STATES
    if row["side"] == "SELL":
        if is_open and row["position_id"] is not None:
            slots.add(("open_sell", row["position_id"]))
    else:
        if is_open:
            slots.add(("open_buy", (row["wallet_id"], row["mint"])))
        if row["prediction_id"] is not None and row["workflow_id"] is not None:
            slots.add(("buy_prediction", (row["prediction_id"], row["workflow_id"])))
    if row["signature"] is not None:
        slots.add(("signature", row["signature"]))
    return slots


def _order_groups(row: Record) -> set[Key]:
    """The open-order groups an order belongs to (all open, open per position, open BUYs per wallet)."""
    if row["state"] not in _OPEN_STATES:
        return set()
    groups: set[Key] = {("open_orders", None)}
    if row["position_id"] is not None:
        groups.add(("position_orders", row["position_id"]))
    if row["side"] == "BUY":
        groups.add(("open_buys", row["wallet_id"]))
    return groups


def _order_keys(row: Record) -> tuple[set[Key], set[Key]]:
    return _order_slots(row), _order_groups(row)


class _Journal:
    """The undo log and the write primitives every table and index goes through (logged inside a transaction)."""

    def __init__(self) -> None:
        self._depth = 0
        self._undo: list[Callable[[], Any]] = []
        self._slots: dict[str, dict[Any, UUID]] = {name: {} for name in _SLOTS}
        self._groups: dict[str, dict[Any, dict[UUID, None]]] = {name: {} for name in _GROUPS}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A unit of work: every write inside is undone if an exception leaves it (nested: a savepoint)."""
        mark = len(self._undo)
        self._depth += 1
        try:
            yield
        except BaseException:
            self._rollback(mark)
            raise
        finally:
            self._depth -= 1
            if not self._depth:
                self._undo.clear()

    def _rollback(self, mark: int) -> None:
        undo = self._undo
        while len(undo) > mark:
            undo.pop()()

    def _log(self, undo: Callable[[], Any]) -> None:
        if self._depth:
            self._undo.append(undo)

    def _put(self, mapping: dict[Any, Any], key: Any, value: Any) -> None:
        if self._depth:
            self._undo.append(partial(_restore, mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def _drop(self, mapping: dict[Any, Any], key: Any) -> None:
        old = mapping.pop(key)
        self._log(partial(mapping.__setitem__, key, old))

    def _update(self, row: Record, changes: Record) -> None:
        if self._depth:
            self._undo.append(partial(row.update, {name: row[name] for name in changes}))
        row.update(changes)

    def _insort(self, items: list[Any], item: Any) -> None:
        insort(items, item)
        self._log(partial(_remove_sorted, items, item))

    def _unsort(self, items: list[Any], item: Any) -> None:
        _remove_sorted(items, item)
        self._log(partial(insort, items, item))

    def _take(self, slots: Iterable[Key], row_id: UUID) -> None:
        """Claim unique slots for a row, all or none: SlotTaken when one is held already."""
        wanted = list(slots)
        for name, key in wanted:
            if key in self._slots[name]:
                raise SlotTaken(f"{name} {key} is taken")
        for name, key in wanted:
            self._put(self._slots[name], key, row_id)

    def _free(self, slots: Iterable[Key]) -> None:
        for name, key in slots:
            self._drop(self._slots[name], key)

    def _join(self, groups: Iterable[Key], row_id: UUID) -> None:
        for name, key in groups:
            members = self._groups[name].setdefault(key, {})
            members[row_id] = None
            self._log(partial(members.pop, row_id, None))

    def _leave(self, groups: Iterable[Key], row_id: UUID) -> None:
        for name, key in groups:
            members = self._groups[name][key]
            del members[row_id]
            self._log(partial(members.__setitem__, row_id, None))

    def _members(self, group: str, key: Any) -> dict[UUID, None]:
        return self._groups[group].get(key) or {}

    def _reindex(self, old: tuple[set[Key], set[Key]], new: tuple[set[Key], set[Key]], row_id: UUID) -> None:
        """Move a changed row's slots and group memberships (SlotTaken before any change)."""
        self._take(new[0] - old[0], row_id)
        self._free(old[0] - new[0])
        self._leave(old[1] - new[1], row_id)
        self._join(new[1] - old[1], row_id)


class _Tables(_Journal):
    """The rows (dicts by id, insertion-ordered), the counters, the clock and the side indexes."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self._clock = clock
        self._ids = 0
        self._seqs = dict.fromkeys(("positions", "trade_logs", "predictions", "price_history"), 0)
        self._tables: dict[str, dict[UUID, Record]] = {name: {} for name in TABLES}
        self._wallets, self._workflows = self._tables["wallets"], self._tables["trading_workflows"]
        self._positions, self._trades = self._tables["positions"], self._tables["trade_logs"]
        self._executions, self._orders = self._tables["workflow_executions"], self._tables["orders"]
        self._predictions, self._approvals = self._tables["predictions"], self._tables["approvals"]
        self._open_order: list[tuple[datetime, int, UUID]] = []  # OPEN positions by (opened_at, seq)
        self._days: dict[tuple[UUID, date], Record] = {}  # (wallet, UTC day) -> its trades and running totals
        self._buy_workflows: dict[int, list[tuple[datetime, UUID]]] = {}  # BUY workflows by trigger model
        self._last_executed: dict[UUID, datetime] = {}  # workflow -> max(created_at) of its EXECUTED
        self._mints: dict[str, Record] = {}
        self._metrics: dict[str, tuple[list[datetime], list[Record]]] = {}
        self._prices: dict[str, list[tuple[datetime, int, Record]]] = {}
        now = self._now()
        self._halt: Record = {"halted": False, "halt_sells": False, "reason": None, "halted_by": None,
                              "halted_at": None, "updated_at": now}

    def _now(self) -> datetime:
        return _utc(self._clock())

    def _at(self, values: Record, name: str = "at") -> datetime:
        at = values.get(name)
        return self._now() if at is None else _utc(at)

    def _new_id(self) -> UUID:
        self._ids += 1
        return UUID(int=self._ids)

    def _next_seq(self, table: str) -> int:
        self._seqs[table] += 1
        return self._seqs[table]

    def _add(self, table: str, row: Record) -> None:
        self._put(self._tables[table], row["id"], row)

    def _state(self, workflow_id: UUID, wallet_id: UUID, mint: str) -> Record:
        """The wallet's state as buy_candidates computes it (_STATE of app/repos/buy_candidates.py)."""
        buys = self._members("open_buys", wallet_id)
        slot = (wallet_id, mint)
        return {"last_executed_at": self._last_executed.get(workflow_id),
                "open_positions": len(self._members("open_positions", wallet_id)) + len(buys),
                "holds_mint": slot in self._slots["open_position"] or slot in self._slots["open_buy"],
                "open_buy_lamports": sum(self._orders[order_id]["in_amount"] for order_id in buys),
                "mint_decimals": self.mint_decimals(mint), "db_now": self._now()}

    def _candidate(self, workflow: Record, mint: str) -> Row:
        wallet = self._wallets[workflow["wallet_id"]]
        row = {name: workflow[name] for name in _CANDIDATE_COLUMNS}
        row.update(wallet_id=wallet["id"], wallet_type=wallet["type"], public_key=wallet["public_key"],
                   virtual_sol_balance=wallet["virtual_sol_balance"])
        row.update(self._state(workflow["id"], wallet["id"], mint))
        return MappingProxyType(row)

    def _close_position(self, row: Record, changes: Record) -> None:
        self._reindex(_position_keys(row), (set(), set()), row["id"])
        self._unsort(self._open_order, (row["opened_at"], row["seq"], row["id"]))
        self._update(row, changes)

    def _change_order(self, row: Record, changes: Record) -> None:
        self._reindex(_order_keys(row), _order_keys({**row, **changes}), row["id"])
        self._update(row, changes)

    def _balance(self, wallet_id: UUID, amount: Decimal) -> None:
        """Add `amount` (negative: a debit) to a paper balance; ValueError below zero (the CHECK)."""
        row = self._wallets.get(wallet_id)
        if row is None:
            return
        balance = _num(_CONTEXT.add(row["virtual_sol_balance"], amount), _SOL)
        _require(balance >= 0, f"wallet {wallet_id}: virtual_sol_balance would be {balance} (below zero)")
        self._update(row, {"virtual_sol_balance": balance, "updated_at": self._now()})

    def _count_trade(self, row: Record) -> None:
        """Add a trade to its wallet's UTC day (what daily_usage reads): its item, the day's buys and P&L."""
        key = (row["wallet_id"], row["created_at"].date())
        day = self._days.get(key)
        if day is None:
            day = {"items": [], "buys": 0, "pnl": Decimal(0), "last": row["created_at"]}
            self._put(self._days, key, day)
        self._insort(day["items"], (row["created_at"], row["seq"], row["action"], row["realized_pnl_sol"]))
        pnl = row["realized_pnl_sol"] if row["action"] == "SELL" else None
        self._update(day, {"buys": day["buys"] + (row["action"] == "BUY"), "last": max(day["last"], row["created_at"]),
                           "pnl": day["pnl"] if pnl is None else _CONTEXT.add(day["pnl"], pnl)})

    def _metric_window(self, mint: str, bound: datetime) -> tuple[Sequence[Record], int]:
        """The mint's points (ts order) and how many are at or before `bound`."""
        times, points = self._metrics.get(mint, ((), ()))
        return points, bisect_right(times, bound)


class _Seeding(_Tables):
    """What a run starts from and reads back (MemoryStore only, not in the port)."""

    def add_wallet(self, alias: str, type: str = "TEST", virtual_sol_balance: Decimal = Decimal(0),
                   public_key: str | None = None, encrypted_secret_key: str | None = None,
                   trading_enabled: bool = True, **limits: Any) -> UUID:
        """Create a wallet (limits: max_buys_per_day, max_daily_loss_sol, max_position_pct, breaker_losing_sells)."""
        unknown = set(limits) - set(_LIMIT_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown wallet limits: {sorted(unknown)}")
        _require(type == "TEST" or public_key is not None, "a REAL wallet needs a public key")
        limits = {**_LIMIT_DEFAULTS, **limits}
        now, wallet_id = self._now(), self._new_id()
        row = {"id": wallet_id, "alias": alias, "type": str(type), "public_key": public_key,
               "encrypted_secret_key": encrypted_secret_key, "trading_enabled": trading_enabled,
               "virtual_sol_balance": _num(virtual_sol_balance, _SOL), "created_at": now, "updated_at": now,
               "max_buys_per_day": limits["max_buys_per_day"],
               "max_daily_loss_sol": _num(limits["max_daily_loss_sol"], _SOL),
               "max_position_pct": _num(limits["max_position_pct"], _PCT),
               "breaker_losing_sells": limits["breaker_losing_sells"], "losing_streak": 0,
               "breaker_tripped_at": None, "breaker_reason": None}
        _require(row["virtual_sol_balance"] >= 0, "virtual_sol_balance below zero")
        self._take([("alias", alias)], wallet_id)
        self._add("wallets", row)
        return wallet_id

    def add_workflow(self, wallet_id: UUID, body: dict[str, Any]) -> UUID:
        """Create a workflow of a wallet from its trading_workflows columns (name, type, chain, ...)."""
        if wallet_id not in self._wallets:
            raise KeyError(f"no wallet {wallet_id}")
        data = {**_WORKFLOW_DEFAULTS, **body}
        now, workflow_id = self._now(), self._new_id()
        row = {"id": workflow_id, "wallet_id": wallet_id, "name": data["name"], "type": str(data["type"]),
               "is_active": bool(data["is_active"]), "chain": _json(data["chain"]),
               "buy_amount_mode": _text(data["buy_amount_mode"]),
               "buy_amount_value": _num(data["buy_amount_value"], _SOL),
               "sell_amount_pct": _num(data["sell_amount_pct"], _PCT),
               "cooldown_seconds": int(data["cooldown_seconds"]), "max_open_positions": int(data["max_open_positions"]),
               "created_at": now, "updated_at": now, "require_approval": bool(data["require_approval"]),
               "slippage_bps": data["slippage_bps"]}
        self._take([("active_sell", wallet_id)] if row["type"] == "SELL" and row["is_active"] else [], workflow_id)
        self._add("trading_workflows", row)
        model = _trigger_model(row) if row["type"] == "BUY" else None
        if model is not None:
            self._insort(self._buy_workflows.setdefault(model, []), (now, workflow_id))
        return workflow_id

    def add_mint(self, mint: str, decimals: int, symbol: str | None = None) -> None:
        """Record a mint's decimals (and symbol; None keeps the stored one)."""
        old = self._mints.get(mint)
        symbol = symbol if symbol is not None or old is None else old["symbol"]
        self._put(self._mints, mint, {"mint": mint, "decimals": decimals, "symbol": symbol,
                                      "updated_at": self._now()})

    def add_metrics(self, mint: str, points: list[dict[str, Any]]) -> None:
        """Insert or replace (same mint and ts) coin_metrics points of a mint."""
        times, rows = self._metrics.setdefault(mint, ([], []))
        for point in points:
            row = {"ts": _utc(point["ts"])}
            for name in METRIC_COLUMNS:
                value = point.get(name)
                row[name] = None if value is None else self._metric_value(name, value)
            _require(row["price_sol"] is not None and row["price_sol"] > 0, "a metrics point needs price_sol > 0")
            if not self._depth and (not times or row["ts"] > times[-1]):  # loading in time order: append
                times.append(row["ts"])
                rows.append(row)
            else:
                self._upsert_point(times, rows, row)

    @staticmethod
    def _metric_value(name: str, value: Any) -> Any:
        scale = _METRIC_SCALES.get(name, _SOL)
        if scale is None:
            return None if value is None else int(value)
        return _num(value, scale)

    def _upsert_point(self, times: list[datetime], rows: list[Record], row: Record) -> None:
        index = bisect_left(times, row["ts"])
        if index < len(times) and times[index] == row["ts"]:
            self._log(partial(rows.__setitem__, index, rows[index]))
            rows[index] = row
            return
        times.insert(index, row["ts"])
        rows.insert(index, row)
        self._log(partial(_remove_at, (times, rows), index))

    def metric_points(self, mint: str, after: datetime | None, until: datetime | None) -> list[Row]:
        """A mint's metrics points with ts in (after, until], newest first, never one after now."""
        now = self._now()
        bound = now if until is None else min(_utc(until), now)
        times = self._metrics.get(mint, ((), ()))[0]
        points, high = self._metric_window(mint, bound)
        low = 0 if after is None else bisect_right(times, _utc(after))
        return [_snap(points[index]) for index in range(high - 1, low - 1, -1)]

    def latest_price(self, mint: str) -> tuple[Decimal, datetime] | None:
        """The mint's latest price_sol at or before now, with its ts (None: none stored)."""
        points, count = self._metric_window(mint, self._now())
        return (points[count - 1]["price_sol"], points[count - 1]["ts"]) if count else None

    def add_prediction(self, mint: str, model_id: int | None, probability: float, predicted_at: datetime,
                       client_id: str | None = None, prediction: int | None = None, tag: str | None = None,
                       received_at: datetime | None = None) -> UUID:
        """Store a PENDING prediction (received now unless `received_at` is given)."""
        _require(0 <= probability <= 1, "probability must be between 0 and 1")
        prediction_id = self._new_id()
        row = {"id": prediction_id, "client_id": client_id, "mint": mint, "model_id": model_id,
               "probability": float(probability), "prediction": prediction, "tag": tag,
               "predicted_at": _utc(predicted_at), "received_at": self._at({"at": received_at}), "job_id": None,
               "status": "PENDING", "evaluated_at": None, "outcomes": [], "claimed_at": None, "attempts": 0,
               "seq": self._next_seq("predictions")}
        self._take([("client_id", client_id)] if client_id is not None else [], prediction_id)
        self._add("predictions", row)
        return prediction_id

    def add_price(self, mint: str, price_sol: Decimal, source: str, at: datetime | None = None) -> None:
        """Record one decided price (price_history) at `at` (None: now)."""
        price = _num(price_sol, _PRICE)
        _require(price > 0, "price_sol must be > 0")
        row = {"id": self._next_seq("price_history"), "mint": mint, "ts": self._at({"at": at}),
               "price_sol": price, "source": source}
        self._insort(self._prices.setdefault(mint, []), (row["ts"], row["id"], row))

    def price_history(self, mint: str) -> list[Row]:
        """A mint's recorded prices in ts order (ties: in recording order)."""
        return [_snap(row) for _, _, row in self._prices.get(mint, ())]

    def set_halt(self, halted: bool, halt_sells: bool = False, reason: str | None = None) -> None:
        """Halt or resume trading (halted_at kept while it stays halted)."""
        now, old = self._now(), self._halt
        halted_at = ((old["halted_at"] if old["halted"] else None) or now) if halted else None
        self._update(old, {"halted": halted, "halt_sells": halt_sells, "reason": reason, "halted_by": None,
                           "halted_at": halted_at, "updated_at": now})

    def rows(self, table: str) -> list[Row]:
        """Every row of a table (wallets, trading_workflows, positions, ...) in insertion order."""
        return [_snap(row) for row in self._tables[table].values()]

    def positions_with_trades(self) -> list[dict[str, Any]]:
        """Every position with its buy's steps and its sells, in opening order (as the backtests repo gives it)."""
        ordered = sorted(self._positions.values(), key=lambda row: (row["opened_at"], row["seq"]))
        return [self._with_trades(row) for row in ordered]

    def _with_trades(self, position: Record) -> dict[str, Any]:
        row = {name: position[name] for name in _REPORT_COLUMNS}
        executions = [self._executions[e] for e in self._members("position_executions", position["id"])]
        first = min(executions, key=lambda execution: execution["created_at"], default=None)
        row["buy_steps"] = None if first is None else _json(first["steps_log"])
        row["sells"] = [_sell_json(trade) for trade in self._sells_of([position["id"]])]
        return row

    def _sells_of(self, position_ids: Iterable[UUID]) -> list[Record]:
        trades = [self._trades[t] for p in dict.fromkeys(position_ids) for t in self._members("position_sells", p)]
        return sorted(trades, key=lambda trade: (trade["created_at"], trade["seq"]))

    def closed_positions(self, wallet_id: UUID) -> list[Row]:
        """The wallet's CLOSED positions (id, opened_at, closed_at, realized_pnl_sol), oldest close first."""
        closed = [row for row in self._positions.values()
                  if row["wallet_id"] == wallet_id and row["status"] == "CLOSED"]
        closed.sort(key=lambda row: (row["closed_at"], row["seq"]))
        return [MappingProxyType({name: row[name] for name in ("id", "opened_at", "closed_at", "realized_pnl_sol")})
                for row in closed]

    def sell_exits(self, position_ids: list[UUID]) -> list[Row]:
        """The SELL trades of these positions (position_id, rule, realized_pnl_sol), in order of time."""
        return [MappingProxyType({"position_id": trade["position_id"], "rule": trade["rule"],
                                  "realized_pnl_sol": Decimal(0) if trade["realized_pnl_sol"] is None
                                  else trade["realized_pnl_sol"]})
                for trade in self._sells_of(position_ids)]


class MemoryStore(_Seeding):
    """TradingStore in memory, on a clock (an aware UTC datetime per call)."""

    def now(self) -> datetime:
        """The store's clock."""
        return self._now()

    # --- predictions --------------------------------------------------------
    def claim_prediction(self, prediction_id: UUID, lease_seconds: float) -> Row | None:
        """Take a PENDING, unclaimed (or lease-expired) prediction, with `age_seconds` since it was received."""
        row, now = self._predictions.get(prediction_id), self._now()
        if row is None or row["status"] != "PENDING":
            return None
        if row["claimed_at"] is not None and row["claimed_at"] >= now - timedelta(seconds=lease_seconds):
            return None
        self._update(row, {"claimed_at": now, "attempts": row["attempts"] + 1})
        claimed = {name: row[name] for name in _PREDICTION_COLUMNS}
        claimed["age_seconds"] = (now - row["received_at"]).total_seconds()
        return MappingProxyType(claimed)

    def get_prediction(self, prediction_id: UUID) -> Row | None:
        """One prediction (with its status and outcomes)."""
        row = self._predictions.get(prediction_id)
        return None if row is None else MappingProxyType({name: row[name] for name in _PREDICTION_COLUMNS})

    def renew_claim(self, prediction_id: UUID) -> None:
        """Extend the evaluator's lease on a PENDING prediction."""
        row = self._predictions.get(prediction_id)
        if row is not None and row["status"] == "PENDING":
            self._update(row, {"claimed_at": self._now()})

    def mark_evaluated(self, prediction_id: UUID, outcomes: list[dict[str, Any]], status: str = "EVALUATED") -> None:
        """Store a PENDING prediction's final status and outcomes (no effect once it is final)."""
        row = self._predictions.get(prediction_id)
        if row is not None and row["status"] == "PENDING":
            self._update(row, {"status": str(status), "evaluated_at": self._now(), "outcomes": _json(outcomes),
                               "claimed_at": None})

    # --- BUY side -----------------------------------------------------------
    def buy_candidates(self, model_id: int, mint: str) -> list[Row]:
        """Active BUY workflows triggered by model_id on trading-enabled wallets, with their wallet's state."""
        workflows = (self._workflows[workflow_id] for _, workflow_id in self._buy_workflows.get(model_id, ()))
        return [self._candidate(workflow, mint) for workflow in workflows
                if workflow["is_active"] and self._wallets[workflow["wallet_id"]]["trading_enabled"]]

    def buy_candidate(self, workflow_id: UUID, mint: str) -> Row | None:
        """One BUY workflow with its wallet's state, as buy_candidates gives it (active or not)."""
        workflow = self._workflows.get(workflow_id)
        return None if workflow is None or workflow["type"] != "BUY" else self._candidate(workflow, mint)

    def lock_buy_state(self, workflow_id: UUID, mint: str) -> Row | None:
        """The workflow's wallet state and limits, re-read (None: no such workflow)."""
        workflow = self._workflows.get(workflow_id)
        if workflow is None:
            return None
        wallet = self._wallets[workflow["wallet_id"]]
        row = {"is_active": workflow["is_active"], "trading_enabled": wallet["trading_enabled"],
               "virtual_sol_balance": wallet["virtual_sol_balance"], "wallet_id": wallet["id"]}
        row.update((name, wallet[name]) for name in _LOCK_LIMITS)
        halt = self._halt or {}
        row.update(halted=halt.get("halted"), halt_sells=halt.get("halt_sells"), halt_reason=halt.get("reason"),
                   halted_at=halt.get("halted_at"))
        row.update(self._state(workflow_id, wallet["id"], mint))
        return MappingProxyType(row)

    def daily_usage(self, wallet_id: UUID, at: datetime | None) -> Row:
        """buys_today and realized_pnl_today_sol of the wallet since 00:00 UTC of `at` (None: now)."""
        end = self._at({"at": at})
        day = self._days.get((wallet_id, end.date()))
        if day is None:
            buys, pnl = 0, Decimal(0)
        elif day["last"] <= end:
            buys, pnl = day["buys"], day["pnl"]
        else:  # `at` falls before some of that day's trades: count the ones up to it
            items = day["items"][:bisect_right(day["items"], (end, inf))]
            buys = sum(1 for item in items if item[2] == "BUY")
            pnl = reduce(_CONTEXT.add, (item[3] for item in items if item[2] == "SELL" and item[3] is not None),
                         Decimal(0))
        return MappingProxyType({"buys_today": buys, "realized_pnl_today_sol": pnl})

    def halt_state(self, lock: bool = False) -> Row | None:
        """The trading_state row (halted, halt_sells, reason, halted_by, halted_at, updated_at)."""
        return _snap(self._halt)

    def mint_decimals(self, mint: str) -> int | None:
        """The mint's decimals (None: unknown)."""
        row = self._mints.get(mint)
        return None if row is None else row["decimals"]

    def latest_market_point(self, mint: str, at: datetime | None) -> Row | None:
        """The mint's latest metrics point at or before `at` (None: now): ts, liquidity_sol, volume_sol."""
        points, count = self._metric_window(mint, self._at({"at": at}))
        if not count:
            return None
        point = points[count - 1]
        return MappingProxyType({"ts": point["ts"], "liquidity_sol": point["liquidity_sol"],
                                 "volume_sol": point["volume_sol"]})

    def insert_approval(self, values: dict[str, Any]) -> Row | None:
        """A PENDING approval expiring ttl_seconds after `at`; None when one exists for the prediction and workflow."""
        slot = (values["prediction_id"], values["workflow_id"])
        if slot in self._slots["approval"]:
            return None
        at, approval_id = self._at(values), self._new_id()
        row = {"id": approval_id, "prediction_id": slot[0], "workflow_id": slot[1], "mint": values["mint"],
               "amount_sol": _num(values["amount_sol"], _SOL), "steps_log": _json(values["steps_log"]),
               "status": "PENDING", "decided_by": None, "decided_at": None, "outcome": None,
               "expires_at": at + timedelta(seconds=values["ttl_seconds"]), "created_at": at}
        self._take([("approval", slot)], approval_id)
        self._add("approvals", row)
        return MappingProxyType({"id": approval_id, "expires_at": row["expires_at"]})

    # --- positions and trades ----------------------------------------------
    def insert_position(self, values: dict[str, Any]) -> UUID:
        """Open a position; SlotTaken when the wallet already holds the mint."""
        tokens, price = _raw(values["tokens_raw"]), _num(values["price_sol"], _PRICE)
        row = {"id": None, "wallet_id": values["wallet_id"], "mint": values["mint"], "status": "OPEN",
               "token_decimals": values["decimals"], "initial_tokens_raw": tokens, "tokens_raw": tokens,
               "sol_spent": _num(values["sol_spent"], _SOL), "sol_received": _num(0, _SOL), "entry_price_sol": price,
               "peak_price_sol": price, "last_price_sol": price, "realized_pnl_sol": _num(0, _SOL),
               "fired_rules": [], "close_reason": None, "buy_workflow_id": values.get("workflow_id"),
               "opened_at": self._at(values), "closed_at": None, "last_checked_at": None, "last_check_error": None,
               "failing_rule": None, "seq": 0}
        _require(tokens > 0 and row["sol_spent"] > 0 and price > 0, "a position needs tokens, SOL and a price > 0")
        row.update(id=self._new_id(), seq=self._next_seq("positions"))
        self._reindex((set(), set()), _position_keys(row), row["id"])
        self._add("positions", row)
        self._insort(self._open_order, (row["opened_at"], row["seq"], row["id"]))
        return row["id"]

    def book_buy(self, values: dict[str, Any]) -> dict[str, UUID | None]:
        """Write a filled buy's order (paper), position, trade, debit (paper) and execution, linked."""
        execution = {key: values[key] for key in ("workflow_id", "mint", "trigger_data", "steps_log",
                                                  "prediction_id")}
        if execution["prediction_id"] is not None and (
                (execution["prediction_id"], execution["workflow_id"]) in self._slots["execution"]):
            raise SlotTaken("execution already logged for this prediction and workflow")
        with self.transaction():
            return self._book_buy(values, execution)

    def _book_buy(self, values: dict[str, Any], execution: dict[str, Any]) -> dict[str, UUID | None]:
        paper, at = values["order_id"] is None, values.get("at")
        order_id = values["order_id"] or self.insert_order({
            key: values.get(key) for key in ("wallet_id", "mint", "workflow_id", "prediction_id", "in_amount",
                                             "quoted_out", "out_amount", "fee_lamports")} | {
            "side": "BUY", "state": "FILLED", "is_paper": True, "at": at})["id"]
        position_id = self.insert_position({key: values.get(key) for key in (
            "wallet_id", "mint", "decimals", "tokens_raw", "sol_spent", "price_sol", "workflow_id", "at")})
        trade_id = self.insert_trade({
            "wallet_id": values["wallet_id"], "position_id": position_id, "workflow_id": values["workflow_id"],
            "mint": values["mint"], "action": "BUY", "sol_amount": values["sol_spent"],
            "token_amount_raw": values["tokens_raw"], "price_sol": values["price_sol"], "fee_sol": values["fee_sol"],
            "at": at, "order_id": order_id, "is_paper": paper, "tx_signature": values.get("tx_signature")})
        if paper:
            self.debit(values["wallet_id"], values["sol_spent"])
        execution_id = self.insert_execution({**execution, "result": "EXECUTED", "trade_log_id": trade_id,
                                              "position_id": position_id, "approval_id": values.get("approval_id"),
                                              "at": at})
        self.link_order(order_id, execution_id=execution_id, trade_log_id=trade_id, position_id=position_id)
        return {"order_id": order_id, "position_id": position_id, "trade_id": trade_id, "execution_id": execution_id}

    def insert_trade(self, values: dict[str, Any]) -> UUID:
        """Write one trade (trade_logs row)."""
        row = {"id": self._new_id(), "wallet_id": values["wallet_id"], "position_id": values["position_id"],
               "workflow_id": values["workflow_id"], "mint": values["mint"], "action": str(values["action"]),
               "sol_amount": _num(values["sol_amount"], _SOL), "token_amount_raw": _raw(values["token_amount_raw"]),
               "price_sol": _num(values["price_sol"], _PRICE), "fee_sol": _num(values["fee_sol"], _SOL),
               "realized_pnl_sol": _num(values.get("realized_pnl_sol"), _SOL), "rule": _text(values.get("rule")),
               "is_paper": values.get("is_paper", True), "tx_signature": values.get("tx_signature"),
               "created_at": self._at(values), "order_id": values.get("order_id"), "seq": self._next_seq("trade_logs")}
        self._add("trade_logs", row)
        self._count_trade(row)
        if row["action"] == "SELL" and row["position_id"] is not None:
            self._join([("position_sells", row["position_id"])], row["id"])
        return row["id"]

    def check_target(self, position_id: UUID) -> Row | None:
        """A position with its wallet, the wallet's active SELL workflow (None when none) and the halt state."""
        position = self._positions.get(position_id)
        if position is None:
            return None
        wallet = self._wallets[position["wallet_id"]]
        sell_id = self._slots["active_sell"].get(wallet["id"])
        row = dict(position)
        row.update(wallet_alias=wallet["alias"], wallet_type=wallet["type"], trading_enabled=wallet["trading_enabled"])
        row.update(_sell_fields(None if sell_id is None else self._workflows[sell_id]))
        row.update(halted=self._halt["halted"], halt_sells=self._halt["halt_sells"], halt_reason=self._halt["reason"])
        return MappingProxyType(row)

    def lock_open_position(self, position_id: UUID) -> Row | None:
        """An OPEN position (None: closed or gone)."""
        row = self._positions.get(position_id)
        return None if row is None or row["status"] != "OPEN" else _snap(row)

    def record_price(self, position_id: UUID, price_sol: Decimal, peak_price_sol: Decimal,
                     rule_fired: bool = False) -> None:
        """A check's price and raised peak; clears the check error (and the failing rule unless a rule fired)."""
        row = self._positions.get(position_id)
        if row is None:
            return
        self._update(row, {"last_price_sol": _num(price_sol, _PRICE),
                           "peak_price_sol": _greatest(row["peak_price_sol"], _num(peak_price_sol, _PRICE)),
                           "last_checked_at": self._now(), "last_check_error": None,
                           "failing_rule": row["failing_rule"] if rule_fired else None})

    def record_check_error(self, position_id: UUID, message: str) -> None:
        """Note a check that could not price or sell the position."""
        row = self._positions.get(position_id)
        if row is not None:
            self._update(row, {"last_checked_at": self._now(), "last_check_error": message[:1000]})

    def set_failing_rule(self, position_id: UUID, rule: str | None) -> None:
        """Remember (or clear) the rule whose sell failed."""
        row = self._positions.get(position_id)
        if row is not None:
            self._update(row, {"failing_rule": _text(rule)})

    def apply_sell(self, position_id: UUID, values: dict[str, Any]) -> None:
        """Reduce or close an OPEN position after a sell (tokens_left, net_sol, realized, rule_key, reason, at)."""
        row = self._positions.get(position_id)
        if row is None or row["status"] != "OPEN":
            return
        left, rule_key = _raw(values["tokens_left"]), values["rule_key"]
        _require(left >= 0, "tokens_raw below zero")
        changes = {"tokens_raw": left, "sol_received": _num(_CONTEXT.add(row["sol_received"], _dec(values["net_sol"])),
                                                            _SOL),
                   "realized_pnl_sol": _num(values["realized"], _SOL), "failing_rule": None,
                   "fired_rules": row["fired_rules"] if rule_key is None else [*row["fired_rules"], str(rule_key)],
                   "closed_at": None, "close_reason": None}
        if left:
            self._update(row, changes)
            return
        changes.update(status="CLOSED", closed_at=self._at(values), close_reason=_text(values["reason"]))
        self._close_position(row, changes)

    def open_position_ids(self) -> list[UUID]:
        """Every OPEN position's id in opening order (opened_at, then seq)."""
        return [position_id for _, _, position_id in self._open_order]

    def position_status(self, position_id: UUID) -> str | None:
        """A position's status (None: no such position)."""
        row = self._positions.get(position_id)
        return None if row is None else row["status"]

    # --- wallets ------------------------------------------------------------
    def wallet(self, wallet_id: UUID) -> Row | None:
        """One wallet row (public_key, type, balance, limits, breaker, open_positions)."""
        wallet = self._wallets.get(wallet_id)
        if wallet is None:
            return None
        row = {name: wallet[name] for name in _WALLET_COLUMNS}
        row["has_secret_key"] = wallet["encrypted_secret_key"] is not None
        row.update((name, wallet[name]) for name in _WALLET_LIMITS)
        row["open_positions"] = len(self._members("open_positions", wallet_id))
        return MappingProxyType(row)

    def signing_row(self, wallet_id: UUID) -> Row | None:
        """A wallet's public key and encrypted secret key (REAL orders)."""
        row = self._wallets.get(wallet_id)
        return None if row is None else MappingProxyType(
            {"public_key": row["public_key"], "encrypted_secret_key": row["encrypted_secret_key"]})

    def debit(self, wallet_id: UUID, amount_sol: Decimal) -> None:
        """Take SOL from a paper balance (ValueError below zero)."""
        self._balance(wallet_id, -_dec(amount_sol))

    def credit(self, wallet_id: UUID, amount_sol: Decimal) -> None:
        """Add SOL to a paper balance."""
        self._balance(wallet_id, _dec(amount_sol))

    def lock_streak(self, wallet_id: UUID) -> Row:
        """The wallet's alias, losing_streak, breaker_losing_sells, breaker_tripped_at (KeyError: no wallet)."""
        row = self._wallets[wallet_id]
        return MappingProxyType({name: row[name] for name in ("alias", "losing_streak", "breaker_losing_sells",
                                                              "breaker_tripped_at")})

    def set_streak(self, wallet_id: UUID, streak: int, tripped_at: datetime | None, reason: str | None) -> None:
        """Store the losing streak; with a reason, trip the breaker at `tripped_at` (None: now)."""
        row = self._wallets.get(wallet_id)
        if row is None:
            return
        changes: Record = {"losing_streak": streak}
        if reason is not None:
            changes.update(breaker_tripped_at=self._at({"at": tripped_at}), breaker_reason=str(reason))
        self._update(row, changes)

    # --- executions ---------------------------------------------------------
    def insert_execution(self, values: dict[str, Any]) -> UUID | None:
        """Log one workflow execution; None when the prediction already has one for the workflow."""
        prediction_id, workflow_id = values.get("prediction_id"), values["workflow_id"]
        slots = [] if prediction_id is None else [("execution", (prediction_id, workflow_id))]
        if slots and slots[0][1] in self._slots["execution"]:
            return None
        row = {"id": self._new_id(), "workflow_id": workflow_id, "mint": values["mint"],
               "trigger_data": _json(values.get("trigger_data", {})), "steps_log": _json(values.get("steps_log", [])),
               "result": str(values["result"]), "trade_log_id": values.get("trade_log_id"),
               "position_id": values.get("position_id"), "error_message": values.get("error_message"),
               "created_at": self._at(values), "prediction_id": prediction_id, "approval_id": values.get("approval_id")}
        self._take(slots, row["id"])
        self._add("workflow_executions", row)
        if row["position_id"] is not None:
            self._join([("position_executions", row["position_id"])], row["id"])
        last = self._last_executed.get(workflow_id)
        if row["result"] == "EXECUTED" and (last is None or row["created_at"] > last):
            self._put(self._last_executed, workflow_id, row["created_at"])
        return row["id"]

    # --- orders -------------------------------------------------------------
    def insert_order(self, values: dict[str, Any]) -> Row:
        """Write an order (PENDING unless `state` is given); SlotTaken when its slot is taken."""
        at, state = self._at(values), str(values.get("state", "PENDING"))
        row = {"id": self._new_id(), "wallet_id": values["wallet_id"], "side": str(values["side"]),
               "mint": values["mint"], "state": state, "is_paper": values["is_paper"],
               **{name: values.get(name) for name in ("workflow_id", "prediction_id", "position_id", "execution_id",
                                                      "trade_log_id")},
               "in_amount": _raw(values["in_amount"]), "quoted_out": _raw(values.get("quoted_out")),
               "out_amount": _raw(values.get("out_amount")), "slippage_bps": values.get("slippage_bps"),
               "fee_lamports": values.get("fee_lamports"), "rent_lamports": None, "sol_change_lamports": None,
               "signature": None, "signed_transaction": None, "last_valid_block_height": None, "slot": None,
               "error": None, "context": _json(values.get("context") or {}), "created_at": at, "sent_at": None,
               "finished_at": None if state in _OPEN_STATES else at}
        _require(row["in_amount"] > 0, "an order needs in_amount > 0")
        self._reindex((set(), set()), _order_keys(row), row["id"])
        self._add("orders", row)
        return _snap(row)

    def link_order(self, order_id: UUID, **links: Any) -> None:
        """Point an order at what it produced (execution_id, trade_log_id, position_id)."""
        row = self._orders.get(order_id)
        if row is not None:
            self._change_order(row, {name: value for name, value in links.items() if name in _ORDER_LINKS})

    def mark_order_sent(self, order_id: UUID, values: dict[str, Any]) -> bool:
        """PENDING -> SENT with signature, raw bytes, last_valid_block_height, quoted_out; False if not PENDING."""
        row = self._orders.get(order_id)
        if row is None or row["state"] != "PENDING":
            return False
        self._change_order(row, {"state": "SENT", "signature": values["signature"], "signed_transaction": values["raw"],
                                 "last_valid_block_height": values["last_valid_block_height"],
                                 "quoted_out": _raw(values["quoted_out"]), "sent_at": self._now()})
        return True

    def finish_order(self, order_id: UUID, from_states: tuple[str, ...], values: dict[str, Any]) -> Row | None:
        """Move an order from one of `from_states` to its final state; None when it had moved already."""
        row = self._orders.get(order_id)
        if row is None or row["state"] not in from_states:
            return None
        changes = {**_FINISH_DEFAULTS, **{name: values[name] for name in _FINISH_DEFAULTS if name in values}}
        changes.update(state=str(values["state"]), out_amount=_raw(changes["out_amount"]), finished_at=self._now())
        _require(changes["state"] not in _OPEN_STATES, "a finished order's state must be final")
        self._change_order(row, changes)
        return _snap(row)

    def get_order(self, order_id: UUID) -> Row | None:
        """One order (with its signed bytes and context)."""
        return _frozen(self._orders.get(order_id))

    def open_order_for_position(self, position_id: UUID) -> Row | None:
        """The position's order in flight (PENDING or SENT), if any."""
        order_id = next(iter(self._members("position_orders", position_id)), None)
        return None if order_id is None else _snap(self._orders[order_id])

    def orders_to_reconcile(self, pending_older_than_seconds: float) -> list[Row]:
        """Every SENT order and PENDING ones older than the given age, oldest first."""
        cutoff = self._now() - timedelta(seconds=pending_older_than_seconds)
        rows = [self._orders[order_id] for order_id in self._members("open_orders", None)]
        due = [row for row in rows if row["state"] == "SENT" or row["created_at"] < cutoff]
        return [_snap(row) for row in sorted(due, key=lambda row: (row["created_at"], row["id"]))]
