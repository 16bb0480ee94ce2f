"""`make scenarios`: scenarios taken from SpiffWorkflow's own tests, driven to their end through the API and
with the bare library in the same run (issue 11, "the library's scenarios end as its tests expect").

Not a test (not part of `make test`): the diagrams are read from the fetched SpiffWorkflow repository (a bare
git directory under /work/.mirror, or the directory given as the first argument), never copied here. Each
scenario names the library test it comes from, the diagram files and process, the data the test puts on the
start event and gives at each user task (in the order they become ready), and the end the test asserts: the
instance completed (or in error) and the values it checks in the workflow's data. It runs twice: with a bare
``SpiffBpmnParser``/``BpmnWorkflow`` and through the platform's API (Flask's test client, a fresh SQLite
database per scenario, an administrator of the one organisation every role is bound to, each task completed
on behalf of its party); the table prints both results and whether they end as the test expects, with the
reason where the platform differs.
"""
from __future__ import annotations

import contextlib
import datetime
import fnmatch
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

os.environ.setdefault("ECVET_ARGON2_FAST", "1")

from lxml import etree  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition  # noqa: E402
from SpiffWorkflow.bpmn.util.event import BpmnEvent  # noqa: E402
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from bench.corpus import CREATED, MIRROR, OK, Files, Platform, _git_files, _reason, _reuse  # noqa: E402
from bench.scenario_table import BPMN, DOUBLE, SCENARIOS, Scenario, Step  # noqa: E402
from engine import clock, scripting  # noqa: E402
from engine.worker import Worker  # noqa: E402

REPO = "sartography+SpiffWorkflow"
MAX_STEPS = 20
# What the library's timer tests put in their script engine's environment (TimerDateTest, TimerDurationTest).
TEST_GLOBALS: dict[str, Any] = {"datetime": datetime.datetime, "timedelta": datetime.timedelta}


def custom_function(txt: Any) -> str:
    """CustomScriptTest's ``my_custom_function``, registered with both engines under the test's name."""
    return str(txt).upper()


TEST_GLOBALS["custom_function"] = custom_function
CLOCK = clock.FrozenClock()  # installed by main(): timers in both runs move with it, nobody sleeps




# --- the files of a scenario -----------------------------------------------------------------------

def scenario_files(scenario: Scenario, corpus: Files) -> Files:
    pattern = f"{scenario.folder}data/{scenario.files}"
    chosen = {path: body for path, body in corpus.items() if fnmatch.fnmatch(path, pattern)
              and path.count("/") == pattern.count("/")}
    named = b"".join(chosen.values())
    chosen.update({p: b for p, b in corpus.items() if p.endswith(".json") and p.startswith(f"{scenario.folder}data/")
                   and PurePosixPath(p).name.encode() in named})
    if any(p.endswith(".bpmn") for p in chosen):  # the DMN files of the folder come with it, as the tests load them
        folder = str(PurePosixPath(next(iter(chosen))).parent)
        chosen.update({p: b for p, b in corpus.items() if p.endswith(".dmn") and str(PurePosixPath(p).parent)
                       in (folder, f"{folder}/dmn")})
    return {PurePosixPath(p).name.replace(".bpmn20.xml", ".bpmn"): b for p, b in chosen.items()}


def _advance(step: Step) -> float:
    """The seconds an ``@advance`` step moves the clock (0 for a task's step)."""
    return float(step.get("@advance", 0)) if isinstance(step, dict) else 0.0


def _control(step: Step) -> bool:
    """A step that moves the clock or throws a message rather than completing a task."""
    return isinstance(step, dict) and ("@advance" in step or "@message" in step)


def _pick(step: Step, ready: list[str]) -> int:
    """Which of the ready tasks (their BPMN ids or names, in the engine's order) a step completes: the one
    it names with ``@task``, else the first."""
    wanted = step.get("@task") if isinstance(step, dict) else None
    return ready.index(wanted) if wanted in ready else 0


def _step_data(step: Step, task_data: dict[str, Any]) -> dict[str, Any]:
    if step == DOUBLE:
        item = task_data.get("input_item")
        return {"output_item": item * 2 if isinstance(item, int) else 0}
    return {k: v for k, v in step.items() if not k.startswith("@")} if isinstance(step, dict) else {}


def _plain(value: Any) -> Any:
    """JSON's view of a value (integer keys become strings), so both sides compare alike."""
    return json.loads(json.dumps(value, default=str))


Result = tuple[str, dict[str, Any], str]  # end, data, detail


def _verdict(scenario: Scenario, result: Result) -> bool:
    end, data, _ = result
    plain = _plain(data)
    return end == scenario.end and all(plain.get(k) == _plain(v) for k, v in scenario.data.items())


# --- bare SpiffWorkflow ----------------------------------------------------------------------------

