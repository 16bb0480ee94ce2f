"""What a page must be on a 375 px phone (issue 14): no wider than the screen, and no code value or Python
structure in the text a person reads (a status code, a snake_case key, ``None``, ``{'...``). Shared by the
phone browser tests in tests/web."""
from __future__ import annotations

import re
from typing import Any

PHONE = {"width": 375, "height": 800}
WIDTH = "() => document.documentElement.scrollWidth"

#: What leaks when a code value reaches a page: a Python dict/list repr, None/True/False, an ``_id`` key,
#: a snake_case word. File names (``mobility_la_prepare.json``: what a process owner edits) are words of
#: the page, and "None yet." is the catalogue's English for an empty list.
CODE_VALUE = re.compile(r"\{'|\['|\bNone\b(?! yet)|\bTrue\b|\bFalse\b|\w_id\b"
                        r"|\b[a-z]+(?:_[a-z]+)+\b(?!\.(?:json|bpmn|dmn))")


def code_values(page: Any) -> list[str]:
    """The code values visible in the page's text, each with a little of its context."""
    text = page.locator("body").inner_text()
    return [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ") for m in CODE_VALUE.finditer(text)]


def assert_fits_a_phone(page: Any, label: str) -> None:
    """No horizontal overflow at 375 px, and no code value in the visible text."""
    width = page.evaluate(WIDTH)
    assert width <= PHONE["width"], f"{label}: {width} px wide"
    leaked = code_values(page)
    assert leaked == [], f"{label}: code values on the page: {leaked}"


def fill_the_required(page: Any, task_name: str) -> None:
    """What each demo task needs beyond what the page fills in."""
    if task_name == "Approve the MoU":
        page.get_by_role("radio", name="Approved", exact=True).check()
    elif task_name in ("Sign your Learning Agreement", "Sign the Learning Agreement as intermediary"):
        page.get_by_role("radio", name="Sign", exact=True).check()
    elif task_name == "Follow the learning activities":
        page.locator("#f-decision input[type=radio]").first.check()
    elif task_name == "Prepare the Learning Agreement":
        page.get_by_label("Unit code").first.select_option(index=1)  # picked from the MoU's units
