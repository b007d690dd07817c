"""Content-Security-Policy values as pure functions: the strict site policy and the hashes of inline code.

Our pages load only same-origin files (no inline script, no style attribute). A page we do not write
(rq-dashboard's) gets the same policy plus the SHA-256 of exactly the inline scripts and style
attributes its HTML carries, so nothing else inline can run.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

SITE_POLICY: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("frame-ancestors", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
)
_SCRIPT_TYPES = frozenset({"", "text/javascript", "application/javascript", "module"})


@dataclass(frozen=True)
class InlineCode:
    """The inline scripts and style attribute values of one HTML document (in document order)."""

    scripts: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()


def policy(extra_script: Iterable[str] = (), extra_style: Iterable[str] = ()) -> str:
    """The site policy as a header value, with extra sources appended to script-src and style-src."""
    extras = {"script-src": list(extra_script), "style-src": list(extra_style)}
    return "; ".join(" ".join([name, value, *extras.get(name, [])]) for name, value in SITE_POLICY)


def source_hash(text: str) -> str:
    """A CSP hash source ('sha256-…') for an inline script or style attribute value."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    return "'sha256-" + base64.b64encode(hashlib.sha256(normalized.encode()).digest()).decode() + "'"


def inline_code(html: str) -> InlineCode:
    """The executable inline scripts and the style attributes of a document, templates' included."""
    parser = _InlineParser()
    parser.feed(html)
    parser.close()
    return InlineCode(tuple(parser.scripts), tuple(parser.styles))


def policy_for_inline(code: InlineCode, allow_eval: bool = False) -> str:
    """The site policy allowing exactly this inline code (and `eval` when a page's library needs it)."""
    scripts = (["'unsafe-eval'"] if allow_eval else []) + _unique(source_hash(s) for s in code.scripts)
    style_hashes = _unique(source_hash(s) for s in code.styles)
    styles = ["'unsafe-hashes'", *style_hashes] if style_hashes else []
    return policy(scripts, styles)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class _InlineParser(HTMLParser):
    """Collects inline script bodies and style attributes; client-side templates are parsed as HTML too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._script: list[str] | None = None
        self._script_is_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values:
            self.styles.append(values["style"] or "")
        if tag == "script" and "src" not in values:
            self._script = []
            self._script_is_code = (values.get("type") or "").strip().lower() in _SCRIPT_TYPES

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "script" or self._script is None:
            return
        body, self._script = "".join(self._script), None
        if self._script_is_code:
            self.scripts.append(body)
        else:
            self.styles.extend(inline_code(body).styles)
