"""Process owners' edits from the browser: a changed diagram or decision table becomes a new version.

The modeler sends one file; the rest of the bundle is taken, unchanged, from the latest version of the
process (forms, decision tables). BPMN files of *called* processes are left out on purpose: they
resolve from the latest deployed version of their own key, as in any deployment, so an old copy
kept with this version can never be deployed again over a newer one. Everything goes through
:func:`engine.deployments.deploy` in the caller's unit of work: all valid and stored, or nothing.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import deployments, monitoring
from .errors import Invalid, NotFound
from .models import DefinitionFile, FileBlob, ProcessDefinition
from .parties import Actor, require_admin

_BPMN = (".bpmn", ".bpmn20.xml")


def version_files(session: Session, definition: ProcessDefinition) -> dict[str, bytes]:
    """Every file stored with one version, by name."""
    stmt = (
        select(DefinitionFile.filename, FileBlob.content)
        .join(FileBlob, FileBlob.sha256 == DefinitionFile.sha256)
        .where(DefinitionFile.definition_id == definition.id)
    )
    return {name: bytes(content) for name, content in session.execute(stmt)}


def _bundle(session: Session, definition: ProcessDefinition, diagram: str) -> dict[str, bytes]:
    """The version's own diagram plus its non-BPMN files (forms, decision tables)."""
    return {name: content for name, content in version_files(session, definition).items()
            if name == diagram or not name.endswith(_BPMN)}


def save_diagram(
    session: Session, *, actor: Actor, key: str, xml: bytes, forms_dir: Path | None, max_bundle_bytes: int
) -> list[deployments.Deployed]:
    """Deploy an edited diagram of `key` with the rest of its latest version's bundle unchanged.

    Refused (422, nothing stored) when the engine finds errors, or when the diagram no longer defines
    the process it was opened for (a renamed process id would silently start a new process key).
    """
    require_admin(actor)
    latest = deployments.get_definition(session, key=key)
    filename = monitoring.diagram_file(session, latest)
    files = _bundle(session, latest, filename)
    files[filename] = xml
    results = deployments.deploy(session, actor=actor, files=files, forms_dir=forms_dir, source="modeler",
                                 max_bundle_bytes=max_bundle_bytes)
    if not any(r.definition.key == key for r in results):
        raise Invalid(
            f"The diagram no longer defines the executable process '{key}'; nothing was deployed",
            errors=[{"file": filename, "element_id": None, "line": None,
                     "message": f"keep the process id '{key}' (and isExecutable=\"true\")"}],
        )
    return results


def latest_using(session: Session, filename: str) -> list[ProcessDefinition]:
    """The latest version of every process key whose bundle carries `filename` (e.g. a DMN table)."""
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    stmt = (
        select(ProcessDefinition)
        .join(latest, (latest.c.key == ProcessDefinition.key) & (latest.c.v == ProcessDefinition.version))
        .join(DefinitionFile, DefinitionFile.definition_id == ProcessDefinition.id)
        .where(DefinitionFile.filename == filename)
        .order_by(ProcessDefinition.key)
    )
    return list(session.scalars(stmt))


def decision_tables(session: Session) -> dict[str, list[str]]:
    """DMN files in the latest versions, with the process keys that use each."""
    latest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    stmt = (
        select(DefinitionFile.filename, ProcessDefinition.key)
        .join(ProcessDefinition, ProcessDefinition.id == DefinitionFile.definition_id)
        .join(latest, (latest.c.key == ProcessDefinition.key) & (latest.c.v == ProcessDefinition.version))
        .where(DefinitionFile.filename.like("%.dmn"))
        .order_by(DefinitionFile.filename, ProcessDefinition.key)
    )
    tables: dict[str, list[str]] = {}
    for filename, key in session.execute(stmt):
        tables.setdefault(filename, []).append(key)
    return tables


def decision_table(session: Session, filename: str) -> tuple[bytes, list[ProcessDefinition]]:
    """The current content of a deployed DMN file (from the newest version using it) and its users."""
    users = latest_using(session, filename)
    if not filename.endswith(".dmn") or not users:
        raise NotFound(f"No deployed process uses a decision table '{filename}'")
    newest = max(users, key=lambda d: d.id)
    return deployments.definition_file(session, newest, filename), users


def save_decision_table(
    session: Session,
    *,
    actor: Actor,
    filename: str,
    xml: bytes,
    forms_dir: Path | None,
    max_bundle_bytes: int,
) -> list[deployments.Deployed]:
    """Deploy an edited DMN file with every process whose latest version uses it: one new version each.

    Each deployment runs the domain's checks of the file (:data:`engine.deployments.FILE_CHECKS`), so a
    table the services cannot act on is refused and the caller's unit of work stores nothing.
    """
    require_admin(actor)
    _, users = decision_table(session, filename)
    results: list[deployments.Deployed] = []
    for definition in users:
        diagram = monitoring.diagram_file(session, definition)
        files = _bundle(session, definition, diagram)
        files[filename] = xml
        results += deployments.deploy(session, actor=actor, files=files, forms_dir=forms_dir, source="modeler",
                                      max_bundle_bytes=max_bundle_bytes)
    return results


def form_files(definition: ProcessDefinition) -> list[str]:
    """The JSON Schema forms the version's user tasks name (each once, in task order)."""
    named = [t.get("form") for t in definition.user_tasks or []]
    return list(dict.fromkeys(name for name in named if isinstance(name, str) and name))


def form(session: Session, *, actor: Actor, key: str, filename: str) -> tuple[ProcessDefinition, bytes]:
    """The latest version of `key` and the content of one of its tasks' forms as deployed with it."""
    require_admin(actor)
    latest = deployments.get_definition(session, key=key)
    if filename not in form_files(latest):
        raise NotFound(f"No task of '{key}' uses a form '{filename}'")
    return latest, deployments.definition_file(session, latest, filename)


def save_form(
    session: Session,
    *,
    actor: Actor,
    key: str,
    filename: str,
    content: bytes,
    forms_dir: Path | None,
    max_bundle_bytes: int,
) -> list[deployments.Deployed]:
    """Deploy the latest version of `key` with one task form changed: the next version, everything else
    as it was. The deployment checks the form as any other (a JSON Schema its validator accepts)."""
    latest, _ = form(session, actor=actor, key=key, filename=filename)
    diagram = monitoring.diagram_file(session, latest)
    files = _bundle(session, latest, diagram)
    files[filename] = content
    results = deployments.deploy(session, actor=actor, files=files, forms_dir=forms_dir, source="modeler",
                                 max_bundle_bytes=max_bundle_bytes)
    return results
