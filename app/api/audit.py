"""The audit log: /api/audit (every change made through the API, newest first)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.deps import db
from app.api.schemas import PageArgs, PageSchema
from app.services import audit as audit_service

blp = Blueprint("audit", __name__, url_prefix="/api/audit",
                description="Who changed what through the API: key, method, path, target, before and after.")


class AuditArgs(PageArgs):
    """Filters and page of GET /api/audit."""

    since = fields.AwareDateTime(metadata={"description": "Entries at or after this time (timezone required)"})
    key = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "API key name"})
    target = fields.String(validate=validate.Length(min=1, max=500),
                           metadata={"description": "e.g. wallet:paper, workflow:<id>, position:<id>"})


class AuditEntrySchema(Schema):
    """One change made through the API (secrets redacted)."""

    id = fields.Integer()
    at = fields.DateTime()
    key_name = fields.String()
    method = fields.String()
    path = fields.String()
    target = fields.String(allow_none=True)
    before = fields.Raw(allow_none=True, metadata={"description": "The target's state before (null for a create)"})
    after = fields.Raw(allow_none=True, metadata={"description": "The response body (null for a delete)"})
    client_addr = fields.String(allow_none=True)


class AuditPageSchema(PageSchema):
    """A page of audit entries with the total count."""

    items = fields.List(fields.Nested(AuditEntrySchema))


@blp.route("")
@blp.arguments(AuditArgs, location="query")
@blp.response(200, AuditPageSchema)
def audit_log(args):
    """Changes made through the API, newest first; filter by since, key (name) and target."""
    page, page_size = args.pop("page"), args.pop("page_size")
    with db() as conn:
        return audit_service.audit_page(conn, args, page, page_size)
