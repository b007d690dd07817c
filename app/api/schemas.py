"""Request and response schemas (marshmallow). Bodies reject unknown fields."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.fields import ADDRESS_FORMAT, ADDRESS_PATTERN, DecimalInput, PointInTime
from app.core.chains import MAX_MODEL_ID, AmountMode, WorkflowType, check_workflow, positive_amount_problem
from app.core.keys import secret_key_problem
from app.core.solana import (
    SOL_DECIMALS,
    SOL_INTEGER_DIGITS,
    mint_address_problem,
    sol_amount_problem,
)
from app.errors import nest_errors

WORKFLOW_TYPES = tuple(t.value for t in WorkflowType)
RESULTS = ("EXECUTED", "REJECTED", "ERROR")
ORDER_STATES = ("PENDING", "SENT", "FILLED", "FAILED", "EXPIRED")
MAX_INT4 = 2**31 - 1
MAX_ALIAS_LENGTH = 64


def core_rule(problem: Callable[[Any], str | None]) -> Callable[[Any], None]:
    """A field validator that applies a core `*_problem` check and reports its message."""
    def validator(value: Any) -> None:
        message = problem(value)
        if message:
            raise ValidationError(message)
    return validator


def SolAmount(*, positive: bool = False, **kwargs) -> DecimalInput:  # noqa: N802 - reads like a field class
    """A SOL amount in: number or plain decimal string, >= 0 (> 0 if positive), at most 9 decimals, below 1e21."""
    kwargs.setdefault("metadata", {}).setdefault("description", "SOL, at most 9 decimals (decimal string)")
    return DecimalInput(places=SOL_DECIMALS, digits=SOL_INTEGER_DIGITS, positive=positive,
                        problem=sol_amount_problem, **kwargs)


def Address(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    """A Solana address (mint): base58 that decodes to 32 bytes."""
    kwargs.setdefault("metadata", {}).update(pattern=ADDRESS_PATTERN, format=ADDRESS_FORMAT)
    return fields.String(validate=core_rule(mint_address_problem), **kwargs)


def Alias(**kwargs) -> fields.String:  # noqa: N802 - reads like a field class
    """A wallet alias as a reference (an unknown one is 404, not 422)."""
    return fields.String(validate=validate.Length(min=1, max=MAX_ALIAS_LENGTH), **kwargs)


class JsonBool(fields.Boolean):
    """A boolean body field that accepts only JSON true/false (not "yes", 1, 0, …)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is not True and value is not False:
            raise self.make_error("invalid", input=value)
        return value


def register_spec(api) -> None:
    """Body rules the fields cannot state alone: a PATCH changes something; a REAL wallet names its key."""
    components = api.spec.components
    components.schema("WalletPatch", {"minProperties": 1}, schema=WalletPatchSchema)
    components.schema("WorkflowPatch", {"minProperties": 1}, schema=WorkflowPatchSchema)
    generated = {"required": ["generate"], "properties": {"generate": {"enum": [True]}}}
    components.schema("WalletCreate", {"anyOf": [{"required": ["public_key"]}, {"required": ["secret_key"]}, generated,
                                                 {"properties": {"type": {"enum": ["TEST"]}}}]},
                      schema=WalletCreateSchema)


# --- wallets -------------------------------------------------------------

class _WalletLimitFields(Schema):
    """A wallet's risk limits (null: no limit) and its circuit breaker's threshold."""

    max_buys_per_day = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=1_000_000),
                                      metadata={"description": "Buys per UTC day at most (null: no limit)"})
    max_daily_loss_sol = SolAmount(positive=True, allow_none=True, metadata={
        "description": "Net realised loss per UTC day, SOL, at which buys stop (null: no limit)"})
    max_position_pct = DecimalInput(places=2, at_most=100, positive=True, allow_none=True, metadata={
        "description": "A buy's amount at most this % of the balance (null: no limit)"})
    breaker_losing_sells = fields.Integer(strict=True, validate=validate.Range(min=1, max=1000), metadata={
        "description": "Consecutive losing sells that trip the circuit breaker (pausing buys); default 3"})


