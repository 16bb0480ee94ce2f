"""Nominate a group (`/start/mobility-group`): learners who go abroad together under one MoU, with one
host, qualification, dates and programme, and the persons who accompany them.

The page calls the same service as ``POST /api/mobility-groups`` (:func:`ecvet.mobility.groups.nominate_group`):
one mobility and Mobility process per learner, all or nothing. Learners are picked from those the
sending organisation nominated before, or typed in as new rows. The form needs no JavaScript: the MoU
is a GET step, and adding or removing a row of accompanying persons or new learners posts the form back
without starting anything. A refusal shows the form again with each error next to its field (422), and
nothing is kept.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ecvet.mobility import groups, nomination
from ecvet.partnership.mou import in_force_version
from engine.errors import Conflict, Invalid

from .auth import page_session
from .messages import t
from .start_pages import Form, _int, _partner_names, _refused, _require_member, _said, _text

bp = Blueprint("web_group_start", __name__)

PERSON_FIELDS = ("name", "role", "organisation")
LEARNER_FIELDS = ("name", "date_of_birth", "email", "guardian_name", "guardian_email")
#: Rows shown on a fresh form, and the most a page offers.
FIRST_ROWS = 1
MAX_PERSON_ROWS = 10

GROUP_LABELS = {
    "mou_id": "start.label.mou_id",
    "name": "group_start.label.name",
    "programme": "group_start.label.programme",
    "hosting_organisation_id": "start.label.hosting_organisation_id",
    "qualification_title": "start.label.qualification_title",
    "start_date": "start.label.start_date",
    "end_date": "start.label.end_date",
    "learners": "group_start.label.learners",
    "learner_ids": "group_start.label.known_learners",
    "accompanying_persons": "group_start.label.accompanying_persons",
}
ROW_LABELS = {
    "learners.{i}": "start.label.learner",
    "accompanying_persons.{i}.name": "group_start.label.person_name",
    "accompanying_persons.{i}.role": "group_start.label.person_role",
    "accompanying_persons.{i}.organisation": "group_start.label.person_organisation",
    "learners.{i}.name": "start.label.learner_name",
    "learners.{i}.date_of_birth": "start.label.date_of_birth",
    "learners.{i}.email": "start.label.learner_email",
    "learners.{i}.guardian_name": "start.label.guardian_name",
    "learners.{i}.guardian_email": "start.label.guardian_email",
}
REQUIRED = ("name", "programme", "hosting_organisation_id", "qualification_title", "start_date", "end_date")


def _rows(name: str, lowest: int) -> int:
    count = _int(request.form.get(name)) or lowest
    return max(lowest, min(count, groups.MAX_LEARNERS))


def _labels(person_rows: int, learner_rows: int) -> dict[str, str]:
    """Field name -> label in the reader's language; a row's fields carry its number."""
    labels = _said(GROUP_LABELS)
    for pattern, key in ROW_LABELS.items():
        rows = person_rows if pattern.startswith("accompanying") else learner_rows
        for i in range(rows):
            labels[pattern.format(i=i)] = t("group_start.row_label", label=t(key), n=i + 1)
    return labels


def _page(form: Form, person_rows: int, learner_rows: int, status: int = 200) -> Any:
    _require_member()
    terms, known = None, []
    with page_session() as (session, actor):
        choices = nomination.nominable(session, actor=actor)
        summaries = [(m.id, in_force_version(m)) for m in choices]
        mou_id = _int(form.get("mou_id"))
        if mou_id is None and len(choices) == 1:
            mou_id = choices[0].id
            form.values["mou_id"] = str(mou_id)
        if mou_id is not None:
            terms = nomination.nomination_terms(session, actor=actor, mou_id=mou_id)  # 404/403/409 as pages
            known = groups.known_learners(session, actor=actor, mou_id=mou_id)
            if len(terms.hosting) == 1 and not form.get("hosting_organisation_id"):
                form.values["hosting_organisation_id"] = str(terms.hosting[0].id)
            if len(terms.qualifications) == 1 and not form.get("qualification_title"):
                form.values["qualification_title"] = terms.qualifications[0]["title"]
        partners = {m.id: _partner_names(m) for m in choices}
    labels = _labels(person_rows, learner_rows)
    picked = set(request.form.getlist("learner_ids"))
    return render_template("start/mobility_group.html", active="start", form=form, choices=summaries,
                           partners=partners, terms=terms, known=known, picked=picked, person_rows=person_rows,
                           learner_rows=learner_rows, max_learners=groups.MAX_LEARNERS, labels=labels,
                           summary=form.summary(labels)), status


@bp.route("/start/mobility-group", endpoint="group", methods=["GET"])
def group_form() -> Any:
    """Step 1 picks the MoU in force (skipped when there is one); step 2 the group."""
    _require_member()
    return _page(Form(values={"mou_id": v} if (v := _text("mou_id")) else {}), FIRST_ROWS, FIRST_ROWS)


def _typed(person_rows: int, learner_rows: int) -> Form:
    names = list(GROUP_LABELS)
    names += [f"accompanying_persons.{i}.{k}" for i in range(person_rows) for k in PERSON_FIELDS]
    names += [f"learners.{i}.{k}" for i in range(learner_rows) for k in LEARNER_FIELDS]
    return Form(values={k: _text(k) for k in names if k not in ("learners", "learner_ids", "accompanying_persons")})


def _without_row(form: Form, prefix: str, fields: tuple[str, ...], rows: int, removed: int) -> None:
    """Drop row `removed` of `prefix` and move the rows after it up."""
    for i in range(removed, rows):
        for key in fields:
            after = form.values.pop(f"{prefix}.{i + 1}.{key}", "")
            form.values[f"{prefix}.{i}.{key}"] = after


def _reshaped(form: Form, action: str, person_rows: int, learner_rows: int) -> tuple[int, int]:
    """Add or remove a row as the button asked (nothing is started)."""
    kind, _, index = action.partition(":")
    removed = _int(index)
    if kind == "add_person":
        person_rows = min(person_rows + 1, MAX_PERSON_ROWS)
    elif kind == "add_learner":
        learner_rows = min(learner_rows + 1, groups.MAX_LEARNERS)
    elif kind == "remove_person" and removed is not None and 0 <= removed < person_rows:
        _without_row(form, "accompanying_persons", PERSON_FIELDS, person_rows, removed)
        person_rows -= 1
    elif kind == "remove_learner" and removed is not None and 0 <= removed < learner_rows and learner_rows > 1:
        _without_row(form, "learners", LEARNER_FIELDS, learner_rows, removed)
        learner_rows -= 1
    return person_rows, learner_rows


def _persons(form: Form, rows: int) -> list[dict[str, str]]:
    """The rows typed in (a wholly empty row is no person)."""
    out = [{k: form.get(f"accompanying_persons.{i}.{k}") for k in PERSON_FIELDS} for i in range(rows)]
    return [p for p in out if any(p.values())]


def _learners(form: Form, rows: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The service's learners (known ones picked, then new rows typed in) and, per position, the form
    field its errors belong to."""
    learners: list[dict[str, Any]] = []
    where: list[str] = []
    for raw in request.form.getlist("learner_ids"):
        learner_id = _int(raw)
        if learner_id is not None:
            learners.append({"learner_id": learner_id})
            where.append("learner_ids")
    for i in range(rows):
        details = {k: v for k in LEARNER_FIELDS if (v := form.get(f"learners.{i}.{k}"))}
        if details:
            learners.append(details)
            where.append(f"learners.{i}")
    return learners, where


