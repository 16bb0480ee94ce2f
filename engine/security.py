"""Secrets: argon2 password hashes and bearer tokens kept only as SHA-256 digests."""
from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import settings

TOKEN_PREFIX = "ecv_"


@functools.cache
def _hasher(fast: bool) -> tuple[PasswordHasher, str]:
    """The hasher and a hash of nothing, per cost: tests and demos may lower it (setting ``argon2_fast``).

    Verifying against the dummy hash keeps the timing of "no such user" equal to "wrong password".
    """
    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1) if fast else PasswordHasher()
    return hasher, hasher.hash("not-a-real-password")


def _current() -> tuple[PasswordHasher, str]:
    return _hasher(settings().argon2_fast)


def hash_password(password: str) -> str:
    """An argon2 hash of ``password`` (with its own salt and parameters, so verifiable at any cost)."""
    return _current()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends the same work, even for unknown users."""
    hasher, dummy = _current()
    try:
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current ones."""
    return _current()[0].check_needs_rehash(password_hash)


def new_token() -> str:
    """A 256-bit random bearer token; shown once to its owner, never stored in clear."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 suffices for high-entropy random tokens and keeps every request's lookup cheap."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
