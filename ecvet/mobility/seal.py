"""Credentials sealed by their issuer: one Ed25519 key pair per organisation, a Verifiable Credential proof.

Each organisation that recognises units gets a key pair the first time it issues a credential. The
private key is kept in ``organisation_keys`` encrypted (Fernet, AES-128-CBC + HMAC-SHA256) with a key
derived by HKDF-SHA256 from the platform's secret (setting ``ECVET_SECRET_KEY``); the public key is
published (``GET /api/organisations/{id}/keys``) and carried in every proof as a JWK.

The proof is a W3C Data Integrity proof (``DataIntegrityProof``) whose value is a detached JWS (RFC 7515
with RFC 7797 ``b64: false``, ``alg: EdDSA``) over the credential's canonical JSON
(:func:`ecvet.evidence.canonical_json`: sorted keys, no whitespace, UTF-8) with the proof's own options
(without ``jws``) in place of ``proof``. That canonical form is deterministic JSON, **not** RDF Dataset
Canonicalisation (URDNA2015) and not exactly RFC 8785 JCS, so the cryptosuite is named
``ecvet-flow-eddsa-json-2026``: :func:`verify` (and ``ecvet credential verify``) checks it, generic
JSON-LD verifiers do not.

A key found in a file proves only that the file is unchanged since that key signed it: who issued it
is proven by comparing the key with the issuer's published keys (:func:`published_by`).
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecvet.evidence import canonical_json
from ecvet.mobility import credentials
from ecvet.mobility.models import OrganisationKey
from engine import audit
from engine.errors import NotFound
from engine.models import Organisation, utcnow
from engine.parties import Actor

CRYPTOSUITE = "ecvet-flow-eddsa-json-2026"
HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
_ORGANISATION_URN = f"{credentials.URN}organisation:"


@dataclass(frozen=True)
class Verification:
    """What a check of a credential found: valid or not, why, and the issuer and key it names."""

    valid: bool
    code: str  # what was found, as a key: the page's message catalogue has a sentence for each
    reason: str
    issuer_id: str | None = None
    issuer_name: str | None = None
    key_id: str | None = None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ecvet-flow organisation keys",
                   info=b"credential signing keys").derive(secret.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def public_jwk(key: OrganisationKey) -> dict[str, str]:
    """The public key as a JSON Web Key (RFC 8037 OKP / Ed25519)."""
    return {"kty": "OKP", "crv": "Ed25519", "x": key.public_key, "kid": key.key_id}


def _create_key(session: Session, organisation_id: int, secret: str, actor_id: int | None) -> tuple[
        OrganisationKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    key = OrganisationKey(organisation_id=organisation_id, key_id=hashlib.sha256(public).hexdigest()[:32],
                          public_key=_b64(public), private_key_encrypted=_fernet(secret).encrypt(seed).decode("ascii"))
    session.add(key)
    session.flush()
    audit.record(session, actor_id=actor_id, action="credential_key_created", organisation_id=organisation_id,
                 key_id=key.key_id)
    return key, private


def _open_key(session: Session, organisation_id: int, fernet: Fernet) -> tuple[
        OrganisationKey, Ed25519PrivateKey] | None:
    keys = session.scalars(select(OrganisationKey).where(OrganisationKey.organisation_id == organisation_id)
                           .order_by(OrganisationKey.id.desc()))
    for key in keys:
        try:
            seed = fernet.decrypt(key.private_key_encrypted.encode("ascii"))
        except InvalidToken:
            continue
        return key, Ed25519PrivateKey.from_private_bytes(seed)
    return None


def issuer_key(session: Session, organisation_id: int, *, secret: str, actor_id: int | None = None) -> tuple[
        OrganisationKey, Ed25519PrivateKey]:
    """The organisation's newest key the secret opens, made (and audited) on first use. A key the secret no
    longer opens (the secret changed) stays published, so what it signed still verifies, and a new key
    signs from now on."""
    fernet = _fernet(secret)
    found = _open_key(session, organisation_id, fernet)
    if found is not None:
        return found
    # Two first downloads at once: the organisation's row lock makes the second one use the first's key.
    session.execute(select(Organisation.id).where(Organisation.id == organisation_id).with_for_update())
    return _open_key(session, organisation_id, fernet) or _create_key(session, organisation_id, secret, actor_id)


def _signing_input(credential: dict[str, Any], proof: dict[str, Any]) -> bytes:
    options = {k: v for k, v in proof.items() if k != "jws"}
    unsigned = {**{k: v for k, v in credential.items() if k != "proof"}, "proof": options}
    header = _b64(canonical_json(HEADER).encode("utf-8"))
    return header.encode("ascii") + b"." + canonical_json(unsigned).encode("utf-8")


def sign(credential: dict[str, Any], key: OrganisationKey, private: Ed25519PrivateKey, *,
         created: datetime) -> dict[str, Any]:
    """A copy of the credential with the issuer's proof (any earlier proof replaced)."""
    issuer = credential["issuer"]["id"]
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE, "created": created.isoformat(),
        "proofPurpose": "assertionMethod",
        "verificationMethod": {"id": f"{issuer}#{key.key_id}", "type": "JsonWebKey", "controller": issuer,
                               "publicKeyJwk": public_jwk(key)},
    }
    signature = private.sign(_signing_input(credential, proof))
    header = _b64(canonical_json(HEADER).encode("utf-8"))
    signed = {k: v for k, v in copy.deepcopy(credential).items() if k != "proof"}
    signed["proof"] = {**proof, "jws": f"{header}..{_b64(signature)}"}
    return signed


