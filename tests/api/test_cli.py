"""The `ecvet` command (api/cli.py): bootstrap-demo seeds and prints the credentials table, twice alike."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from api.cli import main
from demo.seed import DEMO_PASSWORD
from engine.db import Database


def test_bootstrap_demo_prints_who_can_do_what_and_runs_again(db: Database, db_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    runner = CliRunner()
    first = runner.invoke(main, ["bootstrap-demo", "--url", "http://demo.example:5000/"])
    assert first.exit_code == 0, first.output  # (log lines of other tests' handlers go to stderr)
    assert f"Every password: {DEMO_PASSWORD}" in first.stdout
    lines = first.stdout.splitlines()
    at = lines.index(next(line for line in lines if "jonas.keller@learner.example" in line))
    assert lines[at + 1].strip() == "task: Sign your Learning Agreement"
    at = lines.index(next(line for line in lines if "lukas.becker@learner.example" in line))
    assert lines[at + 1].strip().startswith("no task now; not nominated yet")
    assert "Sign in at http://demo.example:5000/sign-in" in first.stdout
    second = runner.invoke(main, ["bootstrap-demo", "--url", "http://demo.example:5000/"])
    assert second.exit_code == 0, second.output
    assert second.stdout == first.stdout
