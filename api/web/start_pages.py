"""Pages that start work: a partnership, a learner's mobility, and (administrators) any process.

Each page calls the same service as the API: "Start a partnership" :func:`ecvet.partnership.service.start`
(the competent institutions default from the registry and the national models, shown before starting),
"Nominate a learner" :func:`ecvet.mobility.nomination.nominate` (``POST /api/mobilities``), "Start an instance"
:func:`engine.instances.start` (``POST /api/process-instances``). The forms need no JavaScript: a
choice that shapes the rest of the form (the partner, the MoU, the process) is a GET step, and the
start itself a CSRF-protected POST. A refusal shows the form again with each error next to its field
(422) or the conflict above it (409), and nothing is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

import ecvet.mobility.service
import ecvet.partnership.service
from ecvet.mobility import groups, nomination
from ecvet.national_models.service import list_competences
from ecvet.partnership.mou import in_force_version
from engine import deployments, instances, parties, tasks
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import ProcessInstance
from engine.parties import Actor

from .. import parsing
from .auth import Viewer, current_viewer, page_session, require_viewer
from .messages import t

bp = Blueprint("web_start", __name__)

#: Process keys whose instances belong to a record: started from their own page, which creates it.
OWN_PAGES = {ecvet.partnership.service.PROCESS_KEY: "web_start.partnership",
             ecvet.mobility.service.PROCESS_KEY: "web_start.mobility"}


@dataclass
class Form:
    """What was typed (as text) and what the service refused, per field name (``learner.email``)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    alert: str | None = None

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def summary(self, labels: dict[str, str]) -> list[tuple[str | None, str]]:
        """(field id or None, message) for the error summary: fields of the page link to their input."""
        out: list[tuple[str | None, str]] = []
        for name, messages in self.errors.items():
            for message in messages:
                if name in labels:
                    out.append((field_id(name), f"{labels[name]}: {message}"))
                else:
                    out.append((None, message if name in ("_", "") else f"{name}: {message}"))
        return out


def field_id(name: str) -> str:
    return "f-" + name.replace(".", "-")


def _refused(exc: Invalid) -> dict[str, list[str]]:
    errors = exc.errors if isinstance(exc.errors, dict) and exc.errors else {"_": [exc.message]}
    return {str(k): v if isinstance(v, list) else [str(v)] for k, v in errors.items()}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _text(name: str) -> str:
    return (request.values.get(name) or "").strip()


def _first_step(session: Session, actor: Actor, instance_id: str) -> str:
    """Where to go after starting: the starter's own first task, else the instance page."""
    mine = tasks.list_for(session, actor=actor, instance_id=instance_id, limit=1).items
    if mine:
        return url_for("web_tasks.task", task_id=mine[0].id)
    return url_for("web_instances.instance", instance_id=instance_id)


# --------------------------------------------------------------------------------------------------
# Who sees which start pages (navigation and the landing page)
# --------------------------------------------------------------------------------------------------


def may_start_partnership(viewer: Viewer) -> bool:
    return viewer.is_admin or bool(viewer.organisations)


def may_nominate(_viewer: Viewer) -> bool:
    """Members of a sending organisation with a MoU in force (administrators: any MoU in force)."""
    cached = g.get("may_nominate")
    if cached is None:
        with page_session(write=False) as (session, actor):
            cached = bool(nomination.nominable(session, actor=actor))
        g.may_nominate = cached
    return bool(cached)


def may_start_anything(viewer: Viewer) -> bool:
    """The "Start" entry of the navigation."""
    return viewer.is_admin or bool(viewer.organisations)


def _require_member() -> Viewer:
    """Work is started by organisations (and administrators); a learner's mobility by their school."""
    viewer = require_viewer()
    if not may_start_anything(viewer):
        raise Forbidden("Work is started by organisations: a learner's mobility by their school")
    return viewer


@bp.route("/start", endpoint="index")
def index() -> Any:
    viewer = _require_member()
    return render_template("start/index.html", active="start", partnership=may_start_partnership(viewer),
                           nominate=may_nominate(viewer), instance=viewer.is_admin,
                           max_learners=groups.MAX_LEARNERS)


