"""One process instance for its parties and monitors: the diagram with what is done, active and failed,
the parties, tasks, incidents, documents and the audit trail; operator actions for administrators.

Visibility is the engine's (admins and the instance's parties; anyone else gets 404). Suspend, resume,
terminate and retry are POST forms with the CSRF token that call :mod:`engine.operations`, which
refuses non-admins (403) and writes each action to the audit trail.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from ecvet.documents import service
from engine import claims, monitoring, operations
from engine.errors import NotFound
from engine.models import InstanceStatus

from . import audit_text, security
from .auth import page_session
from .messages import t

bp = Blueprint("web_instances", __name__)

#: Operations an administrator runs from the page; what each says when done is ``instance.done.<operation>``.
OPERATIONS = ("suspend", "resume", "terminate")


def _document_url(ref: Any) -> str:
    """The participants' document page (api.web.document_pages) of a reference."""
    return url_for("web_documents.document", kind=ref.kind, record_id=ref.record_id)


@bp.route("/instances/<instance_id>", endpoint="instance")
def instance_page(instance_id: str) -> Any:
    with page_session(write=False) as (session, actor):
        overview = monitoring.instance_overview(session, actor=actor, instance_id=instance_id)
        refs = service.for_instance(session, actor=actor, instance_id=instance_id)
        task_names = claims.task_names(session, instance_id=instance_id)
        names = claims.people(session, {e["detail"]["claimed_by"] for e in overview.audit
                                        if isinstance(e["detail"].get("claimed_by"), int)})
    trail = [{**e, "sentence": audit_text.sentence(e["action"], e["detail"], task=task_names.get(e["task_id"] or ""),
                                                   names=names),
              "details": audit_text.details(e["action"], e["detail"])} for e in overview.audit]
    docs = [{"ref": ref, "url": _document_url(ref)} for ref in refs]
    security.allow_inline_styles()
    return render_template(
        "instances/instance.html", active="dashboard", o=overview, instance=overview.instance,
        documents=docs, statuses=InstanceStatus, final=operations.FINAL, trail=trail,
        xml_url=url_for("web_instances.diagram_xml", instance_id=instance_id),
    )


@bp.route("/instances/<instance_id>/diagram.bpmn", endpoint="diagram_xml")
def diagram_xml(instance_id: str) -> Response:
    """The BPMN of the version this instance runs on (its parties and admins only)."""
    with page_session(write=False) as (session, actor):
        filename, content = monitoring.instance_diagram(session, actor=actor, instance_id=instance_id)
    response = Response(content, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.route("/instances/<instance_id>/<any(suspend, resume, terminate):operation>", methods=["POST"],
          endpoint="operate")
def operate(instance_id: str, operation: str) -> Any:
    reason = (request.form.get("reason") or "").strip()[:500] or None
    with page_session() as (session, actor):
        if operation == "suspend":
            operations.suspend(session, actor=actor, instance_id=instance_id, reason=reason)
        elif operation == "resume":
            operations.resume(session, actor=actor, instance_id=instance_id)
        else:
            operations.terminate(session, actor=actor, instance_id=instance_id, reason=reason)
    flash(t(f"instance.done.{operation}"), "success")
    return redirect(url_for("web_instances.instance", instance_id=instance_id))


@bp.route("/instances/<instance_id>/incidents/<id:incident_id>/retry", methods=["POST"], endpoint="retry")
def retry(instance_id: str, incident_id: int) -> Any:
    with page_session() as (session, actor):
        # The form of one instance acts only on that instance's own open incidents.
        if not any(i.id == incident_id for i in monitoring.open_incidents(session, actor=actor,
                                                                          instance_id=instance_id)):
            raise NotFound(f"No open incident {incident_id} on this instance")
        operations.retry_incident(session, actor=actor, incident_id=incident_id)
    flash(t("instance.retried"), "success")
    return redirect(url_for("web_instances.instance", instance_id=instance_id))
