"""The code lists the national models are decided on, shipped as data files (``data/*.csv``): sectors
(a controlled list, each mapped to its ISCED-F 2013 field for reference), qualification systems, and
regions (ISO 3166-2 subdivisions from pycountry, or NUTS codes of the same country).

No free text reaches the national models table: an unknown sector or region is refused with the
allowed values, so "handwerk" can no longer fall silently to a country's general row.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from engine.parties import region_problem

__all__ = ["Code", "normal_region", "qualification_system_codes", "qualification_systems", "region_problem",
           "sector_codes", "sectors"]

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    isced_f: str | None = None


@functools.cache
def _read(name: str) -> tuple[Code, ...]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return tuple(Code(row["code"], row["label"], row.get("isced_f") or None) for row in csv.DictReader(handle))


def sectors() -> tuple[Code, ...]:
    return _read("sectors.csv")


def qualification_systems() -> tuple[Code, ...]:
    return _read("qualification_systems.csv")


def sector_codes() -> tuple[str, ...]:
    return tuple(c.code for c in sectors())


def qualification_system_codes() -> tuple[str, ...]:
    return tuple(c.code for c in qualification_systems())


def normal_region(region: str | None) -> str | None:
    """Regions compare upper-cased and trimmed; empty means none."""
    return (region or "").strip().upper() or None
