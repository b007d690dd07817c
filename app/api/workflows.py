"""Workflows and their execution logs: /api/buy/workflows, /api/buy/workflow-executions."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import examples
from app.api.deps import db
from app.api.schemas import (
    CloneSchema,
    DeletedSchema,
    ExecutionPageArgs,
    ExecutionPageSchema,
    ExecutionSchema,
    LimitArgs,
    RecentArgs,
    StatsSchema,
    ToggleArgs,
    WorkflowCreateSchema,
    WorkflowListArgs,
    WorkflowPatchSchema,
    WorkflowSchema,
)
from app.core.chains import load_stored_chain, summarize
from app.services import workflows as workflow_service
from app.services.reports import workflow_stats

blp = Blueprint("workflows", __name__, url_prefix="/api/buy",
                description="BUY and SELL workflows (paths kept from the original design for existing clients).")


def present(row: dict[str, Any]) -> dict[str, Any]:
    """Add the readable chain summary to a workflow row."""
    chain = load_stored_chain(row["type"], row["chain"])
    return {**row, "summary": summarize(chain, row["buy_amount_mode"], row["buy_amount_value"])}


@blp.route("/workflows")
class Workflows(MethodView):
    @blp.arguments(WorkflowListArgs, location="query")
    @blp.response(200, WorkflowSchema(many=True))
    def get(self, args):
        """List workflows, newest first; filter by wallet_alias and/or type."""
        type_ = args.get("type", "").upper() or None
        with db() as conn:
            rows = workflow_service.list_workflows(conn, args.get("wallet_alias"), type_)
        return [present(row) for row in rows]

    @blp.arguments(WorkflowCreateSchema, example=examples.BUY_WORKFLOW)
    @blp.response(201, WorkflowSchema)
    @blp.alt_response(404, description="Unknown wallet or model")
    @blp.alt_response(409, description="The wallet already has an active SELL workflow")
    def post(self, data):
        """Create a workflow (inactive unless is_active is true)."""
        with db() as conn:
            return present(workflow_service.create_workflow(conn, data))


@blp.route("/workflows/<uuid:workflow_id>")
class WorkflowById(MethodView):
    @blp.response(200, WorkflowSchema)
    @blp.alt_response(404, description="Unknown workflow")
    def get(self, workflow_id):
        """Get one workflow."""
        with db() as conn:
            return present(workflow_service.get_workflow(conn, workflow_id))

    @blp.arguments(WorkflowPatchSchema, example=examples.WORKFLOW_PATCH)
    @blp.response(200, WorkflowSchema)
    @blp.alt_response(404, description="Unknown workflow or model")
    def patch(self, data, workflow_id):
        """Change a workflow's fields; the result must stay valid and the type cannot change."""
        with db() as conn:
            return present(workflow_service.update_workflow(conn, workflow_id, data))

    @blp.response(200, DeletedSchema)
    @blp.alt_response(404, description="Unknown workflow")
    def delete(self, workflow_id):
        """Delete a workflow and its execution log."""
        with db() as conn:
            workflow_service.delete_workflow(conn, workflow_id)
        return {"status": "deleted", "id": str(workflow_id)}


@blp.route("/workflows/<uuid:workflow_id>/toggle", methods=["PATCH"])
@blp.arguments(ToggleArgs, location="query")
@blp.response(200, WorkflowSchema)
@blp.alt_response(404, description="Unknown workflow")
@blp.alt_response(409, description="Another SELL workflow is active on the wallet, or a model is gone")
def toggle(args, workflow_id):
    """Activate or deactivate a workflow (?active=true|false)."""
    with db() as conn:
        return present(workflow_service.set_active(conn, workflow_id, args["active"]))


@blp.route("/workflows/<uuid:workflow_id>/clone", methods=["POST"])
@blp.arguments(CloneSchema, required=False)
@blp.response(201, WorkflowSchema)
@blp.alt_response(404, description="Unknown workflow")
def clone(data, workflow_id):
    """Copy a workflow as a new inactive one (name defaults to '<name> (copy)')."""
    with db() as conn:
        return present(workflow_service.clone_workflow(conn, workflow_id, (data or {}).get("name")))


@blp.route("/workflows/<uuid:workflow_id>/executions")
@blp.arguments(LimitArgs, location="query")
@blp.response(200, ExecutionSchema(many=True))
@blp.alt_response(404, description="Unknown workflow")
def executions_of_workflow(args, workflow_id):
    """A workflow's latest executions (?limit=, default 50)."""
    with db() as conn:
        return workflow_service.workflow_executions(conn, workflow_id, args["limit"])


@blp.route("/workflows/executions/recent")
@blp.arguments(RecentArgs, location="query")
@blp.response(200, ExecutionSchema(many=True))
def recent_executions(args):
    """Latest executions across workflows (?limit= default 20, ?result=)."""
    with db() as conn:
        return workflow_service.recent_executions(conn, args["limit"], args.get("result"))


@blp.route("/workflows/stats")
@blp.response(200, StatsSchema)
def stats():
    """Active BUY and SELL workflows, and today's executions (UTC) by result."""
    with db() as conn:
        return workflow_stats(conn)


@blp.route("/workflow-executions")
@blp.arguments(ExecutionPageArgs, location="query")
@blp.response(200, ExecutionPageSchema)
def execution_page(args):
    """All executions, newest first, paginated (?page=&page_size=), filtered by workflow_id, result, type, mint."""
    page, page_size = args.pop("page"), args.pop("page_size")
    with db() as conn:
        return workflow_service.execution_page(conn, args, page, page_size)
