"""engine/bundle/conventions.py: role keys of lanes and start rules."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.bundle import (
    BPMN_NS,
    PLATFORM,
    SPIFF_NS,
    StartRule,
    parse_bundle,
    read_start_rule,
    role_key,
    safe_parse_xml,
    start_rule_of,
)
from tests.support.bundles import process, user_task


@pytest.mark.parametrize(
    ("lane", "key"),
    [
        ("Hosting organisation", "hosting"),
        ("Sending organisation", "sending"),
        ("Sending Organization", "sending"),
        ("Learner", "learner"),
        ("Competent institution (home)", "competent-institution-home"),
        ("Competent institution home", "competent-institution-home"),
        ("Organisation", "organisation"),
        ("Entreprise d'accueil", "entreprise-d-accueil"),
        ("  Intermediary  organisation ", "intermediary"),
    ],
)
def test_role_key_rule(lane: str, key: str) -> None:
    assert role_key(lane) == key


def test_lane_role_key_property_overrides_the_rule() -> None:
    bpmn = process(
        "p",
        [("t", user_task("t")), ("u", user_task("u"))],
        lanes={"Home VET school": ["t"], "Hosting organisation": ["u"]},
        lane_props={"Home VET school": "sending"},
    )
    parsed = parse_bundle({"p.bpmn": bpmn}).processes[0]
    assert parsed.roles == {"sending": "Home VET school", "hosting": "Hosting organisation"}
    assert [t.role for t in parsed.user_tasks] == ["sending", "hosting"]


def _process_element(properties: str) -> etree._Element:
    xml = (f'<bpmn:process xmlns:bpmn="{BPMN_NS}" xmlns:spiffworkflow="{SPIFF_NS}" id="p">'
           f"<bpmn:extensionElements><spiffworkflow:properties>{properties}</spiffworkflow:properties>"
           "</bpmn:extensionElements></bpmn:process>")
    return safe_parse_xml(xml.encode(), "p.bpmn")


def prop(name: str, value: str) -> str:
    return f'<spiffworkflow:property name="{name}" value="{value}"/>'


def test_a_start_rule_reads_roles_platform_and_check() -> None:
    rule, problems = read_start_rule(_process_element(prop("startableBy", "sending, hosting, sending")
                                                      + prop("startCheck", "review.of_mobility")))
    assert (rule.roles, rule.platform_only, rule.check, problems) == \
        (("sending", "hosting"), False, "review.of_mobility", [])
    rule, problems = read_start_rule(_process_element(prop("startableBy", PLATFORM)))
    assert (rule.roles, rule.platform_only, problems) == ((), True, [])


@pytest.mark.parametrize(("properties", "problem", "platform_only"), [
    (prop("startableBy", "sending,,hosting"), "must name role keys separated by commas", True),
    (prop("startableBy", "platform, sending"), "'platform' stands alone", True),
    (prop("startableBy", "sending") + prop("startableBy", "hosting"), "declares 'startableBy' 2 times", False),
    (prop("startCheck", "no spaces allowed"), "must name a registered start check", False),
])
def test_a_malformed_start_rule_is_reported_and_read_at_its_strictest(
        properties: str, problem: str, platform_only: bool) -> None:
    rule, problems = read_start_rule(_process_element(properties))
    assert [element for element, message in problems if problem in message] == ["p"]
    assert rule.platform_only is platform_only  # what cannot be read starts for administrators only


def test_start_rule_of_reads_the_deployed_files_and_defaults_to_no_rule() -> None:
    files = {"p.bpmn": process("p", [("t", user_task("t"))]), "form.json": b"{}"}
    assert start_rule_of(files, "p") == StartRule()
    assert start_rule_of(files, "absent") == StartRule()
