"""Trading Workflows: Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, send_from_directory
from flask_smorest import Api
from werkzeug.exceptions import MethodNotAllowed

from app.config import Config, ConfigError, load_config
from app.errors import ServiceError, flatten_errors

__version__ = "0.1.0"


class TradingApi(Api):
    """flask-smorest Api whose error envelope always carries a message naming the fields."""

    def handle_http_exception(self, error):
        from flask_limiter import RateLimitExceeded

        if isinstance(error, RateLimitExceeded):
            from app.api.limits import retry_message

            error.data = {"message": retry_message(error)}
        data = getattr(error, "data", None)
        if data and "message" not in data:
            errors = data.get("errors") or data.get("messages")
            if errors:
                data["message"] = "Invalid request: " + "; ".join(_strip_location(errors))
        response, status, headers = super().handle_http_exception(error)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers = {**headers, "Allow": ", ".join(sorted(error.valid_methods))}
        return response, status, headers


def _strip_location(errors: dict) -> list[str]:
    """{'json': {...}} -> field paths without the 'json.' location prefix."""
    lines = []
    for location, fields in errors.items():
        lines.extend(flatten_errors(fields) if isinstance(fields, dict) else [f"{location}: {fields}"])
    return lines


def create_app(config: Config | None = None) -> Flask:
    """Build the web app; the database and Redis URLs must be set (the runner sets them for embedded mode)."""
    config = config or load_config()
    if not config.database_url or not config.redis_url:
        raise ConfigError(
            "DATABASE_URL and REDIS_URL must be set for the web process; "
            "run `make run` (embedded PostgreSQL and Redis) or export both URLs."
        )
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    app.config.update(_openapi_settings())
    app.extensions["trading_config"] = config
    api = TradingApi(app)
    _secure(app, api, config)
    _guard_requests(app, config)
    _document_fields(app, api)
    _register_blueprints(api)
    _document_security(api)
    _register_service_errors(app, api)
    _mount_swagger_assets(app)
    _mount_rq_dashboard(app, config)
    _mount_web_ui(app)
    _add_security_headers(app)
    return app


def _openapi_settings() -> dict:
    return {
        "API_TITLE": "Trading Workflows",
        "API_VERSION": __version__,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }


def _secure(app: Flask, api: Api, config: Config) -> None:
    """API keys, one audited transaction per write, rate limits (in this order: the limiter needs the key)."""
    from app.api.auth import init_auth
    from app.api.limits import init_limits
    from app.api.unit_of_work import init_unit_of_work

    init_auth(app)
    init_unit_of_work(app)
    init_limits(app, config)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                       "description": "An API key: python -m app api-keys create"})


def _guard_requests(app: Flask, config: Config) -> None:
    """Body limit (413), JSON depth and unstorable strings (422) are checked before any view runs."""
    from app.api.request_guard import check_request

    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.before_request(check_request)


def _document_fields(app: Flask, api: Api) -> None:
    """The OpenAPI document describes decimals, bounds and addresses exactly as the API accepts them."""
    from werkzeug.routing import UnicodeConverter

    from app.api.fields import AddressConverter, address_parameter, document_field, text_parameter

    api.ma_plugin.converter.add_attribute_function(document_field)
    app.url_map.converters["address"] = AddressConverter
    api.register_converter(AddressConverter, address_parameter)
    api.register_converter(UnicodeConverter, text_parameter)


def _register_blueprints(api: Api) -> None:
    from app.api import (
        approvals,
        audit,
        backtests,
        coins,
        health,
        models,
        notifications,
        orders,
        performance,
        positions,
        predictions,
        schemas,
        trading,
        wallets,
        workflows,
    )

    schemas.register_spec(api)
    predictions.register_spec(api)
    notifications.register_spec(api)
    for module in (health, wallets, workflows, predictions, coins, models, positions, orders, audit, performance,
                   trading, notifications, backtests, approvals):
        api.register_blueprint(module.blp)


def _document_security(api: Api) -> None:
    """Every /api operation: the bearer key, 401 without it, 403 (writes) for a read-only key, 429."""
    from app.api.security_doc import document_security

    document_security(api)


def _register_service_errors(app: Flask, api: Api) -> None:
    from flask_smorest import abort

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        try:
            kwargs = {"message": exc.message}
            if exc.errors:
                kwargs["errors"] = exc.errors
            abort(exc.status, **kwargs)
        except Exception as http_exc:  # noqa: BLE001 - abort raises the HTTPException to render
            return api.handle_http_exception(http_exc)


def _mount_swagger_assets(app: Flask) -> None:
    import swagger_ui_bundle

    @app.route("/_swagger/<path:filename>")
    def swagger_asset(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


def _mount_rq_dashboard(app: Flask, config: Config) -> None:
    import rq_dashboard
    from rq_dashboard.web import setup_rq_connection

    app.config["RQ_DASHBOARD_REDIS_URL"] = config.redis_url
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/rq")
    setup_rq_connection(app)


def _mount_web_ui(app: Flask) -> None:
    """The UI's pages, the sign-in page and /docs (our Swagger UI page: no inline script)."""
    from app.web import init_app

    init_app(app)


def _add_security_headers(app: Flask) -> None:
    """CSP, nosniff, no framing and same-origin referrers on every response; no CORS."""
    from app.web.headers import init_headers

    init_headers(app)


__all__ = ["ConfigError", "create_app"]
