"""Models made with Camunda Modeler: what is translated at deploy, what is only reported, what is refused.

Translated (the stored files stay as uploaded; the specs are built from the translation, and each
translation is a deploy warning that shows the Python it became):

* unquoted ISO 8601 timer literals (``PT5M``, ``R/PT10S``, ``2026-01-01T09:00:00Z``) become Python
  strings, as Camunda reads them;
* simple JUEL conditions (``${approved}``, ``${amount > 1000}``, ``${status == 'ok'}``, ``&&``,
  ``||``, ``!``, ``eq``/``lt``/..., ``empty``) become the same condition in Python;
* ``camunda:candidateGroups`` of a task outside any lane names its role (:func:`candidate_group_role`).

Reported, not honoured: ``camunda:formKey``/``formRef``/``formData``, ``camunda:assignee`` and
``candidateUsers``, input/output mappings. Refused, with the element and the reason: Java delegates
(``camunda:class``, ``delegateExpression``, ``expression``), external tasks and connectors, listeners,
scripts in any language but Python, JUEL beyond the simple forms above.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable

from lxml import etree

from .context import BundleContext
from .conventions import role_key
from .xml import BPMN_NS, NS, Doc, in_non_executable_process, owning_element_id

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
_C = "{" + CAMUNDA_NS + "}"
_CNS = {**NS, "camunda": CAMUNDA_NS}

Report = Callable[[str | None, str, int | None], None]  # (element id, message, line)

# -- timer literals --------------------------------------------------------------------------------------

_DURATION = r"P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?" \
            r"(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_PART = f"(?:{_DURATION}|{_DATETIME})"
_TIMER_LITERAL = re.compile(f"^(?:{_PART}|R\\d*/{_PART}(?:/{_PART})?|{_PART}/{_PART})$")
_CRON = re.compile(r"^\S+(?:\s+\S+){4,6}$")


def timer_literal(text: str) -> str | None:
    """The Python string an unquoted ISO 8601 timer value stands for, or None if it is not one."""
    value = text.strip()
    return repr(value) if _TIMER_LITERAL.match(value) else None


# -- JUEL ------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^'\\]*'|"[^"\\]*")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)
                        |(?P<op>==|!=|<=|>=|&&|\|\||[<>!()+\-*/%])|(?P<bad>\S))""", re.VERBOSE)
_WORDS = {"and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
          "ge": ">=", "true": "True", "false": "False", "null": "None", "div": "/", "mod": "%", "empty": "not"}
_OPS = {"&&": "and", "||": "or", "!": "not"}
# Camunda's context objects: reading them needs the Java engine.
_CAMUNDA_OBJECTS = {"execution", "task", "authenticatedUserId", "variableScope", "connector", "nrOfInstances",
                    "nrOfCompletedInstances", "nrOfActiveInstances", "loopCounter"}
_JUEL_WRAPPER = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)


class JuelUnsupportedError(ValueError):
    """A JUEL expression beyond the simple forms translated at deploy."""


def _juel_token(kind: str, text: str, following: str) -> str:
    if kind == "bad":
        what = {".": "property or method access", "[": "indexing", ",": "argument lists",
                "?": "the ?: operator"}.get(text, f"'{text}'")
        raise JuelUnsupportedError(f"{what} is not translated")
    if kind == "name":
        if text in _CAMUNDA_OBJECTS:
            raise JuelUnsupportedError(f"'{text}' is a variable of Camunda's Java engine")
        if following.lstrip().startswith("(") and text not in _WORDS:
            raise JuelUnsupportedError(f"the function call '{text}(...)' is not translated")
        return _WORDS.get(text, text)
    if kind == "op":
        return _OPS.get(text, text)
    return text


def juel_to_python(expression: str) -> str | None:
    """Python for a simple JUEL expression (``${...}`` or ``#{...}``); None when it is not JUEL at all.

    Raises :class:`JuelUnsupportedError` naming what is not translated (method calls, property access,
    Camunda's ``execution``...).
    """
    wrapped = _JUEL_WRAPPER.match(expression)
    if wrapped is None:
        if "${" in expression or "#{" in expression:
            raise JuelUnsupportedError("only a whole expression in ${...} is translated, not text around it")
        return None
    body = wrapped.group(1)
    out: list[str] = []
    pos = 0
    while pos < len(body):
        match = _TOKEN.match(body, pos)
        if match is None or match.end() == pos:
            break
        assert match.lastgroup is not None
        out.append(_juel_token(match.lastgroup, match.group(match.lastgroup), body[match.end():]))
        pos = match.end()
    python = " ".join(out).replace("( ", "(").replace(" )", ")")
    if not python.strip():
        raise JuelUnsupportedError("the expression is empty")
    try:
        ast.parse(python, mode="eval")
    except SyntaxError as exc:
        raise JuelUnsupportedError(f"it does not translate to a valid condition ({exc.msg})") from exc
    return python


