"""The web UI: plain HTML pages and ES modules served by Flask (no build step, no CDN, no inline script).

A plain Flask blueprint (not a flask-smorest one), so none of it appears in the OpenAPI document.
Every page talks to the JSON API through `static/api.js`, which sends the key kept at sign-in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, render_template, request

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

SIGN_IN_REASONS = {
    "expired": "The service refused your key (unknown or revoked): sign in again.",
    "signed-out": "You are signed out.",
}


@bp.get("/")
def workflows_page():
    """Workflows: stat cards, BUY/SELL tabs with cards, the chain builder, recent executions."""
    return render_template("web/workflows.html", page="workflows")


@bp.get("/positions")
def positions_page():
    """Open and closed positions with P&L and the manual sell."""
    return render_template("web/positions.html", page="positions")


@bp.get("/approvals")
def approvals_page():
    """BUYs of require_approval workflows waiting for a decision: approve or reject; decided ones below."""
    return render_template("web/approvals.html", page="approvals")


@bp.get("/performance")
def performance_page():
    """Performance of a wallet or BUY workflow: figures, the equity curve, exits by rule, P&L per day."""
    return render_template("web/performance.html", page="performance")


@bp.get("/backtest")
def backtest_page():
    """Backtest a BUY + SELL pair (or edited copies) over stored predictions and prices: progress, then the result."""
    return render_template("web/backtest.html", page="backtest")


@bp.get("/signin")
def signin_page():
    """The sign-in form: asks for the API key, then returns to the page the browser came from."""
    return render_template("web/signin.html", page="signin", next_path=safe_next(request.args.get("next")),
                           notice=SIGN_IN_REASONS.get(request.args.get("reason", "")))


@bp.get("/docs")
def docs_page():
    """Swagger UI for /openapi.json from local assets (its start-up script is a static file)."""
    return render_template("web/docs.html")


def safe_next(value: str | None) -> str:
    """The path to return to after sign-in: a path on this site only (never another host or the sign-in page)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or _has_control(value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path == "/signin":
        return "/"
    return value


def _has_control(value: str) -> bool:
    """Browsers drop tabs and newlines from URLs ("/<TAB>/evil" becomes "//evil"): refuse any control character."""
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)


def init_app(app: Flask) -> None:
    """Mount the UI on the app."""
    app.register_blueprint(bp)
