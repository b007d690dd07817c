"""The emergency stop does not wait for a hanging price quote (real web, workers, scheduler; the local Jupiter).

A BUY's worker is inside its Jupiter quote, which hangs: POST /api/trading/halt still answers at once, so no
transaction may hold the wallet or the trading state while the quote is out. Once the quote returns, the buy is
applied after the halt, so it is REJECTED with a `halt_check` step naming the halt's reason, and writes no
position, no trade and no FILLED order: nothing of the buy is dated after the halt answered.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e import test_buy_e2e
from tests.e2e.flows import api, buy_setup, db, post_prediction, wait_evaluated, wait_for
from tests.factories import MINT

pytestmark = pytest.mark.e2e

jupiter, stack = test_buy_e2e.jupiter, test_buy_e2e.stack  # the BUY e2e stack: PRICE_SOURCE=jupiter, the local fake
PRICE = test_buy_e2e.PRICE
ALIAS = "halt-quote"
REASON = "e2e halt during quote"
HANG_SECONDS = 4.5  # below the client's 5 s timeout, so the held request is the one answered (no retry)
HALT_LIMIT_SECONDS = 1.0

WRITTEN_SQL = """SELECT 'position' AS kind, p.opened_at AS at FROM positions p WHERE p.wallet_id = %(w)s
      UNION ALL SELECT 'trade ' || t.action, t.created_at FROM trade_logs t WHERE t.wallet_id = %(w)s
      UNION ALL SELECT 'order ' || o.state, coalesce(o.finished_at, o.created_at) FROM orders o
                 WHERE o.wallet_id = %(w)s AND (o.state = 'FILLED' OR o.created_at >= %(t)s)
      UNION ALL SELECT 'wallet update', w.updated_at FROM wallets w WHERE w.id = %(w)s AND w.updated_at >= %(t)s"""


def test_halt_answers_while_a_buy_quote_hangs_and_the_buy_is_rejected(stack, jupiter):
    trigger = buy_setup(stack, ALIAS, MINT, PRICE)
    balance = api(stack, "GET", f"/api/wallets/{ALIAS}")["virtual_sol_balance"]
    seen = len(jupiter.requests)
    release = jupiter.hold_next(HANG_SECONDS)
    try:
        prediction = post_prediction(stack, trigger, MINT)
        wait_for(lambda: len(jupiter.requests) > seen, 30, "the buy's quote request", stack, poll=0.01)
        arrived = time.monotonic()  # the worker is inside the quote now
        held_path, held_query, _ = jupiter.requests[seen]
        assert held_path.endswith("/quote") and held_query["outputMint"] == MINT, jupiter.requests[seen:]
        started = time.monotonic()
        halt = api(stack, "POST", "/api/trading/halt", json={"reason": REASON})
        halt_seconds = time.monotonic() - started
        hung_for = time.monotonic() - arrived
        with db(stack) as conn:
            returned_at = conn.execute("SELECT clock_timestamp() AS t").fetchone()["t"]
        assert halt_seconds < HALT_LIMIT_SECONDS, (
            f"the halt answered after {halt_seconds:.2f} s: it waited for the buy's quote (held {HANG_SECONDS} s)")
        assert not release.is_set() and hung_for < HANG_SECONDS  # the quote was still hanging when the halt answered
    finally:
        release.set()  # the quote returns now
    assert halt["halted"] is True and halt["reason"] == REASON

    [execution] = wait_evaluated(stack, prediction["id"])["executions"]
    assert execution["result"] == "REJECTED", execution
    last = execution["steps_log"][-1]
    assert last["step"] == "halt_check" and last["reason"] == REASON, execution["steps_log"]
    with db(stack) as conn:
        wallet_id = conn.execute("SELECT id FROM wallets WHERE alias = %s", (ALIAS,)).fetchone()["id"]
        written = conn.execute(WRITTEN_SQL, {"w": wallet_id, "t": returned_at}).fetchall()
    assert written == [], f"the halt answered at {returned_at}; the buy wrote {written}"
    assert api(stack, "GET", f"/api/wallets/{ALIAS}")["virtual_sol_balance"] == balance
