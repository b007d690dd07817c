"""Health endpoints and the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import replace

from app import create_app


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "postgres": "ok", "redis": "ok"}


def test_readyz_names_the_unreachable_dependency(config, conn, redis_conn):
    broken = create_app(replace(config, redis_url="redis://127.0.0.1:1/0"))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["postgres"] == "ok" and body["redis"].startswith("error")


def test_openapi_describes_every_route_with_schemas(client, app):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
    create = spec["paths"]["/api/buy/workflows"]["post"]
    assert "requestBody" in create and "201" in create["responses"]
    assert {"WorkflowCreate", "Workflow", "Execution", "Wallet"} <= set(spec["components"]["schemas"])


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert b"/_swagger/swagger-ui-bundle.js" in page.data
    assert client.get("/_swagger/swagger-ui-bundle.js").status_code == 200


def test_rq_dashboard_is_mounted(client):
    assert client.get("/rq/").status_code == 200
