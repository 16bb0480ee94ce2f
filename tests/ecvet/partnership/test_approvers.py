"""Who must approve a MoU, by region: the Spanish regional authority approves only the MoUs of its own
region; a Catalan school's MoU goes to the Catalan authority, or is refused before anyone is asked
when no authority is registered for Catalonia (it never falls to València's)."""
from __future__ import annotations

from ecvet.partnership.approvers import Requirement, plan_for
from ecvet.partnership.models import ApprovalMode, ApprovalRole
from engine.db import Database
from tests.support.ecvet_factories import make_party, mou_content, register


def test_a_regional_authority_approves_only_the_mous_of_its_region(db: Database) -> None:
    valencia_school = make_party(db, "ES", "CIPFP Valencia", region="ES-VC")
    catalan_school = make_party(db, "ES", "Institut Barcelona", region="ES-CT")
    host = make_party(db, "NL", "Hotel Amsterdam", region="NL-NH")
    valencia = make_party(db, "ES", "Conselleria (València)", region="ES-VC")
    register(db, valencia.org_id, "ES", region="ES-VC")

    with db.transaction(write=False) as s:
        ours = plan_for(s, mou_content(valencia_school, host, countries=("ES", "NL"), sector="hospitality"))
        theirs = plan_for(s, mou_content(catalan_school, host, countries=("ES", "NL"), sector="hospitality"))
    authority = Requirement(valencia.org_id, ApprovalRole.COMPETENT_INSTITUTION)
    assert authority in ours.requirements
    assert ours.modes[authority] == (ApprovalMode.IMPLICIT, 20)
    assert ours.models["ES"].region == "ES-VC"
    assert authority not in theirs.requirements, "València's authority never approves a Catalan MoU"
    assert theirs.problems == ["the national model of ES requires MoU approval by a competent institution, "
                               "but none is registered for ES (ES-CT)"]

    catalonia = make_party(db, "ES", "Generalitat (Catalunya)", region="ES-CT")
    register(db, catalonia.org_id, "ES", region="ES-CT")
    with db.transaction(write=False) as s:
        theirs = plan_for(s, mou_content(catalan_school, host, countries=("ES", "NL"), sector="hospitality"))
    assert theirs.problems == []
    assert [r for r in theirs.requirements if r.role == ApprovalRole.COMPETENT_INSTITUTION] == [
        Requirement(catalonia.org_id, ApprovalRole.COMPETENT_INSTITUTION)]


def test_a_sector_specific_chamber_comes_before_the_general_one(db: Database) -> None:
    school, host = make_party(db, "DE", "Berufskolleg", region="DE-NW"), make_party(db, "NL", "Hotel")
    chamber, crafts = make_party(db, "DE", "IHK"), make_party(db, "DE", "HWK")
    register(db, chamber.org_id, "DE")
    register(db, crafts.org_id, "DE", sector="crafts")
    with db.transaction(write=False) as s:
        hospitality = plan_for(s, mou_content(school, host, countries=("DE", "NL"), sector="hospitality"))
        trades = plan_for(s, mou_content(school, host, countries=("DE", "NL"), sector="crafts"))
    assert Requirement(chamber.org_id, ApprovalRole.COMPETENT_INSTITUTION) in hospitality.requirements
    assert Requirement(crafts.org_id, ApprovalRole.COMPETENT_INSTITUTION) in trades.requirements
    assert Requirement(chamber.org_id, ApprovalRole.COMPETENT_INSTITUTION) not in trades.requirements