def _placed(errors: dict[str, list[str]], where: list[str], persons: list[int]) -> dict[str, list[str]]:
    """The service's field names (``learners.<position>.learner.email``) as the page's fields."""
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        parts = name.split(".")
        target = name
        if parts[0] == "learners" and len(parts) > 1 and (pos := _int(parts[1])) is not None and pos < len(where):
            row, key = where[pos], parts[-1]
            target = row if row == "learner_ids" or key not in LEARNER_FIELDS else f"{row}.{key}"
        elif parts[0] == "accompanying_persons" and len(parts) > 1 and (pos := _int(parts[1])) is not None:
            target = f"accompanying_persons.{persons[pos]}.{parts[-1]}" if pos < len(persons) else name
        out.setdefault(target, []).extend(messages)
    return out


@bp.route("/start/mobility-group", methods=["POST"])
def nominate_group() -> Any:
    _require_member()
    person_rows, learner_rows = _rows("person_rows", 0), _rows("learner_rows", 1)
    form = _typed(person_rows, learner_rows)
    action = request.form.get("action", "nominate")
    if action != "nominate":
        person_rows, learner_rows = _reshaped(form, action, person_rows, learner_rows)
        return _page(form, person_rows, learner_rows)
    for name in REQUIRED:
        if not form.get(name):
            form.errors[name] = [t("start.required")]
    mou_id, hosting_id = _int(form.get("mou_id")), _int(form.get("hosting_organisation_id"))
    if mou_id is None:
        form.errors["mou_id"] = [t("start.choose_mou")]
    learners, where = _learners(form, learner_rows)
    if not 1 <= len(learners) <= groups.MAX_LEARNERS:
        form.errors["learners"] = [t("group_start.learner_count", max=groups.MAX_LEARNERS)]
    filled = [i for i in range(person_rows) if any(form.get(f"accompanying_persons.{i}.{k}") for k in PERSON_FIELDS)]
    if form.errors or mou_id is None or hosting_id is None:
        return _page(form, person_rows, learner_rows, 422)
    try:
        with page_session() as (session, actor):
            group = groups.nominate_group(
                session, actor=actor, mou_id=mou_id, name=form.get("name"), programme=form.get("programme"),
                learners=learners, accompanying_persons=_persons(form, person_rows),
                hosting_organisation_id=hosting_id, qualification_title=form.get("qualification_title"),
                start_date=form.get("start_date"), end_date=form.get("end_date"))
            group_id, count = group.id, len(learners)
    except Invalid as exc:
        form.errors = _placed(_refused(exc), where, filled)
        return _page(form, person_rows, learner_rows, 422)
    except Conflict as exc:
        form.alert = exc.message
        return _page(form, person_rows, learner_rows, 409)
    flash(t("group_start.nominated", name=form.get("name"), count=count), "success")
    return redirect(url_for("web_groups.group", group_id=group_id))
