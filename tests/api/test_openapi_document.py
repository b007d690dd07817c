"""The OpenAPI document says what the service does (issue 10 item 7): types, bounds, methods."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from app.api.fields import DecimalInput
from tests.factories import WALLET_ALIAS

NUMERIC_KEYWORDS = ("minimum", "maximum", "multipleOf", "exclusiveMinimum", "exclusiveMaximum")


def walk(node, path=()):
    """Every (path, dict) of a JSON document."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


@pytest.fixture
def spec(client):
    return client.get("/openapi.json").get_json()


def test_every_bound_is_a_json_number(spec):
    bad = [(path, key, node[key]) for path, node in walk(spec) for key in NUMERIC_KEYWORDS
           if key in node and (isinstance(node[key], str) or (key.startswith("exclusive") and not
                                                              isinstance(node[key], bool)))]
    assert not bad
    defaults = [(path, node["default"]) for path, node in walk(spec)
                if node.get("type") == "number" and isinstance(node.get("default"), str)]
    assert not defaults


def test_decimal_outputs_are_documented_as_the_strings_they_are(client, spec):
    wallet = spec["components"]["schemas"]["Wallet"]["properties"]["virtual_sol_balance"]
    assert wallet["type"] == "string"
    client.post("/api/wallets", json={"alias": WALLET_ALIAS})
    assert isinstance(client.get("/api/wallets/w1").get_json()["virtual_sol_balance"], str)
    schemas = spec["components"]["schemas"]
    for name in ("Position", "Trade", "CoinMetric"):
        for field, prop in schemas[name]["properties"].items():
            if field.endswith(("_sol", "_raw")):
                assert prop["type"] == "string", (name, field)


def test_decimal_inputs_are_a_bounded_number_or_a_plain_decimal_string(spec):
    top_up = spec["components"]["schemas"]["WalletPatch"]["properties"]["top_up_sol"]
    number, string = top_up["anyOf"]
    assert number == {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 10**21,
                      "exclusiveMaximum": True, "multipleOf": 1e-9}
    pattern = re.compile(string["pattern"])
    assert all(pattern.fullmatch(v) for v in ("1", "0.000000001", "999999999999999999999.999999999", "1.50"))
    assert not any(pattern.fullmatch(v) for v in ("0", "0.0000000001", "1000000000000000000000", "-1", "1e3"))


@pytest.mark.parametrize("kwargs, accepted, refused", [
    ({"places": 9, "digits": 21}, ["0", "0.000", "1.123456789", "1.1234567890"], ["0.0000000001", "1e21"]),
    ({"places": 9, "digits": 21, "positive": True}, ["0.000000001", "0.10"], ["0", "0.00", "-1"]),
    ({"places": 2, "at_most": 100, "minimum": 1}, ["1", "99.99", "100", "100.00"], ["0.99", "100.01", "1.001"]),
    ({"places": 2, "at_most": 100, "positive": True}, ["0.01", "0.10", "100"], ["0", "0.001", "101"]),
    ({"places": 18, "digits": 20, "positive": True}, ["0.000000000000000001", "99999999999999999999"],
     ["0.0000000000000000001", "100000000000000000000"]),
])
def test_the_documented_pattern_admits_exactly_what_the_field_accepts(kwargs, accepted, refused):
    field = DecimalInput(**kwargs)
    pattern = re.compile(field.openapi()["anyOf"][1]["pattern"])
    for value in accepted:
        assert pattern.fullmatch(value) and field.deserialize(value) == Decimal(value), value
    for value in refused:
        assert not pattern.fullmatch(value), value
        with pytest.raises(ValidationError):
            field.deserialize(value)


def test_an_undeclared_method_is_405_with_allow(client):
    response = client.open("/api/wallets", method="TRACE")
    assert response.status_code == 405 and response.get_json()["code"] == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_patch_must_change_something_and_a_real_wallet_names_its_key(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["WalletPatch"]["minProperties"] == 1 and schemas["WorkflowPatch"]["minProperties"] == 1
    assert {"required": ["public_key"]} in schemas["WalletCreate"]["anyOf"]


def test_every_write_documents_an_example(spec):
    """(The examples phase of tests/api/test_openapi_fuzz.py sends each one and needs a 2xx.)"""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "patch") and "requestBody" in operation:
                content = operation["requestBody"]["content"]["application/json"]
                assert "example" in content or "example" in content["schema"] or path.endswith(("/toggle", "/clone")), (
                    method, path)
