"""Forms of a bundle: JSON Schemas (and UI schemas) from the bundle itself or the forms directory."""
from __future__ import annotations

import json
from typing import Any

from jsonschema.exceptions import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

from engine.forms import resolve_options

from .context import BundleContext
from .model import BundleError
from .xml import is_plain_name


def load_json(data: bytes, filename: str) -> tuple[Any, BundleError | None]:
    """The parsed document, or why it is not JSON."""
    try:
        return json.loads(data), None
    except (ValueError, RecursionError) as exc:
        return None, BundleError(filename, None, f"not valid JSON: {exc}")


def check_form_schema(doc: Any, filename: str, *, ui: bool) -> BundleError | None:
    """A form must be a JSON Schema the form renderer and validator will accept."""
    if not isinstance(doc, dict):
        kind = "a UI schema" if ui else "a form schema"
        return BundleError(filename, None, f"{kind} must be a JSON object")
    if ui:
        return None
    # default=None tells an unknown $schema apart (jsonschema hands the default back as it is).
    if "$schema" in doc and validator_for(doc, default=None) is None:  # type: ignore[arg-type]
        return BundleError(filename, None, f"unknown $schema {doc['$schema']!r}")
    cls = validator_for(doc, default=Draft202012Validator)
    try:
        # A dynamic enum is filled from task data when the task is shown: check it as any choice list.
        cls.check_schema(resolve_options(doc, lambda _name: [{"const": "option"}]))
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) or "(root)"
        return BundleError(filename, None, f"not a valid JSON Schema at {where}: {exc.message}")
    return None


def is_ui_schema(ctx: BundleContext, name: str) -> bool:
    """A file named as a UI schema (and never as a form), or called ``*uischema.json``."""
    if name in ctx.schema_refs:
        return False
    return name in ctx.ui_refs or name.lower().endswith("uischema.json")


def resolve_owned_form(ctx: BundleContext, doc_name: str, task_id: str, name: str, *, ui: bool) -> bytes | None:
    """Form of a task of this bundle: from the bundle, else forms_dir; a miss is an error."""
    kind = "UI schema" if ui else "form"
    if not is_plain_name(name) or not name.lower().endswith(".json"):
        ctx.error(doc_name, task_id, f"{kind} '{name}' of task '{task_id}' must be a plain .json file name")
        return None
    bundle_doc = ctx.docs.get(name)
    if bundle_doc is not None:
        # Its own problems, if any, are reported against the form file itself.
        return bundle_doc.data if bundle_doc.json_ok else None
    data, found = from_forms_dir(ctx, name, ui=ui)
    if not found:
        ctx.error(doc_name, task_id, f"{kind} '{name}' not found: task '{task_id}' needs it; add it to "
                                     f"the bundle or the forms directory")
        return None
    if data is not None:
        ctx.forms_from_dir[name] = data
    return data


def lookup_form(ctx: BundleContext, name: str, *, library_process: bool) -> bytes | None:
    """Form of a called process's task: best effort, its own deployment checked it."""
    if not is_plain_name(name):
        return None
    docs = ctx.lib_docs if library_process else ctx.docs
    found = docs.get(name)
    if found is not None:
        return found.data
    data, _found = from_forms_dir(ctx, name, ui=name in ctx.ui_refs and name not in ctx.schema_refs)
    return data


def _read_form(ctx: BundleContext, name: str, *, ui: bool) -> tuple[bytes | None, bool]:
    """(content or None if invalid, found) for a form in forms_dir, reporting what is wrong with it."""
    assert ctx.forms_dir is not None
    base = ctx.forms_dir.resolve()
    path = (base / name).resolve()
    if path.parent != base or not path.is_file():
        return None, False
    size = path.stat().st_size
    if size > ctx.max_file_bytes:
        ctx.error(name, None, f"form in the forms directory is {size} bytes, over the limit of {ctx.max_file_bytes}")
        return None, True
    data = path.read_bytes()
    doc, err = load_json(data, name)
    if err is None:
        err = check_form_schema(doc, name, ui=ui)
    if err is not None:
        ctx.error(err.file, err.element_id, f"{err.message} (in the forms directory)")
        return None, True
    return data, True


def from_forms_dir(ctx: BundleContext, name: str, *, ui: bool) -> tuple[bytes | None, bool]:
    """(content or None if invalid, found) for a form in forms_dir; problems reported once."""
    if ctx.forms_dir is None:
        return None, False
    if name not in ctx.forms_dir_cache:
        try:
            ctx.forms_dir_cache[name] = _read_form(ctx, name, ui=ui)
        except OSError as exc:
            ctx.error(name, None, f"form cannot be read from the forms directory: {exc.strerror or exc}")
            ctx.forms_dir_cache[name] = (None, True)
    return ctx.forms_dir_cache[name]