def _said(labels: dict[str, str]) -> dict[str, str]:
    """Field name -> catalogue key, as field name -> the label in the reader's language."""
    return {name: t(key) for name, key in labels.items()}


# --------------------------------------------------------------------------------------------------
# Start a partnership
# --------------------------------------------------------------------------------------------------

#: ECVET functions as people read them (the registry stores codes).
FUNCTIONS = {code: f"function.{code}" for code in ("assessment", "validation", "recognition", "award_of_credit",
                                                    "mou_approval", "la_approval")}

PARTNERSHIP_LABELS = {
    "sending_organisation_id": "start.label.sending_organisation_id",
    "hosting_organisation_id": "start.label.partner_id",
    "competent_institution_home_id": "start.label.ci_home_country",
    "competent_institution_host_id": "start.label.ci_host_country",
    "business_key": "start.label.reference",
}


def _partnership_page(form: Form, status: int = 200) -> Any:
    viewer = _require_member()
    with page_session(write=False) as (session, actor):
        directory = parties.directory(session, actor=actor)
        own = [o for o in directory if viewer.is_admin or o.id in actor.organisation_ids]
        plan = None
        sending, hosting = _int(form.get("sending_organisation_id")), _int(form.get("hosting_organisation_id"))
        step_one_errors = {k for k in form.errors if k in ("sending_organisation_id", "hosting_organisation_id")}
        if sending is not None and hosting is not None and not step_one_errors:
            try:
                plan = ecvet.partnership.service.start_plan(session, actor=actor, sending_organisation_id=sending,
                                               hosting_organisation_id=hosting)
            except Invalid as exc:
                form.errors.update(_refused(exc))
                status = 422
        for side, gate in (plan.gates.items() if plan else ()):
            name = f"competent_institution_{side}_id"
            if name not in form.values and gate.default_id is not None:
                form.values[name] = str(gate.default_id)
    return render_template("start/partnership.html", active="start", form=form, own=own, directory=directory,
                           plan=plan, labels=_said(PARTNERSHIP_LABELS), functions=_said(FUNCTIONS),
                           summary=form.summary(_said(PARTNERSHIP_LABELS))), status


@bp.route("/start/partnership", endpoint="partnership", methods=["GET"])
def partnership_form() -> Any:
    """Step 1 picks the two partners; step 2 (both given) shows each country's national model and who
    stands as its competent institution, with the defaults preselected."""
    _require_member()
    form = Form(values={k: v for k in ("sending_organisation_id", "hosting_organisation_id")
                        if (v := _text(k))})
    if "hosting_organisation_id" in request.args and not form.get("hosting_organisation_id"):
        form.errors["hosting_organisation_id"] = [t("start.choose_partner")]
        return _partnership_page(form, 422)
    viewer = current_viewer()
    if "sending_organisation_id" not in form.values and viewer is not None and len(viewer.organisations) == 1:
        form.values["sending_organisation_id"] = str(viewer.organisations[0][0])
    return _partnership_page(form)


@bp.route("/start/partnership", methods=["POST"])
def start_partnership() -> Any:
    _require_member()
    form = Form(values={k: _text(k) for k in PARTNERSHIP_LABELS})
    try:
        with page_session() as (session, actor):
            instance = ecvet.partnership.service.start(
                session, actor=actor, sending_organisation_id=_int(form.get("sending_organisation_id")),
                hosting_organisation_id=_int(form.get("hosting_organisation_id")),
                competent_institution_home_id=_int(form.get("competent_institution_home_id")),
                competent_institution_host_id=_int(form.get("competent_institution_host_id")),
                business_key=form.get("business_key") or None)
            target = _first_step(session, actor, instance.id)
    except Invalid as exc:
        form.errors = _refused(exc)
        return _partnership_page(form, 422)
    except Conflict as exc:
        form.alert = exc.message
        return _partnership_page(form, 409)
    flash(t("start.partnership_started"), "success")
    return redirect(target)


