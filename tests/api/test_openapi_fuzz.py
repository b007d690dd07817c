"""Schemathesis over the whole API from its own OpenAPI document, in-process (WSGI), on the real test database.

Every operation runs with bounded examples, in all phases (documented examples, coverage: boundary and invalid
values, and generated cases), deterministically. Two passes:

- positive data, with path parameters bound to seeded resources, so every POST/PATCH reaches its service;
- negative data (each case breaks the document somewhere), with generated path parameters.

Checks: no 5xx; statuses, content types, headers and bodies as documented; documented-invalid data refused;
documented-valid data accepted, except a 422 naming only a field whose rule the document states in words
(RULES_BEYOND_THE_SCHEMA: a workflow chain's meaning, a model's bytes, data the service must hold, ...).
Two string formats the document names but JSON Schema cannot check are generated as the service reads them:
`solana-address` (base58 of 32 bytes) and `date-time` (a posted time: after 2000, not in the future; here
the last two hours, which the seeded metrics cover).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import schemathesis
import schemathesis.engine
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.engine import events
from schemathesis.specs.openapi.formats import unregister_string_format

from app import bootstrap
from app.api import examples
from app.api.examples import EXAMPLE_MINT
from app.api.fields import ADDRESS_FORMAT
from app.config import PriceSourceName
from app.core.solana import b58encode
from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
from tests.factories import upload_body

MINT = EXAMPLE_MINT  # the documented examples' mint: the examples phase finds its metrics
DELETES = "deletes"  # key of the spare resources DELETE operations use
APPROVALS = "approvals"  # key of the pending approvals approve and reject use (one each: a decision is final)
# Bounded and fixed for the suite (~20 s); raise them for a deeper local run, e.g. FUZZ_EXAMPLES=250 FUZZ_SEED=7.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20261121"))
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/wallets": {"secret_key", "generate"},  # stored only when the server has WALLET_ENCRYPTION_KEY
    "PATCH /api/wallets/{alias}": {"top_up_sol"},  # TEST wallets only; the new balance must stay below 1e21
    "POST /api/buy/workflows": {"chain", "buy_amount_mode", "buy_amount_value"},  # SPEC §3, per type and mode
    "PATCH /api/buy/workflows/{workflow_id}": {"chain", "buy_amount_mode", "buy_amount_value", "type"},
    "POST /api/predictions": {"model_id"},  # an uploaded model
    "POST /api/coins/{mint}/metrics": {"metrics.ts", "decimals"},  # one point per instant; decimals first
    "POST /api/models": {"model_base64", "model_format", "feature_names"},  # an XGBoost model, known features
    "POST /api/models/{model_id}/predict": {"mint"},  # fresh enough coin metrics of the mint
    "GET /api/wallets/{alias}/performance": {"from"},  # not after to
    "GET /api/buy/workflows/{workflow_id}/performance": {"from"},  # not after to
    "POST /api/notifications/endpoints": {"bot_token", "workflow_id"},  # WALLET_ENCRYPTION_KEY; an existing workflow
    # workflows checked as the workflow API; from before to; stored predictions and prices in the period
    "POST /api/backtests": {"buy", "sell", "from", "to", "prices"},
}


_ADMIN_KEY: list[str] = []  # set by the fuzz_app fixture


def auth_headers() -> dict[str, str]:
    """Headers every fuzzed request carries: the test's admin API key."""
    return {"Authorization": f"Bearer {_ADMIN_KEY[-1]}"}


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _seed(client, config) -> dict[str, str]:
    """One of each resource, through the API; returns path parameter values pointing at them."""
    headers = auth_headers()
    _ok(client.post("/api/wallets", json={"alias": "paper", "virtual_sol_balance": "100"}, headers=headers))
    _ok(client.post("/api/wallets", json={"alias": "spare"}, headers=headers))
    model = _ok(client.post("/api/models", json=upload_body("fuzz", ["price_sol"]), headers=headers))["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    points = [{"ts": (now - timedelta(minutes=k)).isoformat(), "price_sol": "0.0001"} for k in range(0, 150, 4)]
    _ok(client.post(f"/api/coins/{MINT}/metrics", json={"decimals": 6, "metrics": points}, headers=headers))
    buy = _ok(client.post("/api/buy/workflows", headers=headers, json={
        "wallet_alias": "paper", "name": "buy", "type": "BUY", "is_active": True,
        "chain": {"trigger": {"type": "prediction_alert", "model_id": model, "min_probability": 0.1},
                  "conditions": []},
        "buy_amount_mode": "fixed", "buy_amount_value": "0.05"}))["id"]
    spare_workflow = _ok(client.post("/api/buy/workflows", headers=headers, json={
        "wallet_alias": "paper", "name": "spare", "type": "SELL",
        "chain": {"rules": [{"type": "stop_loss", "percent": -5}]}}))["id"]
    spare_model = _ok(client.post("/api/models", json=upload_body("spare", ["price_sol"]), headers=headers))["id"]
    prediction = _ok(client.post("/api/predictions", headers=headers, json={
        "mint": MINT, "model_id": model, "probability": 0.9, "timestamp": now.isoformat()}), 202)["id"]
    process = bootstrap.process(config)
    with process.db() as conn:
        evaluate_prediction(PostgresStore(conn), prediction, process.buy_deps(conn))
    # the documented backtest example's period holds a prediction and coin metrics
    _ok(client.post(f"/api/coins/{MINT}/metrics", json=examples.COIN_METRICS, headers=headers))
    _ok(client.post("/api/predictions", headers=headers, json={**examples.PREDICTION, "id": "backtest"}), 202)
    position = _ok(client.get("/api/positions?wallet_alias=paper", headers=headers), 200)[0]["id"]
    endpoint = _ok(client.post("/api/notifications/endpoints", headers=headers, json={
        "kind": "webhook", "url": "http://127.0.0.1:9/spare", "events": ["daily_summary"]}))["id"]
    approvals = _seed_approvals(client, process, model, now)
    return {APPROVALS: approvals,
            "alias": "paper", "workflow_id": buy, "prediction_id": prediction, "model_id": str(model), "mint": MINT,
            "position_id": position, DELETES: {"alias": "spare", "workflow_id": spare_workflow,
                                               "model_id": str(spare_model), "endpoint_id": str(endpoint)}}


def _seed_approvals(client, process, model: int, now: datetime) -> dict[str, str]:
    """Two PENDING approvals of a require_approval workflow on its own wallet: one to approve, one to reject."""
    headers = auth_headers()
    _ok(client.post("/api/wallets", json={"alias": "gated", "virtual_sol_balance": "10"}, headers=headers))
    _ok(client.post("/api/buy/workflows", headers=headers, json={
        "wallet_alias": "gated", "name": "gated", "type": "BUY", "is_active": True, "require_approval": True,
        "chain": {"trigger": {"type": "prediction_alert", "model_id": model, "min_probability": 0.1},
                  "conditions": []},
        "buy_amount_mode": "fixed", "buy_amount_value": "0.05"}))
    ids = []
    for minutes in (1, 2):
        prediction = _ok(client.post("/api/predictions", headers=headers, json={
            "mint": MINT, "model_id": model, "probability": 0.9,
            "timestamp": (now - timedelta(minutes=minutes)).isoformat()}), 202)["id"]
        with process.db() as conn:
            outcomes = evaluate_prediction(PostgresStore(conn), prediction, process.buy_deps(conn))
        ids += [o["approval_id"] for o in outcomes if o["result"] == "awaiting_approval"]
    assert len(ids) == 2, ids
    return {"approve": ids[0], "reject": ids[1]}


@pytest.fixture
def fuzz_app(app, config, admin_key):
    """The app with prices from the simulated market (no network), fuzzed with an admin key."""
    _ADMIN_KEY.append(admin_key)
    fuzz_config = replace(config, price_source=PriceSourceName.SIM)
    app.extensions["trading_config"] = fuzz_config
    return app


@pytest.fixture
def string_formats():
    """Generate the document's special string formats as the service reads them."""
    now = datetime.now(UTC).replace(tzinfo=None)
    offsets = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
    # The last two hours, which the seeded mint's metrics cover: a predict at such a time finds data.
    moments = st.datetimes(min_value=now - timedelta(hours=2), max_value=now - timedelta(minutes=1),
                           timezones=st.just(UTC))
    posted = st.builds(lambda moment, offset: moment.astimezone(offset).isoformat(), moments, offsets)
    addresses = st.one_of(st.just(MINT), st.binary(min_size=32, max_size=32).map(b58encode))  # MINT has data
    schemathesis.openapi.format(ADDRESS_FORMAT, addresses)
    schemathesis.openapi.format("date-time", posted)
    yield
    unregister_string_format("date-time")  # back to schemathesis' own
    unregister_string_format(ADDRESS_FORMAT)


class DocumentedRuleOnly(Failure):
    """A request valid per the document was refused for a reason the document does not state."""


@schemathesis.check
def valid_data_accepted(ctx, response, case) -> bool | None:
    """Like positive_data_acceptance, but a 422 naming only fields of RULES_BEYOND_THE_SCHEMA is documented."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in (401, 403, 404, 405, 409, 413):  # state, credentials, method, body size
        return None
    label = case.operation.label
    fields = _error_fields(response.json()) if response.status_code == 422 else {"<status>"}
    documented = RULES_BEYOND_THE_SCHEMA.get(label, set())
    if fields and all(any(f == rule or f.startswith(rule + ".") for rule in documented) for f in fields):
        return None
    raise DocumentedRuleOnly(operation=label, title="Schema-valid request refused",
                             message=f"{response.status_code} naming {sorted(fields)}: {response.text[:500]}")


def _error_fields(body: dict) -> set[str]:
    """Dotted field names (list indexes dropped) of an error envelope's errors."""
    names: set[str] = set()

    def walk(node, prefix):
        if isinstance(node, dict):
            for key, value in node.items():
                part = "" if str(key).isdigit() else str(key)
                walk(value, f"{prefix}.{part}".strip(".") if part else prefix)
        else:
            names.add(prefix or "_schema")

    for location in (body.get("errors") or {"json": {"_schema": []}}).values():
        walk(location, "")
    return names


def schema_for(app, mode: str, parameters: dict):
    """The app's document with schemathesis' settings for one pass (DELETEs get spare resources)."""
    spares = parameters.pop(DELETES, {})
    approvals = parameters.pop(APPROVALS, {})
    per_operation = [{"include-name": f"POST /api/approvals/{{approval_id}}/{action}",
                      "parameters": {"path.approval_id": approval_id}} for action, approval_id in approvals.items()]
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "cache": {"enabled": False},  # every run starts from the same state: no learned cases, no files
        "headers": auth_headers(),
        "parameters": {f"path.{name}": value for name, value in parameters.items()},
        "operations": ([{"include-method": "DELETE", "parameters": {f"path.{name}": value for name, value in
                                                                    spares.items()}}] if spares else [])
        + per_operation,
        "generation": {"mode": mode, "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        # ignored_auth re-sends requests through a path of schemathesis' WSGI transport that passes
        # `max_redirects` to werkzeug and crashes (schemathesis 4.32.5); tests/api/test_security.py proves
        # instead that every operation refuses a missing key and every write a read-only key.
        "checks": {"positive_data_acceptance": {"enabled": False}, "ignored_auth": {"enabled": False}},
    })
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)