class WalletCreateSchema(_WalletLimitFields):
    """Body of POST /api/wallets (the limits as PATCH takes them; unset: the defaults)."""

    alias = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.-]{1,64}$", error="1-64 letters, digits, '_', '-' or '.'."))
    type = fields.String(load_default="TEST", validate=validate.OneOf(["TEST", "REAL"]))
    virtual_sol_balance = SolAmount(metadata={"description": "Starting paper balance (TEST), SOL"})
    trading_enabled = JsonBool(load_default=True)
    public_key = fields.String(validate=validate.Regexp(r"^[1-9A-HJ-NP-Za-km-z]{32,44}$",
                                                        error="Not a base58 Solana public key."))
    secret_key = fields.String(load_only=True, validate=[validate.Length(min=32, max=200),
                                                         core_rule(secret_key_problem)], metadata={
        "description": "REAL wallets: the base58 64-byte keypair; its public key is derived (a given public_key "
                       "must match), and it is stored encrypted (the server needs WALLET_ENCRYPTION_KEY). "
                       "Never returned."})
    generate = JsonBool(load_default=False, metadata={
        "description": "REAL wallets: true creates a new keypair (stored encrypted; the server needs "
                       "WALLET_ENCRYPTION_KEY) and returns only its public_key, to fund. Not with secret_key "
                       "or public_key."})


class WalletLimitsSchema(_WalletLimitFields):
    """A wallet's limits on their own (a backtest's wallet)."""


class WalletPatchSchema(_WalletLimitFields):
    """Body of PATCH /api/wallets/{alias}."""

    trading_enabled = JsonBool()
    top_up_sol = SolAmount(positive=True, metadata={
        "description": "SOL added to a TEST wallet's paper balance (the new balance must stay below 1e21)"})

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give trading_enabled, top_up_sol and/or a limit.", "_schema")


class WalletSchema(Schema):
    """A wallet as the API shows it."""

    id = fields.UUID()
    alias = fields.String()
    type = fields.String()
    public_key = fields.String(allow_none=True)
    has_secret_key = fields.Boolean()
    sol_balance = fields.String(metadata={
        "description": "REAL wallets, GET by alias: SOL on chain (getBalance at SOLANA_COMMITMENT), exact decimal "
                       "string; absent when the chain could not be read (see chain_error)"})
    chain_error = fields.String(metadata={"description": "Why sol_balance could not be read from the chain"})
    trading_enabled = fields.Boolean()
    virtual_sol_balance = fields.Decimal(as_string=True, metadata={"description": "SOL (decimal string)"})
    open_positions = fields.Integer()
    max_buys_per_day = fields.Integer(allow_none=True)
    max_daily_loss_sol = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "SOL"})
    max_position_pct = fields.Decimal(as_string=True, allow_none=True)
    breaker_losing_sells = fields.Integer()
    losing_streak = fields.Integer(metadata={"description": "Consecutive losing sells so far"})
    breaker_tripped_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the circuit breaker paused buys (null: closed)"})
    breaker_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


# --- workflows -----------------------------------------------------------