def run_bare(scenario: Scenario, files: Files) -> Result:
    try:
        parser = SpiffBpmnParser()
        for name, content in files.items():
            if name.endswith(".dmn"):
                parser.add_dmn_xml(etree.fromstring(content), filename=name)
            else:
                parser.add_bpmn_str(content, filename=name)
        workflow = BpmnWorkflow(parser.get_spec(scenario.process), parser.get_subprocess_specs(scenario.process),
                                script_engine=PythonScriptEngine(environment=TaskDataEnvironment(TEST_GLOBALS)))
    except Exception as exc:  # noqa: BLE001 - the library's refusal is the result
        return "not parsed", {}, f"{type(exc).__name__}: {exc}"[:120]
    for task in [workflow.task_tree, *workflow.get_tasks(state=TaskState.READY)]:
        task.data.update(_plain(scenario.start))
    steps = list(scenario.steps)
    try:
        workflow.do_engine_steps()
        for _ in range(MAX_STEPS):
            while steps and _control(steps[0]):
                _bare_control(workflow, steps.pop(0))
            ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if not ready:
                break
            step = steps.pop(0) if steps else {}
            names = [str(getattr(t.task_spec, "bpmn_name", None) or getattr(t.task_spec, "bpmn_id", "")) for t in ready]
            ids = [str(getattr(t.task_spec, "bpmn_id", "")) for t in ready]
            task = ready[max(_pick(step, ids), _pick(step, names))]
            task.data.update(_step_data(step, task.data))
            task.run()
            workflow.do_engine_steps()
    except Exception as exc:  # noqa: BLE001 - an engine error is the "error" end the tests assert
        return "error", {}, f"{type(exc).__name__}"
    if workflow.completed:
        return "completed", dict(workflow.data), ""
    return "waiting", dict(workflow.data), ""


def _bare_control(workflow: BpmnWorkflow, step: Step) -> None:
    assert isinstance(step, dict)
    if "@message" in step:
        workflow.catch(BpmnEvent(_message_definition(workflow, step["@message"]), {}))
    else:
        CLOCK.advance(seconds=_advance(step))
        workflow.refresh_timers()
    workflow.do_engine_steps()


def _message_definition(workflow: BpmnWorkflow, name: str) -> Any:
    """The definition a waiting catch of message ``name`` holds (the spiff parser's own class, which a
    plain ``MessageEventDefinition`` would not match), else a plain one."""
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        for candidate in [definition, *getattr(definition, "event_definitions", [])]:  # an event-based gateway's
            if getattr(candidate, "name", None) == name:
                return candidate
    return MessageEventDefinition(name)


# --- the platform ----------------------------------------------------------------------------------

def run_ours(scenario: Scenario, files: Files, platform: Platform) -> Result:
    status, body = platform.deploy(files)
    if status not in (OK, CREATED):
        return "refused", {}, f"{status}: {_reason(body)}"[:160]
    definitions = {d["key"]: d for d in (body or {}).get("definitions") or []}
    definition = definitions.get(scenario.process)
    if definition is None:
        return "refused", {}, f"{scenario.process} not deployed (deployed: {', '.join(definitions)})"[:160]
    client, headers = platform.client, platform.headers
    started = client.post("/api/process-instances", headers=headers, json={
        "process_key": definition["key"], "version": definition["version"], "variables": scenario.start,
        "parties": {role: platform.org_id for role in definition.get("roles") or {}}})
    if started.status_code != CREATED:
        return "not started", {}, f"{started.status_code}: {_reason(started.get_json(silent=True))}"[:160]
    instance = started.get_json()["id"]
    steps = list(scenario.steps)
    detail = ""
    for _ in range(MAX_STEPS):
        while steps and _control(steps[0]):
            detail = _our_control(platform, steps.pop(0)) or detail
        seen = client.get(f"/api/process-instances/{instance}", headers=headers).get_json(silent=True) or {}
        ready_ids = {t["id"]: t.get("bpmn_id") for t in seen.get("ready_tasks") or [] if t.get("id")}
        if not ready_ids:
            break
        tasks = _flat((client.get(f"/api/process-instances/{instance}/data", headers=headers)
                       .get_json(silent=True) or {}).get("tasks") or [])
        ordered = [t for t in tasks if t.get("id") in ready_ids] or [{"id": i, "bpmn_id": b} for i, b in
                                                                      ready_ids.items()]
        step = steps.pop(0) if steps else {}
        task = ordered[max(_pick(step, [str(t.get("bpmn_id")) for t in ordered]),
                           _pick(step, [str(t.get("name")) for t in ordered]))]
        done = client.post(f"/api/tasks/{task['id']}/complete", headers=headers, json={
            "data": _step_data(step, _task_data(task)), "on_behalf": True})
        if done.status_code != OK:
            detail = f"completing {task.get('bpmn_id')}: {done.status_code} {_reason(done.get_json(silent=True))}"
            break
    final = client.get(f"/api/process-instances/{instance}", headers=headers).get_json(silent=True) or {}
    data = client.get(f"/api/process-instances/{instance}/data", headers=headers).get_json(silent=True) or {}
    status_ = str(final.get("status", "?"))
    incidents = [i.get("message", "") for i in final.get("incidents") or []]
    end = {"running": "waiting", "suspended": "waiting"}.get(status_, status_)
    return end, (data.get("process") or {}).get("data") or {}, (detail or "; ".join(incidents))[:160]