# -- the pass over one file ------------------------------------------------------------------------------

_TIMERS = ".//bpmn:timeDate | .//bpmn:timeDuration | .//bpmn:timeCycle"
_CONDITIONS = (".//bpmn:conditionExpression | .//bpmn:conditionalEventDefinition/bpmn:condition | "
               ".//bpmn:completionCondition | .//bpmn:loopCondition")
_JAVA_ATTRIBUTES = {"class": "a Java class", "delegateExpression": "a Java delegate expression",
                    "expression": "a JUEL method expression"}
_NOT_HONOURED = {
    "formKey": "its form (camunda:formKey) is not used: give the task a JSON Schema form with the "
               "spiffworkflow property formJsonSchemaFilename",
    "formRef": "its Camunda form (camunda:formRef) is not used: give the task a JSON Schema form with the "
               "spiffworkflow property formJsonSchemaFilename",
    "assignee": "camunda:assignee is not used: the task goes to the party bound to its lane (or to the person "
                "who started the instance)",
    "candidateUsers": "camunda:candidateUsers is not used: the task goes to the party bound to its lane",
    "initiator": "camunda:initiator sets no variable here: scripts call get_process_initiator_user()",
}


def _where(el: etree._Element) -> str | None:
    return owning_element_id(el) or el.get("id")


def _translate_timers(root: etree._Element, warn: Report, error: Report) -> None:
    for el in root.xpath(_TIMERS, namespaces=NS):
        text = (el.text or "").strip()
        if not text or in_non_executable_process(el):
            continue
        literal = timer_literal(text)
        kind = etree.QName(el).localname
        if literal is not None:
            el.text = literal
            warn(_where(el), f"{kind} {text} is read as the string {literal} (Camunda's unquoted ISO 8601)",
                 el.sourceline)
        elif "${" in text or "#{" in text:
            error(_where(el), f"{kind} '{text}' is a JUEL expression: write the timer as a quoted ISO 8601 "
                              f"string or a Python expression", el.sourceline)
        elif _CRON.match(text) and not _parses(text):
            error(_where(el), f"{kind} '{text}' looks like a cron expression, which is not supported: use an "
                              f"ISO 8601 cycle such as R/PT1H", el.sourceline)


