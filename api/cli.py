"""The `ecvet` command: serve, deploy, migrate, bootstrap an administrator, verify credentials, update catalogues."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from demo import seed
from ecvet import wiring
from ecvet.mobility import seal
from ecvet.retention import purge
from engine import deployments, migrate, parties
from engine.config import load_settings, settings
from engine.db import Database
from engine.errors import EngineError
from engine.worker import serve as serve_worker

from . import serving
from .app import create_app
from .logging import configure as configure_logging
from .web import messages

BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json")


@click.group()
def main() -> None:
    """ECVET mobility workflow platform."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations to DATABASE_URL (default: embedded SQLite in var/)."""
    url = load_settings().database_url
    migrate.upgrade(url, revision)
    click.echo(f"database at revision {migrate.current(url)}")


def _collect(paths: tuple[str, ...]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for p in candidates:
            if p.suffix in BUNDLE_SUFFIXES and not p.name.startswith("."):
                if p.name in files:
                    raise click.ClickException(f"two files named {p.name}")
                files[p.name] = p.read_bytes()
    return files


@main.command()
@click.argument("paths", nargs=-1, required=True)
def deploy(paths: tuple[str, ...]) -> None:
    """Deploy BPMN/DMN/form files (or folders) as one bundle; unchanged processes keep their version."""
    settings = load_settings()
    files = _collect(paths)
    if not files:
        raise click.ClickException("no .bpmn, .dmn or .json files found")

    wiring.load()  # the domain's checks of deployed files (e.g. national_models.dmn)
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            results = deployments.deploy(session, actor=None, files=files, forms_dir=settings.forms_dir,
                                         source="cli", max_bundle_bytes=settings.max_bundle_bytes)
            for r in results:
                state = "deployed" if r.created else "unchanged"
                click.echo(f"{r.definition.key} v{r.definition.version} {state}")
    except EngineError as exc:
        click.echo(f"refused: {exc.message}", err=True)
        for err in exc.errors or []:
            click.echo(f"  {err.get('file')}: {err.get('element_id') or '-'}: {err.get('message')}", err=True)
        sys.exit(1)
    finally:
        database.dispose()


@main.command("create-admin")
@click.argument("email")
@click.option("--password", required=True, help="at least 10 characters")
@click.option("--name", default="Administrator")
def create_admin(email: str, password: str, name: str) -> None:
    """Create the first administrator (or report that the e-mail exists)."""
    database = Database(load_settings().database_url)
    try:
        with database.transaction() as session:
            user = parties.create_user(session, actor=None, email=email, name=name, password=password,
                                       is_admin=True)
            click.echo(f"admin {user.email} created (id {user.id})")
    except EngineError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        database.dispose()


@main.command()
@click.option("--poll", default=1.0, type=float, help="seconds between polls when idle")
def worker(poll: float) -> None:
    """Run due jobs (timers, service tasks, messages, notifications) until SIGTERM."""

    wiring.load()
    configure_logging()
    settings = load_settings()
    database = Database(settings.database_url)
    try:
        serve_worker(database, poll_seconds=poll, time_limit=settings.script_time_limit)
    finally:
        database.dispose()


@main.command("bootstrap-demo")
@click.option("--url", default=lambda: settings().base_url or "http://127.0.0.1:5000",
              show_default="ECVET_BASE_URL or http://127.0.0.1:5000", help="where the printed sign-in link points")
def bootstrap_demo(url: str) -> None:
    """Seed the demo (idempotent: safe on every start) and print who can sign in and do what first."""

    database = Database(load_settings().database_url)
    try:
        result = seed.seed(database)
    except EngineError as exc:
        raise click.ClickException(f"the demo could not be seeded: {exc.message} {exc.errors or ''}") from exc
    finally:
        database.dispose()
    click.echo(demo_table(result))
    click.echo(f"Sign in at {url.rstrip('/')}/sign-in (API: {url.rstrip('/')}/api/docs)")


def demo_table(result: Any) -> str:
    """The credentials table: per person, who they are and what waits for them now (or what to look at)."""
    lines = [f"Demo users (development only). Every password: {result.logins[0].password}", ""]
    for login in result.logins:
        who = f"{login.name}, {login.what}" + (f", {login.organisation}" if login.organisation else "")
        lines.append(f"  {login.email:<35} {who}")
        if login.tasks:
            lines.append(f"  {'':<35} {'task' if len(login.tasks) == 1 else 'tasks'}: {'; '.join(login.tasks)}")
        else:
            lines.append(f"  {'':<35} no task now; {login.otherwise}")
    lines.extend(f"  note: {note}" for note in result.notes)
    return "\n".join(lines) + "\n"


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--debug/--no-debug", default=False)
def serve(host: str, port: int, debug: bool) -> None:
    """Serve the API and pages: waitress in one process on SQLite, gunicorn's threaded workers (one
    process per core, ECVET_SERVER_PROCESSES) on PostgreSQL (``--debug``: Flask's own server)."""
    if debug:
        create_app().run(host=host, port=port, debug=True, threaded=True, use_reloader=False)
        return
    current = load_settings()
    click.echo(f"serving on http://{host}:{port} ({serving.processes(current)} process(es), "
               f"{current.server_threads} threads each)")
    serving.serve(create_app, current, host=host, port=port)


if __name__ == "__main__":
    main()


@main.group()
def credential() -> None:
    """European Learning Model credentials."""


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        click.echo(f"{path} is not a readable JSON file: {exc}", err=True)
        sys.exit(1)


@credential.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--key", "key_file", type=click.Path(dir_okay=False),
              help="the issuer's public key as a JWK file (from /api/organisations/{id}/keys); "
                   "default: the key in the credential's proof")
