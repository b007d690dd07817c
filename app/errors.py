"""Domain errors, named by what the API caller should do about them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.chains.paths import FieldPath, describe_errors


class ServiceError(Exception):
    """Base: a request the service refuses; `status` is the HTTP code the API answers with."""

    status = 400

    def __init__(self, message: str, errors: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(ServiceError):
    """A referenced thing (wallet, workflow, model, …) does not exist: fix the reference."""

    status = 404


class Conflict(ServiceError):
    """The request clashes with current state: change that state first."""

    status = 409


class Invalid(ServiceError):
    """The request body breaks a rule: fix the named fields."""

    status = 422

    @classmethod
    def from_paths(cls, errors: Mapping[FieldPath, list[str]]) -> Invalid:
        """Build from core-style {path: messages} errors."""
        return cls(describe_errors(errors), {"json": nest_errors(errors)})


def nest_errors(errors: Mapping[FieldPath, list[str]]) -> dict[str, Any]:
    """{('chain','rules',0,'percent'): [...]} -> {'chain': {'rules': {0: {'percent': [...]}}}} (marshmallow's shape)."""
    nested: dict[Any, Any] = {}
    for path, messages in errors.items():
        node = nested
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(path[-1], []).extend(messages)
    return nested


def flatten_errors(errors: Mapping[Any, Any], prefix: str = "") -> list[str]:
    """Nested marshmallow errors -> ['chain.rules[0].percent: Must be negative.', …]."""
    lines: list[str] = []
    for key, value in errors.items():
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            path = f"{prefix}[{key}]"
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            lines.extend(flatten_errors(value, path))
        else:
            messages = value if isinstance(value, list) else [value]
            lines.append(f"{path}: {' '.join(str(m) for m in messages)}")
    return lines
