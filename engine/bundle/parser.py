"""Building specs from a bundle: read every file, hand it to SpiffWorkflow, build each executable process.

A deployment stores a complete, runnable set of processes or nothing, and the person who uploads a
bundle needs every problem at once: :func:`parse_bundle` runs every step on a
:class:`~engine.bundle.context.BundleContext` that collects errors, then raises them all
(:class:`~engine.bundle.model.BundleInvalid`) or returns the :class:`~engine.bundle.model.ParsedBundle`.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from ..datastores import register as register_data_stores
from .camunda import candidate_group_role, translate_bundle
from .checks import (
    check_bundle_forms,
    check_expressions,
    check_message_correlations,
    check_start_rule,
    precheck_decisions,
)
from .context import BundleContext, ve_message
from .conventions import (
    DUE_PROPERTY,
    FORM_PROPERTY,
    PARTY_VARIABLE_PROPERTY,
    ROLE_KEY_PROPERTY,
    ROLE_KEY_RE,
    UI_FORM_PROPERTY,
    role_key,
)
from .forms import lookup_form, resolve_owned_form
from .loading import add_bundle_documents, load_bundle_files, load_library, resolve_library
from .model import BundleInvalid, ParsedBundle, ParsedProcess, UserTaskInfo
from .timer_starts import read_timer_starts
from .xml import (
    DEFAULT_MAX_BUNDLE_BYTES,
    DEFAULT_MAX_FILE_BYTES,
    NS,
    Doc,
    kind_of,
    property_values,
)

Via = tuple[str | None, str, str]  # (bundle file, call activity id, deployed process it calls)


def parse_bundle(
    files: Mapping[str, bytes],
    *,
    forms_dir: Path | None = None,
    library: Mapping[str, bytes] | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_bundle_bytes: int = DEFAULT_MAX_BUNDLE_BYTES,
) -> ParsedBundle:
    """Validate a bundle and return what the deployment stores; raise :class:`BundleInvalid` otherwise.

    ``library`` holds the files of already deployed processes (name -> bytes). They only resolve
    called processes and decisions the bundle does not define; a bundle file shadows a library file
    of the same name, and a bundle process or decision shadows a library one with the same id.
    Problems in library files are reported only when a bundle process actually needs that file.
    When two library files define the same id, the first in ``library``'s order wins.
    """
    ctx = BundleContext(files, Path(forms_dir) if forms_dir is not None else None, library or {},
                        max_file_bytes, max_bundle_bytes)
    if not load_bundle_files(ctx):
        raise BundleInvalid(ctx.errors)
    load_library(ctx)
    translate_bundle(ctx)
    add_bundle_documents(ctx)
    resolve_library(ctx)
    check_expressions(ctx)
    check_bundle_forms(ctx)
    precheck_decisions(ctx)
    check_message_correlations(ctx)
    processes = [parsed for doc in ctx.docs.values() if doc.kind == "bpmn" and doc.added
                 for key in doc.executable_ids if (parsed := _build_process(ctx, doc, key)) is not None]
    decisions = _decisions(ctx)
    _require_a_process(ctx, has_decisions=bool(decisions))
    if ctx.errors:
        raise BundleInvalid(ctx.errors)
    bundle_files = {name: doc.data for name, doc in ctx.docs.items()}
    bundle_files.update(ctx.forms_from_dir)
    return ParsedBundle(processes=processes, files=bundle_files, warnings=list(ctx.warnings), decisions=decisions)


def _decisions(ctx: BundleContext) -> dict[str, str]:
    """The bundle's own decisions (id -> file), each parsed as SpiffWorkflow will evaluate it."""
    found: dict[str, str] = {}
    for doc in ctx.docs.values():
        if doc.kind != "dmn" or doc.library or not doc.added:
            continue
        for decision_id in doc.decision_ids:
            try:
                ctx.parser.dmn_parsers[decision_id].parse()
            except Exception as exc:  # noqa: BLE001 - whatever SpiffWorkflow says is the table author's to fix
                ctx.error(doc.name, decision_id, f"decision '{decision_id}' cannot be evaluated: {exc}")
                continue
            found[decision_id] = doc.name
    return found


