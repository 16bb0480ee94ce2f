"""Flask app factory: wires settings, database, engine configuration, blueprints and OpenAPI."""
from __future__ import annotations

import http
from typing import Any

import swagger_ui_bundle
from flask import Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from ecvet import wiring
from engine import config, execution, services
from engine.config import Settings, load_settings
from engine.db import Database

from . import (
    action_plans,
    attachments,
    competent_institutions,
    decisions,
    documents,
    erasure_requests,
    europass_mobilities,
    evaluations,
    healthz,
    incidents,
    learners,
    messages,
    mobilities,
    mobility_groups,
    mous,
    national_models,
    organisations,
    outbox,
    parsing,
    partner_profiles,
    partner_search,
    partnerships,
    privacy_notice,
    problems,
    process_definitions,
    process_instances,
    retention,
    reviews,
    signals,
    tasks,
    tokens,
    users,
    web,
)
from . import logging as applog
from . import metrics as app_metrics
from .schemas import ProblemSchema

#: The API's resources, one blueprint module each, named after its URL: api/mous.py serves /api/mous
#: (tests/api/test_init.py holds every module to it).
RESOURCES = (
    healthz, tokens, organisations, users, process_definitions, decisions, process_instances, tasks, incidents,
    messages, signals,
    outbox, mous, national_models, competent_institutions, partnerships, partner_profiles, attachments,
    mobilities, learners, reviews, evaluations, action_plans, documents, europass_mobilities, partner_search,
    mobility_groups, privacy_notice, retention, erasure_requests,
)


class ProblemApi(Api):
    """flask-smorest, but its errors come out, and are documented, as application/problem+json."""

    ERROR_SCHEMA = ProblemSchema  # type: ignore[assignment]  # flask-smorest types it as its own ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return problems.from_http_exception(error)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (http.HTTPStatus.CONTINUE <= status < http.HTTPStatus.OK) and status not in (204, 304):
                response["schema"] = ProblemSchema
            prepare_response(response, self.spec, "application/problem+json")
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem details)", "schema": ProblemSchema}
        prepare_response(response, self.spec, "application/problem+json")
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    settings = settings or load_settings()
    config.use(settings)  # the engine reads the same settings as this app (one object per process)
    app = Flask(__name__)
    parsing.install_converters(app)  # before any rule is added: <id:...>, and no NUL in string segments
    app.config.update(
        API_TITLE="ECVET mobility workflow API",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        MAX_CONTENT_LENGTH=settings.max_bundle_bytes + 1_000_000,
        JSON_SORT_KEYS=False,
    )
    db = database or Database(settings.database_url)
    app.extensions["ecvet_db"] = db
    app.extensions["ecvet_settings"] = settings
    wiring.load()
    services.load_configured_connectors()
    execution.configure(time_limit=settings.script_time_limit)

    api = ProblemApi(app)
    api.register_converter(parsing.IdConverter, parsing.id_parameter_schema)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    for module in RESOURCES:
        api.register_blueprint(module.blp)
    problems.register(app)
    # Pages (sign-in, tasks, documents...): session cookie, CSRF, HTML errors; not in the OpenAPI document.
    web.init_app(app)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Any:
        """Swagger UI files from the installed swagger-ui-bundle package: no CDN."""
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    # JSON log lines (ECVET_LOG_FORMAT=text for a terminal), one per request with its latency;
    # GET /metrics for Prometheus (ECVET_METRICS_TOKEN, when set, is required as a bearer token).
    applog.configure(level=settings.log_level, fmt=settings.log_format)
    app_metrics.init_app(app, db, token=settings.metrics_token)
    _document_metrics(api, app)
    applog.init_app(app)
    # Last, so a request refused for its input is still timed and logged like any other.
    parsing.init_app(app)
    return app


def _document_metrics(api: Api, app: Flask) -> None:
    """/metrics is a plain Flask route (Prometheus text): describe it, public unless ECVET_METRICS_TOKEN is set."""
    operation: dict[str, Any] = {
        "tags": ["Metrics"],
        "summary": "Prometheus metrics (text exposition format, or OpenMetrics when Accept asks for it)",
        "responses": {"200": {"description": "The metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}},
        "security": [],
    }
    if app.extensions["ecvet_settings"].metrics_token:
        api.spec.components.security_scheme(
            "metrics_token", {"type": "http", "scheme": "bearer", "description": "the value of ECVET_METRICS_TOKEN"})
        operation["security"] = [{"metrics_token": []}]
        operation["responses"]["401"] = "UNAUTHORIZED"  # a component name: apispec adds the lazy response
    api.spec.path(rule=next(app.url_map.iter_rules("metrics.scrape")), operations={"get": operation})
