"""What routes share: the database, the caller's identity, and one unit of work per request."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g, request
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


SIGN_IN = "Sign in: send 'Authorization: Bearer <token>' (POST /api/tokens gives one)"


def authenticate_before_input(*, read_body: bool) -> None:
    """401 before any input of a protected operation is read (api.parsing calls this first).

    No token at all is refused without a database round trip. A request with a body has its token
    checked now, in a short read, so a stranger's body is never parsed; the actor is kept for the
    request. Without a body the check happens inside the operation's own unit of work, one round
    trip less on every read."""
    token = bearer_token()
    if token is None:
        raise Unauthorized(SIGN_IN)
    if read_body:
        with unit_of_work(write=False) as session:
            g.ecvet_actor = parties.actor_for_token(session, token)


def actor(session: Session) -> Actor:
    """The caller, from the Bearer token: checked before the body was read, or now in `session`."""
    checked = g.get("ecvet_actor")
    if checked is not None:
        return checked
    token = bearer_token()
    if token is None:
        raise Unauthorized(SIGN_IN)
    return parties.actor_for_token(session, token)


@contextmanager
def unit_of_work(*, write: bool = True) -> Iterator[Session]:
    with database().transaction(write=write) as session:
        yield session


@contextmanager
def authenticated(*, write: bool = True) -> Iterator[tuple[Session, Actor]]:
    """Authenticate (unless done before the body was read) and act in one unit of work."""
    with unit_of_work(write=write) as session:
        yield session, actor(session)
