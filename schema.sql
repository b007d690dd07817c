-- Trading Workflows schema.
--
-- Each block below is one migration, applied once, in order, inside its own
-- transaction by `python -m app migrate` (the Procfile's release process).
-- The applied versions are recorded in schema_version; never edit a block
-- that has shipped: append a new one.

-- migrate: 1 wallets, models, workflows, executions, positions, trades
CREATE TABLE wallets (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    alias                TEXT NOT NULL UNIQUE CHECK (alias ~ '^[A-Za-z0-9_.-]{1,64}$'),
    type                 TEXT NOT NULL DEFAULT 'TEST' CHECK (type IN ('TEST', 'REAL')),
    public_key           TEXT,
    encrypted_secret_key TEXT,
    trading_enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    virtual_sol_balance  NUMERIC(30, 9) NOT NULL DEFAULT 0 CHECK (virtual_sol_balance >= 0),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (type = 'TEST' OR public_key IS NOT NULL)
);

CREATE TABLE ml_models (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    version       INTEGER NOT NULL DEFAULT 1,
    model_format  TEXT NOT NULL DEFAULT 'ubjson' CHECK (model_format IN ('ubjson', 'json')),
    feature_names JSONB NOT NULL DEFAULT '[]',
    model_data    BYTEA,
    sha256        TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE trading_workflows (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet_id          UUID NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    name               VARCHAR(100) NOT NULL CHECK (length(name) >= 1),
    type               VARCHAR(4) NOT NULL CHECK (type IN ('BUY', 'SELL')),
    is_active          BOOLEAN NOT NULL DEFAULT FALSE,
    chain              JSONB NOT NULL,
    buy_amount_mode    VARCHAR(7) CHECK (buy_amount_mode IN ('fixed', 'percent')),
    buy_amount_value   NUMERIC(30, 9) CHECK (buy_amount_value > 0),
    sell_amount_pct    NUMERIC(5, 2) NOT NULL DEFAULT 100 CHECK (sell_amount_pct BETWEEN 1 AND 100),
    cooldown_seconds   INTEGER NOT NULL DEFAULT 60 CHECK (cooldown_seconds >= 0),
    max_open_positions INTEGER NOT NULL DEFAULT 5 CHECK (max_open_positions BETWEEN 1 AND 100),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (type = 'SELL' OR (buy_amount_mode IS NOT NULL AND buy_amount_value IS NOT NULL)),
    CHECK (buy_amount_mode IS DISTINCT FROM 'percent' OR buy_amount_value <= 100)
);
CREATE INDEX idx_workflows_wallet ON trading_workflows (wallet_id);
CREATE INDEX idx_workflows_type_active ON trading_workflows (type, is_active);
-- A position answers to exactly one SELL workflow: at most one active per wallet.
CREATE UNIQUE INDEX uq_workflows_one_active_sell_per_wallet
    ON trading_workflows (wallet_id) WHERE type = 'SELL' AND is_active;

CREATE TABLE positions (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet_id          UUID NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    mint               TEXT NOT NULL,
    status             TEXT NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
    token_decimals     SMALLINT NOT NULL CHECK (token_decimals BETWEEN 0 AND 18),
    initial_tokens_raw NUMERIC(40, 0) NOT NULL CHECK (initial_tokens_raw > 0),
    tokens_raw         NUMERIC(40, 0) NOT NULL CHECK (tokens_raw >= 0),
    sol_spent          NUMERIC(30, 9) NOT NULL CHECK (sol_spent > 0),
    sol_received       NUMERIC(30, 9) NOT NULL DEFAULT 0,
    entry_price_sol    NUMERIC(38, 18) NOT NULL CHECK (entry_price_sol > 0),
    peak_price_sol     NUMERIC(38, 18),
    last_price_sol     NUMERIC(38, 18),
    realized_pnl_sol   NUMERIC(30, 9) NOT NULL DEFAULT 0,
    fired_rules        JSONB NOT NULL DEFAULT '[]',
    close_reason       TEXT,
    buy_workflow_id    UUID REFERENCES trading_workflows(id) ON DELETE SET NULL,
    opened_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at          TIMESTAMPTZ,
    last_checked_at    TIMESTAMPTZ,
    last_check_error   TEXT,
    CHECK ((status = 'OPEN') = (closed_at IS NULL))
);
-- One OPEN position per wallet and mint, enforced here, not in code.
CREATE UNIQUE INDEX uq_positions_open_wallet_mint ON positions (wallet_id, mint) WHERE status = 'OPEN';
CREATE INDEX idx_positions_wallet_status ON positions (wallet_id, status);

CREATE TABLE trade_logs (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet_id        UUID NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    position_id      UUID REFERENCES positions(id) ON DELETE SET NULL,
    workflow_id      UUID REFERENCES trading_workflows(id) ON DELETE SET NULL,
    mint             TEXT NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('BUY', 'SELL')),
    sol_amount       NUMERIC(30, 9) NOT NULL,
    token_amount_raw NUMERIC(40, 0) NOT NULL,
    price_sol        NUMERIC(38, 18) NOT NULL,
    fee_sol          NUMERIC(30, 9) NOT NULL DEFAULT 0,
    realized_pnl_sol NUMERIC(30, 9),
    rule             TEXT,
    is_paper         BOOLEAN NOT NULL DEFAULT TRUE,
    tx_signature     TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_trade_logs_wallet_created ON trade_logs (wallet_id, created_at DESC);
CREATE INDEX idx_trade_logs_mint ON trade_logs (mint);

CREATE TABLE workflow_executions (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workflow_id   UUID NOT NULL REFERENCES trading_workflows(id) ON DELETE CASCADE,
    mint          TEXT NOT NULL,
    trigger_data  JSONB NOT NULL DEFAULT '{}',
    steps_log     JSONB NOT NULL DEFAULT '[]',
    result        VARCHAR(10) NOT NULL CHECK (result IN ('EXECUTED', 'REJECTED', 'ERROR')),
    trade_log_id  UUID REFERENCES trade_logs(id) ON DELETE SET NULL,
    position_id   UUID REFERENCES positions(id) ON DELETE SET NULL,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_wf_exec_workflow_created ON workflow_executions (workflow_id, created_at DESC);
CREATE INDEX idx_wf_exec_created ON workflow_executions (created_at DESC);
CREATE INDEX idx_wf_exec_result_created ON workflow_executions (result, created_at DESC);

-- migrate: 2 predictions, coin metrics, mint decimals, model metadata
ALTER TABLE ml_models ADD COLUMN description TEXT;
ALTER TABLE ml_models ADD COLUMN num_features INTEGER;

CREATE TABLE mints (
    mint       TEXT PRIMARY KEY,
    decimals   SMALLINT NOT NULL CHECK (decimals BETWEEN 0 AND 18),
    symbol     TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE coin_metrics (
    mint            TEXT NOT NULL,
    ts              TIMESTAMPTZ NOT NULL,
    price_sol       NUMERIC(38, 18) NOT NULL CHECK (price_sol > 0),
    volume_sol      NUMERIC(30, 9),
    buy_volume_sol  NUMERIC(30, 9),
    sell_volume_sol NUMERIC(30, 9),
    market_cap_sol  NUMERIC(30, 9),
    liquidity_sol   NUMERIC(30, 9),
    trades          INTEGER,
    holders         INTEGER,
    PRIMARY KEY (mint, ts)
);

CREATE TABLE predictions (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id    TEXT UNIQUE,
    mint         TEXT NOT NULL,
    model_id     BIGINT REFERENCES ml_models(id) ON DELETE SET NULL,
    probability  DOUBLE PRECISION NOT NULL CHECK (probability BETWEEN 0 AND 1),
    prediction   INTEGER,
    tag          TEXT,
    predicted_at TIMESTAMPTZ NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    job_id       TEXT,
    status       TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'EVALUATED', 'FAILED')),
    evaluated_at TIMESTAMPTZ,
    outcomes     JSONB NOT NULL DEFAULT '[]'
);
CREATE INDEX idx_predictions_pending ON predictions (received_at) WHERE status = 'PENDING';
CREATE INDEX idx_predictions_mint ON predictions (mint, predicted_at DESC);

ALTER TABLE workflow_executions ADD COLUMN prediction_id UUID REFERENCES predictions(id) ON DELETE SET NULL;
-- A prediction is evaluated at most once per workflow, whatever the number of jobs or retries.
CREATE UNIQUE INDEX uq_wf_exec_prediction_workflow ON workflow_executions (prediction_id, workflow_id)
    WHERE prediction_id IS NOT NULL;
-- Cooldown reads "last EXECUTED of this workflow".
CREATE INDEX idx_wf_exec_workflow_executed ON workflow_executions (workflow_id, created_at DESC)
    WHERE result = 'EXECUTED';
-- BUY evaluation looks up active BUY workflows by their trigger model.
CREATE INDEX idx_workflows_trigger_model ON trading_workflows (((chain -> 'trigger' ->> 'model_id')::bigint))
    WHERE type = 'BUY' AND is_active;

-- migrate: 3 sell monitor
-- The rule whose sell last failed: its ERROR is logged once, not at every check.
ALTER TABLE positions ADD COLUMN failing_rule TEXT;
CREATE INDEX idx_positions_open ON positions (mint) WHERE status = 'OPEN';

-- migrate: 4 prediction leases
-- An evaluation claims its prediction for a short lease (renewed per workflow); a claim whose job died
-- expires, and the scheduler's sweep requeues the prediction. Too old to act on: EXPIRED, never PENDING.
ALTER TABLE predictions ADD COLUMN claimed_at TIMESTAMPTZ;
ALTER TABLE predictions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE predictions DROP CONSTRAINT predictions_status_check;
ALTER TABLE predictions ADD CONSTRAINT predictions_status_check
    CHECK (status IN ('PENDING', 'EVALUATED', 'FAILED', 'EXPIRED'));

-- migrate: 5 api keys and audit log
-- API keys are stored only as a SHA-256 hash (they are 32 random bytes: a fast hash is enough).
CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    role         TEXT NOT NULL CHECK (role IN ('admin', 'read-only')),
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
-- Every change made through the API, written in the same transaction as the change.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    key_name    TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    target      TEXT,
    before      JSONB,
    after       JSONB,
    client_addr TEXT
);
CREATE INDEX idx_audit_at ON audit_log (at DESC, id DESC);
CREATE INDEX idx_audit_target ON audit_log (target, at DESC);
-- Secrets the service generates for itself once and shares between processes (the session cookie key).
CREATE TABLE service_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- migrate: 6 risk guards: emergency stop, per-wallet limits and circuit breaker
-- One row: the emergency stop. A buy reads it FOR SHARE after locking its wallet, and a halt UPDATEs it, so a
-- halt returns only after the buys already past the check have committed, and every later buy sees it.
CREATE TABLE trading_state (
    id         BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    halted     BOOLEAN NOT NULL DEFAULT FALSE,
    halt_sells BOOLEAN NOT NULL DEFAULT FALSE,
    reason     TEXT,
    halted_by  TEXT,
    halted_at  TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO trading_state DEFAULT VALUES;
-- Per-wallet limits (NULL: no limit) and the circuit breaker over consecutive losing sells.
ALTER TABLE wallets ADD COLUMN max_buys_per_day INTEGER CHECK (max_buys_per_day BETWEEN 1 AND 1000000);
ALTER TABLE wallets ADD COLUMN max_daily_loss_sol NUMERIC(30, 9) CHECK (max_daily_loss_sol > 0);
ALTER TABLE wallets ADD COLUMN max_position_pct NUMERIC(5, 2) CHECK (max_position_pct > 0 AND max_position_pct <= 100);
ALTER TABLE wallets ADD COLUMN breaker_losing_sells INTEGER NOT NULL DEFAULT 3
    CHECK (breaker_losing_sells BETWEEN 1 AND 1000);
ALTER TABLE wallets ADD COLUMN losing_streak INTEGER NOT NULL DEFAULT 0 CHECK (losing_streak >= 0);
ALTER TABLE wallets ADD COLUMN breaker_tripped_at TIMESTAMPTZ;
ALTER TABLE wallets ADD COLUMN breaker_reason TEXT;
CREATE INDEX idx_trade_logs_wallet_action_created ON trade_logs (wallet_id, action, created_at);

-- migrate: 7 notifications
-- Where events go (a webhook URL, or a Telegram bot and chat), which events, globally or for one workflow.
-- A webhook's signing secret is kept to sign; a Telegram bot token is stored encrypted (WALLET_ENCRYPTION_KEY).
CREATE TABLE notification_endpoints (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('webhook', 'telegram')),
    url            TEXT,
    chat_id        TEXT,
    signing_secret TEXT,
    bot_token_enc  TEXT,
    events         TEXT[] NOT NULL,
    workflow_id    UUID REFERENCES trading_workflows(id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (kind <> 'webhook' OR (url IS NOT NULL AND signing_secret IS NOT NULL)),
    CHECK (kind <> 'telegram' OR (chat_id IS NOT NULL AND bot_token_enc IS NOT NULL))
);
-- The outbox: one row per event and endpoint, written in the transaction of what it reports.
CREATE TABLE notification_deliveries (
    id           BIGSERIAL PRIMARY KEY,
    endpoint_id  BIGINT REFERENCES notification_endpoints(id) ON DELETE SET NULL,
    event        TEXT NOT NULL,
    event_key    TEXT NOT NULL,
    payload      JSONB NOT NULL,
    status       TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ,
    UNIQUE (endpoint_id, event_key)
);
CREATE INDEX idx_deliveries_pending ON notification_deliveries (created_at) WHERE status = 'PENDING';
CREATE INDEX idx_deliveries_recent ON notification_deliveries (created_at DESC, id DESC);

-- migrate: 8 recorded prices and backtests
-- Every price the live engine decides on (a sell check's once-per-interval price, a buy's quote), kept
-- PRICE_HISTORY_RETENTION_DAYS so a backtest can replay it.
CREATE TABLE price_history (
    id        BIGSERIAL PRIMARY KEY,
    mint      TEXT NOT NULL,
    ts        TIMESTAMPTZ NOT NULL,
    price_sol NUMERIC(40, 18) NOT NULL CHECK (price_sol > 0),
    source    TEXT NOT NULL
);
CREATE INDEX idx_price_history_mint_ts ON price_history (mint, ts);
CREATE INDEX idx_price_history_ts ON price_history (ts);
-- A backtest run: its request, where it is, and its result.
CREATE TABLE backtests (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    status      TEXT NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED')),
    progress    NUMERIC(5, 2) NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    request     JSONB NOT NULL,
    summary     JSONB,
    trades      JSONB,
    equity      JSONB,
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

-- migrate: 9 approvals
-- A BUY workflow with require_approval stops before its buy: an approval waits for a human (or expires).
ALTER TABLE trading_workflows ADD COLUMN require_approval BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE approvals (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    prediction_id UUID NOT NULL REFERENCES predictions(id) ON DELETE CASCADE,
    workflow_id   UUID NOT NULL REFERENCES trading_workflows(id) ON DELETE CASCADE,
    mint          TEXT NOT NULL,
    amount_sol    NUMERIC(30, 9) NOT NULL,
    steps_log     JSONB NOT NULL,
    status        TEXT NOT NULL DEFAULT 'PENDING'
                  CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED')),
    decided_by    TEXT,
    decided_at    TIMESTAMPTZ,
    outcome       JSONB,
    expires_at    TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (prediction_id, workflow_id)
);
CREATE INDEX idx_approvals_status_expires ON approvals (status, expires_at);
ALTER TABLE workflow_executions ADD COLUMN approval_id UUID REFERENCES approvals(id) ON DELETE SET NULL;

-- migrate: 10 orders
-- Every trade is an order. Paper orders are written FILLED with their trade. On-chain orders move
-- PENDING -> SENT (signature, signed bytes and lastValidBlockHeight stored before the first send)
-- -> FILLED | FAILED | EXPIRED, each transition an UPDATE ... WHERE state = <expected>, applied once.
CREATE TABLE orders (
    id                      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet_id               UUID NOT NULL REFERENCES wallets(id) ON DELETE CASCADE,
    side                    TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
    mint                    TEXT NOT NULL,
    state                   TEXT NOT NULL DEFAULT 'PENDING'
                            CHECK (state IN ('PENDING', 'SENT', 'FILLED', 'FAILED', 'EXPIRED')),
    is_paper                BOOLEAN NOT NULL,
    workflow_id             UUID REFERENCES trading_workflows(id) ON DELETE SET NULL,
    prediction_id           UUID REFERENCES predictions(id) ON DELETE SET NULL,
    position_id             UUID REFERENCES positions(id) ON DELETE SET NULL,
    execution_id            UUID REFERENCES workflow_executions(id) ON DELETE SET NULL,
    trade_log_id            UUID REFERENCES trade_logs(id) ON DELETE SET NULL,
    in_amount               NUMERIC(40, 0) NOT NULL CHECK (in_amount > 0),
    quoted_out              NUMERIC(40, 0),
    out_amount              NUMERIC(40, 0),
    slippage_bps            INTEGER,
    fee_lamports            BIGINT,
    rent_lamports           BIGINT,
    sol_change_lamports     BIGINT,
    signature               TEXT UNIQUE,
    signed_transaction      BYTEA,
    last_valid_block_height BIGINT,
    slot                    BIGINT,
    error                   TEXT,
    context                 JSONB NOT NULL DEFAULT '{}',
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at                 TIMESTAMPTZ,
    finished_at             TIMESTAMPTZ,
    CHECK (state = 'PENDING' OR is_paper OR signature IS NOT NULL OR state IN ('FAILED', 'EXPIRED')),
    CHECK (state <> 'SENT' OR (signature IS NOT NULL AND signed_transaction IS NOT NULL
                               AND last_valid_block_height IS NOT NULL)),
    CHECK ((state IN ('PENDING', 'SENT')) = (finished_at IS NULL))
);
-- One open order per position (a sell in flight is not sold again), one open buy per wallet and mint,
-- and one buy per prediction and workflow whatever its fate.
CREATE UNIQUE INDEX uq_orders_open_per_position ON orders (position_id)
    WHERE state IN ('PENDING', 'SENT') AND side = 'SELL';
CREATE UNIQUE INDEX uq_orders_open_buy_per_wallet_mint ON orders (wallet_id, mint)
    WHERE state IN ('PENDING', 'SENT') AND side = 'BUY';
CREATE UNIQUE INDEX uq_orders_buy_per_prediction_workflow ON orders (prediction_id, workflow_id)
    WHERE side = 'BUY' AND prediction_id IS NOT NULL;
CREATE INDEX idx_orders_open ON orders (state, created_at) WHERE state IN ('PENDING', 'SENT');
CREATE INDEX idx_orders_wallet_created ON orders (wallet_id, created_at DESC);
ALTER TABLE trading_workflows ADD COLUMN slippage_bps INTEGER CHECK (slippage_bps BETWEEN 0 AND 10000);
ALTER TABLE trade_logs ADD COLUMN order_id UUID REFERENCES orders(id) ON DELETE SET NULL;

-- migrate: 11 arrival order
-- Ties in time are broken by the order rows arrived in, never by a uuid: predictions are evaluated in
-- (predicted_at, seq) order everywhere (live, demo, backtests), positions checked in (opened_at, seq) order.
ALTER TABLE predictions ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
ALTER TABLE positions ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
ALTER TABLE trade_logs ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY;
CREATE INDEX idx_positions_open_order ON positions (opened_at, seq) WHERE status = 'OPEN';
