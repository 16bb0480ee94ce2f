"""Validation rules over a bundle's XML that SpiffWorkflow does not make itself.

Each rule records what it finds on the :class:`~engine.bundle.context.BundleContext` and goes on, so
every problem is reported at once: expressions that do not compile, forms that are not JSON Schemas,
business rule tasks without their decision, uncorrelated catches of messages other instances throw,
start rules naming roles the process does not have.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping

from lxml import etree
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser

from .context import BundleContext
from .conventions import FORM_PROPERTY, STARTABLE_BY_PROPERTY, UI_FORM_PROPERTY, read_start_rule
from .forms import check_form_schema, is_ui_schema
from .model import StartRule
from .xml import NS, Doc, in_non_executable_process, is_executable, owning_element_id

_EXEC_XPATH = ".//bpmn:script | .//spiffworkflow:preScript | .//spiffworkflow:postScript"
_EVAL_XPATH = " | ".join(
    [
        ".//bpmn:conditionExpression",
        ".//bpmn:timeDate",
        ".//bpmn:timeDuration",
        ".//bpmn:timeCycle",
        ".//bpmn:loopCondition",
        ".//bpmn:completionCondition",
        ".//bpmn:loopCardinality",
        ".//bpmn:conditionalEventDefinition/bpmn:condition",
        ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression",
        ".//bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath",
        ".//spiffworkflow:messagePayload",
    ]
)
_PARAMETERS_XPATH = ".//spiffworkflow:serviceTaskOperator//spiffworkflow:parameter"
_THROW_XPATH = ("./bpmn:intermediateThrowEvent/bpmn:messageEventDefinition | "
                "./bpmn:endEvent/bpmn:messageEventDefinition | ./bpmn:sendTask")
_CATCH_XPATH = ("./bpmn:intermediateCatchEvent/bpmn:messageEventDefinition | "
                "./bpmn:boundaryEvent/bpmn:messageEventDefinition | ./bpmn:receiveTask")
_NESTED_XPATH = ".//bpmn:subProcess | .//bpmn:transaction | .//bpmn:adHocSubProcess"

Located = tuple[Doc, etree._Element, etree._Element]  # (file, process, element)


def _bpmn_docs(ctx: BundleContext) -> list[Doc]:
    return [doc for doc in ctx.docs.values() if doc.kind == "bpmn" and doc.root is not None]


# -- expressions ---------------------------------------------------------------------------------------

def _expressions(root: etree._Element) -> list[tuple[etree._Element, str, str]]:
    """(element, source, compile mode) of every script and expression in a BPMN file."""
    found: list[tuple[etree._Element, str, str]] = []
    found += [(el, el.text or "", "exec") for el in root.xpath(_EXEC_XPATH, namespaces=NS)]
    found += [(el, el.text or "", "eval") for el in root.xpath(_EVAL_XPATH, namespaces=NS)]
    found += [(el, el.get("value"), "eval") for el in root.xpath(_PARAMETERS_XPATH, namespaces=NS)
              if el.get("value") is not None]
    return found


def _compile_problem(source: str, mode: str) -> str | None:
    """Why the source is not valid Python, or None."""
    # eval() strips leading spaces and tabs itself; exec() takes the text as written.
    text = source.lstrip(" \t") if mode == "eval" else source
    try:
        ast.parse(text, mode=mode)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno} of the {'script' if mode == 'exec' else 'expression'})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc)
    return None


def check_expressions(ctx: BundleContext) -> None:
    """Scripts and expressions must at least compile; a typo should fail the deploy, not a case."""
    for doc in _bpmn_docs(ctx):
        assert doc.root is not None
        for el, source, mode in _expressions(doc.root):
            if not source.strip() or in_non_executable_process(el):
                continue
            problem = _compile_problem(source, mode)
            if problem is not None:
                ctx.error(doc.name, owning_element_id(el),
                          f"{etree.QName(el).localname} is not valid Python: {problem}", el.sourceline)


# -- forms ---------------------------------------------------------------------------------------------

def check_bundle_forms(ctx: BundleContext) -> None:
    """Every bundle .json file must be a JSON Schema, or a JSON object if it is a UI schema."""
    for doc in _bpmn_docs(ctx):
        assert doc.root is not None
        for prop in doc.root.xpath(".//spiffworkflow:properties/spiffworkflow:property", namespaces=NS):
            if prop.get("name") == FORM_PROPERTY and prop.get("value"):
                ctx.schema_refs.add(prop.get("value"))
            elif prop.get("name") == UI_FORM_PROPERTY and prop.get("value"):
                ctx.ui_refs.add(prop.get("value"))
    for doc in ctx.docs.values():
        if doc.kind != "json" or not doc.json_ok:
            continue
        err = check_form_schema(doc.json, doc.name, ui=is_ui_schema(ctx, doc.name))
        if err is not None:
            doc.json_ok = False
            ctx.report(err)


# -- decisions -----------------------------------------------------------------------------------------

def _unusable_library_decision(ctx: BundleContext, task_id: str, ref: str, filename: str) -> str | None:
    lib_doc = ctx.lib_docs.get(filename)
    if lib_doc is None or not lib_doc.unusable:
        return None
    return (f"business rule task '{task_id}' uses decision '{ref}' from deployed file "
            f"'{filename}', which cannot be used: {lib_doc.unusable}")


def _decision_problem(ctx: BundleContext, task_id: str, ref: str | None) -> str | None:
    """Why a business rule task cannot have its decision, or None."""
    if not ref:
        return f"business rule task '{task_id}' names no decision (spiffworkflow:calledDecisionId)"
    if ref in ctx.parser.dmn_parsers:
        return _unusable_library_decision(ctx, task_id, ref, ctx.parser.dmn_parsers[ref].filename)
    if ref in ctx.bundle_decision_files:
        return (f"business rule task '{task_id}' uses decision '{ref}' from "
                f"'{ctx.bundle_decision_files[ref]}', which has errors")
    lib_doc = ctx.lib_decision_index.get(ref)
    if lib_doc is not None and lib_doc.unusable:
        return _unusable_library_decision(ctx, task_id, ref, lib_doc.name)
    return (f"business rule task '{task_id}' uses decision '{ref}', which is in no "
            f"DMN file of the bundle nor among deployed decisions")


def precheck_decisions(ctx: BundleContext) -> None:
    """Name the business rule task when its decision is missing (Spiff stops at the first one)."""
    for doc in _bpmn_docs(ctx):
        if not doc.added:
            continue
        assert doc.root is not None
        for task in doc.root.xpath(".//bpmn:businessRuleTask", namespaces=NS):
            if in_non_executable_process(task):
                continue
            task_id = task.get("id") or ""
            message = _decision_problem(ctx, task_id, BusinessRuleTaskParser.get_decision_ref(task))
            if message is not None:
                ctx.error(doc.name, task_id, message)
                ctx.prechecked.add((doc.name, task_id))


# -- messages ------------------------------------------------------------------------------------------

def _messages(doc: Doc, process: etree._Element, xpath: str) -> list[tuple[str, etree._Element]]:
    """(message name, element) of the process's message throws or catches, sub-processes included."""
    assert doc.root is not None
    names = {m.get("id"): m.get("name") or m.get("id") for m in doc.root.xpath("./bpmn:message", namespaces=NS)}
    found = []
    for container in [process, *process.xpath(_NESTED_XPATH, namespaces=NS)]:
        for el in container.xpath(xpath, namespaces=NS):
            name = names.get(el.get("messageRef"))
            if name:
                found.append((name, el))
    return found


