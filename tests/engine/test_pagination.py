"""engine/pagination.py: keyset pages, stable under inserts, and cursors that cannot be forged into SQL."""
from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from engine.db import Database
from engine.errors import Invalid
from engine.models import Organisation
from engine.pagination import MAX_LIMIT, paginate, paginate_parts
from tests.support.factories import make_org


def names(db: Database, *, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
    with db.transaction(write=False) as s:
        page = paginate(s, select(Organisation), [Organisation.id], cursor=cursor, limit=limit)
        return [o.name for o in page.items], page.next_cursor


def test_pages_follow_each_other_without_gaps_or_repeats_even_when_rows_arrive(db: Database) -> None:
    made = [make_org(db, name=f"Org {n}").name for n in range(5)]
    first, cursor = names(db, cursor=None, limit=2)
    make_org(db, name="Arrived later")
    second, cursor = names(db, cursor=cursor, limit=2)
    third, cursor = names(db, cursor=cursor, limit=2)
    assert first == made[:2]
    assert second == made[2:4]
    assert third == [made[4], "Arrived later"]
    assert cursor is None  # nothing after the last page


def test_the_limit_is_kept_between_one_and_the_maximum(db: Database) -> None:
    for n in range(3):
        make_org(db, name=f"Org {n}")
    assert len(names(db, cursor=None, limit=0)[0]) == 1
    assert len(names(db, cursor=None, limit=10 * MAX_LIMIT)[0]) == 3


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", ["not base64 at all!", _cursor({"id": 1}), _cursor([1, 2]), _cursor(["1"]),
                                    _cursor([True]), _cursor([{"dt": "yesterday"}])])
def test_a_cursor_not_made_by_a_previous_page_is_invalid(db: Database, cursor: str) -> None:
    with pytest.raises(Invalid, match="cursor is not valid"):
        names(db, cursor=cursor, limit=2)


def test_descending_pages_run_newest_first_without_gaps(db: Database) -> None:
    made = [make_org(db, name=f"Org {n}").name for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        with db.transaction(write=False) as s:
            page = paginate(s, select(Organisation), [Organisation.id], cursor=cursor, limit=2, descending=True)
        seen += [o.name for o in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(made))


def test_pages_over_parts_are_the_pages_of_their_union(db: Database) -> None:
    """paginate_parts: each part ordered and limited on its own, merged in one statement."""
    for n in range(9):
        make_org(db, name=f"{'DE' if n % 3 else 'FR'} {n}", country="DE" if n % 3 else "FR")
    parts = [Organisation.country == "FR", Organisation.country == "DE"]
    seen: list[str] = []
    cursor: str | None = None
    with db.transaction(write=False) as s:
        while True:
            page = paginate_parts(s, select(Organisation), parts, [Organisation.id], cursor=cursor, limit=2)
            seen += [o.name for o in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = [o.name for o in s.scalars(select(Organisation).order_by(Organisation.id))]
    assert seen == expected
