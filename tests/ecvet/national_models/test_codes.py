"""The code lists national models are decided on: sectors and qualification systems are shipped data,
regions are ISO 3166-2 subdivisions or NUTS codes of the organisation's own country."""
from __future__ import annotations

import pytest

from ecvet.national_models import codes


def test_sectors_are_a_controlled_list_with_their_isced_f_field() -> None:
    by_code = {c.code: c for c in codes.sectors()}
    assert {"crafts", "hospitality", "industry"} <= set(by_code)
    assert by_code["hospitality"].isced_f == "1013"
    assert "handwerk" not in codes.sector_codes()
    assert all(c.isced_f and c.isced_f.isdigit() for c in codes.sectors()), "each maps to an ISCED-F 2013 field"


def test_qualification_systems_are_a_controlled_list() -> None:
    assert codes.qualification_system_codes() == ("dual", "school_based", "continuing", "higher_vet")


@pytest.mark.parametrize(("country", "region"), [("ES", "ES-VC"), ("DE", "DE-NW"), ("ES", "ES52"), ("GR", "EL30")])
def test_regions_of_the_country_are_accepted(country: str, region: str) -> None:
    assert codes.region_problem(country, region) is None


@pytest.mark.parametrize(("country", "region", "reason"), [
    ("ES", "DE-NW", "a subdivision of DE, not of ES"),
    ("ES", "ES-XX", "not an ISO 3166-2 subdivision code"),
    ("ES", "DE11", "not in ES"),
    ("ES", "Valencia", "neither an ISO 3166-2 code"),
])
def test_other_regions_are_refused_with_the_reason(country: str, region: str, reason: str) -> None:
    problem = codes.region_problem(country, codes.normal_region(region) or "")
    assert problem is not None
    assert reason in problem


def test_regions_compare_upper_cased() -> None:
    assert codes.normal_region(" es-vc ") == "ES-VC"
    assert codes.normal_region("  ") is None
