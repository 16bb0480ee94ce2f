"""What routes share: the database, the caller's identity, and one unit of work per request."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, request
from sqlalchemy.orm import Session

from engine import parties
from engine.config import Settings
from engine.db import Database
from engine.errors import Unauthorized
from engine.parties import Actor


def database() -> Database:
    return current_app.extensions["ecvet_db"]


def settings() -> Settings:
    return current_app.extensions["ecvet_settings"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def actor(session: Session) -> Actor:
    """The caller, from the Bearer token (API) or the signed session cookie (pages)."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("Sign in: send 'Authorization: Bearer <token>' (POST /api/tokens gives one)")
    return parties.actor_for_token(session, token)


@contextmanager
def unit_of_work(*, write: bool = True) -> Iterator[Session]:
    with database().transaction(write=write) as session:
        yield session


@contextmanager
def authenticated(*, write: bool = True) -> Iterator[tuple[Session, Actor]]:
    """Authenticate and act in the same transaction: one round trip less on every request."""
    with unit_of_work(write=write) as session:
        yield session, actor(session)
