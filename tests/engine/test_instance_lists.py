"""engine/instances.py list_for for a party: read from the copies on its party rows (migration 1708).

The page must be exactly what the query over the instances themselves returns (every filter, both
orders, page by page), and the copies must follow every status change.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bench.generate import sequential_process
from engine import bulk, instances, operations, tasks
from engine.db import Database
from engine.models import InstanceParty, InstanceStatus, ProcessInstance, utcnow
from engine.pagination import paginate
from engine.parties import Actor
from tests.support.engine import actor_for, deploy
from tests.support.factories import make_user

LANES = ("Sending organisation", "Hosting organisation")


def _old_query(s: Any, actor: Actor, *, process_key: str | None, status: str | None, newest_first: bool,
               cursor: str | None, limit: int) -> Any:
    """The list as it was read before 1708: the instances, filtered, checked against the actor's parties."""
    stmt = select(ProcessInstance).where(instances.party_filter(actor))
    if process_key:
        stmt = stmt.where(ProcessInstance.process_key == process_key)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    return paginate(s, stmt, [ProcessInstance.created_at, ProcessInstance.id], cursor=cursor, limit=limit,
                    descending=newest_first)


def _all_pages(db: Database, actor: Actor, reader: Any, **filters: Any) -> list[list[str]]:
    pages, cursor = [], None
    with db.transaction(write=False) as s:
        while True:
            page = reader(s, actor, cursor=cursor, limit=3, **filters)
            pages.append([i.id for i in page.items])
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor


def _new_query(s: Any, actor: Actor, **kw: Any) -> Any:
    return instances.list_for(s, actor=actor, **kw)


def test_a_partys_list_is_the_old_querys_page_by_page(db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"a.bpmn": sequential_process("a", 2, lanes=LANES), "b.bpmn": sequential_process("b", 2, lanes=LANES)})
    now = utcnow()
    school, host, other = orgs["sending"], orgs["hosting"], orgs["other"]
    bindings = [{"sending": school, "hosting": host}, {"sending": other, "hosting": host},
                {"sending": school, "hosting": school}, {"sending": other, "hosting": other}]
    with db.transaction() as s:
        for key in ("a", "b"):
            # Interleaved start times, other parties' instances among the school's; 0, 1 or 2 of the two
            # tasks done: waiting or completed.
            bulk.start_many(s, actor=admin, process_key=key, starts=[
                bulk.NewInstance(bindings[n % 4], complete=(n // 4) % 3, started_at=now - timedelta(hours=50 - n))
                for n in range(24)])
    with db.transaction() as s:
        ids = [i.id for i in instances.list_for(s, actor=admin, process_key="a", limit=4).items]
        operations.suspend(s, actor=admin, instance_id=ids[0])
        operations.terminate(s, actor=admin, instance_id=ids[2])
    learner = make_user(db)
    with db.transaction() as s:  # a person bound in their own name, to an instance their school is party of too
        started = instances.start(s, actor=admin, process_key="a", parties={
            "sending": school, "hosting": {"user_id": learner.id}})
    both = actor_for(db, make_user(db, organisation_ids=[school, host]).id)
    readers = {"school": orgs["sender"], "host": orgs["host"], "both": both, "learner": actor_for(db, learner.id)}
    nobody = actor_for(db, make_user(db).id)
    seen = 0
    for name, actor in readers.items():
        for process_key in (None, "a", "b"):
            for status in (None, InstanceStatus.WAITING, InstanceStatus.COMPLETED, InstanceStatus.SUSPENDED,
                           InstanceStatus.TERMINATED, InstanceStatus.ERROR):
                for newest_first in (False, True):
                    filters = {"process_key": process_key, "status": status, "newest_first": newest_first}
                    new = _all_pages(db, actor, _new_query, **filters)
                    assert new == _all_pages(db, actor, _old_query, **filters), (name, filters)
                    listed = [i for page in new for i in page]
                    assert len(listed) == len(set(listed)), (name, filters)  # two roles: listed once
                    seen += len(listed)
    assert seen > 100  # the comparison is not between empty lists
    with db.transaction(write=False) as s:
        assert [i.id for i in instances.list_for(s, actor=readers["learner"]).items] == [started.id]
        assert instances.list_for(s, actor=nobody).items == []


def _copies(db: Database, instance_id: str) -> tuple[str, set[tuple[str, str, Any]]]:
    with db.transaction(write=False) as s:
        instance = s.get_one(ProcessInstance, instance_id)
        rows = s.scalars(select(InstanceParty).where(InstanceParty.instance_id == instance_id)).all()
        return instance.status, {(p.process_key, p.status, p.created_at) for p in rows} | {
            (instance.process_key, instance.status, instance.created_at)}


def test_every_status_change_reaches_the_party_rows(db: Database, orgs: dict[str, Any], admin: Actor) -> None:
    deploy(db, {"c.bpmn": sequential_process("c", 1, lanes=LANES)})
    bound = {"sending": orgs["sending"], "hosting": orgs["hosting"]}

    def started() -> str:
        with db.transaction() as s:
            return instances.start(s, actor=admin, process_key="c", parties=bound).id

    def step(action: Any, instance_id: str) -> str:
        with db.transaction() as s:
            action(s, instance_id)
        status, copies = _copies(db, instance_id)
        assert len(copies) == 1, copies  # every party row carries the instance's key, status and start
        return status

    first = started()
    assert _copies(db, first)[0] == InstanceStatus.WAITING
    assert len(_copies(db, first)[1]) == 1
    assert step(lambda s, i: operations.suspend(s, actor=admin, instance_id=i), first) == InstanceStatus.SUSPENDED
    assert step(lambda s, i: operations.resume(s, actor=admin, instance_id=i), first) == InstanceStatus.WAITING

    def complete(s: Any, instance_id: str) -> None:
        task = instances.ready_tasks(s, s.get_one(ProcessInstance, instance_id))[0]
        tasks.complete(s, actor=orgs["sender"], task_id=task.id, data={})

    assert step(complete, first) == InstanceStatus.COMPLETED
    second = started()
    # Any writer, even a plain assignment outside the engine's operations, moves the copies with it.
    assert step(lambda s, i: setattr(s.get_one(ProcessInstance, i), "status", InstanceStatus.ERROR),
                second) == InstanceStatus.ERROR
    assert step(lambda s, i: setattr(s.get_one(ProcessInstance, i), "status", InstanceStatus.WAITING),
                second) == InstanceStatus.WAITING
    assert step(lambda s, i: operations.terminate(s, actor=admin, instance_id=i), second) == InstanceStatus.TERMINATED
    with db.transaction(write=False) as s:
        assert [i.id for i in instances.list_for(s, actor=orgs["host"], status=InstanceStatus.TERMINATED).items] == [
            second]
        assert [i.id for i in instances.list_for(s, actor=orgs["host"], status=InstanceStatus.COMPLETED).items] == [
            first]
        assert instances.list_for(s, actor=orgs["host"], status=InstanceStatus.WAITING).items == []