def content_hash(files: Mapping[str, bytes]) -> str:
    """Same files, same hash: sha256 over sorted (name, sha256(content)) pairs."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode("utf-8"))
        digest.update(b"\0")
        digest.update(hashlib.sha256(files[name]).hexdigest().encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def _require_a_process(ctx: BundleContext, *, has_decisions: bool = False) -> None:
    bpmn_docs = [doc for doc in ctx.docs.values() if doc.kind == "bpmn"]
    unreadable = any(doc.root is None for doc in bpmn_docs) or any(
        kind_of(name) == "bpmn" and name not in ctx.docs for name in ctx.files if isinstance(name, str)
    )
    if has_decisions and not bpmn_docs:
        return  # a DMN-only bundle: its decisions are deployed and evaluated on their own
    if not any(doc.executable_ids for doc in bpmn_docs) and not unreadable:
        # Only when every BPMN file could be read: otherwise the real problem is already reported.
        ctx.error(None, None, "the bundle defines no executable process")


# -- the graph of called processes ---------------------------------------------------------------------

@dataclass
class _Graph:
    """Specs reached from one process so far, and the calls still to follow."""

    stack: list[tuple[BpmnProcessSpec, Via | None]]
    visited: set[str]
    subs: dict[str, BpmnProcessSpec] = field(default_factory=dict)
    ok: bool = True


def _via_error(ctx: BundleContext, via: Via | None, problem: str) -> None:
    if via is None:
        return
    file, call_id, target = via
    ctx.error(file, call_id, f"call activity '{call_id}' calls deployed process '{target}', "
                             f"which cannot be used: {problem}")


def _report_unknown_callee(ctx: BundleContext, current_file: str | None, call_id: str, target: str,
                           via: Via | None) -> None:
    lib_doc = ctx.lib_process_index.get(target)
    if lib_doc is not None and lib_doc.unusable:
        _via_error(ctx, via or (current_file, call_id, target),
                   f"its file '{lib_doc.name}' is invalid: {lib_doc.unusable}")
    elif via is not None:
        _via_error(ctx, via, f"it calls process '{target}', which is not deployed")
    elif target in ctx.bundle_process_files:
        ctx.error(current_file, call_id, f"call activity '{call_id}' calls process '{target}' from "
                                         f"'{ctx.bundle_process_files[target]}', which has errors")
    else:
        ctx.error(current_file, call_id, f"call activity '{call_id}' calls process '{target}', which is neither "
                                         f"in the bundle nor deployed")


def _follow_call(ctx: BundleContext, graph: _Graph, current_file: str | None, task_spec: Any,
                 via: Via | None) -> None:
    """Add the process a call activity calls to the graph, or report why it cannot be."""
    target = task_spec.spec
    call_id = task_spec.bpmn_id or task_spec.name
    if ctx.parser.get_process_parser(target) is None:
        graph.ok = False
        _report_unknown_callee(ctx, current_file, call_id, target, via)
        return
    if target in graph.visited:
        return
    graph.visited.add(target)
    target_file = ctx.file_of(target)
    library = ctx.is_library_file(target_file)
    next_via = (current_file, call_id, target) if via is None and library else via
    lib_doc = ctx.lib_docs.get(target_file or "") if library else None
    if lib_doc is not None and lib_doc.unusable:
        graph.ok = False
        _via_error(ctx, next_via, f"its file '{lib_doc.name}' is invalid: {lib_doc.unusable}")
        return
    sub_spec, sub_ve = ctx.get_spec(target)
    if sub_spec is None:
        graph.ok = False
        if next_via is None and sub_ve is not None:
            ctx.report_spec_error(sub_ve, target_file)
        elif next_via is not None:
            _via_error(ctx, next_via, ve_message(sub_ve) if sub_ve is not None else "it cannot be parsed")
        return
    graph.subs[target] = sub_spec
    graph.stack.append((sub_spec, next_via))


def _load_graph(ctx: BundleContext, key: str) -> tuple[BpmnProcessSpec | None, dict[str, BpmnProcessSpec], bool]:
    """Spec of ``key`` and of everything it calls, reporting unknown or broken callees.

    ``via`` is the bundle call activity through which a library process was reached: problems
    inside deployed files are reported there, as that is what the bundle author can act on.
    """
    spec, ve = ctx.get_spec(key)
    if spec is None:
        if ve is not None:
            ctx.report_spec_error(ve, ctx.file_of(key))
        return None, {}, False
    graph = _Graph(stack=[(spec, None)], visited={key})
    while graph.stack:
        current, via = graph.stack.pop()
        current_file = ctx.file_of(current.name)
        for task_spec in list(current.task_specs.values()):
            if isinstance(task_spec, SubWorkflowTask):
                _follow_call(ctx, graph, current_file, task_spec, via)
    return spec, graph.subs, graph.ok


# -- one process ---------------------------------------------------------------------------------------

@dataclass
class _Scope:
    """What building one process's task list needs: its file, element, roles, and the files it uses."""

    doc: Doc
    process_el: etree._Element
    roles: dict[str, str]
    lane_keys: dict[str, str]
    files: dict[str, bytes]
    has_lanes: bool = False


