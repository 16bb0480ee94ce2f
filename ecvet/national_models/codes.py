"""The code lists the national models are decided on, shipped as data files (``data/*.csv``): sectors
(a controlled list, each mapped to its ISCED-F 2013 field for reference), qualification systems, and
regions (ISO 3166-2 subdivisions from pycountry, or NUTS codes of the same country).

No free text reaches the national models table: an unknown sector or region is refused with the
allowed values, so "handwerk" can no longer fall silently to a country's general row.
"""
from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pycountry

DATA = Path(__file__).with_name("data")
_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{1,3}$")
_NUTS_COUNTRY = {"GR": "EL"}  # NUTS writes Greece EL


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


def region_problem(country: str, region: str) -> str | None:
    """Why `region` is not a region of `country` (None when it is): an ISO 3166-2 subdivision code of
    that country (``ES-VC``) or a NUTS code starting with its NUTS country code (``ES52``)."""
    if "-" in region:
        subdivision = pycountry.subdivisions.get(code=region)
        if subdivision is None:
            return f"'{region}' is not an ISO 3166-2 subdivision code"
        if subdivision.country_code != country:
            return f"'{region}' is a subdivision of {subdivision.country_code}, not of {country}"
        return None
    if not _NUTS.match(region):
        return f"'{region}' is neither an ISO 3166-2 code (e.g. ES-VC) nor a NUTS code (e.g. ES52)"
    if not region.startswith(_NUTS_COUNTRY.get(country, country)):
        return f"the NUTS code '{region}' is not in {country}"
    return None


def normal_region(region: str | None) -> str | None:
    """Regions compare upper-cased and trimmed; empty means none."""
    return (region or "").strip().upper() or None