def credential_verify(file: str, key_file: str | None) -> None:
    """Check a signed credential (or a download of several) offline: exit 0 when every signature is valid."""
    data = _read_json(file)
    key = _read_json(key_file) if key_file else None
    found = seal.credentials_in(data)
    if not isinstance(found, list) or not found or (key is not None and not isinstance(key, dict)):
        click.echo(f"{file} holds no credential to verify.", err=True)
        sys.exit(1)
    results = [seal.verify(c, key=key) for c in found]
    for c, result in zip(found, results, strict=True):
        name = c.get("id") if isinstance(c, dict) else None
        issuer = f" issued by {result.issuer_name} ({result.issuer_id})" if result.issuer_id else ""
        click.echo(f"{'valid' if result.valid else 'INVALID'}: {name or 'credential'}{issuer}, "
                   f"key {result.key_id or '-'}: {result.reason}")
    if key is None and all(r.valid for r in results):
        click.echo("The key was taken from the file: compare it with the issuer's published keys "
                   "(or give it with --key) to be sure who signed.")
    sys.exit(0 if all(r.valid for r in results) else 1)


@main.group()
def retention() -> None:
    """The retention policy (ecvet.retention)."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="list what would go, change nothing")
def retention_purge(dry_run: bool) -> None:
    """Apply the retention policy now (the worker does it daily) and print what went, per record kind."""
    database = Database(load_settings().database_url)
    try:
        with database.transaction() as session:
            report = purge.purge(session, dry_run=dry_run)
            click.echo("\n".join(report.lines()))
    finally:
        database.dispose()


@main.group()
def catalogue() -> None:
    """The pages' message catalogues (api/web/catalogue/en.json and api/locale/*/LC_MESSAGES/messages.po)."""


@catalogue.command("update")
def catalogue_update() -> None:
    """Add the keys of en.json to every language's .po (untranslated), drop removed keys, mark changed
    English fuzzy; then list what is left to translate (exit 1 if anything is)."""
    todo = messages.update_catalogues()
    for language, keys in todo.items():
        click.echo(f"{language}: {len(keys)} to translate: {', '.join(keys)}")
    sys.exit(1 if todo else 0)
