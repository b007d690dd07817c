"""The OpenAPI document says what the key checks do: security, 401, 403 and 429 on every /api operation."""

from __future__ import annotations

from flask_smorest import Api

from app.core.access import READ_METHODS

_RESPONSES = {
    "401": {"description": "No API key, or an unknown or revoked one", "content": {}},
    "429": {"description": "The key's rate limit for reads or writes is reached (see Retry-After)", "content": {}},
}
_READ_ONLY = {"403": {"description": "A read-only key cannot make this request", "content": {}}}


def document_security(api: Api) -> None:
    """Add the bearer requirement and the auth/limit responses to every /api operation in the spec."""
    api.spec.options["security"] = [{"bearerAuth": []}]
    for path, operations in api.spec._paths.items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method.upper() not in _HTTP_METHODS:
                continue
            if not path.startswith("/api/"):
                operation["security"] = []
                continue
            extra = {**_RESPONSES, **({} if method.upper() in READ_METHODS else _READ_ONLY)}
            for code, response in extra.items():
                operation.setdefault("responses", {}).setdefault(code, _with_error_schema(response))


_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"})


def _with_error_schema(response: dict) -> dict:
    """The response with the error envelope's schema (the same one flask-smorest documents for errors)."""
    schema_ref = {"$ref": "#/components/schemas/Error"}
    return {**response, "content": {"application/json": {"schema": schema_ref}}}
