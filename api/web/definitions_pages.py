"""Process owners' pages: definitions and their versions, diagrams, the BPMN modeler and decision tables.

Process owners are the administrators (``Viewer.may_edit_processes``); every page here asks the engine
(``require_admin``), so anyone else gets 403. Saving posts the edited XML (from the modeler's JavaScript
as ``application/xml`` with the ``X-CSRFToken`` header, or without JavaScript as an uploaded file in a
form with the CSRF field) to :mod:`engine.modeling`, which deploys it as the next version with the
rest of the bundle unchanged. Refusals list the engine's errors, each with its file and element id;
JavaScript callers get them as problem+json and mark the elements in the modeler.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for

from engine import deployments, modeling, monitoring
from engine.errors import Invalid
from engine.parties import require_admin

from ..deps import settings
from . import messages, security, wants_json
from .auth import page_session
from .messages import t

bp = Blueprint("web_definitions", __name__)


def _settings() -> Any:
    return settings()


def _submitted_xml() -> bytes:
    """The edited XML: the request body (JavaScript) or the uploaded file / text field (plain form)."""
    if request.mimetype in ("application/xml", "text/xml"):
        data = request.get_data()
    else:
        upload = request.files.get("file")
        data = upload.read() if upload is not None and upload.filename else request.form.get("xml", "").encode()
    if not data.strip():
        raise Invalid(t("definitions.nothing_sent"),
                      errors=[{"file": None, "element_id": None, "line": None, "message": t("definitions.send_xml")}])
    return data


def deployed_answer(results: list[deployments.Deployed], back: str) -> Any:
    """Tell what was deployed: JSON for the editors' JavaScript, a flash and a redirect for a form."""
    # A table used by two processes of one bundle deploys that bundle twice: one entry per process.
    newest: dict[str, deployments.Deployed] = {}
    for r in results:
        kept = newest.get(r.definition.key)
        if kept is None or (r.created, r.definition.version) > (kept.created, kept.definition.version):
            newest[r.definition.key] = r
    versions = [{"key": r.definition.key, "version": r.definition.version, "created": r.created,
                 "url": url_for("web_definitions.version", key=r.definition.key, version=r.definition.version)}
                for r in newest.values()]
    created = [v for v in versions if v["created"]]
    if created:
        message = t("definitions.deployed_versions", versions=", ".join(
            t("definitions.key_version", key=v["key"], version=v["version"]) for v in created))
    else:
        message = t("definitions.unchanged", versions=", ".join(
            t("definitions.key_version", key=v["key"], version=v["version"]) for v in versions))
    if wants_json():
        return jsonify(message=message, versions=versions), 201 if created else 200
    flash(message, "success")
    return redirect(back)


# --- definitions and versions -----------------------------------------------------------------------


@bp.route("/definitions", endpoint="index")
def index() -> Any:
    with page_session(write=False) as (session, actor):
        require_admin(actor)
        processes = monitoring.definitions_overview(session)
        tables = modeling.decision_tables(session)
    return render_template("definitions/index.html", active="definitions", processes=processes, tables=tables)


@bp.route("/definitions/<key>", endpoint="detail")
def detail(key: str) -> Any:
    with page_session(write=False) as (session, actor):
        require_admin(actor)
        (process,) = monitoring.definitions_overview(session, key=key)
        latest = deployments.get_definition(session, key=key)
        roles, user_tasks, warnings = latest.roles, latest.user_tasks, latest.warnings or []
    return render_template("definitions/detail.html", active="definitions", process=process, roles=roles,
                           user_tasks=user_tasks, warnings=warnings)


@bp.route("/definitions/<key>/versions/<id:version>", endpoint="version")
def version_page(key: str, version: int) -> Any:
    with page_session(write=False) as (session, actor):
        require_admin(actor)
        (process,) = monitoring.definitions_overview(session, key=key)
        info = next((v for v in process.versions if v.version == version), None)
        if info is None:
            deployments.get_definition(session, key=key, version=version)  # raises the 404
        on_version = monitoring.instances_of_version(session, actor=actor, process_key=key, version=version)
    security.allow_inline_styles()
    return render_template("definitions/version.html", active="definitions", process=process, info=info,
                           instances=on_version,
                           xml_url=url_for("web_monitor.diagram_xml", key=key, version=version))