def _parses(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


def _translate_conditions(root: etree._Element, warn: Report, error: Report) -> None:
    for el in root.xpath(_CONDITIONS, namespaces=NS):
        text = el.text or ""
        if not text.strip() or in_non_executable_process(el):
            continue
        language = (el.get("language") or "").lower()
        if language and "python" not in language and "juel" not in language:
            error(_where(el), f"the condition is written in {el.get('language')}: only Python conditions and "
                              f"simple JUEL run here", el.sourceline)
            continue
        try:
            python = juel_to_python(text)
        except JuelUnsupportedError as exc:
            error(_where(el), f"JUEL condition {text.strip()} cannot run here: {exc}; write it in Python",
                  el.sourceline)
            continue
        if python is not None:
            el.text = python
            warn(_where(el), f"JUEL condition {text.strip()} is run as the Python condition: {python}",
                 el.sourceline)


def _refuse_java(el: etree._Element, element_id: str | None, error: Report) -> None:
    """What needs Camunda's Java engine or its workers cannot run here."""
    for attribute, what in _JAVA_ATTRIBUTES.items():
        if el.get(_C + attribute):
            error(element_id, f"'{element_id}' calls {what} ({el.get(_C + attribute)}), which needs Camunda's "
                              f"Java engine: use a spiffworkflow:serviceTaskOperator connector or a Python "
                              f"script", el.sourceline)
    if el.get(_C + "type") == "external" or el.xpath("./bpmn:extensionElements/camunda:connector", namespaces=_CNS):
        error(element_id, f"'{element_id}' is a Camunda external task or connector, which needs Camunda's "
                          f"workers: use a spiffworkflow:serviceTaskOperator connector", el.sourceline)
    if el.get(_C + "collection"):
        error(element_id, f"'{element_id}': the multi-instance collection {el.get(_C + 'collection')} is a "
                          f"Camunda expression: use bpmn:loopDataInputRef", el.sourceline)
    script_format = (el.get("scriptFormat") or "").lower()
    if etree.QName(el).localname == "scriptTask" and script_format and "python" not in script_format:
        error(element_id, f"script task '{element_id}' is written in {el.get('scriptFormat')}: only Python "
                          f"scripts run here", el.sourceline)
    for listener in el.xpath("./bpmn:extensionElements/camunda:executionListener | "
                             "./bpmn:extensionElements/camunda:taskListener", namespaces=_CNS):
        error(element_id, f"'{element_id}' has a Camunda {etree.QName(listener).localname}, which runs in "
                          f"Camunda's Java engine: model the work as a task", listener.sourceline)


def _report_not_honoured(el: etree._Element, element_id: str | None, warn: Report) -> None:
    for attribute, message in _NOT_HONOURED.items():
        if el.get(_C + attribute):
            warn(element_id, f"'{element_id}': {message}", el.sourceline)
    if el.xpath("./bpmn:extensionElements/camunda:formData", namespaces=_CNS):
        warn(element_id, f"'{element_id}': {_NOT_HONOURED['formKey']}".replace("camunda:formKey", "camunda:formData"),
             el.sourceline)
    if el.xpath("./bpmn:extensionElements/camunda:inputOutput", namespaces=_CNS):
        warn(element_id, f"'{element_id}': camunda:inputOutput mappings are not applied: task data is "
                         f"shared as it is", el.sourceline)


def _check_elements(root: etree._Element, warn: Report, error: Report) -> None:
    for el in root.iter(etree.Element):
        if etree.QName(el).namespace != BPMN_NS or in_non_executable_process(el):
            continue
        element_id = el.get("id") or owning_element_id(el)
        _refuse_java(el, element_id, error)
        _report_not_honoured(el, element_id, warn)


def translate(root: etree._Element, warn: Report, error: Report) -> None:
    """Translate Camunda's dialect in place (the element tree SpiffWorkflow is given) and report."""
    _translate_timers(root, warn, error)
    _translate_conditions(root, warn, error)
    _check_elements(root, warn, error)


def _ignore(_element_id: str | None, _message: str, _line: int | None) -> None:
    return None


def translate_bundle(ctx: BundleContext) -> None:
    """Translate every BPMN file before SpiffWorkflow reads it; deployed files the bundle calls silently
    (their own deployment reported them)."""
    for doc in ctx.docs.values():
        if doc.kind == "bpmn" and doc.root is not None:
            translate(doc.root, _reporter(doc, ctx.warn), _reporter(doc, ctx.refuse))
    for doc in ctx.lib_docs.values():
        if doc.kind == "bpmn" and doc.root is not None:
            translate(doc.root, _ignore, _ignore)


def _reporter(doc: Doc, sink: Callable[[str | None, str | None, str, int | None], None]) -> Report:
    def report(element_id: str | None, message: str, line: int | None) -> None:
        sink(doc.name, element_id, message, line)

    return report


def candidate_group_role(ctx: BundleContext, doc: Doc, process_el: etree._Element,
                         task_id: str) -> tuple[str, str] | None:
    """(role key, group name) from the first ``camunda:candidateGroups`` of a task outside any lane."""
    found = process_el.xpath(".//*[@id=$t][@camunda:candidateGroups]", namespaces=_CNS, t=task_id)
    if not found:
        return None
    groups = [g.strip() for g in (found[0].get(_C + "candidateGroups") or "").split(",") if g.strip()]
    key = role_key(groups[0]) if groups else ""
    if not key or "${" in groups[0]:
        ctx.error(doc.name, task_id, f"camunda:candidateGroups of '{task_id}' must name a group: it is "
                                     f"{found[0].get(_C + 'candidateGroups')!r}")
        return None
    if len(groups) > 1:
        ctx.warn(doc.name, task_id, f"'{task_id}' names several candidate groups: the first, '{groups[0]}', "
                                    f"is its role '{key}'")
    return key, groups[0]
