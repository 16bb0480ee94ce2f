"""What keeps the pages safe: the session secret and cookie, CSRF on every form, security headers."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from engine.config import ROOT, Settings

csrf = CSRFProtect()

#: Paths that belong to the JSON API and machine endpoints: bearer tokens, no cookies, no CSRF, no HTML.
API_PREFIXES = ("/api/", "/metrics", "/healthz")

#: Content-Security-Policy of every page: no inline script anywhere, nothing from another origin.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def is_api_request() -> bool:
    """True for the JSON API (problem+json errors, bearer tokens); every other path is a page."""
    path = request.path
    return path.startswith(API_PREFIXES) or path in ("/api", "/metrics", "/healthz")


def secret_key(var_dir: Path | None = None, *, configured: str | None = None) -> str:
    """The configured key (setting ``secret_key``), or for development a random key made once and kept
    in var/ (never committed)."""
    if configured:
        return configured
    path = (var_dir or ROOT / "var") / "secret_key"
    try:
        return path.read_text().strip() or _new_key(path)
    except FileNotFoundError:
        return _new_key(path)


def _new_key(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        # O_EXCL: when two processes start at once, the first key written wins and both use it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def should_set_cookie(self, app: Flask, session: object) -> bool:
        # The API never uses the session: no cookie on its responses.
        return not is_api_request() and super().should_set_cookie(app, session)  # type: ignore[arg-type]


def allow_inline_styles() -> None:
    """For a page embedding a library that writes style attributes (bpmn-js, dmn-js): this response only."""
    g.csp_inline_styles = True


def allow_inline_script(text: str) -> None:
    """Allow this one inline script (an import map, which browsers take inline only) by its hash."""
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    g.csp_script_hashes = [*g.get("csp_script_hashes", []), f"'sha256-{digest}'"]


def configure(app: Flask) -> None:
    """Session cookie, CSRF protection of page forms, and security headers on every page response."""
    current: Settings = app.extensions["ecvet_settings"]
    app.secret_key = app.config.get("SECRET_KEY") or secret_key(configured=current.secret_key)
    app.config.update(
        SESSION_COOKIE_NAME="ecvet_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=current.secure_cookies,
        PERMANENT_SESSION_LIFETIME=current.session_hours * 3600,
        # Checked by hand below for pages only: the JSON API authenticates with bearer tokens, which a
        # cross-site form cannot send, so it needs no token and must keep working unchanged.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session that holds it
        WTF_CSRF_SSL_STRICT=True,
    )
    app.session_interface = SessionInterface()
    csrf.init_app(app)

    @app.before_request
    def _csrf_on_pages() -> None:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not is_api_request():
            csrf.protect()

    @app.after_request
    def _page_headers(response: Response) -> Response:
        if is_api_request():
            return response
        policy = dict(CSP)
        if g.get("csp_inline_styles"):
            policy["style-src"] = "'self' 'unsafe-inline'"
        if g.get("csp_script_hashes"):
            policy["script-src"] = " ".join(["'self'", *g.csp_script_hashes])
        response.headers.setdefault("Content-Security-Policy", "; ".join(f"{k} {v}" for k, v in policy.items()))
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if g.get("viewer_loaded") and g.get("viewer") is not None:
            # A signed-in page must not come back from the browser cache after signing out.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
