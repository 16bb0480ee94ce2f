"""Secrets: argon2 password hashes and bearer tokens kept only as SHA-256 digests."""
from __future__ import annotations

import hashlib
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# Tests and local demos may lower the cost with ECVET_ARGON2_FAST=1; production keeps the library default.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    if os.environ.get("ECVET_ARGON2_FAST") == "1"
    else PasswordHasher()
)
# Verifying against this keeps the timing of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")

TOKEN_PREFIX = "ecv_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends the same work, even for unknown users."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """A 256-bit random bearer token; shown once to its owner, never stored in clear."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 suffices for high-entropy random tokens and keeps every request's lookup cheap."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
