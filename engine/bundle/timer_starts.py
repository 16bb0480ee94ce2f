"""Timer start events: a process that starts by itself at a date, after a duration or on a cycle.

Nobody starts such an instance, so nobody binds its roles: the process declares the parties every
instance a timer starts binds, with the process property ``timerStartParties`` (role keys to
organisation ids: ``sending=3, hosting=4``, or the JSON ``{"sending": 3, "hosting": 4}``). A process
with lanes and a timer start event that does not declare them, or binds only some roles, is refused at
deploy; a process without lanes needs none. The timer's expression must be ISO 8601 text, quoted as
SpiffWorkflow wants (``"R/P1D"``) or bare (``R/P1D``): no instance data exists when it fires.
"""
from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from datetime import datetime

from lxml import etree

from .model import TimerStart
from .xml import NS, kind_of, property_values, safe_parse_xml

TIMER_START_PARTIES = "timerStartParties"
_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
_PAIR = re.compile(r"^\s*([a-z0-9-]+)\s*[=:]\s*(\d+)\s*$")

Problem = tuple[str | None, str]  # (element id, message)


def _text(expression: str) -> str:
    """The ISO text of a timer expression: a Python string literal, or the bare text."""
    try:
        value = ast.literal_eval(expression.strip())
    except (ValueError, SyntaxError):
        return expression.strip()
    if not isinstance(value, str):
        raise ValueError(f"it gives a {type(value).__name__}, not ISO 8601 text")
    return value.strip()


def parse_parties(raw: str) -> dict[str, int]:
    """``sending=3, hosting=4`` (or ``:``), or a JSON object of role keys to organisation ids."""
    if raw.strip().startswith("{"):
        value = json.loads(raw)
        if not isinstance(value, dict) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                  for v in value.values()):
            raise ValueError("the JSON object must map role keys to organisation ids")
        return {str(k): int(v) for k, v in value.items()}
    parties: dict[str, int] = {}
    for item in raw.split(","):
        match = _PAIR.match(item)
        if match is None:
            raise ValueError(f"{item.strip()!r} is not 'role=organisation id'")
        parties[match.group(1)] = int(match.group(2))
    return parties


def read_timer_starts(process: etree._Element, roles: Mapping[str, str]) -> tuple[list[TimerStart], list[Problem]]:
    """The process's own timer start events (not those of its subprocesses), with what is wrong."""
    problems: list[Problem] = []
    pid = process.get("id")
    starts: list[TimerStart] = []
    declared = property_values(process, TIMER_START_PARTIES)
    parties: dict[str, int] = {}
    if declared:
        try:
            parties = parse_parties(declared[0])
        except ValueError as exc:
            problems.append((pid, f"'{TIMER_START_PARTIES}' must bind role keys to organisation ids, such as "
                                  f"'sending=3, hosting=4': {exc}"))
    for event in process.xpath("./bpmn:startEvent[bpmn:timerEventDefinition]", namespaces=NS):
        element_id = event.get("id")
        for child in event.xpath("./bpmn:timerEventDefinition/*", namespaces=NS):
            kind = _KINDS.get(etree.QName(child).localname)
            if kind is None:
                continue
            try:
                start = TimerStart(element_id, kind, _text(child.text or ""), parties)
                start.first(datetime.now().astimezone())
            except Exception as exc:  # noqa: BLE001 - whatever the ISO parser says is the author's to fix
                problems.append((element_id, f"timer start event '{element_id}' starts instances by itself, so its "
                                             f"expression must be ISO 8601 text such as \"R/P1D\" or "
                                             f"\"2027-01-04T08:00:00Z\": {child.text!r} is not ({exc})"))
                continue
            starts.append(start)
    if starts and roles:
        if not declared:
            problems.append((pid, f"a timer start event starts instances by itself, with no person to bind its "
                                  f"roles: declare the organisation of each role with the process property "
                                  f"'{TIMER_START_PARTIES}', such as "
                                  f"'{', '.join(f'{r}=<organisation id>' for r in sorted(roles))}'"))
        else:
            missing = sorted(set(roles) - set(parties))
            unknown = sorted(set(parties) - set(roles))
            if missing or unknown:
                problems.append((pid, f"'{TIMER_START_PARTIES}' must bind every role of the process and no other: "
                                      f"missing {missing or 'none'}, not roles {unknown or 'none'}"))
    return starts, problems


def timer_starts_of(files: Mapping[str, bytes], process_id: str, roles: Mapping[str, str]) -> list[TimerStart]:
    """The timer starts of ``process_id`` in the BPMN files of a deployed version (validated at deploy)."""
    for name, data in sorted(files.items()):
        if kind_of(name) != "bpmn":
            continue
        root = safe_parse_xml(data, name)
        for process in root.xpath("./bpmn:process[@id=$pid]", namespaces=NS, pid=process_id):
            return read_timer_starts(process, roles)[0]
    return []
