"""Workflow use cases: create, change, toggle, clone, delete, and their execution logs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Connection, errors

from app.core.chains import Chain, chain_to_json, check_workflow, parse_chain, referenced_model_ids
from app.core.pages import page_envelope
from app.errors import Conflict, Invalid, NotFound
from app.repos import executions as execution_repo
from app.repos import models as model_repo
from app.repos import wallets as wallet_repo
from app.repos import workflows as workflow_repo

DEFAULTS = {"sell_amount_pct": Decimal(100), "cooldown_seconds": 60, "max_open_positions": 5,
            "require_approval": False, "slippage_bps": None}
CLONE_SUFFIX = " (copy)"


def validated_chain(
    workflow_type: str, raw_chain: Any, amount_mode: str | None, amount_value: Decimal | None
) -> Chain:
    """Parse the chain and check the amount fields against the type; raises Invalid naming each field."""
    chain, problems = check_workflow(workflow_type, raw_chain, amount_mode, amount_value)
    if problems or chain is None:
        raise Invalid.from_paths(problems)
    return chain


def _require_models(conn: Connection, chain: Chain) -> None:
    wanted = referenced_model_ids(chain)
    missing = [m for m in wanted if m not in model_repo.lock_ids(conn, wanted)]
    if missing:
        raise NotFound(f"Model(s) {', '.join(map(str, missing))} not found: upload them first (chain).",
                       {"json": {"chain": [f"Unknown model id {m}." for m in missing]}})


def _insert(conn: Connection, values: dict[str, Any]) -> UUID:
    try:
        with conn.transaction():
            return workflow_repo.insert(conn, values)
    except errors.UniqueViolation:
        raise _second_active_sell(conn, values["wallet_id"]) from None


def _second_active_sell(conn: Connection, wallet_id: UUID) -> Conflict:
    name = workflow_repo.active_sell_workflow_name(conn, wallet_id)
    return Conflict(f"The wallet already has an active SELL workflow ({name!r}): deactivate it first.")


def create_workflow(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Create a workflow for a wallet after validating its chain and referenced models."""
    chain = validated_chain(data["type"], data["chain"], data.get("buy_amount_mode"), data.get("buy_amount_value"))
    with conn.transaction():
        wallet = wallet_repo.get_by_alias(conn, data["wallet_alias"])
        if wallet is None:
            raise NotFound(f"Wallet {data['wallet_alias']!r} not found.", {"json": {"wallet_alias": ["Unknown."]}})
        _require_models(conn, chain)
        values = {**DEFAULTS, "is_active": False, "buy_amount_mode": None, "buy_amount_value": None}
        values.update({k: v for k, v in data.items() if k != "wallet_alias"})
        values.update(wallet_id=wallet["id"], chain=chain_to_json(chain))
        workflow_id = _insert(conn, values)
        return workflow_repo.get(conn, workflow_id)


def list_workflows(conn: Connection, wallet_alias: str | None, type_: str | None) -> list[dict[str, Any]]:
    """Workflows, newest first, optionally one wallet's and/or one type's."""
    return workflow_repo.list_workflows(conn, wallet_alias, type_)


def get_workflow(conn: Connection, workflow_id: UUID) -> dict[str, Any]:
    """One workflow, or NotFound."""
    workflow = workflow_repo.get(conn, workflow_id)
    if workflow is None:
        raise NotFound(f"Workflow {workflow_id} not found.")
    return workflow


def _lock_existing(conn: Connection, workflow_id: UUID) -> dict[str, Any]:
    row = workflow_repo.lock(conn, workflow_id)
    if row is None:
        raise NotFound(f"Workflow {workflow_id} not found.")
    return row


def update_workflow(conn: Connection, workflow_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply a partial update; the merged workflow must still be valid and its type cannot change."""
    with conn.transaction():
        current = _lock_existing(conn, workflow_id)
        if "type" in changes and changes.pop("type") != current["type"]:
            raise Invalid.from_paths({("type",): [
                f"A workflow's type cannot change (it is {current['type']}); create a new workflow instead."]})
        merged = {**current, **changes}
        chain = validated_chain(merged["type"], merged["chain"], merged["buy_amount_mode"],
                                merged["buy_amount_value"])
        if "chain" in changes:
            _require_models(conn, chain)
            changes["chain"] = chain_to_json(chain)
        workflow_repo.update(conn, workflow_id, changes)
        return workflow_repo.get(conn, workflow_id)


def set_active(conn: Connection, workflow_id: UUID, active: bool) -> dict[str, Any]:
    """Switch a workflow on or off; activating needs its models present and no other active SELL."""
    try:
        with conn.transaction():
            current = _lock_existing(conn, workflow_id)
            if active:
                _require_models_for_activation(conn, current)
            workflow_repo.set_active(conn, workflow_id, active)
    except errors.UniqueViolation:
        raise _second_active_sell(conn, current["wallet_id"]) from None
    return workflow_repo.get(conn, workflow_id)


def _require_models_for_activation(conn: Connection, workflow: dict[str, Any]) -> None:
    chain = parse_chain(workflow["type"], workflow["chain"])
    try:
        _require_models(conn, chain)
    except NotFound as exc:
        raise Conflict(f"Cannot activate: {exc.message}") from None


def clone_workflow(conn: Connection, workflow_id: UUID, name: str | None = None) -> dict[str, Any]:
    """Copy a workflow (same wallet, chain and settings) as a new, inactive one."""
    with conn.transaction():
        source = workflow_repo.get(conn, workflow_id)
        if source is None:
            raise NotFound(f"Workflow {workflow_id} not found.")
        copy_name = name or source["name"][: 100 - len(CLONE_SUFFIX)] + CLONE_SUFFIX
        values = {key: source[key] for key in workflow_repo.EDITABLE}
        values.update(wallet_id=source["wallet_id"], type=source["type"], is_active=False, name=copy_name)
        new_id = workflow_repo.insert(conn, values)
        return workflow_repo.get(conn, new_id)


def delete_workflow(conn: Connection, workflow_id: UUID) -> None:
    """Delete a workflow and its execution log."""
    with conn.transaction():
        if not workflow_repo.delete(conn, workflow_id):
            raise NotFound(f"Workflow {workflow_id} not found.")


def workflow_executions(conn: Connection, workflow_id: UUID, limit: int) -> list[dict[str, Any]]:
    """A workflow's latest executions (NotFound for an unknown workflow)."""
    get_workflow(conn, workflow_id)
    return execution_repo.for_workflow(conn, workflow_id, limit)


def recent_executions(conn: Connection, limit: int, result: str | None) -> list[dict[str, Any]]:
    """Latest executions across all workflows."""
    return execution_repo.recent(conn, limit, result)


def execution_page(conn: Connection, filters: dict[str, Any], page: int, page_size: int) -> dict[str, Any]:
    """One page of the global execution log, with totals."""
    items, total = execution_repo.page(conn, filters, page, page_size)
    return page_envelope(items, total, page, page_size)
