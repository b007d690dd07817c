"""Notifications: /api/notifications (deliveries) and /api/notifications/endpoints (where events go)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.deps import config, db
from app.api.schemas import DeletedSchema
from app.core.notifications import DeliveryStatus, EndpointKind, EventKind
from app.services import notifications as notification_service

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                description="Webhooks and Telegram messages on trading events, and what was delivered.")

_EVENTS = [kind.value for kind in EventKind]


class EndpointCreateSchema(Schema):
    """Body of POST /api/notifications/endpoints."""

    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in EndpointKind]))
    url = fields.String(validate=[validate.Length(max=2000), validate.Regexp(r"^https?://[!-~]+$")],
                        metadata={"description": "webhook: the http(s) URL events are POSTed to"})
    bot_token = fields.String(load_only=True, validate=validate.Regexp(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$"),
                              metadata={"description": "telegram: the bot's token (stored encrypted, never shown; "
                                                       "needs WALLET_ENCRYPTION_KEY on the server)"})
    chat_id = fields.String(validate=validate.Regexp(r"^(-?[0-9]{1,20}|@[A-Za-z0-9_]{5,32})$"),
                            metadata={"description": "telegram: the chat id (or @channel) messages go to"})
    events = fields.List(fields.String(validate=validate.OneOf(_EVENTS)), required=True,
                         validate=validate.Length(min=1, max=len(_EVENTS)))
    workflow_id = fields.UUID(metadata={"description": "Only this workflow's events (an existing workflow); "
                                                      "unset: every workflow's"})


class EndpointSchema(Schema):
    """An endpoint as the API shows it (a webhook's signing_secret only in the answer that created it)."""

    id = fields.Integer()
    kind = fields.String()
    url = fields.String(allow_none=True)
    chat_id = fields.String(allow_none=True)
    events = fields.List(fields.String())
    workflow_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    signing_secret = fields.String(allow_none=True, metadata={
        "description": "webhook: the HMAC key of X-Signature, shown only when the endpoint is created"})


class DeliveryArgs(Schema):
    """Filters and page of GET /api/notifications."""

    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    event = fields.String(validate=validate.OneOf(_EVENTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DeliverySchema(Schema):
    """One event for one endpoint: what was (or will be) sent, and how it went."""

    id = fields.Integer()
    endpoint_id = fields.Integer(allow_none=True, metadata={"description": "null once the endpoint is deleted"})
    event = fields.String()
    event_key = fields.String()
    payload = fields.Raw(metadata={"description": "The JSON body a webhook receives"})
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


class DeliveryPageSchema(Schema):
    """A page of deliveries with the total count."""

    items = fields.List(fields.Nested(DeliverySchema))
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


def register_spec(api) -> None:
    """A webhook names its url; a Telegram endpoint its bot token and chat."""
    api.spec.components.schema("NotificationEndpointCreate", {"anyOf": [
        {"required": ["url"], "properties": {"kind": {"enum": [EndpointKind.WEBHOOK.value]}}},
        {"required": ["bot_token", "chat_id"], "properties": {"kind": {"enum": [EndpointKind.TELEGRAM.value]}}},
    ]}, schema=EndpointCreateSchema)


@blp.route("")
@blp.arguments(DeliveryArgs, location="query")
@blp.response(200, DeliveryPageSchema)
def deliveries(args):
    """Deliveries newest first (PENDING, DELIVERED or FAILED, with attempts and the last error)."""
    page, page_size = args.pop("page"), args.pop("page_size")
    with db() as conn:
        return notification_service.deliveries_page(conn, args, page, page_size)


@blp.route("/endpoints")
class Endpoints(MethodView):
    @blp.response(200, EndpointSchema(many=True))
    def get(self):
        """List endpoints (secrets are never shown)."""
        with db() as conn:
            return notification_service.list_endpoints(conn)

    @blp.arguments(EndpointCreateSchema, example={"kind": "webhook", "url": "https://example.com/hooks/trading",
                                                  "events": ["buy_executed", "sell_executed", "execution_error"]})
    @blp.response(201, EndpointSchema)
    def post(self, data):
        """Add a webhook or Telegram endpoint for the chosen events (a webhook's signing secret is shown once)."""
        with db() as conn:
            return notification_service.create_endpoint(conn, data, config().wallet_encryption_key)


@blp.route("/endpoints/<int:endpoint_id>")
class EndpointById(MethodView):
    @blp.response(200, DeletedSchema)
    @blp.alt_response(404, description="Unknown endpoint")
    def delete(self, endpoint_id):
        """Delete an endpoint (its deliveries stay listed)."""
        with db() as conn:
            notification_service.delete_endpoint(conn, endpoint_id)
        return {"status": "deleted", "id": str(endpoint_id)}
