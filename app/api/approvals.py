"""Human approval of BUYs: /api/approvals."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.deps import db, dispatcher, process
from app.core.states import ApprovalStatus
from app.services import approvals as approval_service

blp = Blueprint("approvals", __name__, url_prefix="/api/approvals",
                description="BUYs of require_approval workflows waiting for a human: approve or reject.")


class ApprovalListArgs(Schema):
    """Filters of GET /api/approvals."""

    status = fields.String(validate=validate.OneOf([s.value for s in ApprovalStatus]))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class ApprovalSchema(Schema):
    """A BUY waiting for (or past) a human decision."""

    id = fields.UUID()
    prediction_id = fields.UUID()
    workflow_id = fields.UUID()
    workflow_name = fields.String()
    wallet_alias = fields.String()
    mint = fields.String()
    amount_sol = fields.Float(metadata={"description": "The size when it was proposed (re-sized on approval)"})
    steps_log = fields.List(fields.Dict(), metadata={"description": "Every check that passed before the buy"})
    status = fields.String(metadata={"description": "PENDING, APPROVED, REJECTED or EXPIRED"})
    decided_by = fields.String(allow_none=True, metadata={"description": "The API key that decided"})
    decided_at = fields.DateTime(allow_none=True)
    outcome = fields.Dict(allow_none=True, metadata={
        "description": "What the decision did: the buy's result (EXECUTED, REJECTED, ERROR, skipped) and execution_id"})
    expires_at = fields.DateTime()
    created_at = fields.DateTime()


def _key_name() -> str | None:
    return (g.get("api_key") or {}).get("name")


@blp.route("")
@blp.arguments(ApprovalListArgs, location="query")
@blp.response(200, ApprovalSchema(many=True))
def list_approvals(args):
    """Approvals, newest first; ?status=PENDING for those waiting."""
    with db() as conn:
        return approval_service.list_approvals(conn, args.get("status"), args["limit"])


@blp.route("/<uuid:approval_id>/approve", methods=["POST"])
@blp.response(200, ApprovalSchema)
@blp.alt_response(404, description="Unknown approval")
@blp.alt_response(409, description="Already decided, or expired")
def approve(approval_id):
    """Approve: the buy re-runs every check (halt, limits, cooldown, held mint, balance, price), then buys once."""
    with db() as conn:
        deps = process().buy_deps(conn, dispatcher())
        return approval_service.approve(conn, approval_id, _key_name(), deps)


@blp.route("/<uuid:approval_id>/reject", methods=["POST"])
@blp.response(200, ApprovalSchema)
@blp.alt_response(404, description="Unknown approval")
@blp.alt_response(409, description="Already decided, or expired")
def reject(approval_id):
    """Reject: no buy; logged as a REJECTED execution naming the key."""
    with db() as conn:
        return approval_service.reject(conn, approval_id, _key_name())