def _executable_processes(ctx: BundleContext) -> list[tuple[Doc, etree._Element]]:
    """The bundle's executable processes and the deployed ones it does not replace."""
    found: list[tuple[Doc, etree._Element]] = []
    for doc in _bpmn_docs(ctx):
        assert doc.root is not None
        found += [(doc, p) for p in doc.root.xpath("./bpmn:process", namespaces=NS) if is_executable(p)]
    for doc in ctx.lib_docs.values():
        if doc.kind == "bpmn" and doc.root is not None:
            found += [(doc, p) for p in doc.root.xpath("./bpmn:process", namespaces=NS)
                      if is_executable(p) and ctx.lib_process_index.get(p.get("id")) is doc]
    return found


def _throws_and_loose_catches(
    processes: list[tuple[Doc, etree._Element]],
) -> tuple[dict[str, list[Located]], dict[str, list[Located]]]:
    """Per message name: where it is thrown, and where it is caught without a correlation."""
    throwers: dict[str, list[Located]] = {}
    loose: dict[str, list[Located]] = {}
    for doc, process in processes:
        assert doc.root is not None
        retrieved = {str(ref) for ref in doc.root.xpath(
            "./bpmn:correlationProperty/bpmn:correlationPropertyRetrievalExpression/@messageRef", namespaces=NS)}
        for name, el in _messages(doc, process, _THROW_XPATH):
            throwers.setdefault(name, []).append((doc, process, el))
        for name, el in _messages(doc, process, _CATCH_XPATH):
            # SpiffWorkflow checks a catch's correlation only when its message has retrieval
            # expressions, and the waiting instance has values only from its own data.
            own = el.xpath(".//spiffworkflow:processVariableCorrelation", namespaces=NS)
            if not own or el.get("messageRef") not in retrieved:
                loose.setdefault(name, []).append((doc, process, el))
    return throwers, loose