# --------------------------------------------------------------------------------------------------
# Nominate a learner
# --------------------------------------------------------------------------------------------------

MOBILITY_LABELS = {
    "mou_id": "start.label.mou_id",
    "hosting_organisation_id": "start.label.hosting_organisation_id",
    "qualification_title": "start.label.qualification_title",
    "start_date": "start.label.start_date",
    "end_date": "start.label.end_date",
    "learner.name": "start.label.learner_name",
    "learner.date_of_birth": "start.label.date_of_birth",
    "learner.email": "start.label.learner_email",
    "learner.european_student_identifier": "start.label.esi",
    "learner.guardian_name": "start.label.guardian_name",
    "learner.guardian_email": "start.label.guardian_email",
    "competent_institution_home_id": "start.label.ci_home",
    "intermediary_organisation_id": "start.label.intermediary",
    "learner_id": "start.label.learner",
    "learner": "start.label.learner",
}
#: The later hosting periods the page offers (service positions 1 and 2: periods 2 and 3).
LATER_PERIODS = (1, 2)
PERIOD_FIELDS = {"hosting_organisation_id": "start.label.period_host", "start_date": "start.label.period_start",
                 "end_date": "start.label.period_end", "units": "start.label.period_units"}
REQUIRED_FOR_NOMINATION = ("hosting_organisation_id", "qualification_title", "start_date", "end_date",
                           "learner.name", "learner.date_of_birth", "learner.email")


def _mobility_labels() -> dict[str, str]:
    labels = _said(MOBILITY_LABELS)
    labels.update({f"periods.{i}.{name}": t(key, n=i + 1)
                   for i in LATER_PERIODS for name, key in PERIOD_FIELDS.items()})
    labels.update({"periods": t("start.label.periods"), "periods.0.hosting_organisation_id": t("start.label.periods"),
                   "periods.0.start_date": t("start.label.periods"), "periods.0.units": t("start.label.period1_units")})
    return labels


def _later_periods(form: Form) -> list[dict[str, Any]]:
    """Periods 2 and 3 as typed (a wholly empty one is not there); period 3 without period 2 is refused."""
    later: list[dict[str, Any]] = []
    for i in LATER_PERIODS:
        entry = {"hosting_organisation_id": _int(form.get(f"periods.{i}.hosting_organisation_id")),
                 "start_date": form.get(f"periods.{i}.start_date"), "end_date": form.get(f"periods.{i}.end_date"),
                 "units": request.form.getlist(f"periods.{i}.units")}
        if any(entry.values()):
            if len(later) < i - 1:
                form.errors[f"periods.{i - 1}.hosting_organisation_id"] = [t("start.period_order")]
            later.append(entry)
    return later


def _with_first_period(later: list[dict[str, Any]], form: Form,
                       terms: nomination.NominationTerms) -> list[dict[str, Any]] | None:
    """All the periods, the first with the mobility's host from its first day to the day before period 2,
    with the units of the qualification no later period takes (None: one host, no periods)."""
    if not later:
        return None
    try:
        first_end: str = (date.fromisoformat(later[0]["start_date"]) - timedelta(days=1)).isoformat()
    except ValueError:
        first_end = ""
    taken = {code for period in later for code in period["units"]}
    chosen = next((q for q in terms.qualifications if q["title"] == form.get("qualification_title")), {})
    units = [u["code"] for u in chosen.get("units") or [] if u.get("code") not in taken]
    first = {"hosting_organisation_id": _int(form.get("hosting_organisation_id")), "start_date": form.get("start_date"),
             "end_date": first_end, "units": units}
    return [first, *later]


