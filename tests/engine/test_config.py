"""engine/config.py: one Settings object, read once, the only reader of the product's variables."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from engine import config
from engine.config import ROOT, SettingError, Settings, load_settings

VARIABLE = re.compile(r"^(ECVET_[A-Z0-9_]+|DATABASE_URL)$")
# Harnesses, not the product: their own knobs (ECVET_TEST_*, ECVET_BENCH_*...) are theirs to read.
NOT_PRODUCT = {"tests", "bench", ".venv", "node_modules", "var", "test-artifacts"}


def product_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py")
                  if not NOT_PRODUCT.intersection(p.relative_to(ROOT).parts[:1])
                  and p != ROOT / "engine" / "config.py")


def variables_named_in(path: Path) -> set[str]:
    """Every string constant of the module that is exactly a variable's name: what a read looks up."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and VARIABLE.match(node.value)}


def readme_table() -> dict[str, tuple[str, str]]:
    """Variable -> (default, meaning) from the README's Settings section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \| (.+) \|$", section, flags=re.MULTILINE)
    return {name: (default, meaning) for name, default, meaning in rows}


def shown(default: object) -> str:
    """A default as the README writes it: paths under the repository as <repo>/..., None as unset."""
    if isinstance(default, Path):
        return str(default).replace(str(ROOT), "<repo>")
    if default is None or default == "":
        return "unset"
    if isinstance(default, tuple):
        return ", ".join(default) or "none"
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default).replace(str(ROOT), "<repo>")


# -- the one reader ------------------------------------------------------------------------------------

def test_no_product_module_reads_a_variable_outside_config() -> None:
    readers = {str(p.relative_to(ROOT)): sorted(found) for p in product_files() if (found := variables_named_in(p))}
    assert readers == {}


def test_the_scan_sees_a_read_written_the_usual_ways(tmp_path: Path) -> None:
    module = tmp_path / "reader.py"
    module.write_text('import os\nNAME = "ECVET_SOMETHING"\nos.environ.get("ECVET_OTHER")\n'
                      'os.getenv("DATABASE_URL")\n"""A docstring naming ECVET_SOMETHING is no read."""\n')
    assert variables_named_in(module) == {"ECVET_SOMETHING", "ECVET_OTHER", "DATABASE_URL"}


def test_every_variable_is_in_the_readme_table_with_its_default_and_meaning() -> None:
    table = readme_table()
    documented = {env: (shown(default), doc) for env, default, doc in config.variables()}
    assert table == documented


# -- reading the environment ---------------------------------------------------------------------------

def test_unset_and_empty_variables_keep_the_defaults() -> None:
    assert config.from_environment({"ECVET_SMTP_PORT": "", "ECVET_SMTP_HOST": "  "}) == {}
    assert Settings().smtp_port == 25
    assert Settings().smtp_host is None


def test_values_are_parsed_to_the_type_of_their_setting() -> None:
    values = config.from_environment({
        "ECVET_SMTP_PORT": "587", "ECVET_SMTP_STARTTLS": "Yes", "ECVET_SCRIPT_TIME_LIMIT": "0.5",
        "ECVET_CONNECTORS": " tests.support.connectors, ,other.module ", "ECVET_FORMS_DIR": "/srv/forms",
        "ECVET_SECURE_COOKIES": "0", "DATABASE_URL": "postgresql://db/ecvet", "UNRELATED": "x",
    })
    assert values == {
        "smtp_port": 587, "smtp_starttls": True, "script_time_limit": 0.5,
        "connectors": ("tests.support.connectors", "other.module"), "forms_dir": Path("/srv/forms"),
        "secure_cookies": False, "database_url": "postgresql://db/ecvet",
    }


@pytest.mark.parametrize(("name", "raw"), [("ECVET_SMTP_PORT", "twenty-five"), ("ECVET_SMTP_STARTTLS", "maybe"),
                                           ("ECVET_REMINDER_LEAD_HOURS", "a day")])
def test_a_value_its_setting_cannot_take_is_refused_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingError, match=name):
        config.from_environment({name: raw})


def test_load_settings_reads_the_environment_now_with_overrides_on_top(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECVET_TOKEN_TTL_DAYS", "7")
    monkeypatch.setenv("ECVET_SESSION_HOURS", "2")
    current = load_settings(session_hours=5)
    assert (current.token_ttl_days, current.session_hours) == (7, 5)


# -- read once, installed by whoever starts the process ------------------------------------------------

def test_settings_are_read_once_until_others_are_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECVET_MAIL_MAX_ATTEMPTS", "3")
    first = config.settings()
    monkeypatch.setenv("ECVET_MAIL_MAX_ATTEMPTS", "9")
    assert config.settings() is first
    assert first.mail_max_attempts == 3
    installed = config.changed(mail_max_attempts=4)
    assert config.use(installed) is first
    assert config.settings() is installed
    assert config.settings().mail_max_attempts == 4
    config.use(None)
    assert config.settings().mail_max_attempts == 9  # read again from the environment


def test_changed_does_not_install_what_it_returns() -> None:
    before = config.settings()
    other = config.changed(base_url="https://ecvet.example")
    assert other.base_url == "https://ecvet.example"
    assert config.settings() is before
