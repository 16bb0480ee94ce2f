"""Partner search as pages: `/partners` finds registered organisations by country, sector, qualification and
unit; `/partners/<id>/comparison` sets a home qualification's units beside what that organisation offers.
The same services as /api/partner-search."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from ecvet.national_models import codes
from ecvet.partnership import search
from engine.errors import Invalid

from .auth import page_session

bp = Blueprint("web_partners", __name__)

FILTERS = ("country", "sector", "qualification", "unit")


@bp.route("/partners", endpoint="search")
def partner_search() -> Any:
    asked = {k: (request.args.get(k) or "").strip() for k in FILTERS}
    filters = {k: v for k, v in asked.items() if v}
    if "country" in filters:
        filters["country"] = filters["country"].upper()
    errors: dict[str, list[str]] = {}
    results: list[search.PartnerMatch] = []
    with page_session(write=False) as (session, actor):
        try:
            results = search.search(session, actor=actor, **filters) if filters else []
        except Invalid as exc:
            errors = exc.errors if isinstance(exc.errors, dict) else {"_": [exc.message]}
        home = search.qualifications(session)
    return render_template("partners/search.html", active="partners", asked=asked, searched=bool(filters),
                           results=results, errors=errors, sectors=codes.sectors(), qualifications=home), \
        422 if errors else 200


@bp.route("/partners/<id:organisation_id>/comparison", endpoint="comparison")
def comparison(organisation_id: int) -> Any:
    with page_session(write=False) as (session, actor):
        home = search.qualifications(session)
        wanted = request.args.get("qualification_id", "")
        chosen = int(wanted) if wanted.isdigit() else (home[0][0] if home else None)
        if chosen is None:
            raise Invalid("No qualification is registered to compare with",
                          errors={"qualification_id": ["No qualification registered"]})
        compared = search.compare(session, actor=actor, organisation_id=organisation_id,
                                  qualification_id=chosen)
    return render_template("partners/comparison.html", active="partners", compared=compared, qualifications=home,
                           chosen=chosen)
