"""engine.datastores: JSON and key-key-value data stores in the database, shared by a process's instances."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.db import Database
from engine.models import DataStoreItem
from engine.parties import Actor
from tests.support.datastores import KKV_SCRIPT, keeping
from tests.support.engine import deploy
from tests.support.messages import data, start


def _items(db: Database) -> list[tuple[str, str, str, str, Any]]:
    with db.transaction(write=False) as s:
        rows = s.scalars(select(DataStoreItem))
        return sorted((r.process_key, r.store, r.top_key, r.second_key, r.value) for r in rows)


def test_a_json_store_outlives_the_instance_and_is_shared_by_the_process(db: Database, admin: Actor,
                                                                        orgs: dict[str, Any]) -> None:
    deploy(db, {"keeper.bpmn": keeping("keeper")})
    first = start(db, admin, "keeper", {"sending": orgs["sending"]}, entry="cook")
    second = start(db, admin, "keeper", {"sending": orgs["sending"]}, entry="waiter")
    assert data(db, first)["count"] == 1
    assert data(db, second)["count"] == 2
    assert "catalogue" not in data(db, second)  # written back to the store, not kept in the task data
    assert _items(db) == [("keeper", "catalogue", "", "", ["cook", "waiter"])]


def test_a_key_key_value_store_merges_and_other_processes_do_not_see_it(db: Database, admin: Actor,
                                                                       orgs: dict[str, Any]) -> None:
    deploy(db, {"kkv.bpmn": keeping("kkv", "KKVDataStore", KKV_SCRIPT),
                "other.bpmn": keeping("other", "KKVDataStore", KKV_SCRIPT)})
    start(db, admin, "kkv", {"sending": orgs["sending"]}, entry="cook")
    second = start(db, admin, "kkv", {"sending": orgs["sending"]}, entry="baker")
    elsewhere = start(db, admin, "other", {"sending": orgs["sending"]}, entry="cook")
    assert data(db, second)["count"] == 2
    assert data(db, elsewhere)["count"] == 1
    assert [i[1:] for i in _items(db) if i[0] == "kkv"] == [("catalogue", "cook", "baker", True),
                                                            ("catalogue", "cook", "cook", True)]
