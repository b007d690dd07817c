"""Checks every API request passes before its view runs: body size, JSON depth, storable strings.

One place for what no field schema should repeat: a body over the route's limit is 413; a JSON body
nested too deeply, or any string (JSON value or key, query parameter, path parameter) holding a NUL
character or a lone UTF-16 surrogate, is 422 naming the field. PostgreSQL can store neither character,
so refusing them here means nothing half-valid reaches a service.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from flask import current_app, request
from flask_smorest import abort

from app.config import Config
from app.errors import nest_errors

MAX_JSON_DEPTH = 32
MODEL_UPLOAD_ENDPOINT = "models.Models"  # POST /api/models: the one route with a larger body limit
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

Path = tuple[Any, ...]
_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels."


def body_limit(endpoint: str | None, config: Config) -> int:
    """The most bytes a request body to `endpoint` may have."""
    return config.max_model_upload_bytes if endpoint == MODEL_UPLOAD_ENDPOINT else config.max_request_bytes


def string_problem(text: str) -> str | None:
    """Why a string cannot be stored (NUL or lone surrogate), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Contains a NUL character (\\u0000), which cannot be stored."
    return "Contains a lone UTF-16 surrogate, which is not valid Unicode."


def check_request() -> None:
    """before_request hook of the API: abort with 413 or 422 (error envelope) when the request is unusable."""
    if request.url_rule is None:  # 404 and 405 are answered by routing
        return
    limit = body_limit(request.url_rule.endpoint, current_app.extensions["trading_config"])
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        abort(413, message=f"The request body is larger than {limit} bytes, the limit of this route.")
    errors = {**_parameter_errors("path", request.view_args or {}), **_parameter_errors("query", request.args)}
    if request.is_json:
        errors.update(_json_errors())
    if errors:
        abort(422, errors=errors)


def _parameter_errors(location: str, values: Mapping[str, Any]) -> dict[str, Any]:
    problems: dict[str, list[str]] = {}
    for name, value in _items(values):
        for text in (name, value):
            message = isinstance(text, str) and string_problem(text)
            if message:
                problems.setdefault(_printable(name), []).append(message)
    return {location: problems} if problems else {}


def _items(values: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if hasattr(values, "items") and hasattr(values, "getlist"):  # a MultiDict: every repeated value
        yield from values.items(multi=True)
    else:
        yield from values.items()


def _json_errors() -> dict[str, Any]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return {"json": {"_schema": [_TOO_DEEP]}}
    problems = json_problems(body)
    return {"json": nest_errors(problems)} if problems else {}


def json_problems(body: Any) -> dict[Path, list[str]]:
    """{path: messages} for each unstorable string or key; only the nesting error past MAX_JSON_DEPTH."""
    problems: dict[Path, list[str]] = {}
    stack: list[tuple[Any, Path]] = [(body, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            return {path[:MAX_JSON_DEPTH]: [_TOO_DEEP]}
        if isinstance(value, str) and (message := string_problem(value)):
            problems[path or ("_schema",)] = [message]
        elif isinstance(value, dict):
            stack.extend(_members(value, path, problems))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return problems


def _members(value: dict, path: Path, problems: dict[Path, list[str]]) -> Iterator[tuple[Any, Path]]:
    """A dict's members to walk; a member whose key cannot be stored is reported, not walked."""
    for key, item in value.items():
        message = string_problem(key)
        if message:
            problems[(*path, _printable(key))] = [f"Key: {message}"]
        else:
            yield item, (*path, key)


def _printable(name: str) -> str:
    """A name safe to echo in an error message (unstorable characters replaced by U+FFFD)."""
    return _UNSTORABLE.sub("\ufffd", name)
