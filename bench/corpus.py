"""`make corpus`: deploy the BPMN people already have (SpiffWorkflow's test diagrams, spiff-arena's models,
Camunda's examples) through the API and print how much of it the platform takes (issue 11).

Not a test (not part of `make test`): the corpora are third-party repositories fetched as bare git
directories under /work/.mirror (or the directory given as the first argument); they are read with
git, never copied into this repository. For each corpus the table gives the bundles, how many the bare
``SpiffBpmnParser`` parses (every executable process with its called processes, or every decision of a
DMN-only bundle), how many the platform deployed (201/200), the bundles it refused though the bare
parser took them (with the reasons, below the table) and every 5xx answer (which must be none).

What a bundle is: SpiffWorkflow's ``tests/``: one BPMN file with the DMN files of its folder and the
BPMN files of that folder defining processes it calls; a folder of DMN files alone is one bundle per
file. spiff-arena's process models and backend test data, Camunda's examples: one folder (its BPMN,
DMN, and the JSON files its BPMN names: forms).
"""
from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

os.environ.setdefault("ECVET_ARGON2_FAST", "1")

from lxml import etree  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402

from api.app import create_app  # noqa: E402
from engine import migrate, parties  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.db import Database  # noqa: E402

MIRROR = "/work/.mirror"
OK, CREATED, SERVER_ERROR = 200, 201, 500
Files = dict[str, bytes]


@dataclass(frozen=True)
class Corpus:
    name: str
    repo: str  # owner+name under the mirror directory
    prefix: str  # only files under this path
    per_file: bool  # SpiffWorkflow's tests: a bundle per BPMN file


CORPORA = (
    Corpus("SpiffWorkflow tests/", "sartography+SpiffWorkflow", "tests/", per_file=True),
    Corpus("spiff-arena sample process models", "sartography+sample-process-models", "", per_file=False),
    Corpus("spiff-arena backend test models", "sartography+spiff-arena", "spiffworkflow-backend/tests/data/",
           per_file=False),
    Corpus("camunda-bpm-examples", "camunda+camunda-bpm-examples", "", per_file=False),
)


# --- reading a bare git directory -----------------------------------------------------------------

def _git_files(git_dir: str, prefix: str) -> Files:
    """BPMN, DMN and JSON files of HEAD under ``prefix``, by path."""
    listing = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "HEAD"], check=True,
                             capture_output=True, text=True).stdout
    wanted = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        _, kind, sha = meta.split()
        if kind == "blob" and path.startswith(prefix) and path.lower().endswith((".bpmn", ".dmn", ".json")):
            wanted.append((path, sha))
    batch = subprocess.run(["git", "--git-dir", git_dir, "cat-file", "--batch"], check=True, capture_output=True,
                           input="".join(f"{sha}\n" for _, sha in wanted).encode()).stdout
    files: Files = {}
    stream = io.BytesIO(batch)
    for path, _ in wanted:
        size = int(stream.readline().split()[2])
        files[path] = stream.read(size)
        stream.read(1)
    return files


_PROCESS_ID = re.compile(rb"<(?:\w+:)?process\b[^>]*?\bid=\"([^\"]+)\"")
_CALLED = re.compile(rb"calledElement=\"([^\"]+)\"")


def _called_files(path: str, files: Files, siblings: list[str]) -> list[str]:
    """The sibling BPMN files defining the processes ``path`` calls, transitively."""
    defines = {pid.decode(): name for name in siblings for pid in _PROCESS_ID.findall(files[name])}
    todo, found = [path], [path]
    while todo:
        for called in _CALLED.findall(files[todo.pop()]):
            target = defines.get(called.decode())
            if target is not None and target not in found:
                found.append(target)
                todo.append(target)
    return found


def bundles(corpus: Corpus, files: Files) -> Iterator[tuple[str, Files]]:
    """(name, files) of every bundle of a corpus, named by folder or file."""
    folders: dict[str, list[str]] = {}
    for path in sorted(files):
        folders.setdefault(str(PurePosixPath(path).parent), []).append(path)
    for folder, paths in folders.items():
        bpmn = [p for p in paths if p.lower().endswith(".bpmn")]
        dmn = [p for p in paths if p.lower().endswith(".dmn")]
        if not bpmn and not dmn:
            continue
        if corpus.per_file:
            if not bpmn:
                for p in dmn:
                    yield p, {PurePosixPath(p).name: files[p]}
            for p in bpmn:
                yield p, {PurePosixPath(q).name: files[q] for q in [*_called_files(p, files, bpmn), *dmn]}
            continue
        named = b"".join(files[p] for p in bpmn)
        forms = [p for p in paths if p.lower().endswith(".json") and PurePosixPath(p).name.encode() in named]
        yield folder, {PurePosixPath(p).name: files[p] for p in [*bpmn, *dmn, *forms]}


