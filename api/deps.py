"""What routes share: the database, the caller's identity, and one unit of work per request."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

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
    checked now, before the body is parsed, so a stranger's body is never read; the actor is kept for
    the request. On PostgreSQL that check opens the request's own unit of work, which the operation
    then continues (one connection, one commit per request); on SQLite, where a write transaction
    locks the database from its first statement, the check is a short read of its own. Without a body
    the check happens inside the operation's own unit of work."""
    token = bearer_token()
    if token is None:
        raise Unauthorized(SIGN_IN)
    if not read_body:
        return
    if database().is_sqlite:
        with unit_of_work(write=False) as session:
            g.ecvet_actor = parties.actor_for_token(session, token)
        return
    stack = ExitStack()
    session = stack.enter_context(unit_of_work())
    g.ecvet_pending = (stack, session)
    try:
        g.ecvet_actor = parties.actor_for_token(session, token)
    except BaseException:
        discard_pending(None)
        raise


class _UnusedError(Exception):
    """Thrown into a pending unit of work nobody continued, so it rolls back."""


def discard_pending(_error: BaseException | None) -> None:
    """Roll back a unit of work opened before the input was read that the operation never took over
    (refused input, an operation without a database): registered as a teardown by api.parsing."""
    pending = g.pop("ecvet_pending", None)
    if pending is None:
        return
    stack, _session = pending
    try:
        stack.__exit__(_UnusedError, _UnusedError(), None)
    except _UnusedError:
        pass


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
    """Authenticate (unless done before the body was read) and act in one unit of work: the one the
    check before the body opened, if it did."""
    pending = g.pop("ecvet_pending", None)
    if pending is not None:
        stack, session = pending
        with stack:
            yield session, actor(session)
        return
    with unit_of_work(write=write) as session:
        yield session, actor(session)