class _WorkflowFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    chain = fields.Dict(metadata={
        "description": "BUY: {trigger, conditions, filters?, sizing?}; SELL: {rules} (SPEC §3; README Safety)"})
    buy_amount_mode = fields.String(allow_none=True, validate=validate.OneOf([m.value for m in AmountMode]))
    # > 0 is the core's rule, the decimals and size are what the column holds; checked here so a PATCH names
    # them with the other field errors. "percent: at most 100" depends on buy_amount_mode: the core checks it.
    buy_amount_value = DecimalInput(places=SOL_DECIMALS, digits=SOL_INTEGER_DIGITS, positive=True, allow_none=True,
                                    problem=positive_amount_problem, metadata={
                                        "description": "fixed: SOL > 0; percent: 0 < v <= 100 (at most 9 decimals)"})
    sell_amount_pct = DecimalInput(places=2, at_most=100, minimum=1)
    cooldown_seconds = fields.Integer(strict=True, validate=validate.Range(min=0, max=30 * 86400))
    max_open_positions = fields.Integer(strict=True, validate=validate.Range(min=1, max=100))
    require_approval = JsonBool(metadata={
        "description": "BUY: stop before buying and wait for POST /api/approvals/{id}/approve (README Safety)"})
    slippage_bps = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=10_000), metadata={
        "description": "REAL wallets: this workflow's swaps' slippage in basis points (null: SLIPPAGE_BPS)"})


class WorkflowCreateSchema(_WorkflowFields):
    """Body of POST /api/buy/workflows."""

    wallet_alias = Alias(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.OneOf(WORKFLOW_TYPES))
    chain = fields.Dict(required=True, metadata={"description": "BUY: {trigger, conditions}; SELL: {rules}"})
    is_active = JsonBool(load_default=False)

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _chain_matches_type(self, data, original, **kwargs):
        """Report the core's workflow checks with the field errors, in one response; each field once."""
        if data.get("type") not in WORKFLOW_TYPES or "chain" not in data:
            return
        _, problems = check_workflow(data["type"], data["chain"], data.get("buy_amount_mode"),
                                     data.get("buy_amount_value"))
        already_reported = {(key,) for key in original if key not in data}
        problems = {path: msgs for path, msgs in problems.items() if path not in already_reported}
        if problems:
            raise ValidationError(nest_errors(problems))


class WorkflowPatchSchema(_WorkflowFields):
    """Body of PATCH /api/buy/workflows/{id}; `type` may be repeated but never changed."""

    type = fields.String(validate=validate.OneOf(WORKFLOW_TYPES))

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class WorkflowSchema(Schema):
    """A workflow as the API shows it (seed 001's WorkflowResponse plus summary and last execution)."""

    id = fields.UUID()
    wallet_id = fields.UUID()
    wallet_alias = fields.String()
    name = fields.String()
    type = fields.String()
    is_active = fields.Boolean()
    chain = fields.Dict()
    summary = fields.String()
    buy_amount_mode = fields.String(allow_none=True)
    buy_amount_value = fields.Float(allow_none=True)
    sell_amount_pct = fields.Float(allow_none=True)
    cooldown_seconds = fields.Integer()
    max_open_positions = fields.Integer()
    require_approval = fields.Boolean()
    slippage_bps = fields.Integer(allow_none=True)
    last_execution_at = fields.DateTime(allow_none=True)
    last_execution_result = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class WorkflowListArgs(Schema):
    """Filters of GET /api/buy/workflows."""

    wallet_alias = Alias()
    type = fields.String(validate=validate.OneOf(WORKFLOW_TYPES + ("buy", "sell")))


class ToggleArgs(Schema):
    """Query of PATCH /api/buy/workflows/{id}/toggle."""

    active = fields.Boolean(required=True)


class CloneSchema(Schema):
    """Optional body of POST /api/buy/workflows/{id}/clone."""

    name = fields.String(validate=validate.Length(min=1, max=100))


# --- executions and stats -----------------------------------------------

class ExecutionSchema(Schema):
    """One workflow execution log entry."""

    id = fields.UUID()
    workflow_id = fields.UUID()
    workflow_name = fields.String()
    workflow_type = fields.String()
    mint = fields.String()
    trigger_data = fields.Dict()
    steps_log = fields.List(fields.Dict())
    result = fields.String()
    error_message = fields.String(allow_none=True)
    trade_log_id = fields.UUID(allow_none=True)
    position_id = fields.UUID(allow_none=True)
    order_id = fields.UUID(allow_none=True, metadata={"description": "the order this execution placed"})
    order_state = fields.String(allow_none=True, metadata={"enum": [*ORDER_STATES, None]})
    created_at = fields.DateTime()


