"""`make run` on an empty database: the demo sets itself up through the API and trades on paper."""

from __future__ import annotations

import pytest

from tests.e2e.flows import api, wait_for
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e


def test_demo_trades_within_a_minute_and_resumes(tmp_path):
    env = {"DATA_DIR": str(tmp_path / "data"), "DEMO": "1", "LOG_LEVEL": "WARNING"}
    stack = Stack(env, tmp_path / "first.log")
    try:
        stack.wait_ready()
        buys = wait_for(lambda: [t for t in api(stack, "GET", "/api/trades?wallet_alias=demo") if t["action"] == "BUY"],
                        60, "the demo's first buy", stack, poll=1)
        assert buys[0]["is_paper"] is True
        wait_for(lambda: "| buys " in stack.log(), 20, "the demo status line", stack, poll=1)
        workflows = api(stack, "GET", "/api/buy/workflows?wallet_alias=demo")
        assert sorted(w["type"] for w in workflows) == ["BUY", "SELL"] and all(w["is_active"] for w in workflows)
    finally:
        stack.stop()
    again = Stack(env, tmp_path / "second.log")
    try:
        again.wait_ready()
        wait_for(lambda: "| buys " in again.log(), 40, "the resumed demo's status line", again, poll=1)
        assert len(api(again, "GET", "/api/models")) == 2  # set up once, not again
    finally:
        again.stop()
