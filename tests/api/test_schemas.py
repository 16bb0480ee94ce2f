"""api/schemas.py: a view (TypedDict or dataclass) becomes the marshmallow schema that answers with it, and
the OpenAPI document describes it from the view alone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypedDict

import pytest
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from api.schemas import field_for, schema_for


class Leaf(TypedDict):
    name: Annotated[str, "what the leaf is called"]
    weight: float | None


class Tree(TypedDict):
    id: int
    planted: date
    seen_at: datetime
    alive: bool
    tags: list[str]
    notes: dict[str, Any]
    leaves: list[Leaf]
    by_branch: dict[str, Leaf]
    crown: Annotated[Leaf | None, "the top leaf, if any"]
    secret: str


@dataclass(frozen=True)
class Answer:
    country: Annotated[str, "ISO 3166-1 alpha-2"]
    level: int | None


LeafSchema = schema_for(Leaf, "LeafSchema")
TreeSchema = schema_for(Tree, "TreeSchema", exclude=("secret",))
AnswerSchema = schema_for(Answer, "AnswerSchema")


def test_each_key_becomes_the_field_of_its_type() -> None:
    declared = TreeSchema().fields
    assert set(declared) == {"id", "planted", "seen_at", "alive", "tags", "notes", "leaves", "by_branch", "crown"}
    assert [type(declared[k]) for k in ("id", "planted", "seen_at", "alive", "tags", "notes")] == [
        fields.Integer, fields.Date, fields.DateTime, fields.Boolean, fields.List, fields.Dict]
    tags = declared["tags"]
    assert isinstance(tags, fields.List)
    assert isinstance(tags.inner, fields.String)
    assert declared["crown"].allow_none is True
    assert declared["id"].allow_none is False
    assert declared["crown"].metadata == {"description": "the top leaf, if any"}


def test_a_view_dumps_from_a_dict_or_an_object_alike() -> None:
    now = datetime(2027, 3, 1, 9, tzinfo=UTC)
    tree: Tree = {"id": 1, "planted": date(2020, 5, 1), "seen_at": now, "alive": True, "tags": ["oak"],
                  "notes": {"soil": "clay"}, "leaves": [{"name": "a", "weight": None}],
                  "by_branch": {"north": {"name": "b", "weight": 1.5}}, "crown": None, "secret": "kept"}
    assert TreeSchema().dump(tree) == {
        "id": 1, "planted": "2020-05-01", "seen_at": "2027-03-01T09:00:00+00:00", "alive": True, "tags": ["oak"],
        "notes": {"soil": "clay"}, "leaves": [{"name": "a", "weight": None}],
        "by_branch": {"north": {"name": "b", "weight": 1.5}}, "crown": None}
    assert AnswerSchema().dump(Answer("DE", None)) == {"country": "DE", "level": None}


def test_a_nested_view_is_the_schema_made_for_it() -> None:
    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Tree", schema=TreeSchema)
    document = spec.to_dict()["components"]["schemas"]
    tree = document["Tree"]["properties"]
    assert tree["leaves"]["items"] == {"$ref": "#/components/schemas/Leaf"}
    assert tree["by_branch"]["additionalProperties"] == {"$ref": "#/components/schemas/Leaf"}
    assert document["Leaf"]["properties"]["name"]["description"] == "what the leaf is called"
    assert document["Leaf"]["properties"]["weight"]["nullable"] is True
    assert "secret" not in tree


def test_what_a_view_cannot_say_is_refused() -> None:
    with pytest.raises(TypeError, match="no key"):
        schema_for(Leaf, "Broken", exclude=("colour",))
    with pytest.raises(TypeError, match="cannot hold"):
        field_for(set[int])