class LimitArgs(Schema):
    """?limit= for a workflow's executions."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class RecentArgs(Schema):
    """?limit=&result= for recent executions."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    result = fields.String(validate=validate.OneOf(RESULTS))


class PageArgs(Schema):
    """?page=&page_size= of a paginated list (page 1 first)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_INT4))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PageSchema(Schema):
    """A page's position in the whole list; subclasses add `items`."""

    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class ExecutionPageArgs(PageArgs):
    """Filters and page of GET /api/buy/workflow-executions."""

    workflow_id = fields.UUID()
    result = fields.String(validate=validate.OneOf(RESULTS))
    type = fields.String(validate=validate.OneOf(WORKFLOW_TYPES))
    mint = fields.String(validate=validate.Length(min=1, max=64))


class ExecutionPageSchema(PageSchema):
    """A page of executions with the total count."""

    items = fields.List(fields.Nested(ExecutionSchema))


class ExecutionCountsSchema(Schema):
    """Executions by result."""

    EXECUTED = fields.Integer()
    REJECTED = fields.Integer()
    ERROR = fields.Integer()
    total = fields.Integer()


class StatsSchema(Schema):
    """Active workflows and today's executions (UTC day)."""

    active_buy = fields.Integer()
    active_sell = fields.Integer()
    executions_today = fields.Nested(ExecutionCountsSchema)


class DeletedSchema(Schema):
    """Acknowledgement of a deletion."""

    status = fields.String()
    id = fields.String()


# --- predictions ---------------------------------------------------------

class PredictionInSchema(Schema):
    """One prediction as posted by a model server (alone or in a list)."""

    id = fields.String(validate=validate.Length(min=1, max=128), data_key="id", attribute="client_id",
                       metadata={"description": "Client idempotency key: the same id twice is stored once"})
    mint = Address(required=True)
    model_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_MODEL_ID))
    probability = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, max=1))
    prediction = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=-MAX_INT4 - 1, max=MAX_INT4))
    tag = fields.String(allow_none=True, validate=validate.Length(max=100))
    timestamp = PointInTime(required=True, attribute="predicted_at", metadata={
        "description": "When the model predicted (timezone required; after 2000, not in the future)"})


class PredictionAcceptedSchema(Schema):
    """What POST /api/predictions stored and enqueued for one prediction."""

    id = fields.UUID()
    client_id = fields.String(allow_none=True)
    job_id = fields.String(allow_none=True)
    status = fields.String()
    duplicate = fields.Boolean(metadata={"description": "True when the client id was already stored"})


class PredictionSchema(Schema):
    """A stored prediction, what its evaluation concluded per workflow, and the executions it caused."""

    id = fields.UUID()
    client_id = fields.String(allow_none=True)
    mint = fields.String()
    model_id = fields.Integer(allow_none=True)
    probability = fields.Float()
    prediction = fields.Integer(allow_none=True)
    tag = fields.String(allow_none=True)
    timestamp = fields.DateTime(attribute="predicted_at")
    received_at = fields.DateTime()
    job_id = fields.String(allow_none=True)
    status = fields.String()
    evaluated_at = fields.DateTime(allow_none=True)
    outcomes = fields.List(fields.Dict())
    executions = fields.List(fields.Nested(ExecutionSchema))


# --- positions and trades ------------------------------------------------

