"""The deploy-time check of the national models table: a table the engine accepts but the services
cannot act on (an unknown approval mode, say) is refused on every deploy path.

Registered with :func:`engine.deployments.file_check` when imported (:mod:`ecvet.wiring` imports it).
"""
from __future__ import annotations

import re

from ecvet.national_models.service import DECISION_ID, FILENAME, decide
from engine import deployments
from engine.errors import Invalid

_COUNTRY_CELL = re.compile(rb'"([A-Z]{2})"')


@deployments.file_check(FILENAME)
def check_table(xml: bytes) -> None:
    """Refuse a table the engine accepts but the services cannot act on: every country it names, and a
    country without a row of its own, must get an answer :func:`decide` accepts (a known approval mode,
    a known recogniser, whole days), or nothing is deployed."""
    countries = sorted({m.decode() for m in _COUNTRY_CELL.findall(xml)} | {"ZZ"})  # ZZ: the default row
    errors = []
    for country in countries:
        try:
            decide(country, dmn_bytes=xml)
        except Invalid as exc:
            detail = exc.errors if isinstance(exc.errors, dict) else {}
            reasons = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in detail.items()) or exc.message
            errors.append({"file": FILENAME, "element_id": DECISION_ID, "line": None,
                           "message": f"for {country if country != 'ZZ' else 'a country without its own row'}: "
                                      f"{reasons}"})
    if errors:
        raise Invalid("The table deploys, but the platform cannot use all of its answers; nothing was deployed",
                      errors=errors)
