"""engine/security.py: argon2 password hashes, and bearer tokens kept only as SHA-256 digests."""
from __future__ import annotations

import hashlib

from engine import config, security


def test_a_password_verifies_against_its_own_hash_only() -> None:
    digest = security.hash_password("correct horse battery")
    assert digest.startswith("$argon2")
    assert "correct horse" not in digest
    assert security.verify_password(digest, "correct horse battery")
    assert not security.verify_password(digest, "Correct horse battery")
    assert security.hash_password("correct horse battery") != digest  # a salt of its own each time


def test_an_unknown_user_or_a_broken_hash_never_verifies() -> None:
    assert not security.verify_password(None, "not-a-real-password")  # the dummy hash's own password
    assert not security.verify_password("not a hash", "anything")


def test_the_cost_follows_the_settings_and_old_hashes_still_verify() -> None:
    config.use(config.changed(argon2_fast=True))
    cheap = security.hash_password("pw")
    config.use(config.changed(argon2_fast=False))
    assert security.needs_rehash(cheap)  # made with other parameters than the current ones
    assert security.verify_password(cheap, "pw")


def test_tokens_are_random_and_stored_as_their_sha256() -> None:
    first, second = security.new_token(), security.new_token()
    assert first != second
    assert first.startswith(security.TOKEN_PREFIX)
    assert len(first) > 40
    assert security.token_digest(first) == hashlib.sha256(first.encode()).hexdigest()