def _our_control(platform: Platform, step: Step) -> str:
    """Throw the step's message through the API or move the clock; what went wrong, if anything."""
    assert isinstance(step, dict)
    if "@message" in step:
        sent = platform.client.post("/api/messages", headers=platform.headers, json={"name": step["@message"]})
        _fire_timers(platform, 0)  # what the delivery queued
        if sent.status_code >= 300:  # noqa: PLR2004 - any non-success answer
            return f"message {step['@message']!r}: {sent.status_code} {_reason(sent.get_json(silent=True))}"
        return ""
    _fire_timers(platform, _advance(step))
    return ""


def _fire_timers(platform: Platform, seconds: float) -> None:
    """Move the clock on and let the worker run what became due (timers, then what they start)."""
    CLOCK.advance(seconds=seconds)
    worker = Worker(platform.db)
    for _ in range(MAX_STEPS):
        if not worker.run_once():
            return


def _flat(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks of the data view in the engine's order, multi-instance children in index order."""
    out: list[dict[str, Any]] = []
    for task in tasks:
        out.append(task)
        out.extend(_flat(task.get("instances") or []))
    return out


def _task_data(task: dict[str, Any]) -> dict[str, Any]:
    merged = dict(task.get("data") or {})
    if task.get("item") is not None and "input_item" not in merged:
        merged["input_item"] = task["item"]
    return merged


# --- the run -----------------------------------------------------------------------------------------

def main() -> None:
    mirror = sys.argv[1] if len(sys.argv) > 1 else MIRROR
    git_dir = f"{mirror}/{REPO}/repo"
    if not os.path.isdir(git_dir):
        print(f"(no SpiffWorkflow git directory under {mirror}/{REPO})")
        return
    clock.use(CLOCK)
    scripting.helper("custom_function")(lambda _call, txt: custom_function(txt))
    for name in ("ecvet", "ecvet.worker", "ecvet.notifications", "ecvet.engine", "ecvet.api"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    corpus = _git_files(git_dir, "tests/SpiffWorkflow/")
    corpus.update(_xml_files(git_dir))
    rows: list[tuple[Scenario, Result, Result]] = []
    with tempfile.TemporaryDirectory() as tmp:
        template = Platform(tmp)
        template.db.dispose()
        with open(f"{tmp}/corpus.sqlite3", "rb") as source:
            template_bytes = source.read()
        for number, scenario in enumerate(SCENARIOS):
            files = scenario_files(scenario, corpus)
            folder = f"{tmp}/{number}"
            os.makedirs(folder)
            with open(f"{folder}/corpus.sqlite3", "wb") as out:
                out.write(template_bytes)
            platform = _reuse(folder, template)
            with contextlib.redirect_stdout(io.StringIO()):  # the diagrams' print() calls
                bare = run_bare(scenario, files) if files else ("no files", {}, scenario.files)
            ours = run_ours(scenario, files, platform) if files else ("no files", {}, scenario.files)
            platform.db.dispose()
            rows.append((scenario, bare, ours))
    print_table(rows)


def _xml_files(git_dir: str) -> Files:
    """The ``.bpmn20.xml`` diagrams of the tests (``_git_files`` reads only .bpmn, .dmn and .json)."""
    return {p: b for p, b in _git_files_any(git_dir, f"{BPMN}data/Test-Workflows/").items() if p.endswith(".xml")}


def _git_files_any(git_dir: str, prefix: str) -> Files:
    listing = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", "HEAD", prefix],
                             check=True, capture_output=True, text=True).stdout.split()
    return {p: subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{p}"], check=True,
                              capture_output=True).stdout for p in listing}


def print_table(rows: list[tuple[Scenario, Result, Result]]) -> None:
    matches: Callable[[Scenario, Result], bool] = _verdict
    print("| # | scenario (library test) | test expects | data it checks | bare | ours | ours as expected "
          "| why ours differs |")
    print("|---|---|---|---|---|---|---|---|")
    for number, (scenario, bare, ours) in enumerate(rows, 1):
        ok_bare, ok_ours = matches(scenario, bare), matches(scenario, ours)
        why = "" if ok_ours else "; ".join(w for w in (scenario.note, ours[2] or _data_diff(scenario, ours)) if w)
        checked = ", ".join(scenario.data) or "-"
        print(f"| {number} | {scenario.name} (`{scenario.test}`) | {scenario.end} | {checked} | "
              f"{bare[0]}{'' if ok_bare else ' ✗ ' + bare[2]} | {ours[0]} | {'yes' if ok_ours else 'no'} | "
              f"{why.replace('|', '/').replace(chr(10), ' ')[:200]} |")
    total = len(rows)
    print(f"\n{total} scenarios: bare SpiffWorkflow ends as its tests expect in "
          f"{sum(matches(s, b) for s, b, _ in rows)}, the platform in {sum(matches(s, o) for s, _, o in rows)}.")


def _data_diff(scenario: Scenario, result: Result) -> str:
    plain = _plain(result[1])
    return "; ".join(f"{k}={plain.get(k)!r}, test expects {_plain(v)!r}" for k, v in scenario.data.items()
                     if plain.get(k) != _plain(v))


if __name__ == "__main__":
    main()
