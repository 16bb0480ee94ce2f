"""Monitors' pages: the dashboard, the list of instances and the heatmap of where instances wait.

Every signed-in person may monitor: an administrator sees every instance, anyone else the instances
their organisation (or they personally) take part in, by the engine's own visibility rule; the
figures come from :mod:`engine.monitoring` and :mod:`ecvet.mobility.monitoring` as SQL aggregates.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from ecvet.mobility.monitoring import mobilities_by_country
from engine import instances, monitoring, summaries
from engine.errors import Invalid
from engine.models import InstanceStatus

from . import security
from .auth import page_session
from .messages import t

bp = Blueprint("web_monitor", __name__)

# Monitoring is scoped, not privileged: every member sees the dashboard of their own organisation's work.

DAY_CHOICES = (7, 30, 90)


def _days() -> int:
    raw = request.args.get("days", "30")
    if not raw.isdigit() or int(raw) not in DAY_CHOICES:
        raise Invalid(t("monitor.period_invalid"),
                      errors={"days": [t("error.one_of", choices=", ".join(map(str, DAY_CHOICES)))]})
    return int(raw)


def _status_table(rows: list[monitoring.StatusCount]) -> tuple[list[dict[str, Any]], list[str], dict[str, int]]:
    """Pivot per process: one row per key, one column per status that occurs, plus the totals."""
    statuses = [s for s in InstanceStatus.ALL if any(r.status == s for r in rows)]
    table: dict[str, dict[str, Any]] = {}
    totals: dict[str, int] = {s: 0 for s in statuses}
    for row in rows:
        entry = table.setdefault(row.process_key, {"key": row.process_key, "name": row.process_name, "counts": {},
                                                   "total": 0})
        entry["counts"][row.status] = row.count
        entry["total"] += row.count
        totals[row.status] += row.count
    return list(table.values()), statuses, totals


@bp.route("/monitor", endpoint="dashboard")
def dashboard() -> Any:
    days = _days()
    with page_session(write=False) as (session, actor):
        counts = summaries.dashboard(session, actor=actor, days=days)  # the worker's row for administrators
        by_status, phases, series = counts.by_status, counts.phases, counts.series
        overdue = monitoring.overdue_tasks(session, actor=actor, limit=20)
        incidents = monitoring.open_incidents(session, actor=actor, limit=20)
        mobilities = mobilities_by_country(session, actor=actor)
    processes, statuses, totals = _status_table(by_status)
    names = {p["key"]: p["name"] for p in processes}
    countries = sorted({m.country for m in mobilities})
    mobility_statuses = [s for s in ("nomination", "live", "recognized", "cancelled")
                         if any(m.status == s for m in mobilities)]
    mobility_counts = {(m.country, m.status): m.count for m in mobilities}
    return render_template(
        "monitor/dashboard.html", active="dashboard", processes=processes, statuses=statuses, totals=totals,
        phases=phases, names=names, overdue=overdue, incidents=incidents, series=series, days=days,
        day_choices=DAY_CHOICES, countries=countries, mobility_statuses=mobility_statuses,
        mobility_counts=mobility_counts, open_total=sum(totals.get(s, 0) for s in InstanceStatus.ACTIVE),
        started_total=sum(d.started for d in series), completed_total=sum(d.completed for d in series),
    )


@bp.route("/monitor/instances", endpoint="instances")
def instance_list() -> Any:
    process_key = request.args.get("process") or None
    status = request.args.get("status") or None
    cursor = request.args.get("cursor") or None
    with page_session(write=False) as (session, actor):
        page = instances.list_for(session, actor=actor, process_key=process_key, status=status, cursor=cursor,
                                  limit=50, newest_first=True)
        overview = monitoring.definitions_overview(session)
        rows = [{"instance": i, "version": i.definition.version, "name": i.definition.name} for i in page.items]
    args: dict[str, Any] = {k: v for k, v in (("process", process_key), ("status", status)) if v}
    next_url = url_for("web_monitor.instances", cursor=page.next_cursor, **args) if page.next_cursor else None
    first_url = url_for("web_monitor.instances", **args) if cursor else None
    return render_template(
        "monitor/instances.html", active="dashboard", rows=rows, processes=[(p.key, p.name) for p in overview],
        statuses=InstanceStatus.ALL, filters={"process": process_key or "", "status": status or ""},
        filtered=bool(args), next_url=next_url, first_url=first_url,
    )


@bp.route("/monitor/heatmap/<key>", endpoint="heatmap")
def heatmap(key: str) -> Any:
    version = request.args.get("version", type=int)
    with page_session(write=False) as (session, actor):
        heat = monitoring.heatmap(session, actor=actor, process_key=key, version=version)
        (process,) = monitoring.definitions_overview(session, key=key)
        waiting = monitoring.instances_of_version(session, actor=actor, process_key=key, version=heat.version,
                                                  limit=50)
        waiting = [i for i in waiting if i.status in monitoring.OPEN_STATUSES]
    security.allow_inline_styles()
    cells = [{"element_id": c.element_id, "kind": c.kind, "count": c.count, "overdue": c.overdue}
             for c in heat.cells]
    return render_template(
        "monitor/heatmap.html", active="dashboard", heat=heat, process=process, cells=cells, waiting=waiting,
        xml_url=url_for("web_monitor.diagram_xml", key=key, version=heat.version),
    )


@bp.route("/processes/<key>/versions/<id:version>/diagram.bpmn", endpoint="diagram_xml")
def diagram_xml(key: str, version: int) -> Response:
    """The BPMN XML drawing one version, for the page viewers (as readable as the API's definitions)."""
    with page_session(write=False) as (session, _actor):
        filename, content = monitoring.version_diagram(session, key=key, version=version)
    response = Response(content, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
