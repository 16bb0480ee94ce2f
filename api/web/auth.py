"""Signing in and out of the pages, and who the signed-in person is (the `Viewer`) for every page."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session

from ecvet.mobility import service as mobilities
from engine import parties
from engine.errors import TooManyRequests, Unauthorized
from engine.parties import Actor, SignedIn

from ..deps import unit_of_work
from .messages import t

bp = Blueprint("web_auth", __name__)


@dataclass(frozen=True)
class Viewer:
    """The signed-in person as pages see them: their engine `Actor` and what the navigation needs."""

    actor: Actor
    name: str
    email: str
    organisations: tuple[tuple[int, str], ...]
    #: The learners this person signs for (as the learner, or as parent or guardian): their achievements.
    learner_ids: tuple[int, ...] = ()
    #: The language chosen on the profile (None: the browser's Accept-Language decides).
    language: str | None = None

    @property
    def user_id(self) -> int:
        return self.actor.user_id

    @property
    def is_admin(self) -> bool:
        return self.actor.is_admin

    @property
    def may_edit_processes(self) -> bool:
        """Process definitions, the modeler and the decision tables: administrators (the process owners)."""
        return self.actor.is_admin

    @property
    def may_monitor(self) -> bool:
        """The dashboard, instance pages and heatmaps: everyone signed in; the engine scopes the figures to
        the instances the viewer's organisation is a party of (administrators see all)."""
        return True

    @property
    def organisation_names(self) -> str:
        return ", ".join(name for _, name in self.organisations)

    @classmethod
    def of(cls, signed: SignedIn, learner_ids: tuple[int, ...] = ()) -> Viewer:
        return cls(signed.actor, signed.name, signed.actor.email, signed.organisations, learner_ids, signed.language)


def _remember(signed: SignedIn) -> None:
    session.clear()  # nothing from before the sign-in survives it (no fixation of a CSRF token)
    session.permanent = True
    session["uid"] = signed.actor.user_id
    session["fp"] = signed.fingerprint


def _load(db_session: Session) -> Viewer | None:
    uid, fingerprint = session.get("uid"), session.get("fp")
    if not isinstance(uid, int) or not isinstance(fingerprint, str):
        return None
    try:
        signed = parties.signed_in_user(db_session, user_id=uid, fingerprint=fingerprint)
    except Unauthorized:
        session.clear()
        return None
    return Viewer.of(signed, tuple(mobilities.learner_ids_of(db_session, signed.actor)))


def current_viewer() -> Viewer | None:
    """The signed-in person, or None; resolved once per request (templates call it for the nav bar)."""
    if not g.get("viewer_loaded"):
        viewer = None
        if "uid" in session:
            with unit_of_work(write=False) as db_session:
                viewer = _load(db_session)
        g.viewer, g.viewer_loaded = viewer, True
    return g.viewer


def require_viewer() -> Viewer:
    """The signed-in person; Unauthorized (the page handler redirects to the sign-in page) otherwise."""
    viewer = current_viewer()
    if viewer is None:
        raise Unauthorized("Sign in to see this page")
    return viewer


@contextmanager
def page_session(*, write: bool = True) -> Iterator[tuple[Session, Actor]]:
    """One unit of work for a page, as `api.deps.authenticated` is for the API, but from the session cookie."""
    with unit_of_work(write=write) as db_session:
        if not g.get("viewer_loaded"):
            g.viewer, g.viewer_loaded = _load(db_session), True
        if g.viewer is None:
            raise Unauthorized("Sign in to see this page")
        yield db_session, g.viewer.actor


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def home_url() -> str:
    return url_for("web_inbox.inbox")


@bp.route("/")
def index() -> Any:
    return redirect(home_url() if current_viewer() else url_for("web_auth.sign_in"))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    next_url = safe_next(request.values.get("next"), home_url())
    if request.method == "GET":
        if current_viewer() is not None:
            return redirect(next_url)
        return render_template("auth/sign_in.html", next_url=next_url, email="", error=None)
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    if not email or not password:
        return render_template("auth/sign_in.html", next_url=next_url, email=email,
                               error=t("auth.enter_both")), 422
    try:
        with unit_of_work() as db_session:
            signed = parties.sign_in(db_session, email=email, password=password)
    except TooManyRequests as exc:
        response = render_template("auth/sign_in.html", next_url=next_url, email=email, error=exc.message,
                                   locked=True)
        return response, 429, {"Retry-After": str(exc.retry_after)}
    except Unauthorized:
        return render_template("auth/sign_in.html", next_url=next_url, email=email,
                               error=t("auth.wrong")), 401
    _remember(signed)
    flash(t("auth.signed_in", name=signed.name), "success")
    return redirect(next_url)


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> Any:
    viewer = current_viewer()
    if viewer is not None:
        with unit_of_work() as db_session:
            parties.sign_out(db_session, actor=viewer.actor)
    session.clear()
    g.viewer = None
    flash(t("auth.signed_out"), "info")
    return redirect(url_for("web_auth.sign_in"))