def _build_process(ctx: BundleContext, doc: Doc, key: str) -> ParsedProcess | None:
    errors_before = len(ctx.errors)
    spec, subs, ok = _load_graph(ctx, key)
    if spec is None:
        return None
    process_parser = ctx.parser.get_process_parser(key)
    scope = _Scope(doc, process_parser.node, *_roles(ctx, doc, process_parser.node), files={doc.name: doc.data})
    scope.has_lanes = bool(scope.process_el.xpath(".//bpmn:lane", namespaces=NS))
    owned = [spec] + [s for pid, s in subs.items() if ctx.owner(pid) == key]
    user_tasks = _user_tasks(ctx, scope, owned)
    per_task_roles = _per_task_roles(scope, [spec, *subs.values()])
    # Document order, so forms and task lists read like the diagram.
    user_tasks.sort(key=lambda t: getattr(process_parser.get_node_by_id(t.bpmn_id), "sourceline", 0) or 0)
    start_rule = check_start_rule(ctx, doc, scope.process_el, scope.roles)
    timer_starts, problems = read_timer_starts(scope.process_el, scope.roles)
    for element_id, message in problems:
        ctx.error(doc.name, element_id, message)
    _add_called_files(ctx, key, subs, scope.files)
    _add_called_forms(ctx, key, subs, scope.files)
    if not ok or len(ctx.errors) > errors_before:
        return None
    spec_dict = _spec_dict(ctx, doc, key, spec, subs)
    if spec_dict is None:
        return None
    return ParsedProcess(key=key, name=process_parser.get_name(), content_hash=content_hash(scope.files), spec=spec,
                         subprocess_specs=subs, spec_dict=spec_dict, roles=scope.roles, user_tasks=user_tasks,
                         files=scope.files, start_rule=start_rule, timer_starts=timer_starts,
                         per_task_roles=per_task_roles,
                         warnings=[w for w in ctx.warnings if w.file is None or w.file in scope.files])


def _spec_dict(ctx: BundleContext, doc: Doc, key: str, spec: BpmnProcessSpec,
               subs: dict[str, BpmnProcessSpec]) -> dict[str, Any] | None:
    """The specs as stored: JSON-native now rather than at commit time."""
    try:
        registry = BpmnWorkflowSerializer.configure(register_data_stores(SPIFF_CONFIG))
        spec_dict = {
            "spec": registry.convert(spec),
            "subprocess_specs": {pid: registry.convert(s) for pid, s in subs.items()},
        }
        result: dict[str, Any] = json.loads(json.dumps(spec_dict))
    except Exception as exc:  # noqa: BLE001 - a spec Spiff cannot serialise is the model's problem
        ctx.error(doc.name, key, f"the process cannot be serialized: {type(exc).__name__}: {exc}")
        return None
    return result


