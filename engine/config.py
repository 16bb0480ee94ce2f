"""One settings object: every variable the product reads from the environment, typed, read once.

Each field names its environment variable and says what it means; README's "Settings" table lists
the same (a test compares them). :func:`settings` is the current object, read from the environment on
first use and cached; the app factory, the CLI and tests install their own with :func:`use`. Nothing
else in the product reads ``ECVET_*`` variables (a test fails when something does).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def setting(env: str | None, default: Any, doc: str) -> Any:
    """A settings field read from ``env`` (None: not configurable from the environment)."""
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults a development machine runs with."""

    # -- storage and files
    database_url: str = setting("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'ecvet.sqlite3'}",
                                "SQLAlchemy URL of the database (`postgresql://...` uses psycopg 3)")
    forms_dir: Path = setting("ECVET_FORMS_DIR", ROOT / "forms",
                              "where forms named by deployed processes are looked up")
    processes_dir: Path = setting("ECVET_PROCESSES_DIR", ROOT / "processes",
                                  "the BPMN and DMN files the process owners edit")
    max_bundle_bytes: int = setting(None, 20_000_000, "largest deployment bundle accepted")
    # -- scripts (engine/sandbox)
    script_time_limit: float = setting("ECVET_SCRIPT_TIME_LIMIT", 1.0,
                                       "seconds a script or expression may run (+1 s before it is killed)")
    script_evaluators: int = setting("ECVET_SCRIPT_EVALUATORS", 2,
                                     "evaluator processes per server or worker process")
    script_memory_mb: int = setting("ECVET_SCRIPT_MEMORY_MB", 512, "address-space limit of each evaluator, MiB")
    script_max_data_bytes: int = setting("ECVET_SCRIPT_MAX_DATA_BYTES", 1024 * 1024,
                                         "largest task data a script may leave, in characters of JSON")
    environment: str = setting("ECVET_ENVIRONMENT", "development",
                               "the name scripts read with get_env() (e.g. `production`, `staging`)")
    connectors: tuple[str, ...] = setting("ECVET_CONNECTORS", (),
                                          "modules to import so they register connectors (comma-separated)")
    http_allowed_hosts: tuple[str, ...] = setting("ECVET_HTTP_ALLOWED_HOSTS", (),
                                                  "hosts the built-in `http` connector may call (comma-separated; "
                                                  "`*.example.org` for subdomains); none: it calls nothing")
    http_timeout: float = setting("ECVET_HTTP_TIMEOUT", 10.0,
                                  "seconds the `http` connector and the connector proxy wait for an answer")
    connector_secrets: str = setting("ECVET_CONNECTOR_SECRETS", "",
                                     "JSON object of secrets connector parameters name as `secret:NAME`")
    connector_proxy_url: str = setting("ECVET_CONNECTOR_PROXY_URL", "",
                                       "spiff-arena connector proxy serving operators no connector here has")
    # -- background work
    job_lease_seconds: float = setting("ECVET_JOB_LEASE_SECONDS", 60.0,
                                       "how long a worker holds a claimed job before another may take it")
    message_ttl_seconds: int = setting("ECVET_MESSAGE_TTL_SECONDS", 7 * 24 * 3600,
                                       "how long a message nobody waits for is kept (0 or less: the default)")
    # -- notifications and mail
    base_url: str = setting("ECVET_BASE_URL", "",
                            "public address of the server, prefixed to links in e-mails and printed by the CLI")
    reminder_lead_hours: float = setting("ECVET_REMINDER_LEAD_HOURS", 24.0,
                                         "how long before a task's due date the 'due soon' reminder goes")
    mail_max_attempts: int = setting("ECVET_MAIL_MAX_ATTEMPTS", 5, "delivery attempts of one e-mail")
    smtp_host: str | None = setting("ECVET_SMTP_HOST", None,
                                    "SMTP server; unset, e-mails are only recorded in the outbox table")
    smtp_port: int = setting("ECVET_SMTP_PORT", 25, "SMTP port")
    smtp_user: str | None = setting("ECVET_SMTP_USER", None, "SMTP user name")
    smtp_password: str | None = setting("ECVET_SMTP_PASSWORD", None, "SMTP password")
    smtp_from: str = setting("ECVET_SMTP_FROM", "ECVET Flow <ecvet-flow@localhost>", "sender of e-mails")
    smtp_starttls: bool = setting("ECVET_SMTP_STARTTLS", False, "upgrade the SMTP connection with STARTTLS")
    smtp_timeout: float = setting("ECVET_SMTP_TIMEOUT", 10.0, "seconds to wait for the SMTP server")
    # -- sign-in and API
    token_ttl_days: int = setting("ECVET_TOKEN_TTL_DAYS", 30, "lifetime of an API token")
    signin_max_failures: int = setting("ECVET_SIGNIN_MAX_FAILURES", 5,
                                       "failed sign-ins within 15 minutes that lock an address")
    signin_lock_minutes: int = setting("ECVET_SIGNIN_LOCK_MINUTES", 15, "how long a locked address stays locked")
    argon2_fast: bool = setting("ECVET_ARGON2_FAST", False,
                                "cheap password hashes, for tests and demos only")
    json_max_bytes: int = setting("ECVET_JSON_MAX_BYTES", 1_048_576, "largest JSON request body (413 past it)")
    attachment_max_bytes: int = setting("ECVET_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024,
                                        "largest attachment upload (413 past it)")
    metrics_token: str | None = setting("ECVET_METRICS_TOKEN", None,
                                        "bearer token `/metrics` requires; unset, it is open")
    # -- pages
    secret_key: str | None = setting("ECVET_SECRET_KEY", None,
                                     "signs session cookies and encrypts the organisations' credential signing "
                                     "keys; unset, development keeps a random one in var/ (a new secret cannot "
                                     "open the old keys: new keys are made, the old stay published)")
    secure_cookies: bool = setting("ECVET_SECURE_COOKIES", False, "mark the session cookie Secure over HTTP too")
    session_hours: int = setting("ECVET_SESSION_HOURS", 12, "lifetime of a page session")
    server_threads: int = setting("ECVET_SERVER_THREADS", 8, "request threads of each `ecvet serve` process")
    server_processes: int = setting("ECVET_SERVER_PROCESSES", 0,
                                    "`ecvet serve` processes on PostgreSQL (0: one per CPU core); SQLite: always 1")
    db_pool_size: int = setting("ECVET_DB_POOL_SIZE", 0,
                                "PostgreSQL connections each process keeps (0: its request threads + 2)")
    # -- documents
    font_dir: Path = setting("ECVET_FONT_DIR", Path("/usr/share/fonts/truetype/dejavu"),
                             "where the DejaVu fonts the PDFs embed are installed")
    # -- logs
    log_level: str = setting("ECVET_LOG_LEVEL", "INFO", "level of the server's and worker's log")
    log_format: str = setting("ECVET_LOG_FORMAT", "json", "`json` lines, or `text` for a terminal")


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot take."""


def _as_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected one of {', '.join(sorted(_TRUE | _FALSE))}")


def _as_names(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


_PARSERS: dict[str, Callable[[str], Any]] = {
    "str": str, "str | None": str, "int": int, "float": float, "bool": _as_bool, "Path": Path,
    "tuple[str, ...]": _as_names,
}


def _parse(name: str, type_name: str, raw: str) -> Any:
    try:
        return _PARSERS[type_name](raw.strip())
    except ValueError as exc:
        raise SettingError(f"{name}={raw!r} is not a valid {type_name}: {exc}") from exc


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The values ``environ`` sets (unset or empty variables keep their defaults)."""
    values: dict[str, Any] = {}
    for item in fields(Settings):
        env = item.metadata["env"]
        raw = environ.get(env, "") if env else ""
        if raw.strip():
            # Annotations are strings here (postponed evaluation): exactly the keys of _PARSERS.
            values[item.name] = _parse(env, str(item.type), raw)
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from the process environment now, with explicit overrides (tests, CLI flags)."""
    return Settings(**{**from_environment(os.environ), **overrides})


def variables() -> Iterator[tuple[str, Any, str]]:
    """(environment variable, default, meaning) of every setting read from the environment."""
    for item in fields(Settings):
        if item.metadata["env"]:
            yield item.metadata["env"], item.default, item.metadata["doc"]


class _Current:
    """The settings in use: one per process, replaced only by :func:`use`."""

    def __init__(self) -> None:
        self.value: Settings | None = None
        self.lock = threading.Lock()


_CURRENT = _Current()


def settings() -> Settings:
    """The settings in use: those installed with :func:`use`, else the environment's, read once."""
    current = _CURRENT.value
    if current is None:
        with _CURRENT.lock:
            if _CURRENT.value is None:
                _CURRENT.value = load_settings()
            current = _CURRENT.value
    return current


def use(new: Settings | None) -> Settings | None:
    """Install ``new`` as the settings in use (None: read the environment again on next use).

    Returns the previous ones, so a caller (a test) can put them back.
    """
    with _CURRENT.lock:
        previous, _CURRENT.value = _CURRENT.value, new
    return previous


def changed(**values: Any) -> Settings:
    """The settings in use with some values replaced (not installed: pass the result to :func:`use`)."""
    return replace(settings(), **values)