# --- the bare library ---------------------------------------------------------------------------------

def bare_parses(files: Files) -> bool:
    """Does a fresh SpiffBpmnParser take the bundle: every executable process and what it calls, or
    every decision of a DMN-only bundle?"""
    parser = SpiffBpmnParser()
    try:
        for name, content in files.items():
            if name.lower().endswith(".bpmn"):
                parser.add_bpmn_str(content, filename=name)
            elif name.lower().endswith(".dmn"):
                parser.add_dmn_xml(etree.fromstring(content), filename=name)
        process_ids = parser.get_process_ids()
        for process_id in process_ids:
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
        if not process_ids:
            for dmn_parser in parser.dmn_parsers.values():
                dmn_parser.parse()
            return bool(parser.dmn_parsers)
    except Exception:  # noqa: BLE001 - whatever the library raises means "not parseable"
        return False
    return True


# --- the platform ----------------------------------------------------------------------------------

@dataclass
class Row:
    corpus: str
    bundles: int = 0
    parseable: int = 0
    deployed: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # bundle -> reason (parseable ones only)
    errors: dict[str, str] = field(default_factory=dict)  # bundle -> 5xx
    started: int = 0
    completed: int = 0
    incidents: int = 0
    incident_messages: list[str] = field(default_factory=list)


def _reason(body: Any) -> str:
    errors = (body or {}).get("errors") or []
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        where = "/".join(str(first.get(k)) for k in ("file", "element_id") if first.get(k))
        return f"{first.get('message')}" + (f" [{where}]" if where else "")
    return str((body or {}).get("detail") or body)[:300]


