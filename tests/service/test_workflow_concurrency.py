"""Two writers at once: the database, not the code, keeps one active SELL workflow per wallet."""

from __future__ import annotations

import threading

import psycopg
from psycopg.rows import dict_row

from app.errors import Conflict
from app.services import workflows as workflow_service
from tests.factories import create_workflow, sell_body


def test_two_concurrent_activations_leave_exactly_one_active_sell(conn, wallet, database_url):
    ids = [create_workflow(conn, sell_body(name=f"s{i}"), active=False)["id"] for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def activate(index: int) -> None:
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            try:
                workflow_service.set_active(own, ids[index], True)
                outcomes[index] = "active"
            except Conflict:
                outcomes[index] = "conflict"

    for _ in range(10):
        conn.execute("UPDATE trading_workflows SET is_active = FALSE")
        threads = [threading.Thread(target=activate, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["active", "conflict"]
        active = conn.execute("SELECT count(*) AS n FROM trading_workflows WHERE is_active").fetchone()["n"]
        assert active == 1
