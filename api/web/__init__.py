"""Server-rendered pages (Jinja) for participants, process owners and monitors, beside the JSON API.

Interfaces other page modules rely on (keep them stable):

* **Registering pages**: a module of this package with a Flask ``Blueprint`` named ``bp`` (blueprint
  name ``web_<area>``), listed in :data:`PAGE_MODULES` below (a one-line registration). Pages are plain
  Flask routes, not flask-smorest ones, so they stay out of the OpenAPI document.
* **Who is signed in**: ``from api.web.auth import page_session, current_viewer, require_viewer``.
  A route opens ``with page_session(write=False) as (session, actor):`` and calls one engine or
  records service, exactly as an API route uses ``api.deps.authenticated``; nobody signed in raises
  ``Unauthorized`` and the page handler redirects to ``/sign-in?next=<this page>``.
  ``current_viewer()`` returns the :class:`~api.web.auth.Viewer` (``actor``, ``name``, ``email``,
  ``organisations``, ``is_admin``, ``may_edit_processes``, ``may_monitor``) or None; templates get
  it as ``viewer``. Capability checks belong in the engine (``Forbidden``/``NotFound``); the
  ``may_*`` flags only decide which links to show.
* **Errors**: raise ``engine.errors`` exceptions from page routes. Page requests get HTML error
  pages (``errors/error.html``: 400/403/404/409/422/429/500) when the request accepts ``text/html``
  (every browser navigation does); anything else (a ``fetch`` from page JavaScript, curl) gets
  problem+json, and ``Unauthorized`` a 401 instead of the redirect to the sign-in page. Paths under
  ``/api/``, ``/metrics`` and ``/healthz`` are the API and always keep problem+json.
* **CSRF**: every non-API POST/PUT/PATCH/DELETE needs the token. In a form:
  ``{{ csrf_field() }}``; from JavaScript: send the header ``X-CSRFToken`` with the value of
  ``<meta name="csrf-token">`` that ``base.html`` renders.
* **Templates**: ``{% extends "base.html" %}`` with blocks ``title``, ``content``, ``head`` (extra
  ``<link rel=stylesheet>``), ``scripts`` (extra ``<script src>``; never inline script: the CSP
  forbids it) and ``{% set active = "<nav key>" %}`` to highlight a navigation entry.
  Macros in ``macros/ui.html``: ``empty_state(title, text)``, ``badge(text, kind)``,
  ``pager(next_url)``, ``dl(pairs)``, ``when(dt)``. Filters: ``when`` (a UTC datetime as
  ``2027-03-01 09:00 UTC``), ``date`` and ``instructions`` (Markdown-ish text made safe HTML).
* **Navigation**: :func:`nav_item` adds an entry (label: a catalogue key such as ``nav.my_tasks``, said in
  the reader's language; endpoint; who may see it); an entry whose
  endpoint is not registered is not shown, so areas can land in any order. The process-owner and
  monitor entries are declared here for ``web_definitions.index`` and ``web_monitor.dashboard``.
* **Words**: every text a person reads is ``t(key, field=...)`` (:mod:`api.web.messages`), in the
  reader's language (profile, else ``Accept-Language``, else English; ``<html lang>`` says which); a status
  code reads as words with the ``status_text`` filter. A new key goes into ``catalogue/en.json``, then
  ``make catalogues`` and a translation in each ``api/locale/<lang>/LC_MESSAGES/messages.po``.
* **Security headers**: every page response carries a strict CSP (``default-src 'self'``),
  ``X-Frame-Options: DENY`` and ``Referrer-Policy: same-origin``. A page embedding bpmn-js/dmn-js,
  which write style attributes, calls ``api.web.security.allow_inline_styles()`` in its route.
* **Browser tests**: ``tests/web/conftest.py`` gives ``live_server`` (base URL of a real server on a
  fresh migrated SQLite database), ``browser``/``page`` (Debian's chromium through Playwright),
  ``demo`` (organisations and users), ``sign_in_as(page, person)`` and ``screenshot(page, name)``.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, Unauthorized

from .. import problems
from . import messages, security
from .auth import current_viewer, safe_next

log = logging.getLogger("ecvet.web")


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    endpoint: str
    visible: Callable[[Any], bool]
    order: int


_NAV: dict[str, NavItem] = {}


def nav_item(key: str, label: str, endpoint: str, visible: Callable[[Any], bool], order: int) -> None:
    """Add (or replace) a navigation entry; `visible(viewer)` decides who sees it."""
    _NAV[key] = NavItem(key, label, endpoint, visible, order)


nav_item("tasks", "nav.my_tasks", "web_inbox.inbox", lambda _viewer: True, 10)
nav_item("documents", "nav.documents", "web_documents.index", lambda _viewer: True, 20)
nav_item("definitions", "nav.definitions", "web_definitions.index", lambda v: v.may_edit_processes, 30)
nav_item("dashboard", "nav.dashboard", "web_monitor.dashboard", lambda v: v.may_monitor, 40)
nav_item("achievements", "nav.my_achievements", "web_achievements.mine", lambda v: bool(v.learner_ids), 15)
nav_item("start", "nav.start", "web_start.index", lambda v: v.is_admin or bool(v.organisations), 25)
nav_item("partners", "nav.find_partners", "web_partners.search", lambda v: bool(v.organisations), 27)


def navigation(app: Flask, viewer: Any) -> list[NavItem]:
    """The entries `viewer` may see, in order; a label that is a catalogue key is said in their language."""
    if viewer is None:
        return []
    shown = sorted((i for i in _NAV.values() if i.endpoint in app.view_functions and i.visible(viewer)),
                   key=lambda i: i.order)
    return [dataclasses.replace(i, label=messages.t(i.label)) if messages.has(i.label) else i for i in shown]


def wants_json() -> bool:
    """Browsers name text/html in Accept on every navigation; scripts, curl and API clients do not."""
    return not any(mime == "text/html" and quality > 0 for mime, quality in request.accept_mimetypes)


#: Statuses with a title and a text of their own in the catalogue (``error.<status>.title`` / ``.text``).
ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503)
ERROR_TITLES = {status: (f"error.{status}.title", f"error.{status}.text") for status in ERROR_STATUSES}


def error_page(status: int, message: str | None = None, errors: Any = None) -> Response:
    """An HTML error page (or problem+json when the page's JavaScript asked for JSON)."""
    fallback = ERROR_TITLES[500] if status >= HTTPStatus.INTERNAL_SERVER_ERROR else ERROR_TITLES[400]
    title_key, text_key = ERROR_TITLES.get(status, fallback)
    title, default = messages.t(title_key), messages.t(text_key)
    if wants_json():
        return problems.problem(status, title, message or default, errors)
    html = render_template("errors/error.html", status=status, title=title, message=message or default,
                           errors=errors)
    return Response(html, status=status, mimetype="text/html")


def when(value: datetime | date | None) -> str:
    """Times are kept in UTC and shown in UTC, with the zone said: parties sit in different countries."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


# CommonMark with raw HTML switched off: BPMN instructions are written by process owners, shown to
# everyone, so any tag in them comes out as text; markdown-it also refuses javascript: and data: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).disable("image")


def render_instructions(text: str) -> str:
    """A task's `instructionsForEndUser` (Markdown-ish) as safe HTML."""
    return _MARKDOWN.render(text)


#: Modules of this package whose ``bp`` blueprint holds pages; an area adds its module name here.
PAGE_MODULES = ["auth", "inbox", "task_pages", "task_work_pages", "document_pages",
                "vendor", "definitions_pages", "monitor_pages", "instance_pages", "start_pages", "profile_pages",
                "site_pages", "verify_pages", "achievement_pages", "europass_pages", "partner_pages",
                "form_editor_pages", "action_plan_pages", "group_pages", "group_start_pages",
                "review_pages", "role_map_pages", "privacy_pages", "retention_pages", "erasure_pages"]


def init_app(app: Flask) -> None:
    """Wire sessions, CSRF, headers, page blueprints, HTML error pages and template helpers into the app."""
    security.configure(app)
    for name in PAGE_MODULES:
        app.register_blueprint(importlib.import_module(f"{__name__}.{name}").bp)

    messages.install(app.jinja_env)

    @app.before_request
    def _language() -> None:
        """The language of the pages for this request: the profile's, else the browser's, else English."""
        if security.is_api_request() or request.endpoint == "static":
            return
        viewer = _viewer_or_none()
        accepted = [tag for tag, quality in request.accept_languages if quality > 0]
        g.language = messages.negotiate(getattr(viewer, "language", None), accepted)
    app.add_template_filter(when, "when")
    app.add_template_filter(lambda v: v.isoformat()[:10] if v else "", "date")
    app.add_template_filter(lambda text: Markup(render_instructions(text or "")), "instructions")

    @app.context_processor
    def _globals() -> dict[str, Any]:
        viewer = _viewer_or_none()
        return {
            "viewer": viewer,
            "nav": navigation(app, viewer),
            "csrf_field": lambda: Markup('<input type="hidden" name="csrf_token" value="{}">').format(
                _csrf_token()),
        }

    _register_error_pages(app)


def _csrf_token() -> str:
    return generate_csrf()


def _viewer_or_none() -> Any:
    """For templates: the viewer, but an error page must render even when the database cannot answer."""

    try:
        return current_viewer()
    except Exception:  # noqa: BLE001
        log.warning("could not load the signed-in user for a page", exc_info=True)
        return None


def _register_error_pages(app: Flask) -> None:
    """Page requests get HTML; the API keeps the problem+json handlers `api.problems` registered."""
    handlers = app.error_handler_spec[None][None]
    api_engine_error = handlers[EngineError]
    api_http_error = handlers[HTTPException]
    api_unexpected = handlers[Exception]

    @app.errorhandler(EngineError)
    def _engine_error(error: EngineError) -> Any:
        if security.is_api_request():
            return api_engine_error(error)
        if isinstance(error, Unauthorized) and not wants_json():
            target = request.full_path.rstrip("?") if request.method == "GET" else request.referrer or "/"

            return redirect(url_for("web_auth.sign_in", next=safe_next(target, "/")))
        response = error_page(error.status, error.message, error.errors)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if security.is_api_request():
            return api_http_error(error)
        status = error.code or 500
        message = error.description if status in (400, 413) else None
        if "CSRF" in (error.description or ""):
            message = messages.t("error.csrf")
        return error_page(status, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if security.is_api_request():
            return api_unexpected(error)
        log.exception("unhandled error on a page", exc_info=error)
        return error_page(500)
