"""A learner's achievements as a page: units and ECVET points awarded, recognitions, practical implications,
the documents (transcript, recognition record, certificate) and the credentials download.

``/achievements`` is the signed-in learner's (or guardian's) own; ``/learners/<id>/achievements`` the same
page for anyone who may see that learner (``ecvet.mobility.views.achievements`` decides: 404 otherwise).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template
from sqlalchemy.orm import Session

from ecvet.documents import pdf
from ecvet.documents.parts import organisation_label, organisations
from ecvet.europass import service as europass
from ecvet.mobility import qualification_award, service, transcript, views
from ecvet.mobility.models import Learner
from ecvet.subject_access import audited, export, reads
from engine.parties import Actor

from . import messages
from .auth import page_session, require_viewer

bp = Blueprint("web_achievements", __name__)

#: The latest reads by others the learner's page lists (the API pages through them all).
READS_SHOWN = 50


@dataclass(frozen=True)
class MobilityLinks:
    """One mobility of the learner as the page names it, with the record ids of its documents."""

    mobility_id: int
    host: str
    start: date
    end: date
    transcript_id: int | None
    recognition_id: int | None
    europass_id: int | None = None  # the Europass Mobility, once the reader may see it (the learner: signed off)


def _mobilities(session: Session, actor: Actor, mobility_ids: list[int], learner_id: int) -> list[MobilityLinks]:
    found = [service.get(session, actor=actor, mobility_id=i) for i in mobility_ids]
    europasses = {row.mobility_id: row.id for row in europass.of_learner(session, actor=actor, learner_id=learner_id)}
    orgs = organisations(session, [m.hosting_organisation_id for m in found])
    links = []
    for mobility in found:
        issued = transcript.issued_for(session, mobility)
        readable = issued is not None and transcript.readable(actor, mobility, issued)
        decided = views.decisions(session, mobility)["recognition"]
        links.append(MobilityLinks(mobility.id, organisation_label(orgs, mobility.hosting_organisation_id),
                                   mobility.start_date, mobility.end_date,
                                   issued.id if issued is not None and readable else None,
                                   decided["id"] if decided else None, europasses.get(mobility.id)))
    return links


def _render(learner_id: int, active: str | None) -> Any:
    with page_session() as (session, actor):  # writes the read down
        achieved = audited.achievements(session, actor=actor, learner_id=learner_id)
        learner = session.get_one(Learner, learner_id)
        own = reads.acts_for(actor, learner)
        looked = reads.reads_for(session, actor=actor, learner_id=learner_id, others_only=True,
                                 limit=READS_SHOWN).items if own else []
        mobilities = _mobilities(session, actor, achieved["mobility_ids"], learner_id)
        awarding = organisations(session, [c["awarded_by_organisation_id"] for c in achieved["credits"]])
        awarded_by = {c["id"]: organisation_label(awarding, c["awarded_by_organisation_id"])
                      for c in achieved["credits"]}
        whole = qualification_award.for_learner(session, actor=actor, learner_id=learner_id)
        institutions = organisations(session, [q["organisation_id"] for q in whole])
        qualifications = [(q, organisation_label(institutions, q["organisation_id"])) for q in whole]
    return render_template("achievements/achievements.html", active=active, achieved=achieved,
                           learner_id=learner_id, mobilities=mobilities, awarded_by=awarded_by,
                           qualifications=qualifications, own=own, looked=looked)


@bp.route("/achievements", endpoint="mine")
def my_achievements() -> Any:
    """The signed-in learner's achievements; a guardian of several learners chooses one."""
    viewer = require_viewer()
    if len(viewer.learner_ids) == 1:
        return _render(viewer.learner_ids[0], "achievements")
    if len(viewer.learner_ids) > 1:
        with page_session(write=False) as (session, actor):
            learners = [service.get_learner(session, actor=actor, learner_id=i) for i in viewer.learner_ids]
            names = [(person.id, person.name) for person in learners]
        return render_template("achievements/choose.html", active="achievements", learners=names)
    return render_template("achievements/choose.html", active="achievements", learners=[])


@bp.route("/learners/<id:learner_id>/achievements", endpoint="learner")
def learner_achievements(learner_id: int) -> Any:
    """The achievements of one learner, for who may see them (their own: the highlighted navigation entry)."""
    viewer = require_viewer()
    return _render(learner_id, "achievements" if learner_id in viewer.learner_ids else None)


@bp.route("/learners/<id:learner_id>/my-data.<fmt>", endpoint="export")
def export_download(learner_id: int, fmt: str) -> Any:
    """Everything held about the learner, as a JSON or PDF file (who may: ``ecvet.subject_access.export``)."""
    if fmt not in ("json", "pdf"):
        abort(404)
    with page_session() as (session, actor):  # writes the export down
        held = export.collect(session, actor=actor, learner_id=learner_id)
    if fmt == "pdf":
        body, mimetype = pdf.render(export.as_document(held, (messages.current_language(),))), "application/pdf"
    else:
        body, mimetype = json.dumps(held, ensure_ascii=False, indent=2).encode("utf-8"), "application/json"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="learner-{learner_id}-data.{fmt}"',
        "Cache-Control": "private, no-store"})
