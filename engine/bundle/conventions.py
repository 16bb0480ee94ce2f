"""What the engine reads from a model besides SpiffWorkflow: role keys of lanes, start rules, properties.

spiff-arena compatible: everything is a ``spiffworkflow:property`` in ``extensionElements``, so models
made for spiff-arena run here and ours open there.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree
from slugify import slugify

from .model import StartRule
from .xml import NS, kind_of, safe_parse_xml

FORM_PROPERTY = "formJsonSchemaFilename"
UI_FORM_PROPERTY = "formUiSchemaFilename"
DUE_PROPERTY = "dueDate"
ROLE_KEY_PROPERTY = "roleKey"
#: user task property: the task-data variable naming, per task, which party of the lane's role acts
#: (``"<role>:<key>"``, bound by domain code with :func:`engine.instances.bind_party`); see engine/execution.py.
PARTY_VARIABLE_PROPERTY = "partyVariable"
STARTABLE_BY_PROPERTY = "startableBy"
START_CHECK_PROPERTY = "startCheck"
#: ``startableBy`` value: no person starts the process; messages other instances throw do (and admins).
PLATFORM = "platform"

ROLE_KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ORGANISATION_SUFFIXES = ("-organisation", "-organization")
_CHECK_NAME_RE = re.compile(r"^[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$")

Problem = tuple[str | None, str]  # (element id, message)


def role_key(lane_name: str) -> str:
    """Role key of a lane, so parties are addressed by a stable slug rather than by display text.

    Rule: slugify the lane name (lower case ASCII, words joined by ``-``, punctuation dropped), then
    drop one trailing ``-organisation``/``-organization`` if something is left before it.
    "Sending organisation" -> "sending", "Hosting Organization" -> "hosting", "Learner" -> "learner",
    "Competent institution (home)" -> "competent-institution-home", "Organisation" -> "organisation".

    A lane can override this with ``<spiffworkflow:property name="roleKey" value="..."/>`` inside
    ``spiffworkflow:properties`` in its ``extensionElements``; the value must already be a slug
    (``[a-z0-9]`` words joined by single hyphens). An empty result means the lane needs a roleKey.
    """
    key = slugify(lane_name or "")
    for suffix in _ORGANISATION_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def _properties(process: etree._Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for prop in process.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                              namespaces=NS):
        found.setdefault(prop.get("name") or "", []).append((prop.get("value") or "").strip())
    return found


def _startable_by(pid: str | None, raw: str, problems: list[Problem]) -> tuple[tuple[str, ...], bool]:
    """(roles, platform only) from a ``startableBy`` value; a malformed one reads as the strictest."""
    items = [item.strip() for item in raw.split(",")]
    if not raw or any(not item for item in items):
        problems.append((pid, f"'{STARTABLE_BY_PROPERTY}' must name role keys separated by commas, "
                              f"or '{PLATFORM}'; it is {raw!r}"))
        return (), True  # strictest reading: nobody but administrators
    if PLATFORM in items:
        if len(items) > 1:
            problems.append((pid, f"'{STARTABLE_BY_PROPERTY}': '{PLATFORM}' stands alone (no person starts "
                                  f"the process), it cannot be combined with roles"))
        return (), True
    return tuple(dict.fromkeys(items)), False


def read_start_rule(process: etree._Element) -> tuple[StartRule, list[Problem]]:
    """The :class:`StartRule` a ``bpmn:process`` element declares, with what is wrong in it.

    Problems come as (element id, message); role keys are not checked here (the caller knows the
    process's roles). The rule returned is the strictest reading of what was written.
    """
    problems: list[Problem] = []
    properties = _properties(process)
    pid = process.get("id")
    for name in (STARTABLE_BY_PROPERTY, START_CHECK_PROPERTY):
        if len(properties.get(name, [])) > 1:
            problems.append((pid, f"the process declares '{name}' {len(properties[name])} times: declare it once"))
    roles: tuple[str, ...] = ()
    platform_only = False
    if STARTABLE_BY_PROPERTY in properties:
        roles, platform_only = _startable_by(pid, properties[STARTABLE_BY_PROPERTY][0], problems)
    check: str | None = None
    if START_CHECK_PROPERTY in properties:
        check = properties[START_CHECK_PROPERTY][0]
        if not _CHECK_NAME_RE.match(check):
            problems.append((pid, f"'{START_CHECK_PROPERTY}' must name a registered start check such as "
                                  f"'review.of_mobility'; it is {check!r}"))
    return StartRule(roles=roles, platform_only=platform_only, check=check), problems


def start_rule_of(files: Mapping[str, bytes], process_id: str) -> StartRule:
    """The start rule of ``process_id`` in the BPMN files of a deployed version (validated at deploy)."""
    for name, data in sorted(files.items()):
        if kind_of(name) != "bpmn":
            continue
        root = safe_parse_xml(data, name)
        for process in root.xpath("./bpmn:process[@id=$pid]", namespaces=NS, pid=process_id):
            return read_start_rule(process)[0]
    return StartRule()
