"""What the edge tests share: the operations of the OpenAPI document, row counts, and 'no traceback'."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, func, select

from engine.db import Database

#: What a traceback or an internal exception looks like when it leaks into a response.
TRACE_MARKERS = ("Traceback", 'File "', "site-packages", "sqlalchemy.exc", "psycopg", "werkzeug.exceptions",
                 "sqlite3.", "OverflowError", "UnicodeEncodeError")
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI template, e.g. /api/mobilities/{mobility_id}
    spec: dict[str, Any]
    path_parameters: dict[str, dict[str, Any]]  # name -> schema

    @property
    def public(self) -> bool:
        return self.spec.get("security") == []

    @property
    def body_types(self) -> list[str]:
        return list(self.spec.get("requestBody", {}).get("content", {}))

    def query_parameters(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p["schema"] for p in self.spec.get("parameters", []) if p["in"] == "query"}

    def url(self, **values: Any) -> str:
        """The path with each parameter filled: from `values`, else a valid-looking default."""
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            return "1" if self.path_parameters[name].get("type") == "integer" else "x"
        return re.sub(r"{([^}]+)}", fill, self.path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def operations(doc: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in doc["paths"].items():
        shared = [p for p in item.get("parameters", []) if p["in"] == "path"]
        for method in HTTP_METHODS:
            if method in item:
                spec = item[method]
                own = [p for p in spec.get("parameters", []) if p["in"] == "path"]
                found.append(Operation(method, path, spec, {p["name"]: p["schema"] for p in shared + own}))
    return found


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


def row_counts(db: Database) -> dict[str, int]:
    """Rows per table: equal before and after a refused request means nothing was half-applied."""
    meta = MetaData()
    meta.reflect(db.engine)
    with db.engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in meta.tables.items()}


def assert_no_traceback(response: Any) -> None:
    text = response.get_data(as_text=True) if hasattr(response, "get_data") else str(response)
    for marker in TRACE_MARKERS:
        assert marker not in text, f"{marker!r} leaked into a response: {text[:500]}"