class Platform:
    """A fresh SQLite database behind the WSGI app, an administrator signed in."""

    def __init__(self, folder: str) -> None:
        url = f"sqlite:///{folder}/corpus.sqlite3"
        migrate.upgrade(url)
        self.db = Database(url)
        app = create_app(load_settings(database_url=url), database=self.db)
        for name in ("werkzeug", "ecvet.api", "ecvet.request", "ecvet.engine"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        with self.db.transaction() as s:
            self.org_id = parties.create_organisation(s, actor=None, name="Corpus", country="DE").id
            parties.create_user(s, actor=None, email="corpus@example.org", name="Corpus", password="corpus-password-1",
                                is_admin=True, organisation_ids=[self.org_id])
        self.client = app.test_client()
        token = self.client.post("/api/tokens", json={"email": "corpus@example.org", "password": "corpus-password-1"})
        self.headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        self.last_incidents: list[str] = []

    def deploy(self, files: Files) -> tuple[int, Any]:
        data = {"files[]": [(io.BytesIO(content), name) for name, content in files.items()]}
        response = self.client.post("/api/process-definitions", data=data, content_type="multipart/form-data",
                                    headers=self.headers)
        return response.status_code, response.get_json(silent=True)

    def drive(self, definition: dict[str, Any], steps: int = 12) -> tuple[int, str]:
        """Start one instance (every role bound to the one organisation), complete what is ready with
        empty data a few times; (the first status >= SERVER_ERROR or the last one, the instance's status)."""
        parties_ = {role: self.org_id for role in definition.get("roles") or {}}
        response = self.client.post("/api/process-instances", headers=self.headers, json={
            "process_key": definition["key"], "version": definition["version"], "parties": parties_})
        body = response.get_json(silent=True) or {}
        if response.status_code != CREATED:
            return response.status_code, f"not started: {_reason(body)}"
        instance_id = body["id"]
        for _ in range(steps):
            seen = self.client.get(f"/api/process-instances/{instance_id}", headers=self.headers)
            if seen.status_code >= SERVER_ERROR:
                return seen.status_code, "instance"
            ready = [t for t in (seen.get_json(silent=True) or {}).get("ready_tasks") or [] if t.get("id")]
            if not ready:
                break
            done = self.client.post(f"/api/tasks/{ready[0]['id']}/complete", headers=self.headers,
                                    json={"data": {}, "on_behalf": True})
            if done.status_code >= SERVER_ERROR:
                return done.status_code, f"completing {ready[0].get('bpmn_id')}"
            if done.status_code != OK:
                break
        status = self.client.get(f"/api/process-instances/{instance_id}", headers=self.headers)
        if status.status_code >= SERVER_ERROR:
            return status.status_code, "instance"
        final: dict[str, Any] = status.get_json(silent=True) or {}
        self.last_incidents = [i.get("message", "") for i in final.get("incidents") or []]
        return status.status_code, str(final.get("status", "?"))


def run_corpus(corpus: Corpus, mirror: str, make_platform: Callable[[], Platform]) -> Row | None:
    git_dir = f"{mirror}/{corpus.repo}/repo"
    if not os.path.isdir(git_dir):
        return None
    row = Row(corpus.name)
    for name, files in bundles(corpus, _git_files(git_dir, corpus.prefix)):
        row.bundles += 1
        parseable = bare_parses(files)
        row.parseable += parseable
        platform = make_platform()  # a fresh database per bundle: bundles of a corpus share process ids
        status, body = platform.deploy(files)
        if status in (OK, CREATED):
            row.deployed += 1
            for definition in (body or {}).get("definitions") or []:
                code, outcome = platform.drive(definition)
                if code >= SERVER_ERROR:
                    row.errors[f"{name} ({definition['key']})"] = f"{code} {outcome}"
                    continue
                row.started += not outcome.startswith("not started")
                row.completed += outcome == "completed"
                row.incidents += outcome == "error"
                if outcome == "error":
                    row.incident_messages.extend(platform.last_incidents[:1])
        elif status >= SERVER_ERROR:
            row.errors[name] = f"{status}: {_reason(body)}"
        elif parseable:
            row.refused[name] = f"{status}: {_reason(body)}"
    return row


def main() -> None:
    mirror = sys.argv[1] if len(sys.argv) > 1 else MIRROR
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        template = Platform(tmp)
        template.db.dispose()
        template_bytes = open(f"{tmp}/corpus.sqlite3", "rb").read()  # noqa: SIM115 - read once, closed by GC
        counter = iter(range(1_000_000))

        def fresh() -> Platform:
            folder = f"{tmp}/{next(counter)}"
            os.makedirs(folder)
            with open(f"{folder}/corpus.sqlite3", "wb") as out:
                out.write(template_bytes)
            return _reuse(folder, template)

        for corpus in CORPORA:
            row = run_corpus(corpus, mirror, fresh)
            if row is None:
                print(f"(skipped {corpus.name}: no git directory under {mirror}/{corpus.repo})")
            else:
                rows.append(row)
    print_report(rows)


def _reuse(folder: str, template: Platform) -> Platform:
    """A platform on a copy of the template database (migrations and the admin's token already there)."""
    platform = Platform.__new__(Platform)
    platform.db = Database(f"sqlite:///{folder}/corpus.sqlite3")
    app = create_app(load_settings(database_url=platform.db.url), database=platform.db)
    platform.client = app.test_client()
    platform.headers = template.headers
    platform.org_id = template.org_id
    platform.last_incidents = []
    return platform


def print_report(rows: list[Row]) -> None:
    header = ("corpus", "bundles", "parseable by bare SpiffBpmnParser", "deployed", "refused though parseable",
              "5xx", "instances started", "completed", "in error")
    table = [(r.corpus, str(r.bundles), str(r.parseable), str(r.deployed), str(len(r.refused)), str(len(r.errors)),
              str(r.started), str(r.completed), str(r.incidents)) for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for t in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)) + " |")
    for r in rows:
        if r.errors:
            print(f"\n5xx in {r.corpus}:")
            for name, reason in r.errors.items():
                print(f"  {name}: {reason}")
    for r in rows:
        if r.refused:
            print(f"\nRefused though parseable, {r.corpus}:")
            for name, reason in r.refused.items():
                print(f"  {name}: {reason[:240]}")
    incidents = Counter(re.sub(r"'[^']*'", "'…'", message)[:120] for r in rows for message in r.incident_messages)
    if incidents:
        print("\nInstances in error, their first incident, most frequent first:")
        for message, count in incidents.most_common():
            print(f"  {count:4d}  {message}")
    reasons = Counter(re.sub(r"'[^']*'", "'…'", reason.split(" [", 1)[0])[:120]
                      for r in rows for reason in r.refused.values())
    if reasons:
        print("\nReasons, most frequent first:")
        for reason, count in reasons.most_common():
            print(f"  {count:4d}  {reason}")


if __name__ == "__main__":
    main()