def _public_key(jwk: Any) -> Ed25519PublicKey | None:
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64(str(jwk.get("x", ""))))
    except ValueError:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def verify(credential: Any, *, key: dict[str, Any] | None = None) -> Verification:
    """Whether the credential is unchanged since its proof was made, with ``key`` (a JWK) if given, else
    with the key the proof carries. Offline: no database, no network."""
    if not isinstance(credential, dict) or not isinstance(credential.get("proof"), dict):
        return Verification(False, "no_proof", "The file is not a signed credential: it has no proof.")
    proof = credential["proof"]
    issuer = _mapping(credential.get("issuer"))
    issuer_id = issuer.get("id") if isinstance(issuer.get("id"), str) else None
    names = _mapping(issuer.get("legalName"))
    issuer_name = str(names.get("en") or next(iter(names.values()), "")) or None
    method = _mapping(proof.get("verificationMethod"))
    jwk = key if key is not None else method.get("publicKeyJwk")
    key_id = jwk.get("kid") if isinstance(jwk, dict) else None
    found = dict(issuer_id=issuer_id, issuer_name=issuer_name, key_id=key_id)
    code, reason = _check(credential, proof, method, jwk, issuer_id)
    return Verification(code == "valid", code, reason, **found)


def _check(credential: dict[str, Any], proof: dict[str, Any], method: dict[str, Any], jwk: Any,
           issuer_id: str | None) -> tuple[str, str]:
    if proof.get("cryptosuite") != CRYPTOSUITE or not isinstance(proof.get("jws"), str):
        return "unknown_suite", f"The proof is not of the kind this platform makes ({CRYPTOSUITE})."
    if method.get("controller") != issuer_id:
        return "not_issuers_key", "The proof's key is not the issuer's."
    public = _public_key(jwk)
    if public is None:
        return "bad_key", "The key is not an Ed25519 public key."
    header, _, signature = proof["jws"].partition("..")
    try:
        if json.loads(_unb64(header)) != HEADER:
            return "bad_header", "The proof's signature header is not EdDSA over unencoded content."
        public.verify(_unb64(signature), _signing_input(credential, proof))
    except (ValueError, InvalidSignature):
        return "mismatch", ("The signature does not match: the credential was changed after it was signed, or "
                            "another key signed it.")
    return "valid", "The signature is valid: the credential is unchanged since it was signed."


def credentials_in(data: Any) -> Any:
    """The credentials of a file: a download (``{"credentials": [...]}``), a list, or one credential."""
    if isinstance(data, dict) and "credentials" in data:
        return data["credentials"]
    return data if isinstance(data, list) else [data]


def published_by(session: Session, credential: Any) -> Verification:
    """:func:`verify`, and the key must be one this platform published for the issuer: the result names
    the issuing organisation as registered here."""
    result = verify(credential)
    if not result.valid:
        return result
    jwk = credential["proof"]["verificationMethod"]["publicKeyJwk"]
    key = session.scalar(select(OrganisationKey).where(OrganisationKey.public_key == str(jwk.get("x"))))
    issuer_id = result.issuer_id or ""
    if key is None or f"{_ORGANISATION_URN}{key.organisation_id}" != issuer_id:
        return Verification(False, "unpublished", "The signature is intact, but its key is not one this platform "
                                                  "published for the issuer.", issuer_id=result.issuer_id,
                            issuer_name=result.issuer_name, key_id=result.key_id)
    organisation = session.get(Organisation, key.organisation_id)
    assert organisation is not None
    return Verification(True, "valid", result.reason, issuer_id=issuer_id, issuer_name=organisation.name,
                        key_id=key.key_id)


def keys_of(session: Session, organisation_id: int) -> list[dict[str, str]]:
    """Every public key the organisation signed credentials with, oldest first (404 for no organisation)."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"No organisation {organisation_id}")
    keys = session.scalars(select(OrganisationKey).where(OrganisationKey.organisation_id == organisation_id)
                           .order_by(OrganisationKey.id))
    return [{**public_jwk(k), "created": k.created_at.isoformat()} for k in keys]


def for_learner(session: Session, *, actor: Actor, learner_id: int, secret: str) -> list[dict[str, Any]]:
    """The learner's credentials (:func:`ecvet.mobility.credentials.for_learner`), each signed by its
    issuing organisation."""
    signed = []
    now = utcnow()
    for credential in credentials.for_learner(session, actor=actor, learner_id=learner_id):
        organisation_id = int(credential["issuer"]["id"].removeprefix(_ORGANISATION_URN))
        key, private = issuer_key(session, organisation_id, secret=secret, actor_id=actor.user_id)
        signed.append(sign(credential, key, private, created=now))
    return signed
