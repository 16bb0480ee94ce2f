"""BPMN data stores backed by the database: SpiffWorkflow's data store pattern, as spiff-arena names them.

A process declares ``<bpmn:dataStore id="catalogue" name="JSONDataStore"/>`` (or ``KKVDataStore``) and
refers to it with a ``bpmn:dataStoreReference``; a task with a data input association from it reads the
store into the variable named by the store's id, a task with a data output association to it writes that
variable back (and it leaves the task data). Unlike task data, a store outlives the instance: every
instance of the same process key shares it (instances of other processes never see it).

* ``JSONDataStore``: one JSON value per store.
* ``KKVDataStore``: key-key-value. Reading gives ``{top key: {second key: value}}`` of everything
  stored; writing merges such a dict in, a ``None`` value deleting its entry.

The rows are ``data_store_items``, written in the unit of work of the run that writes them (so a run
that fails writes nothing). The engine hands SpiffWorkflow the session through :func:`using` around
every run (``engine.execution``); outside one a store cannot be read (an incident, never a crash).
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.serializer.helpers.spec import BpmnDataSpecificationConverter
from SpiffWorkflow.bpmn.specs.data_spec import BpmnDataStoreSpecification
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import DataStoreItem, utcnow

_SESSION: ContextVar[Session | None] = ContextVar("ecvet_data_store_session", default=None)


@contextmanager
def using(session: Session) -> Iterator[None]:
    """Data stores read and write through ``session`` while SpiffWorkflow runs inside this block."""
    token = _SESSION.set(session)
    try:
        yield
    finally:
        _SESSION.reset(token)


def _plain(value: Any, task: Any, store: Any) -> Any:
    try:
        plain: Any = json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise WorkflowDataException(f"Data store '{store.bpmn_id}' keeps JSON values only: {exc}", task,
                                    data_output=store) from exc
    return plain


class _Store(BpmnDataStoreSpecification):
    def _session(self, task: Any) -> Session:
        session = _SESSION.get()
        if session is None:
            raise WorkflowDataException(f"Data store '{self.bpmn_id}' can only be used while the platform runs the "
                                        f"instance", task, data_input=self)
        return session

    def _rows(self, task: Any) -> tuple[Session, list[DataStoreItem]]:
        session = self._session(task)
        process_key = task.workflow.top_workflow.spec.name
        with session.no_autoflush:
            rows = list(session.scalars(select(DataStoreItem).where(DataStoreItem.process_key == process_key,
                                                                    DataStoreItem.store == self.bpmn_id)))
        rows += [o for o in session.new if isinstance(o, DataStoreItem) and o.process_key == process_key
                 and o.store == self.bpmn_id]
        return session, [r for r in rows if r not in session.deleted]

    def _new(self, session: Session, task: Any, top: str, second: str, value: Any) -> None:
        session.add(DataStoreItem(process_key=task.workflow.top_workflow.spec.name, store=self.bpmn_id,
                                  top_key=top, second_key=second, value=value, updated_at=utcnow()))


class JSONDataStore(_Store):
    """One JSON value per store and process key."""

    def get(self, my_task: Any, **_options: Any) -> None:
        _, rows = self._rows(my_task)
        my_task.data[self.bpmn_id] = copy.deepcopy(rows[0].value) if rows else None

    def set(self, my_task: Any, **_options: Any) -> None:
        if self.bpmn_id not in my_task.data:
            raise WorkflowDataException(f"Data store '{self.bpmn_id}': the task has no variable '{self.bpmn_id}' "
                                        f"to write", my_task, data_output=self)
        value = _plain(my_task.data.pop(self.bpmn_id), my_task, self)
        session, rows = self._rows(my_task)
        if rows:
            rows[0].value, rows[0].updated_at = value, utcnow()
        else:
            self._new(session, my_task, "", "", value)


class KKVDataStore(_Store):
    """Key-key-value: ``{top key: {second key: value}}``; writing merges, ``None`` deletes."""

    def get(self, my_task: Any, **_options: Any) -> None:
        _, rows = self._rows(my_task)
        found: dict[str, dict[str, Any]] = {}
        for row in sorted(rows, key=lambda r: (r.top_key, r.second_key)):
            found.setdefault(row.top_key, {})[row.second_key] = copy.deepcopy(row.value)
        my_task.data[self.bpmn_id] = found

    def set(self, my_task: Any, **_options: Any) -> None:
        value = my_task.data.pop(self.bpmn_id, None)
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise WorkflowDataException(f"Data store '{self.bpmn_id}' takes {{top key: {{second key: value}}}}",
                                        my_task, data_output=self)
        session, rows = self._rows(my_task)
        existing = {(r.top_key, r.second_key): r for r in rows}
        for top, inner in value.items():
            for second, item in inner.items():
                row = existing.get((str(top), str(second)))
                if item is None:
                    if row is not None and row in session.new:
                        session.expunge(row)
                    elif row is not None:
                        session.delete(row)
                elif row is not None:
                    row.value, row.updated_at = _plain(item, my_task, self), utcnow()
                else:
                    self._new(session, my_task, str(top), str(second), _plain(item, my_task, self))


# The names spiff-arena gives them in <bpmn:dataStore name="...">: the parser builds these.
DATA_STORE_CLASSES: dict[str, type[BpmnDataStoreSpecification]] = {
    "JSONDataStore": JSONDataStore,
    "KKVDataStore": KKVDataStore,
}


def register(config: dict[Any, Any]) -> dict[Any, Any]:
    """A serializer configuration that also stores and restores these data store specs."""
    config = dict(config)
    for cls in DATA_STORE_CLASSES.values():
        config[cls] = BpmnDataSpecificationConverter
    return config
