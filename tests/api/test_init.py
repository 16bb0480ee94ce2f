"""api/: one blueprint module per resource, named after its URL, and tests/api mirrors the modules.

The rule the README's API section states: `/api/national-models` is `api/national_models.py` with a
blueprint `national_models` at `url_prefix="/api/national-models"`; `tests/api/test_<module>.py`
tests `api/<module>.py`; verbs only for the closed list of actions that run a process.
"""
from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask

from api import app as app_module
from api import metrics
from engine.config import ROOT

API = ROOT / "api"
TESTS = ROOT / "tests" / "api"
#: Test modules named after what they exercise across modules rather than after one module.
SUITES = {
    "test_concurrency.py": "requests racing to complete one task, over HTTP",
    "test_fuzz.py": "schemathesis over the whole OpenAPI document",
    "test_hostile_scripts.py": "hostile scripts never block the server",
    "test_instance_data.py": "an instance's process data, withheld per party (/api/process-instances/{id}/data)",
    "test_lifecycle.py": "the whole ECVET lifecycle end to end, per national model",
    "test_lifecycle_multilateral.py": "a MoU of three partners and their competent institutions, end to end",
    "test_running_failures.py": "a running process's failures are incidents that say what to fix, never a 500",
    "test_starts.py": "nobody starts, steers or intercepts another party's process",
    "test_unavailable.py": "every operation while the database is unreachable",
}
#: api modules without a test module of their own, and where they are tested.
UNTESTED_ALONE = {
    "deps": "the unit of work every route opens: every route test; its rollback in test_problems.py",
}
#: Web test modules named after what they exercise across pages.
WEB_SUITES = {"test_page_input.py": "the API's input checks on every page",
              "test_start_periods.py": "the later hosting periods of start_pages' nomination page"}
#: The actions that run a process: the only verbs in a path (README, API section).
ACTIONS = {"complete", "cancel", "suspend", "resume", "terminate", "migrate", "retry", "evaluate",
           "claim", "unclaim", "assign"}
#: Collections under one resource that a POST adds a record to.
SUB_COLLECTIONS = {"approvals", "members", "comments", "signatures", "evidence-files", "qualification-awards",
                   "review-conclusions", "confirmations", "erasure-requests"}
ROUTED = [*app_module.RESOURCES, metrics]


def url_of(module: ModuleType) -> str:
    """The path a module serves: its name in kebab-case, under /api unless it is an operations endpoint."""
    name = module.__name__.rsplit(".", 1)[1].replace("_", "-")
    return f"/{name}" if name in ("healthz", "metrics") else f"/api/{name}"


@pytest.mark.parametrize("module", ROUTED, ids=lambda m: m.__name__)
def test_each_blueprint_module_is_named_after_its_url(module: ModuleType) -> None:
    blueprint = module.blp
    assert (blueprint.name, blueprint.url_prefix) == (module.__name__.rsplit(".", 1)[1], url_of(module))


def test_every_api_route_belongs_to_the_module_of_its_url(app: Flask) -> None:
    prefixes = {m.__name__.rsplit(".", 1)[1]: url_of(m) for m in ROUTED}
    strays = sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".", 1)[0] in prefixes
        and not (rule.rule + "/").startswith(prefixes[rule.endpoint.split(".", 1)[0]] + "/")
    )
    assert strays == []


def test_every_blueprint_module_is_registered() -> None:
    modules = {path.stem for path in API.glob("*.py") if re.search(r"^blp = ", path.read_text(), re.M)}
    assert modules == {m.__name__.rsplit(".", 1)[1] for m in ROUTED}


def test_verbs_only_for_the_actions_that_run_a_process(app: Flask) -> None:
    """A POST to /.../{id}/<word> is either one of the actions or adds to a sub-collection; a GET never
    ends in one of the action verbs."""
    posts, gets = set(), set()
    for rule in app.url_map.iter_rules():
        found = rule.rule.startswith("/api/") and re.search(r"/<[^>]+>/([a-z-]+)$", rule.rule)
        if found and "POST" in (rule.methods or ()):
            posts.add(found.group(1))
        if found and "GET" in (rule.methods or ()):
            gets.add(found.group(1))
    assert posts - SUB_COLLECTIONS == ACTIONS
    assert gets & (ACTIONS | {"decide"}) == set()


def test_every_api_module_has_a_test_module_of_its_name() -> None:
    missing = [f"tests/api/test_{path.stem}.py" for path in sorted(API.glob("*.py"))
               if path.name != "__init__.py" and path.stem not in UNTESTED_ALONE
               and not (TESTS / f"test_{path.stem}.py").exists()]
    assert missing == []


def test_every_test_module_is_named_after_an_api_module_or_is_a_named_suite() -> None:
    strays = [
        str(path.relative_to(ROOT)) for path in TESTS.glob("test_*.py")
        if path.name not in SUITES and path.name != "test_init.py"
        and not (API / f"{path.stem[5:]}.py").exists()
    ]
    assert strays == []


def test_every_web_test_module_is_named_after_a_web_module() -> None:
    web_tests = TESTS / "web"
    strays = [str(path.relative_to(ROOT)) for path in web_tests.glob("test_*.py")
              if path.name not in WEB_SUITES and not (API / "web" / f"{path.stem[5:]}.py").exists()
              and not (API / "web" / path.stem[5:]).is_dir()]
    assert strays == [], "tests/api/web mirrors api/web"


def test_the_readme_names_every_action() -> None:
    section = Path(ROOT / "README.md").read_text(encoding="utf-8").split("## API", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{verb}`" in section for verb in ACTIONS)