class TradeSchema(Schema):
    """One paper or on-chain trade."""

    id = fields.UUID()
    wallet_alias = fields.String()
    position_id = fields.UUID(allow_none=True)
    workflow_id = fields.UUID(allow_none=True)
    mint = fields.String()
    action = fields.String()
    sol_amount = fields.Decimal(as_string=True, metadata={"description": "BUY: SOL debited incl. fee; SELL: credited"})
    token_amount_raw = fields.Decimal(as_string=True, places=0)
    price_sol = fields.Decimal(as_string=True)
    fee_sol = fields.Decimal(as_string=True)
    realized_pnl_sol = fields.Decimal(as_string=True, allow_none=True)
    rule = fields.String(allow_none=True)
    is_paper = fields.Boolean()
    tx_signature = fields.String(allow_none=True, metadata={"description": "REAL trades: the transaction's signature"})
    order_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


class OrderSchema(Schema):
    """One order: paper ones are FILLED at once; on-chain ones go PENDING -> SENT -> FILLED | FAILED | EXPIRED."""

    id = fields.UUID()
    wallet_id = fields.UUID()
    wallet_alias = fields.String()
    side = fields.String(metadata={"enum": ["BUY", "SELL"]})
    mint = fields.String()
    state = fields.String(metadata={"enum": list(ORDER_STATES)})
    is_paper = fields.Boolean()
    workflow_id = fields.UUID(allow_none=True)
    prediction_id = fields.UUID(allow_none=True)
    position_id = fields.UUID(allow_none=True)
    execution_id = fields.UUID(allow_none=True)
    trade_log_id = fields.UUID(allow_none=True)
    in_amount = fields.Decimal(as_string=True, places=0, metadata={
        "description": "BUY: lamports into the swap; SELL: raw token units"})
    quoted_out = fields.Decimal(as_string=True, places=0, allow_none=True)
    out_amount = fields.Decimal(as_string=True, places=0, allow_none=True, metadata={
        "description": "the actual fill: BUY raw tokens received; SELL lamports out of the swap"})
    slippage_bps = fields.Integer(allow_none=True)
    fee_lamports = fields.Integer(allow_none=True, metadata={"description": "network fee (paper: the paper fee)"})
    rent_lamports = fields.Integer(allow_none=True, metadata={"description": "token-account rent paid (REAL)"})
    sol_change_lamports = fields.Integer(allow_none=True, metadata={
        "description": "the wallet's SOL after minus before, as the chain recorded it"})
    signature = fields.String(allow_none=True)
    last_valid_block_height = fields.Integer(allow_none=True)
    slot = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class OrderListArgs(Schema):
    """Filters of GET /api/orders."""

    wallet_alias = Alias()
    state = fields.String(validate=validate.OneOf(ORDER_STATES))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000))


class PositionSchema(Schema):
    """A position with entry, peak, last price and P&L (SOL amounts as decimal strings)."""

    id = fields.UUID()
    wallet_id = fields.UUID()
    wallet_alias = fields.String()
    mint = fields.String()
    status = fields.String()
    token_decimals = fields.Integer()
    initial_tokens_raw = fields.Decimal(as_string=True, places=0)
    tokens_raw = fields.Decimal(as_string=True, places=0)
    sol_spent = fields.Decimal(as_string=True)
    sol_received = fields.Decimal(as_string=True)
    entry_price_sol = fields.Decimal(as_string=True)
    peak_price_sol = fields.Decimal(as_string=True, allow_none=True)
    last_price_sol = fields.Decimal(as_string=True, allow_none=True)
    change_from_entry_pct = fields.Float(allow_none=True)
    cost_basis_sol = fields.Decimal(as_string=True, places=9)
    market_value_sol = fields.Decimal(as_string=True, places=9, allow_none=True)
    unrealized_pnl_sol = fields.Decimal(as_string=True, places=9, allow_none=True)
    realized_pnl_sol = fields.Decimal(as_string=True)
    fired_rules = fields.List(fields.String())
    close_reason = fields.String(allow_none=True)
    buy_workflow_id = fields.UUID(allow_none=True)
    buy_workflow_name = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    last_checked_at = fields.DateTime(allow_none=True)
    last_check_error = fields.String(allow_none=True)