# --- the BPMN modeler ---------------------------------------------------------------------------------


def _modeler_labels() -> dict[str, str]:
    """The catalogue's ``modeler.*`` texts, for the modeler's JavaScript (labels of its properties panel)."""
    prefix = "modeler."
    return {key[len(prefix):]: text for key, text in messages.catalogue().items() if key.startswith(prefix)}


def _modeler_page(key: str, errors: Any = None, message: str | None = None, status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        require_admin(actor)
        (process,) = monitoring.definitions_overview(session, key=key)
        latest = deployments.get_definition(session, key=key)
        diagram = monitoring.diagram_file(session, latest)
    security.allow_inline_styles()
    html = render_template(
        "definitions/modeler.html", active="definitions", process=process, diagram=diagram,
        kept=[f for f in process.latest.files if f != diagram], errors=errors, message=message,
        labels=_modeler_labels(), form_files=sorted(f for f in process.latest.files if f.endswith(".json")),
        xml_url=url_for("web_monitor.diagram_xml", key=key, version=process.latest.version),
        save_url=url_for("web_definitions.modeler", key=key),
    )
    return html, status


@bp.route("/definitions/<key>/modeler", methods=["GET", "POST"], endpoint="modeler")
def modeler(key: str) -> Any:
    """GET: the modeler on the latest version. POST: deploy the edited diagram as the next version."""
    if request.method == "GET":
        return _modeler_page(key)
    try:
        xml = _submitted_xml()
        cfg = _settings()
        with page_session() as (session, actor):
            results = modeling.save_diagram(session, actor=actor, key=key, xml=xml, forms_dir=cfg.forms_dir,
                                            max_bundle_bytes=cfg.max_bundle_bytes)
            answer = deployed_answer(results, url_for("web_definitions.detail", key=key))
    except Invalid as exc:
        if wants_json():
            raise
        return _modeler_page(key, errors=exc.errors, message=exc.message, status=422)
    return answer


# --- decision tables ----------------------------------------------------------------------------------


def _table_page(filename: str, errors: Any = None, message: str | None = None, status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        require_admin(actor)
        _, users = modeling.decision_table(session, filename)
        used_by = [(d.key, d.name, d.version) for d in users]
    security.allow_inline_styles()
    html = render_template(
        "definitions/decision_table.html", active="definitions", filename=filename, used_by=used_by,
        errors=errors, message=message,
        xml_url=url_for("web_definitions.decision_xml", filename=filename),
        save_url=url_for("web_definitions.decision_table", filename=filename),
    )
    return html, status


@bp.route("/decision-tables/<filename>", methods=["GET", "POST"], endpoint="decision_table")
def decision_table(filename: str) -> Any:
    """GET: the decision-table editor. POST: deploy the table with every process that uses it."""
    if request.method == "GET":
        return _table_page(filename)
    try:
        xml = _submitted_xml()
        cfg = _settings()
        with page_session() as (session, actor):
            results = modeling.save_decision_table(session, actor=actor, filename=filename, xml=xml,
                                                   forms_dir=cfg.forms_dir, max_bundle_bytes=cfg.max_bundle_bytes)
            answer = deployed_answer(results, url_for("web_definitions.decision_table", filename=filename))
    except Invalid as exc:
        if wants_json():
            raise
        return _table_page(filename, errors=exc.errors, message=exc.message, status=422)
    return answer


@bp.route("/decision-tables/<filename>/content", endpoint="decision_xml")
def decision_xml(filename: str) -> Response:
    with page_session(write=False) as (session, actor):
        require_admin(actor)
        content, _ = modeling.decision_table(session, filename)
    response = Response(content, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