def _mobility_page(form: Form, status: int = 200) -> Any:
    _require_member()
    terms = None
    institutions: list[tuple[int, str]] = []
    intermediaries: list[tuple[int, str]] = []
    with page_session(write=False) as (session, actor):
        choices = nomination.nominable(session, actor=actor)
        summaries = [(m.id, in_force_version(m)) for m in choices]
        mou_id = _int(form.get("mou_id"))
        if mou_id is None and len(choices) == 1:
            mou_id = choices[0].id
            form.values["mou_id"] = str(mou_id)
        if mou_id is not None:
            terms = nomination.nomination_terms(session, actor=actor, mou_id=mou_id)  # 404/403/409 as pages
            directory = {o.id: o for o in parties.directory(session, actor=actor)}
            home = directory[terms.mou.sending_organisation_id].country
            for competence in list_competences(session, actor=actor, country=home):
                org = directory.get(competence.organisation_id)
                if org is not None and (org.id, org.name) not in institutions:
                    institutions.append((org.id, org.name))
            mou_parties = {terms.mou.sending_organisation_id} | {o.id for o in terms.hosting}
            intermediaries = [(o.id, o.name) for o in directory.values() if o.id not in mou_parties]
            if len(terms.hosting) == 1 and not form.get("hosting_organisation_id"):
                form.values["hosting_organisation_id"] = str(terms.hosting[0].id)
            if len(terms.qualifications) == 1 and not form.get("qualification_title"):
                form.values["qualification_title"] = terms.qualifications[0]["title"]
        partners = {m.id: _partner_names(m) for m in choices}
    labels = _mobility_labels()
    qualifications = terms.qualifications if terms else []
    units = list(dict.fromkeys(u["code"] for q in qualifications for u in q.get("units") or []))
    return render_template("start/mobility.html", active="start", form=form, choices=summaries, partners=partners,
                           terms=terms, institutions=institutions, intermediaries=intermediaries, labels=labels,
                           units=units, later_periods=LATER_PERIODS, summary=form.summary(labels)), status


def _partner_names(mou: Any) -> str:
    version = in_force_version(mou)
    content = version.content if version is not None else {}
    names = [o.get("name") or f"organisation {o.get('organisation_id')}" for o in
             content.get("signing_organisations") or [] if o.get("organisation_id") != mou.sending_organisation_id]
    return ", ".join(names)


@bp.route("/start/mobility", endpoint="mobility", methods=["GET"])
def mobility_form() -> Any:
    """Step 1 picks the MoU in force (skipped when there is one); step 2 the host, qualification,
    dates and learner, as the MoU in force allows them."""
    _require_member()
    return _mobility_page(Form(values={"mou_id": v} if (v := _text("mou_id")) else {}))


@bp.route("/start/mobility", methods=["POST"])
def nominate() -> Any:
    _require_member()
    form = Form(values={k: _text(k) for k in MOBILITY_LABELS if k not in ("learner", "learner_id")})
    form.values.update({f"periods.{i}.{k}": _text(f"periods.{i}.{k}") for i in LATER_PERIODS for k in PERIOD_FIELDS
                        if k != "units"})
    later = _later_periods(form)
    for name in REQUIRED_FOR_NOMINATION:
        if not form.get(name):
            form.errors[name] = [t("start.required")]
    mou_id = _int(form.get("mou_id"))
    hosting_id = _int(form.get("hosting_organisation_id"))
    if mou_id is None:
        form.errors["mou_id"] = [t("start.choose_mou")]
    if hosting_id is None:
        form.errors["hosting_organisation_id"] = [t("start.choose_host")]
    if form.errors or mou_id is None or hosting_id is None:
        return _mobility_page(form, 422)
    learner = {k.removeprefix("learner."): v for k, v in form.values.items() if k.startswith("learner.") and v}
    try:
        with page_session() as (session, actor):
            periods = _with_first_period(later, form, nomination.nomination_terms(session, actor=actor, mou_id=mou_id))
            mobility = nomination.nominate(
                session, actor=actor, mou_id=mou_id, hosting_organisation_id=hosting_id,
                qualification_title=form.get("qualification_title"), start_date=form.get("start_date"),
                end_date=form.get("end_date"), learner=learner,
                competent_institution_home_id=_int(form.get("competent_institution_home_id")),
                intermediary_organisation_id=_int(form.get("intermediary_organisation_id")), periods=periods)
            assert mobility.process_instance_id is not None
            target = _first_step(session, actor, mobility.process_instance_id)
            name = mobility.learner.name
    except Invalid as exc:
        form.errors = _refused(exc)
        return _mobility_page(form, 422)
    except Conflict as exc:
        form.alert = exc.message
        return _mobility_page(form, 409)
    flash(t("start.nominated", name=name), "success")
    return redirect(target)


