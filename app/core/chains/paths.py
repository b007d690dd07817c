"""Field paths of validation errors, e.g. ('chain', 'rules', 0, 'percent'), and their readable form."""

from __future__ import annotations

from collections.abc import Mapping

FieldPath = tuple[str | int, ...]


class InvalidChain(ValueError):
    """The chain (or workflow body) breaks rules; `errors` maps field paths to messages."""

    def __init__(self, errors: dict[FieldPath, list[str]]):
        self.errors = errors
        super().__init__(describe_errors(errors))


def describe_errors(errors: Mapping[FieldPath, list[str]]) -> str:
    """One readable line naming every failing field, e.g. `chain.rules[0].percent: must be < 0`."""
    return "; ".join(f"{format_path(path)}: {' '.join(msgs)}" for path, msgs in errors.items())


def format_path(path: FieldPath) -> str:
    """('chain', 'rules', 0, 'percent') -> 'chain.rules[0].percent'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
