"""Pagination as a pure function: a page of rows and the total, in the API's page envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def page_envelope(items: Sequence[Any], total: int, page: int, page_size: int) -> dict[str, Any]:
    """{items, page, page_size, total, pages} for page `page` (1-based) of `total` rows."""
    return {"items": list(items), "page": page, "page_size": page_size, "total": total,
            "pages": -(-total // page_size)}
