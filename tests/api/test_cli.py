"""The `ecvet` command (api/cli.py): bootstrap-demo seeds and prints the credentials table, twice alike;
`credential verify` checks a signed credential offline; `retention purge [--dry-run]` prints what goes."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.cli import main
from demo.seed import DEMO_PASSWORD
from ecvet.mobility import seal
from ecvet.mobility.models import Mobility
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import SignInThrottle
from tests.support.ecvet_worlds import CZECH_SCHOOL, make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


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


def test_credential_verify_checks_the_signature_offline(db: Database, frozen: FrozenClock, tmp_path: Path) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction() as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        found = seal.for_learner(s, actor=life.learner, learner_id=learner_id, secret="cli-tests-only-secret")
    runner = CliRunner()
    download = tmp_path / "credentials.jsonld"
    download.write_text(json.dumps({"credentials": found}), encoding="utf-8")
    valid = runner.invoke(main, ["credential", "verify", str(download)])  # no database: offline
    assert valid.exit_code == 0, valid.output
    assert valid.stdout.count("valid: urn:ecvet-flow:credential:") == 2
    assert f"issued by {CZECH_SCHOOL}" in valid.stdout
    key = tmp_path / "key.jwk"
    key.write_text(json.dumps(found[0]["proof"]["verificationMethod"]["publicKeyJwk"]), encoding="utf-8")
    one = tmp_path / "one.json"
    one.write_text(json.dumps(found[0]), encoding="utf-8")
    assert runner.invoke(main, ["credential", "verify", str(one), "--key", str(key)]).exit_code == 0
    tampered = copy.deepcopy(found[0])
    tampered["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"][0]["point"] = "30"
    one.write_text(json.dumps(tampered), encoding="utf-8")
    refused = runner.invoke(main, ["credential", "verify", str(one)])
    assert refused.exit_code == 1
    assert "INVALID" in refused.stdout
    assert "changed after it was signed" in refused.stdout
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    key.write_text(json.dumps({"kty": "OKP", "crv": "Ed25519", "x": seal._b64(other)}), encoding="utf-8")
    one.write_text(json.dumps(found[0]), encoding="utf-8")
    assert runner.invoke(main, ["credential", "verify", str(one), "--key", str(key)]).exit_code == 1
    one.write_text("{not json", encoding="utf-8")
    broken = runner.invoke(main, ["credential", "verify", str(one)])
    assert broken.exit_code == 1
    assert "not a readable JSON file" in broken.output


def test_retention_purge_prints_what_goes_and_a_dry_run_keeps_it(db: Database, db_url: str, frozen: FrozenClock,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    with db.transaction() as s:
        s.add(SignInThrottle(email="someone@example.org", failures=2, window_started_at=T0))
    frozen.set(T0 + timedelta(days=3))
    runner = CliRunner()
    dry = runner.invoke(main, ["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("Dry run ")
    assert "sign_in_throttle: delete 1 row(s) of sign_in_throttle: someone@example.org" in dry.stdout
    with db.transaction() as s:
        assert s.get(SignInThrottle, "someone@example.org") is not None
    done = runner.invoke(main, ["retention", "purge"])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("Purge ")
    with db.transaction() as s:
        assert s.get(SignInThrottle, "someone@example.org") is None
    again = runner.invoke(main, ["retention", "purge"])
    assert "nothing to purge" in again.stdout
