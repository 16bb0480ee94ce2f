"""/verify (api/web/verify_pages.py): anyone pastes or uploads a credential, no sign-in, and reads whether
it is valid and who issued it; a changed credential or another key is refused; a document's SHA-256 is
held, purged under the retention policy (still authentic) or unknown."""
from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from ecvet.mobility import seal
from ecvet.mobility.models import Mobility
from ecvet.retention.purge import purge
from engine.clock import FrozenClock
from engine.db import Database
from tests.api.web.conftest import browser_for
from tests.support import mobility_driver
from tests.support.ecvet_worlds import CZECH_SCHOOL, make_lifecycle_world
from tests.support.factories import PASSWORD, Person

T0 = mobility_driver.T0


def _credentials(db: Database, frozen: FrozenClock) -> list[dict[str, Any]]:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction() as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        return seal.for_learner(s, actor=life.learner, learner_id=learner_id, secret="page-tests-only-secret")


def test_a_signed_credential_is_valid_and_names_its_issuer(app: Flask, db: Database, frozen: FrozenClock) -> None:
    found = _credentials(db, frozen)
    anyone = browser_for(app)
    page = anyone.get("/verify")
    assert page.status_code == 200
    assert "Check a credential" in page.get_data(as_text=True)
    checked = anyone.post("/verify", {"credential": json.dumps(found[0])})
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert 'data-valid="yes"' in text
    assert f"Issued and signed by {CZECH_SCHOOL}." in text
    upload = anyone.post("/verify", {"file": (io.BytesIO(json.dumps({"credentials": found}).encode()),
                                              "credentials.jsonld")})
    assert upload.get_data(as_text=True).count('data-valid="yes"') == 2


def test_a_changed_credential_or_key_is_not_valid(app: Flask, db: Database, frozen: FrozenClock) -> None:
    good = _credentials(db, frozen)[0]
    tampered = copy.deepcopy(good)
    tampered["credentialSubject"]["fullName"] = {"en": "Somebody Else"}
    anyone = browser_for(app)
    text = anyone.post("/verify", {"credential": json.dumps(tampered)}).get_data(as_text=True)
    assert 'data-valid="no"' in text
    assert "the credential was changed after it was signed" in text
    swapped = copy.deepcopy(good)
    swapped["proof"]["verificationMethod"]["publicKeyJwk"]["x"] = "A" * 43
    text = anyone.post("/verify", {"credential": json.dumps(swapped)}).get_data(as_text=True)
    assert 'data-valid="no"' in text
    assert "Issued and signed by" not in text


def test_input_that_is_no_credential_is_a_clear_422(app: Flask, db: Database) -> None:
    anyone = browser_for(app)
    for data, sentence in (({"credential": ""}, "Paste a credential or choose a file first."),
                           ({"credential": "{not json"}, "This is not JSON"),
                           ({"credential": "[]"}, "The file holds no credential to check.")):
        response = anyone.post("/verify", data)
        assert response.status_code == 422
        assert sentence in response.get_data(as_text=True)
    unsigned = anyone.post("/verify", {"credential": json.dumps({"id": "urn:x"})})
    assert "The credential carries no signature." in unsigned.get_data(as_text=True)


def test_the_learner_downloads_her_credentials_and_anyone_checks_them(app: Flask, db: Database,
                                                                      frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    with db.transaction(write=False) as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
    learner = browser_for(app, Person(life.learner.user_id, life.learner.email, PASSWORD))
    certificate = learner.get(f"/documents/certificate/{learner_id}").get_data(as_text=True)
    assert f'href="/learners/{learner_id}/credentials.json"' in certificate
    assert 'href="/verify"' in certificate
    download = learner.get(f"/learners/{learner_id}/credentials.json")
    assert download.status_code == 200
    checked = browser_for(app).post("/verify", {"file": (io.BytesIO(download.data), "credentials.jsonld")})
    assert checked.get_data(as_text=True).count(f"Issued and signed by {CZECH_SCHOOL}.") == 2


def test_a_documents_hash_stays_authentic_after_the_retention_purge(app: Flask, db: Database,
                                                                    frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    digest = life.transcript_hash or ""
    anyone = browser_for(app)

    def check(text: str) -> str:
        page = anyone.post("/verify", {"credential": text})
        assert page.status_code == 200
        return page.get_data(as_text=True)

    assert 'data-hash="held"' in check(digest.upper())
    assert 'data-hash="unknown"' in check("ab" * 32)
    frozen.set(datetime(2032, 5, 1, 3, 0, tzinfo=UTC))  # 60 months after the mobility's end
    with db.transaction() as s:
        purge(s, dry_run=False)
    with db.transaction() as s:
        assert s.get(Mobility, life.mobility_id) is not None
    after = check(digest)
    assert 'data-hash="purged"' in after
    assert "signed on 2027-04-08" in after
    assert "purged on 2032-05-01" in after