class PositionDetailSchema(PositionSchema):
    """A position, its trades and its orders."""

    trades = fields.List(fields.Nested(TradeSchema))
    orders = fields.List(fields.Nested(OrderSchema))


class PositionListArgs(Schema):
    """Filters of GET /api/positions."""

    wallet_alias = Alias()
    status = fields.String(validate=validate.OneOf(["OPEN", "CLOSED"]))
    mint = Address()
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000))


class TradeListArgs(Schema):
    """Filters of GET /api/trades."""

    wallet_alias = Alias()
    mint = Address()
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=5000))


class SellRequestSchema(Schema):
    """Body of POST /api/positions/{id}/sell."""

    pct = DecimalInput(places=2, at_most=100, positive=True, load_default=Decimal(100),
                       metadata={"description": "Percent of the tokens held to sell (default 100: close)"})


# --- performance ---------------------------------------------------------

class PerformanceArgs(Schema):
    """?from=&to= of the performance reports: the positions closed in [from, to)."""

    from_ = fields.AwareDateTime(data_key="from", format="iso", metadata={
        "description": "Inclusive lower bound on the positions' closed_at (default: none); not after to"})
    to = fields.AwareDateTime(format="iso", metadata={
        "description": "Exclusive upper bound on the positions' closed_at (default: none)"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("Must not be after to.", "from")


class EquityPointSchema(Schema):
    """Equity after one closed position (cumulative realised P&L from the starting equity)."""

    at = fields.DateTime(metadata={"description": "The position's closed_at"})
    position_id = fields.String()
    pnl_sol = fields.Decimal(as_string=True)
    equity_sol = fields.Decimal(as_string=True)


class RuleExitsSchema(Schema):
    """The sells one rule (or reason) made and their summed realised P&L."""

    rule = fields.String()
    exits = fields.Integer()
    realized_pnl_sol = fields.Decimal(as_string=True)


class DayPnlSchema(Schema):
    """Positions closed on one UTC day and their summed realised P&L."""

    day = fields.Date()
    trades = fields.Integer()
    realized_pnl_sol = fields.Decimal(as_string=True)


class PerformanceSchema(Schema):
    """Performance of a wallet or BUY workflow: a trade is a closed position (partial sells count toward it);
    figures as defined in app/core/performance.py; SOL amounts, ratios and percentages as decimal strings."""

    wallet_alias = fields.String(allow_none=True)
    workflow_id = fields.UUID(allow_none=True)
    from_ = fields.DateTime(data_key="from", attribute="from", allow_none=True)
    to = fields.DateTime(allow_none=True)
    trades = fields.Integer()
    wins = fields.Integer()
    losses = fields.Integer()
    breakeven = fields.Integer()
    realized_pnl_sol = fields.Decimal(as_string=True)
    gross_win_sol = fields.Decimal(as_string=True)
    gross_loss_sol = fields.Decimal(as_string=True)
    win_rate_pct = fields.Decimal(as_string=True, allow_none=True)
    avg_win_sol = fields.Decimal(as_string=True, allow_none=True)
    avg_loss_sol = fields.Decimal(as_string=True, allow_none=True)
    profit_factor = fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": "gross wins / |gross losses| (null when there is no loss)"})
    max_drawdown_sol = fields.Decimal(as_string=True)
    max_drawdown_pct = fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": "Largest fall below the running peak in % of that peak (null when no peak is above 0)"})
    avg_holding_seconds = fields.Decimal(as_string=True, allow_none=True)
    starting_equity_sol = fields.Decimal(as_string=True, metadata={
        "description": "Where the equity curve starts: 0 (the curve is the cumulative realised P&L)"})
    equity_curve = fields.List(fields.Nested(EquityPointSchema))
    exits_by_rule = fields.List(fields.Nested(RuleExitsSchema))
    pnl_by_day = fields.List(fields.Nested(DayPnlSchema))
