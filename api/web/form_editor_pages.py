"""The form editor of process owners: a task's JSON Schema beside a live preview of the form it generates.

The preview is the platform's own form rendering (:mod:`api.web.forms`, ``macros/form.html``), so what
the editor shows is what the task page will show. The schema is checked against its JSON Schema
metaschema as it is typed (every error with its path); saving deploys the latest version of the
process with this one form changed, as the next version (:func:`engine.modeling.save_form`).
Without JavaScript the page is a plain form with "Preview" and "Save as new version" buttons.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for

from engine import forms as engine_forms
from engine import modeling
from engine.errors import Invalid

from ..deps import settings
from . import forms, messages, wants_json
from .auth import page_session
from .definitions_pages import deployed_answer

bp = Blueprint("web_form_editor", __name__)

MAX_SCHEMA_CHARS = 1_000_000


def _posted_text() -> str:
    """The schema text: ``{"schema": "..."}`` from the editor's JavaScript, else the form's text area."""
    if request.is_json:
        body = request.get_json(silent=True)
        text = body.get("schema") if isinstance(body, dict) else None
    else:
        text = request.form.get("schema")
    if not isinstance(text, str) or not text.strip():
        raise Invalid(messages.t("form_editor.empty"), errors={"schema": [messages.t("form_editor.empty")]})
    if len(text) > MAX_SCHEMA_CHARS:
        raise Invalid(messages.t("form_editor.too_long"), errors={"schema": [messages.t("form_editor.too_long")]})
    return text


def _preview(text: str) -> tuple[forms.Form | None, list[tuple[str, str]]]:
    """The form `text` generates (None when it is not a JSON object) and its metaschema problems."""
    schema, problems = engine_forms.schema_problems(text)
    return (forms.build(schema) if schema is not None and not problems else None), problems


def _page(key: str, filename: str, text: str | None = None, *, errors: Any = None, message: str | None = None,
          status: int = 200) -> Any:
    with page_session(write=False) as (session, actor):
        latest, content = modeling.form(session, actor=actor, key=key, filename=filename)
        tasks = [t.get("name") or t.get("bpmn_id") for t in latest.user_tasks or [] if t.get("form") == filename]
        shown = content.decode("utf-8") if text is None else text
        version = latest.version
        name = latest.name or key
    form, problems = _preview(shown)
    html = render_template(
        "definitions/form_editor.html", active="definitions", key=key, name=name, version=version,
        filename=filename, tasks=tasks, text=shown, form=form, problems=problems, errors=errors, message=message,
        preview_url=url_for("web_form_editor.preview", key=key, filename=filename),
        save_url=url_for("web_form_editor.editor", key=key, filename=filename),
    )
    return html, status


@bp.route("/definitions/<key>/forms/<filename>", methods=["GET", "POST"], endpoint="editor")
def editor(key: str, filename: str) -> Any:
    """GET: the editor on the latest version's form. POST: preview (``action=preview``) or deploy it."""
    if request.method == "GET":
        return _page(key, filename)
    try:
        text = _posted_text()
        if request.form.get("action") == "preview":
            return _page(key, filename, text)
        _, problems = engine_forms.schema_problems(text)
        if problems:
            raise Invalid(messages.t("form_editor.refused"), errors=[
                {"file": filename, "element_id": None, "line": None, "message": f"{where}: {problem}"}
                for where, problem in problems])
        cfg = settings()
        with page_session() as (session, actor):
            results = modeling.save_form(session, actor=actor, key=key, filename=filename,
                                         content=text.encode("utf-8"), forms_dir=cfg.forms_dir,
                                         max_bundle_bytes=cfg.max_bundle_bytes)
            answer = deployed_answer(results, url_for("web_form_editor.editor", key=key, filename=filename))
    except Invalid as exc:
        if wants_json():
            raise
        return _page(key, filename, request.form.get("schema", ""), errors=exc.errors, message=exc.message,
                     status=422)
    return answer


@bp.route("/definitions/<key>/forms/<filename>/preview", methods=["POST"], endpoint="preview")
def preview(key: str, filename: str) -> Any:
    """The generated form of the posted schema as HTML, and its metaschema problems (for the live preview)."""
    with page_session(write=False) as (session, actor):
        modeling.form(session, actor=actor, key=key, filename=filename)  # process owners only; 404 if unknown
    form, problems = _preview(_posted_text())
    html = render_template("definitions/_form_preview.html", form=form, problems=problems)
    return jsonify(html=html, problems=[{"where": w, "message": m} for w, m in problems])
