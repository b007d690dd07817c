"""Signatures, event bodies and chat messages (pure)."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from app.config import PROJECT_ROOT, ConfigError, load_config
from app.core.notifications import (
    EventKind,
    buy_event,
    encode_body,
    message_text,
    signature,
    verify_signature,
    webhook_document,
)

SECRET = "whsec_test"
BODY = encode_body({"event": "buy_executed", "id": "execution:1", "data": {"mint": "M"}})


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1_700_000_000, BODY) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize("secret, body, now, ok", [
    (SECRET, BODY, 1_700_000_010, True),
    ("whsec_other", BODY, 1_700_000_010, False),  # wrong secret
    (SECRET, BODY + b" ", 1_700_000_010, False),  # tampered body
    (SECRET, BODY, 1_700_000_400, False),  # replayed too late
])
def test_verification(secret, body, now, ok):
    assert verify_signature(secret, signature(SECRET, 1_700_000_000, BODY), body, now) is ok


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=1700000000"])
def test_malformed_headers_do_not_verify(header):
    assert verify_signature(SECRET, header, BODY, 1_700_000_000) is False


def test_only_executed_and_failed_buys_are_events():
    workflow = {"id": "w", "name": "Aggressive"}
    steps = ({"step": "execute_buy", "sol_spent": "0.05", "entry_price_sol": "0.0001", "tokens_raw": "5"},)
    event = buy_event("EXECUTED", "e1", workflow, "M", None, steps)
    assert (event.kind, event.key, event.data["sol_spent"]) == (EventKind.BUY_EXECUTED, "execution:e1", "0.05")
    assert buy_event("ERROR", "e2", workflow, "M", "no price", ()).kind is EventKind.EXECUTION_ERROR
    assert buy_event("REJECTED", "e3", workflow, "M", "too small", ()) is None
    assert buy_event("EXECUTED", None, workflow, "M", None, steps) is None


def test_a_message_names_the_event_and_its_figures():
    text = message_text("sell_executed", {"mint": "M", "rule": "take_profit", "net_sol": "0.06", "other": "x"})
    assert text.splitlines() == ["💰 Sell executed", "mint: M", "rule: take_profit", "net sol: 0.06"]
    assert message_text("unknown_event", {}) == "unknown_event"


def test_notification_settings():
    config = load_config({"NOTIFY_RETRY_INTERVALS": "1, 5", "TELEGRAM_API_BASE": "http://127.0.0.1:9/"})
    assert (config.notify_retry_intervals, config.telegram_api_base) == ((1, 5), "http://127.0.0.1:9")
    assert (load_config({}).notify_timeout_seconds, load_config({}).notify_retry_intervals) == (5, (10, 60, 300, 1800))
    for bad in ({"NOTIFY_RETRY_INTERVALS": "1,x"}, {"NOTIFY_RETRY_INTERVALS": "-1"},
                {"TELEGRAM_API_BASE": "ftp://x"}, {"NOTIFY_TIMEOUT_SECONDS": "0"}):
        with pytest.raises(ConfigError):
            load_config(bad)


def test_the_readme_recipe_verifies_what_the_service_signs():
    readme = (PROJECT_ROOT / "README.md").read_text()
    recipe = readme.split("**Verifying a webhook.**", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(recipe, namespace)  # the README's own snippet
    now = int(time.time())
    assert namespace["verify"](SECRET, signature(SECRET, now, BODY), BODY)
    assert not namespace["verify"](SECRET, signature(SECRET, now, BODY), BODY + b"x")
    assert not namespace["verify"]("whsec_other", signature(SECRET, now, BODY), BODY)
    assert not namespace["verify"](SECRET, signature(SECRET, now - 3600, BODY), BODY)


def test_a_webhook_document_adds_its_delivery_id_to_the_event():
    payload = {"event": "buy_executed", "id": "execution:1", "data": {"mint": "M"}}
    assert webhook_document(payload, 42) == {**payload, "delivery_id": 42}
    assert payload == {"event": "buy_executed", "id": "execution:1", "data": {"mint": "M"}}
