"""Field types whose OpenAPI description is exactly what they accept, and the spec hooks that document them.

A decimal input (`DecimalInput`) takes a JSON number or a plain decimal string ("0.05"), within bounds its
column can hold; the document says so with `anyOf` a bounded number (`multipleOf` for the decimals) or a
string whose pattern admits exactly the accepted strings. A posted point in time (`PointInTime`) must
be after 2000 and not ahead of the server's clock by more than MAX_CLOCK_SKEW_SECONDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from marshmallow import ValidationError, fields
from werkzeug.routing import UnicodeConverter

from app.core.clock import timestamp_problem, utc_now
from app.core.solana import decimal_places

Problem = Callable[[Decimal], "str | None"]
_PLAIN = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")
DEFAULT_CLOCK_SKEW = timedelta(seconds=60)
STORABLE_TEXT = r"^[^\x00]*$"


class DecimalInput(fields.Decimal):
    """A decimal in: JSON number or plain decimal string; `minimum <= v` (`0 < v` if positive), `v < 10**digits`
    or `v <= at_most`, at most `places` decimals. `problem` (a core rule) is asked first, for its wording."""

    def __init__(self, *, places: int, digits: int | None = None, at_most: int | None = None, minimum: int = 0,
                 positive: bool = False, problem: Problem | None = None, **kwargs: Any):
        self.bounds = _Bounds(places, digits, at_most, minimum, positive)
        self.problem = problem
        kwargs.setdefault("as_string", True)
        super().__init__(places=None, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        number = super()._deserialize(value, attr, data, **kwargs)
        message = (self.problem and self.problem(number)) or self.bounds.problem(number)
        if message:
            raise ValidationError(message)
        if isinstance(value, str) and not _PLAIN.fullmatch(value):
            raise ValidationError('Write a decimal string as plain digits with an optional ".", e.g. "0.05".')
        return number

    def openapi(self) -> dict[str, Any]:
        """This field's schema: a bounded number or a string of the accepted form."""
        return {"anyOf": [self.bounds.number_schema(), {"type": "string", "pattern": self.bounds.pattern()}]}


class _Bounds:
    """What a DecimalInput accepts, as checks and as JSON Schema."""

    def __init__(self, places: int, digits: int | None, at_most: int | None, minimum: int, positive: bool):
        if (digits is None) == (at_most is None) or (positive and minimum) or (at_most and at_most != 100):
            raise ValueError("give digits (v < 10**digits) or at_most=100, and minimum or positive")
        self.places, self.digits, self.at_most, self.minimum, self.positive = (
            places, digits, at_most, minimum, positive)

    def problem(self, value: Decimal) -> str | None:
        """The message for a value out of bounds, or None."""
        if self.positive and value <= 0:
            return "Must be greater than 0."
        if value < self.minimum:
            return f"Must be greater than or equal to {self.minimum}."
        if self.at_most is not None and value > self.at_most:
            return f"Must be less than or equal to {self.at_most}."
        if self.digits is not None and value >= Decimal(10) ** self.digits:
            return f"Must be below 1e{self.digits}."
        if decimal_places(value) > self.places:
            return f"At most {self.places} decimals."
        return None

    def number_schema(self) -> dict[str, Any]:
        """The JSON-number branch."""
        schema: dict[str, Any] = {"type": "number", "minimum": self.minimum, "multipleOf": 10.0 ** -self.places}
        if self.positive:
            schema["exclusiveMinimum"] = True
        if self.at_most is not None:
            schema["maximum"] = self.at_most
        else:
            schema.update(maximum=10 ** self.digits, exclusiveMaximum=True)
        return schema

    def pattern(self) -> str:
        """The string branch: exactly the plain decimal strings within bounds."""
        fraction = rf"(\.[0-9]{{1,{self.places}}}0*)?"
        if self.at_most is not None:  # 100: [minimum or 0+, 100]
            whole = rf"100(\.0+)?|[1-9][0-9]?{fraction}"
        else:
            whole = rf"[1-9][0-9]{{0,{self.digits - 1}}}{fraction}"
        if self.minimum == 0:
            whole += "|" + (_positive_fraction(self.places) if self.positive else rf"0{fraction}")
        return f"^({whole})$"


def _positive_fraction(places: int) -> str:
    """0.x strings above 0 with at most `places` significant decimals (trailing zeros allowed)."""
    options = "|".join(rf"0{{{zeros}}}[1-9][0-9]{{0,{places - 1 - zeros}}}" for zeros in range(places))
    return rf"0\.({options})0*"


class PointInTime(fields.AwareDateTime):
    """A posted timestamp (timezone required): at or after 2000, at most MAX_CLOCK_SKEW_SECONDS ahead of now."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        moment = super()._deserialize(value, attr, data, **kwargs)
        message = timestamp_problem(moment, utc_now(), clock_skew())
        if message:
            raise ValidationError(message)
        return moment


def clock_skew() -> timedelta:
    """How far ahead of the server's clock a posted timestamp may be (the running app's setting)."""
    if has_app_context() and "trading_config" in current_app.extensions:
        return timedelta(seconds=current_app.extensions["trading_config"].max_clock_skew_seconds)
    return DEFAULT_CLOCK_SKEW


def document_field(converter: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """apispec attribute function: decimal inputs as anyOf, decimal outputs as strings, bounds as numbers,
    free text without NUL."""
    for key in ("minimum", "maximum", "default"):
        if isinstance(ret.get(key), Decimal):
            ret[key] = _json_number(ret[key])
    if isinstance(field, DecimalInput):
        return _decimal_input(field, ret)
    if isinstance(field, fields.Decimal) and field.as_string:
        ret.update(type="string", format="decimal")
    if isinstance(field, fields.String) and not {"pattern", "format", "enum"} & ret.keys():
        ret["pattern"] = STORABLE_TEXT  # the request guard refuses NUL (and lone surrogates) everywhere
    return {}


def _decimal_input(field: DecimalInput, ret: dict[str, Any]) -> dict[str, Any]:
    """Replace the number apispec guessed by the field's anyOf (nullable on each branch)."""
    nullable = ret.pop("nullable", False)
    for key in ("type", "format", "minimum", "maximum"):
        ret.pop(key, None)
    schema = field.openapi()
    if nullable:
        schema["anyOf"] = [{**branch, "nullable": True} for branch in schema["anyOf"]]
    return schema


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


ADDRESS_PATTERN = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"
ADDRESS_FORMAT = "solana-address"  # base58 that decodes to 32 bytes (a regex cannot say that much)


class AddressConverter(UnicodeConverter):
    """`<address:mint>`: any path segment (the service answers 422 naming a bad one), documented as an address."""


def text_parameter(converter: UnicodeConverter) -> dict[str, Any]:
    """The OpenAPI schema of a `<string:...>` path parameter: a non-empty segment (one with NUL is 422)."""
    return {"type": "string", "minLength": 1}


def address_parameter(converter: AddressConverter) -> dict[str, Any]:
    """The OpenAPI schema of an `<address:...>` path parameter."""
    return {"type": "string", "pattern": ADDRESS_PATTERN, "format": ADDRESS_FORMAT}