def run_schemathesis(schema) -> tuple[list[str], Counter]:
    """Run every phase over the schema; (failures as text, responses per operation and status)."""
    failures: list[str] = []
    statuses: Counter = Counter()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', None) or event.exception!r}")
        if isinstance(event, events.ScenarioFinished):
            failures.extend(_recorded(event.recorder, statuses))
    return failures, statuses


def _recorded(recorder, statuses: Counter) -> list[str]:
    for interaction in recorder.interactions.values():
        if interaction.response is not None and interaction.request.method == recorder.label.split()[0]:
            statuses[(recorder.label, interaction.response.status_code)] += 1
    return [f"{recorder.label} [{check.name}] {check.failure_info.failure.title}: "
            f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
            for checks in recorder.checks.values() for check in checks if check.failure_info is not None]


def test_every_operation_matches_the_document(fuzz_app, string_formats):
    started = time.monotonic()
    parameters = _seed(fuzz_app.test_client(), fuzz_app.extensions["trading_config"])
    failures, statuses = run_schemathesis(schema_for(fuzz_app, "positive", parameters))
    negative_failures, negative_statuses = run_schemathesis(schema_for(fuzz_app, "negative", {}))
    statuses.update(negative_statuses)
    print(f"schemathesis: {sum(statuses.values())} requests in {time.monotonic() - started:.1f}s")
    for (label, status), n in sorted(statuses.items()):
        print(f"  {label} {status}: {n}")
    unique = sorted(set(failures + negative_failures))
    assert not unique, f"{len(unique)} failures:\n" + "\n\n".join(unique)
    document = fuzz_app.test_client().get("/openapi.json", headers=auth_headers()).get_json()
    writes = {f"{method.upper()} {path}" for path, operations in document["paths"].items()
              for method in operations if method in ("post", "patch")}
    reached = {label for (label, status), _ in statuses.items() if label in writes and 200 <= status < 300}
    assert reached == writes, f"POST/PATCH operations never answered 2xx: {sorted(writes - reached)}"
