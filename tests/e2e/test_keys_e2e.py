"""Keys from the command line against the real stack: a revoked key is refused at once by both web workers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from app.config import PROJECT_ROOT
from tests.e2e.stack import Stack
from tests.factories import wallet_body

pytestmark = pytest.mark.e2e


def cli(stack: Stack, *args: str) -> str:
    """Run `python -m app ...` against the stack's database; returns its output."""
    env = {**os.environ, "DATABASE_URL": stack.db_url, "REDIS_URL": stack.redis_url}
    done = subprocess.run([sys.executable, "-m", "app", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def statuses(stack: Stack, key: str, count: int = 24) -> set[int]:
    """Status codes of `count` fresh connections (gunicorn spreads them over its workers)."""
    return {requests.get(stack.base_url + "/api/wallets", headers={"Authorization": f"Bearer {key}",
                                                                    "Connection": "close"}, timeout=5).status_code
            for _ in range(count)}


def test_cli_keys_and_revocation_seen_by_every_web_worker(tmp_path):
    stack = Stack({"DATA_DIR": str(tmp_path / "data"), "WEB_CONCURRENCY": "2"}, tmp_path / "stack.log")
    try:
        stack.wait_ready()
        output = cli(stack, "api-keys", "create", "--name", "ops")
        key = output.strip().splitlines()[-1]
        assert key.startswith("tw_") and len(key) >= 43
        viewer = cli(stack, "api-keys", "create", "--name", "viewer", "--read-only").strip().splitlines()[-1]
        listing = cli(stack, "api-keys", "list")
        assert "ops" in listing and "read-only" in listing and key not in listing
        assert statuses(stack, key) == {200}
        assert requests.post(stack.base_url + "/api/wallets", json=wallet_body("v"), timeout=5,
                             headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
        cli(stack, "api-keys", "revoke", "ops")
        assert statuses(stack, key) == {401}
        assert statuses(stack, stack.api_key) == {200}
    finally:
        stack.stop()