def _report_loose_catch(ctx: BundleContext, name: str, catch: Located, thrower: Located) -> bool:
    """Report the pair against whichever side the bundle brings; True once the catch is reported."""
    catch_doc, catch_process, catch_el = catch
    throw_doc, throw_process, throw_el = thrower
    if not catch_doc.library:
        deployed = " (deployed)" if throw_doc.library else ""
        ctx.error(catch_doc.name, owning_element_id(catch_el) or catch_el.get("id"),
                  f"it waits for message '{name}', which process '{throw_process.get('id')}'"
                  f"{deployed} throws, without a correlation: any instance waiting here could "
                  f"receive another instance's message. Correlate it: a bpmn:correlationProperty "
                  f"with a retrieval expression for this message, and "
                  f"spiffworkflow:processVariableCorrelation on it from this instance's data",
                  catch_el.sourceline)
        return True
    if not throw_doc.library:
        ctx.error(throw_doc.name, owning_element_id(throw_el) or throw_el.get("id"),
                  f"it throws message '{name}', which the deployed process "
                  f"'{catch_process.get('id')}' ({catch_doc.name}) waits for without a "
                  f"correlation, so any of its instances could receive it: correlate that "
                  f"catch first", throw_el.sourceline)
    return False


def check_message_correlations(ctx: BundleContext) -> None:
    """A catch of a message some process throws must correlate, or any instance could take it.

    A message thrown by one instance is delivered by the platform to an instance waiting for it.
    A catch (intermediate, boundary, receive task) accepts any message of its name unless its
    message has correlation properties (``bpmn:correlationPropertyRetrievalExpression``) and the
    waiting instance has their values from its own data (``spiffworkflow:processVariableCorrelation``),
    so an instance anyone started could receive another party's message. Such a catch is refused when
    any executable process of the bundle or the latest deployed versions throws that message;
    likewise a bundle process that throws a message a deployed process catches so. Message start
    events are not catches of a running instance: a message starts a new instance there.
    """
    throwers, loose = _throws_and_loose_catches(_executable_processes(ctx))
    for name, catches in loose.items():
        for catch in catches:
            for thrower in throwers.get(name, []):
                if _report_loose_catch(ctx, name, catch, thrower):
                    break


# -- start rules ---------------------------------------------------------------------------------------

def check_start_rule(ctx: BundleContext, doc: Doc, process_el: etree._Element, roles: Mapping[str, str]) -> StartRule:
    """The process's declared start rule; every role it names must be one of its lanes' roles."""
    rule, problems = read_start_rule(process_el)
    for element_id, message in problems:
        ctx.error(doc.name, element_id, message)
    unknown = [r for r in rule.roles if r not in roles]
    if unknown:
        ctx.error(doc.name, process_el.get("id"),
                  f"'{STARTABLE_BY_PROPERTY}' names {', '.join(repr(r) for r in unknown)}, which "
                  f"{'is not a role' if len(unknown) == 1 else 'are not roles'} of this process; "
                  f"its roles: {', '.join(sorted(roles)) or 'none (it has no lanes)'}")
    return rule