def _user_tasks(ctx: BundleContext, scope: _Scope, owned: list[BpmnProcessSpec]) -> list[UserTaskInfo]:
    found: list[UserTaskInfo] = []
    seen: set[str] = set()
    for owned_spec in owned:
        for task_spec in owned_spec.task_specs.values():
            if not getattr(task_spec, "manual", False) or not getattr(task_spec, "bpmn_id", None):
                continue
            if task_spec.bpmn_id in seen:
                continue  # multi-instance: the child spec carries the same id
            seen.add(task_spec.bpmn_id)
            found.append(_user_task(ctx, scope, task_spec))
    return found


def _per_task_roles(scope: _Scope, specs: list[BpmnProcessSpec]) -> list[str]:
    """Roles (of lanes this process or a process it calls draws) all of whose user tasks name their own
    party with ``partyVariable``. A called process's lane becomes a role of the caller here, since its
    tasks run in the caller's instance and are routed by the caller's roles."""
    flags: dict[str, list[bool]] = {}
    lanes: dict[str, str] = {}
    for owned_spec in specs:
        for task_spec in owned_spec.task_specs.values():
            lane = getattr(task_spec, "lane", None)
            if not getattr(task_spec, "manual", False) or not lane:
                continue
            role = scope.lane_keys.get(lane) or role_key(lane)
            if not role:
                continue
            properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
            flags.setdefault(role, []).append(bool(properties.get(PARTY_VARIABLE_PROPERTY)))
            lanes.setdefault(role, lane)
    found = sorted(role for role, each in flags.items() if each and all(each))
    for role in found:
        scope.roles.setdefault(role, lanes[role])
    return found


def _add_called_files(ctx: BundleContext, key: str, subs: dict[str, BpmnProcessSpec],
                      files: dict[str, bytes]) -> None:
    """Files of everything this process runs: called processes and their decisions."""
    for pid in [key, *subs]:
        filename = ctx.file_of(pid)
        data = ctx.file_bytes(filename)
        if filename is not None and data is not None:
            files.setdefault(filename, data)
        pp = ctx.parser.get_process_parser(pid)
        if pp is None:
            continue
        for task in pp.node.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            ref = BusinessRuleTaskParser.get_decision_ref(task)
            dmn_parser = ctx.parser.dmn_parsers.get(ref) if ref else None
            dmn_data = ctx.file_bytes(dmn_parser.filename) if dmn_parser is not None else None
            if dmn_parser is not None and dmn_data is not None:
                files.setdefault(dmn_parser.filename, dmn_data)


def _add_called_forms(ctx: BundleContext, key: str, subs: dict[str, BpmnProcessSpec],
                      files: dict[str, bytes]) -> None:
    """Forms of the tasks of called processes (their own deployment checked them)."""
    for pid, sub_spec in subs.items():
        if ctx.owner(pid) == key:
            continue
        library_process = ctx.is_library_file(ctx.file_of(pid))
        for task_spec in sub_spec.task_specs.values():
            properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
            names = [properties.get(prop) for prop in (FORM_PROPERTY, UI_FORM_PROPERTY)]
            for name in filter(None, names):
                data = lookup_form(ctx, name, library_process=library_process)
                if data is not None:
                    files.setdefault(name, data)


