"""The web UI: plain HTML pages and ES modules served by Flask (no build step, no CDN).

A plain Flask blueprint (not a flask-smorest one), so none of it appears in the OpenAPI document.
Every page talks to the JSON API through `static/api.js`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")


@bp.get("/")
def workflows_page():
    """Workflows: stat cards, BUY/SELL tabs with cards, the chain builder, recent executions."""
    return render_template("web/workflows.html", page="workflows")


@bp.get("/positions")
def positions_page():
    """Open and closed positions with P&L and the manual sell."""
    return render_template("web/positions.html", page="positions")


def init_app(app: Flask) -> None:
    """Mount the UI on the app."""
    app.register_blueprint(bp)
