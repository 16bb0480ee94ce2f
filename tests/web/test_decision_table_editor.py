"""A ministry officer edits the national models table in the browser: plain values in text columns,
the allowed answers of a column as a choice list, one result per process, no console noise."""
from __future__ import annotations

from typing import Any

from ecvet.national_models import service
from engine import deployments
from engine.config import ROOT
from engine.db import Database
from tests.support.modeler import deploy, watch_console
from tests.web.conftest import Demo, LiveServer

DMN = ROOT / "processes" / "national_models.dmn"
USES_TABLE = ROOT / "tests" / "fixtures" / "modeling" / "uses_national_model.bpmn"

ES_RULE = """() => window.ecvetDmn.getActiveView().element.decisionLogic.rule
  .find(r => r.inputEntry[0].text === 'ES')"""


def versions(db: Database, key: str) -> list[Any]:
    with db.transaction(write=False) as s:
        return deployments.list_definitions(s, key=key).items


def test_officer_edits_the_national_models_table_with_plain_values_and_choices(
    page: Any, demo: Demo, live_server: LiveServer, sign_in_as: Any, screenshot: Any
) -> None:
    deploy(live_server.db, USES_TABLE, DMN)
    problems = watch_console(page)
    said: list[str] = []  # every console message, of any level: no Inferno development-build notice
    page.on("console", lambda message: said.append(message.text))
    sign_in_as(page, demo.admin)
    page.goto("/definitions")
    page.get_by_role("link", name="national_models.dmn").click()
    page.wait_for_selector("[data-dmn-editor][data-rendered='true']")
    assert page.locator(".tjs-table").count() == 1  # the decision table view, not the diagram

    # Text columns read plain: ES, explicit; no Python quotes.
    cells = page.locator("td.input-cell, td.output-cell, th.output-cell").all_inner_texts()
    assert [c for c in cells if '"' in c] == []
    assert "ES" in [c.strip() for c in cells]
    assert "explicit" in [c.strip() for c in cells]
    # A typed list is a list for the engine, a value a string; expressions stay as written.
    assert page.evaluate("""() => {
      const doc = (t) => '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"><decision id="d">'
        + '<decisionTable><input><inputExpression typeRef="string"><text>(c)</text></inputExpression></input>'
        + '<output name="o" typeRef="string"/><rule><inputEntry><text>' + t + '</text></inputEntry>'
        + '<outputEntry><text>sending</text></outputEntry></rule></decisionTable></decision></definitions>';
      const cells = (xml) => Array.from(new DOMParser().parseFromString(xml, 'application/xml')
        .getElementsByTagName('text')).slice(1).map(n => n.textContent);
      const P = window.EcvetDmnPlain;
      return [cells(P.toPython(doc('NL, BE'))), cells(P.toPython(doc('&lt; 6'))), cells(P.toPython(doc('-'))),
              cells(P.toPlain(doc('in ["NL", "BE"]')))];
    }""") == [['in ["NL", "BE"]', '"sending"'], ["< 6", '"sending"'], ["-", '"sending"'], ["NL, BE", "sending"]]

    # An answer outside the column's allowed values: the platform refuses it, nothing is deployed.
    page.evaluate(f"""() => {{
      const rule = ({ES_RULE})();
      const cell = rule.outputEntry.find(e => e.text === 'implicit');
      window.ecvetDmn.getActiveViewer().get('modeling').editCell(cell, 'implict');
    }}""")
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-dmn-editor][data-last-save='refused']")
    assert "implict" in page.locator("[data-deploy-result]").inner_text()
    assert len(versions(live_server.db, "uses_national_model")) == 1

    # Clicking the cell offers the column's allowed values; choosing one edits the cell.
    cell_id = page.evaluate(f"() => ({ES_RULE})().outputEntry.find(e => e.text === 'implict').id")
    page.locator(f"td[data-element-id='{cell_id}']").click()
    choice = page.locator("[data-cell-choices] select")
    choice.wait_for(state="visible")
    options = choice.locator("option").all_inner_texts()
    assert options == ["implict", "none", "explicit", "implicit"]
    choice.select_option("explicit")
    assert page.locator(f"td[data-element-id='{cell_id}']").inner_text().strip() == "explicit"
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_selector("[data-dmn-editor][data-last-save='saved']")
    result = page.locator("[data-deploy-result] li").all_inner_texts()
    assert result == ["uses_national_model version 2 (new)"]  # one entry per deployed process
    screenshot(page, "decision-table")

    with live_server.db.transaction(write=False) as s:
        assert service.decide("ES", session=s).mou_approval == "explicit"
        saved = deployments.definition_file(s, versions(live_server.db, "uses_national_model")[-1],
                                            "national_models.dmn").decode()
    assert "<text>\"ES\"</text>" in saved
    assert "<text>\"explicit\"</text>" in saved
    assert problems == []
    assert [text for text in said if "Inferno" in text] == []