def _lane_key(ctx: BundleContext, doc: Doc, lane: etree._Element, name: str) -> str | None:
    """The role key of a named lane (its roleKey property, else from its name), or None if invalid."""
    lane_id = lane.get("id")
    explicit = property_values(lane, ROLE_KEY_PROPERTY)
    if explicit:
        if not ROLE_KEY_RE.match(explicit[0]):
            ctx.error(doc.name, lane_id, f"lane '{name}': roleKey '{explicit[0]}' must be lower-case "
                                         f"letters and digits in words joined by '-'")
            return None
        return explicit[0]
    key = role_key(name)
    if not key:
        ctx.error(doc.name, lane_id, f"lane '{name}' gives an empty role key: use letters or "
                                     f"digits in its name, or set a roleKey property")
        return None
    return key


def _roles(ctx: BundleContext, doc: Doc, process_el: etree._Element) -> tuple[dict[str, str], dict[str, str]]:
    """Role key -> lane name for the process's named lanes, and lane name -> role key."""
    roles: dict[str, str] = {}
    lane_keys: dict[str, str] = {}
    for lane in process_el.xpath(".//bpmn:lane", namespaces=NS):
        name = lane.get("name")
        if not name:
            continue  # reported on the tasks it holds, if any
        key = _lane_key(ctx, doc, lane, name)
        if key is None:
            continue
        if name in lane_keys and lane_keys[name] != key:
            ctx.error(doc.name, lane.get("id"), f"two lanes are named '{name}' but have different role keys "
                                                f"('{lane_keys[name]}' and '{key}')")
        elif key in roles and roles[key] != name:
            ctx.error(doc.name, lane.get("id"), f"lanes '{roles[key]}' and '{name}' both give role key "
                                                f"'{key}': rename one or set a roleKey property")
        else:
            roles[key] = name
            lane_keys[name] = key
    return roles, lane_keys


def _role_of(ctx: BundleContext, scope: _Scope, task_id: str, lane: str | None) -> str | None:
    """The role key of a task's lane, else of its ``camunda:candidateGroups``; None: the initiator's task.

    A task outside every named lane of a laned process goes to the person who started the instance,
    as in spiff-arena; the process owner is warned, as it is often a modelling slip.
    """
    if lane is not None:
        role = scope.lane_keys.get(lane) or role_key(lane) or None
        if role is not None:
            scope.roles.setdefault(role, lane)
        return role
    group = candidate_group_role(ctx, scope.doc, scope.process_el, task_id)
    if group is not None:
        role, group_name = group
        scope.roles.setdefault(role, group_name)
        return role
    if scope.has_lanes:
        unnamed = scope.process_el.xpath(".//bpmn:lane[not(@name) or @name=''][bpmn:flowNodeRef=$t]",
                                         namespaces=NS, t=task_id)
        where = (f"is in lane '{unnamed[0].get('id')}', which has no name" if unnamed
                 else "is in no lane")
        ctx.warn(scope.doc.name, task_id, f"user task '{task_id}' {where}: it goes to the person who "
                                          f"started the instance")
    return None


def _user_task(ctx: BundleContext, scope: _Scope, task_spec: Any) -> UserTaskInfo:
    task_id: str = task_spec.bpmn_id
    extensions = getattr(task_spec, "extensions", None) or {}
    properties = extensions.get("properties") or {}
    role = _role_of(ctx, scope, task_id, task_spec.lane)
    form = properties.get(FORM_PROPERTY) or None
    ui_form = properties.get(UI_FORM_PROPERTY) or None
    for name, ui in ((form, False), (ui_form, True)):
        data = resolve_owned_form(ctx, scope.doc.name, task_id, name, ui=ui) if name is not None else None
        if name is not None and data is not None:
            scope.files[name] = data
    return UserTaskInfo(
        bpmn_id=task_id,
        name=task_spec.bpmn_name or task_id,
        lane=task_spec.lane,
        role=role,
        form=form,
        instructions=extensions.get("instructionsForEndUser"),
        due=properties.get(DUE_PROPERTY),
        ui_form=ui_form,
        party_variable=properties.get(PARTY_VARIABLE_PROPERTY) or None,
    )
