"""Credentials sealed by their issuer (ecvet/mobility/seal.py): a key pair per organisation made on first
use and kept encrypted, a proof that verifies offline, and any change to the credential or the key
detected."""
from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ecvet.mobility import seal
from ecvet.mobility.models import Mobility, OrganisationKey
from engine.clock import FrozenClock
from engine.db import Database
from engine.models import AuditEvent
from tests.support.ecvet_worlds import CZECH_SCHOOL, LifecycleWorld, make_lifecycle_world

T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
SECRET = "seal-tests-only-secret"


def _signed(db: Database, life: LifecycleWorld, secret: str = SECRET) -> list[dict[str, Any]]:
    with db.transaction() as s:
        learner_id = s.get_one(Mobility, life.mobility_id).learner_id
        return seal.for_learner(s, actor=life.learner, learner_id=learner_id, secret=secret)


def test_each_credential_is_signed_by_its_issuer_with_one_key(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    first, second = _signed(db, life)
    proof = first["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == seal.CRYPTOSUITE
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"]["controller"] == first["issuer"]["id"]
    assert proof["verificationMethod"]["publicKeyJwk"]["crv"] == "Ed25519"
    assert proof["jws"].count(".") == 2
    assert ".." in proof["jws"]
    assert proof["verificationMethod"] == second["proof"]["verificationMethod"]  # one key per organisation
    result = seal.verify(first)
    assert (result.valid, result.code, result.issuer_name) == (True, "valid", CZECH_SCHOOL)
    assert seal.verify(json.loads(json.dumps(first, indent=4))).valid  # layout and key order do not matter
    again = _signed(db, life)  # the same key signs the next download
    assert again[0]["proof"]["verificationMethod"] == proof["verificationMethod"]
    with db.transaction(write=False) as s:
        keys = list(s.scalars(select(OrganisationKey)))
        created = [e for e in s.scalars(select(AuditEvent)) if e.action == "credential_key_created"]
        published = seal.keys_of(s, keys[0].organisation_id)
        assert seal.published_by(s, first).valid
    assert len(keys) == 1
    assert len(created) == 1
    assert [k["x"] for k in published] == [keys[0].public_key]


def test_the_private_key_is_stored_encrypted(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    _signed(db, life)
    with db.transaction(write=False) as s:
        key = s.scalars(select(OrganisationKey)).one()
        _, private = seal.issuer_key(s, key.organisation_id, secret=SECRET)
    raw = private.private_bytes_raw()
    assert seal._b64(raw) not in key.private_key_encrypted
    assert raw.hex() not in key.private_key_encrypted
    # Another secret cannot open it: a new key signs from then on, the old one stays published.
    rotated = _signed(db, life, secret="another-secret")
    with db.transaction(write=False) as s:
        assert len(seal.keys_of(s, key.organisation_id)) == 2
        assert seal.published_by(s, rotated[0]).valid


def test_a_changed_field_is_detected(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    good = _signed(db, life)[0]
    tampered = copy.deepcopy(good)
    tampered["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"][0]["point"] = "30"
    assert (seal.verify(tampered).valid, seal.verify(tampered).code) == (False, "mismatch")
    dated = copy.deepcopy(good)
    dated["proof"]["created"] = "2030-01-01T00:00:00+00:00"  # the proof's options are signed too
    assert seal.verify(dated).code == "mismatch"
    assert seal.verify({k: v for k, v in good.items() if k != "proof"}).code == "no_proof"
    assert seal.verify([1, 2]).code == "no_proof"


def test_a_changed_key_is_detected(db: Database, frozen: FrozenClock) -> None:
    life = make_lifecycle_world(db, frozen, "implications")
    good = _signed(db, life)[0]
    other = Ed25519PrivateKey.generate()
    other_jwk = {"kty": "OKP", "crv": "Ed25519", "x": seal._b64(other.public_key().public_bytes_raw()), "kid": "x"}
    swapped = copy.deepcopy(good)
    swapped["proof"]["verificationMethod"]["publicKeyJwk"] = other_jwk
    assert seal.verify(swapped).code == "mismatch"
    assert seal.verify(good, key=other_jwk).code == "mismatch"  # given the issuer's (other) key
    broken = copy.deepcopy(good)
    broken["proof"]["verificationMethod"]["publicKeyJwk"]["x"] = "not-a-key"
    assert seal.verify(broken).code == "bad_key"
    # A forger re-signs a changed credential with a key of their own: the signature holds, the key is
    # not the issuer's published key.
    forged = copy.deepcopy(good)
    forged["credentialSubject"]["hasClaim"][0]["specifiedBy"]["creditPoint"][0]["point"] = "30"
    fake = OrganisationKey(key_id="f" * 32, public_key=other_jwk["x"], private_key_encrypted="")
    forged = seal.sign(forged, fake, other, created=T0)
    assert seal.verify(forged).valid
    with db.transaction(write=False) as s:
        result = seal.published_by(s, forged)
    assert (result.valid, result.code) == (False, "unpublished")
