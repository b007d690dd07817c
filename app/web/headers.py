"""Security headers on every response: a strict Content-Security-Policy, no sniffing, no framing, no CORS.

Every page and file gets `csp.SITE_POLICY`. rq-dashboard's HTML (under /rq) is not ours: it carries
one templated inline script and a few `style` attributes, and compiles its underscore templates with
`new Function`. Its pages get the site policy plus the hashes of exactly the inline code each response
contains ('unsafe-hashes' for the style attributes) and 'unsafe-eval'. No Access-Control-* header is
ever added: the browser UI is same-origin and cross-origin callers get no CORS grant.
"""

from __future__ import annotations

from flask import Flask, Response, request

from app.web import csp

FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
RQ_PREFIX = "/rq"
SITE_POLICY = csp.policy()


def init_headers(app: Flask) -> None:
    """Add the security headers to every response the app sends."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """The fixed headers and the Content-Security-Policy for this response."""
    for name, value in FIXED_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Content-Security-Policy"] = _policy_for(response)
    return response


def _policy_for(response: Response) -> str:
    """rq-dashboard's HTML: the site policy with its own inline code allowed; everything else: the site policy."""
    if not request.path.startswith(RQ_PREFIX) or response.mimetype != "text/html" or response.direct_passthrough:
        return SITE_POLICY
    return csp.policy_for_inline(csp.inline_code(response.get_data(as_text=True)), allow_eval=True)
