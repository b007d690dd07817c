"""SQL that books a filled buy in one statement: its order, position, trade, debit and execution, linked.

One round trip instead of six. The ids are generated here, so every row can point at the others in the same
statement; the foreign keys are checked at its end. The caller's transaction rolls it all back when the
execution was already logged (`execution_id` comes back NULL) or the wallet already holds the mint (a unique
violation).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from psycopg import Connection
from psycopg.types.json import Jsonb

_BOOK_BUY = """
WITH position AS (
    INSERT INTO positions (id, wallet_id, mint, token_decimals, initial_tokens_raw, tokens_raw, sol_spent,
        entry_price_sol, peak_price_sol, last_price_sol, buy_workflow_id, opened_at)
    VALUES (%(position_id)s, %(wallet_id)s, %(mint)s, %(decimals)s, %(tokens_raw)s, %(tokens_raw)s, %(sol_spent)s,
        %(price_sol)s, %(price_sol)s, %(price_sol)s, %(workflow_id)s, COALESCE(%(at)s, now()))
    RETURNING id
), trade AS (
    INSERT INTO trade_logs (id, wallet_id, position_id, workflow_id, mint, action, sol_amount, token_amount_raw,
        price_sol, fee_sol, is_paper, tx_signature, order_id, created_at)
    SELECT %(trade_id)s, %(wallet_id)s, position.id, %(workflow_id)s, %(mint)s, 'BUY', %(sol_spent)s, %(tokens_raw)s,
        %(price_sol)s, %(fee_sol)s, %(is_paper)s, %(tx_signature)s, %(order_id)s, COALESCE(%(at)s, now())
    FROM position
    RETURNING id
), execution AS (
    INSERT INTO workflow_executions (id, workflow_id, mint, trigger_data, steps_log, result, trade_log_id,
        position_id, prediction_id, approval_id, created_at)
    SELECT %(execution_id)s, %(workflow_id)s, %(mint)s, %(trigger_data)s, %(steps_log)s, 'EXECUTED', trade.id,
        %(position_id)s, %(prediction_id)s, %(approval_id)s, COALESCE(%(at)s, now())
    FROM trade
    ON CONFLICT (prediction_id, workflow_id) WHERE prediction_id IS NOT NULL DO NOTHING
    RETURNING id
), paper_order AS (
    INSERT INTO orders (id, wallet_id, side, mint, state, is_paper, workflow_id, prediction_id, position_id,
        execution_id, trade_log_id, in_amount, quoted_out, out_amount, fee_lamports, created_at, finished_at)
    SELECT %(order_id)s, %(wallet_id)s, 'BUY', %(mint)s, 'FILLED', TRUE, %(workflow_id)s, %(prediction_id)s,
        %(position_id)s, (SELECT id FROM execution), %(trade_id)s, %(in_amount)s, %(quoted_out)s, %(out_amount)s,
        %(fee_lamports)s, COALESCE(%(at)s, now()), COALESCE(%(at)s, now())
    WHERE %(is_paper)s
), chain_order AS (
    UPDATE orders SET execution_id = (SELECT id FROM execution), trade_log_id = %(trade_id)s,
        position_id = %(position_id)s
    WHERE id = %(order_id)s AND NOT %(is_paper)s
), debit AS (
    UPDATE wallets SET virtual_sol_balance = virtual_sol_balance - %(sol_spent)s, updated_at = now()
    WHERE id = %(wallet_id)s AND %(is_paper)s
)
SELECT (SELECT id FROM execution) AS execution_id  -- every WITH write runs once, read or not
"""


def book_buy(conn: Connection, values: dict[str, Any]) -> dict[str, UUID | None]:
    """Write a filled buy: (paper) its FILLED order and the wallet's debit, or (on chain) the link from its existing
    order; the OPEN position, the BUY trade and the EXECUTED execution. Returns the ids (execution_id None when the
    prediction already has an execution for the workflow: the caller must roll back)."""
    paper = values["order_id"] is None
    ids = {"position_id": uuid4(), "trade_id": uuid4(), "execution_id": uuid4(),
           "order_id": uuid4() if paper else values["order_id"]}
    params = {"at": None, "approval_id": None, "tx_signature": None, "in_amount": None, "quoted_out": None,
              "out_amount": None, "fee_lamports": None, **values, **ids, "is_paper": paper,
              "trigger_data": Jsonb(values["trigger_data"]), "steps_log": Jsonb(values["steps_log"])}
    row = conn.execute(_BOOK_BUY, params).fetchone()
    return {**ids, "execution_id": row["execution_id"]}