# --------------------------------------------------------------------------------------------------
# Start an instance of any process (administrators)
# --------------------------------------------------------------------------------------------------

INSTANCE_LABELS = {"process_key": "start.label.process_key", "business_key": "start.label.business_key",
                   "variables": "start.label.variables"}


def _binding(raw: str) -> Any:
    """``org:3`` → 3, ``user:7`` → {"user_id": 7}; anything else is left for the engine to refuse."""
    kind, _, number = raw.partition(":")
    value = _int(number)
    if value is None:
        return raw or None
    return value if kind == "org" else {"user_id": value} if kind == "user" else raw


def _instance_page(form: Form, status: int = 200) -> Any:
    _require_admin()
    with page_session(write=False) as (session, actor):
        processes = deployments.latest_versions(session)
        chosen = next((d for d in processes if d.key == form.get("process_key")), None)
        if form.get("process_key") and chosen is None:
            form.errors.setdefault("process_key", [t("start.no_such_process")])
            status = 422
        organisations = parties.directory(session, actor=actor)
        users = list(parties.list_users(session, actor=actor, cursor=None, limit=500).items)
        # Roles whose tasks each name their own party are bound by the process later, not here.
        roles = {role: lane for role, lane in sorted((chosen.roles or {}).items())
                 if role not in (chosen.per_task_roles or [])} if chosen else {}
        rule = deployments.start_rule(session, chosen) if chosen else None
    labels = {**_said(INSTANCE_LABELS), **{f"parties.{role}": f"{lane} ({role})" for role, lane in roles.items()}}
    own_page = OWN_PAGES.get(chosen.key) if chosen else None
    return render_template("start/instance.html", active="start", form=form, processes=processes, chosen=chosen,
                           roles=roles, organisations=organisations, users=users, labels=labels,
                           own_page=own_page, rule=rule, summary=form.summary(labels)), status


def _require_admin() -> None:
    if not require_viewer().is_admin:
        raise Forbidden("Only an administrator starts an instance of any process")


@bp.route("/start/instance", endpoint="instance", methods=["GET"])
def instance_form() -> Any:
    _require_admin()
    return _instance_page(Form(values={"process_key": v} if (v := _text("process_key")) else {}))


@bp.route("/start/instance", methods=["POST"])
def start_instance() -> Any:
    _require_admin()
    form = Form(values={k: v for k, v in request.form.items() if k != "csrf_token"})
    errors: dict[str, list[str]] = {}
    variables: Any = None
    if form.get("variables").strip():
        try:
            variables = parsing.loads_field(form.get("variables"))
        except ValueError as exc:
            errors["variables"] = [t("start.not_json", error=exc)]
        else:
            if not isinstance(variables, dict):
                errors["variables"] = [t("start.json_object", example='{"mobility_id": 1}')]
    bindings = {k.removeprefix("parties."): _binding(v) for k, v in form.values.items() if k.startswith("parties.")}
    unbound = [role for role, value in bindings.items() if value is None]
    for role in unbound:
        errors[f"parties.{role}"] = [t("start.choose_binding")]
    if errors:
        form.errors = errors
        return _instance_page(form, 422)
    try:
        with page_session() as (session, actor):
            instance: ProcessInstance = instances.start(
                session, actor=actor, process_key=form.get("process_key"), version=_int(form.get("version")),
                business_key=form.get("business_key").strip() or None, variables=variables, parties=bindings)
            instance_id, key = instance.id, instance.process_key
    except Invalid as exc:
        form.errors = _refused(exc)
        return _instance_page(form, 422)
    except NotFound as exc:
        form.errors = {"process_key": [exc.message]}
        return _instance_page(form, 422)
    flash(t("start.instance_started", key=key), "success")
    return redirect(url_for("web_instances.instance", instance_id=instance_id))
