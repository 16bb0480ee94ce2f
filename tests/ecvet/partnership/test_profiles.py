"""ecvet.partnership.profiles and roles: what partners say about themselves, and who does what where."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from ecvet.national_models.models import CompetenceFunction, OrganisationCompetence
from ecvet.partnership import attachments, profiles, roles, views
from ecvet.partnership.models import Partnership, RoleMap
from engine.db import Database
from engine.errors import Forbidden, Invalid, NotFound
from tests.support.ecvet_factories import Party, make_party, register
from tests.support.partnership_driver import PDF, ecvet_roles, profile


def make_partnership(db: Database, sender: Party, host: Party) -> int:
    with db.transaction() as s:
        partnership = Partnership(sending_organisation_id=sender.org_id, hosting_organisation_id=host.org_id)
        s.add(partnership)
        s.flush()
        return partnership.id


@pytest.fixture
def world(db: Database) -> tuple[Party, Party, Party, int]:
    sender, host, outsider = make_party(db, "DE", "School"), make_party(db, "NL", "Hotel"), make_party(db, "FR")
    return sender, host, outsider, make_partnership(db, sender, host)


def save(db: Database, party: Party, partnership_id: int, content: dict) -> int:
    with db.transaction() as s:
        partnership = s.get_one(Partnership, partnership_id)
        return profiles.save(s, actor=party.actor, partnership=partnership, organisation_id=party.org_id,
                             content=content).id


def test_a_save_is_a_new_version_and_the_newest_is_current(db: Database, world: tuple) -> None:
    sender, host, outsider, partnership_id = world
    first = save(db, host, partnership_id, profile(host, "NL"))
    changed = profile(host, "NL")
    changed["vet_system"] = "School-based with long work placements."
    second = save(db, host, partnership_id, changed)
    save(db, sender, partnership_id, profile(sender, "DE"))
    with db.transaction(write=False) as s:
        partnership = s.get_one(Partnership, partnership_id)
        current = profiles.current_profiles(s, partnership)
        assert [(p.side, p.id) for p in current][1] == ("hosting", second)
        assert current[1].content["vet_system"] == "School-based with long work placements."
        assert [p.id for p in profiles.history(s, actor=sender.actor, partnership_id=partnership_id)][:2] == [
            first, second]
        assert profiles.get(s, actor=sender.actor, profile_id=first).content_hash != current[1].content_hash
        with pytest.raises(NotFound):
            profiles.get(s, actor=outsider.actor, profile_id=first)
        with pytest.raises(NotFound):
            profiles.history(s, actor=outsider.actor, partnership_id=partnership_id)


def test_profiles_are_append_only(db: Database, world: tuple) -> None:
    sender, _host, _outsider, partnership_id = world
    save(db, sender, partnership_id, profile(sender, "DE"))
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.execute(text("UPDATE partner_profiles SET side = 'hosting'"))
    with pytest.raises(Exception, match="append-only"), db.transaction() as s:
        s.execute(text("DELETE FROM partner_profiles"))


def test_only_a_partners_own_members_write_its_profile(db: Database, world: tuple) -> None:
    sender, host, outsider, partnership_id = world
    with pytest.raises(Forbidden), db.transaction() as s:
        profiles.save(s, actor=sender.actor, partnership=s.get_one(Partnership, partnership_id),
                      organisation_id=host.org_id, content=profile(host, "NL"))
    with pytest.raises(Invalid, match="Only the sending and the hosting"), db.transaction() as s:
        profiles.save(s, actor=outsider.actor, partnership=s.get_one(Partnership, partnership_id),
                      organisation_id=outsider.org_id, content=profile(outsider, "FR"))


def test_an_incomplete_profile_is_refused_field_by_field(db: Database, world: tuple) -> None:
    sender, _host, _outsider, partnership_id = world
    content = profile(sender, "DE")
    del content["vet_system"]
    content["qualifications_offered"][0]["eqf_level"] = 9
    content["qualifications_offered"][0]["units"][0]["learning_outcomes"][0]["kind"] = "attitude"
    content["europass_certificate_supplements"] = [{"qualification": "Cook"}]
    with pytest.raises(Invalid) as refused:
        save(db, sender, partnership_id, content)
    assert set(refused.value.errors) == {
        "profile", "qualifications_offered.0.eqf_level", "qualifications_offered.0.units.0.learning_outcomes.0.kind",
        "europass_certificate_supplements.0"}
    with pytest.raises(Invalid), db.transaction() as s:
        profiles.save(s, actor=sender.actor, partnership=s.get_one(Partnership, partnership_id),
                      organisation_id=sender.org_id, content="not an object")  # type: ignore[arg-type]


def test_attachments_become_readable_by_the_partnerships_parties(db: Database, world: tuple) -> None:
    sender, host, outsider, partnership_id = world
    with db.transaction() as s:
        document = attachments.upload(s, actor=host.actor, filename="vet-system-nl.pdf", content=PDF).id
    content = profile(host, "NL", supplement=document)
    content["vet_system_attachments"] = [document]
    profile_id = save(db, host, partnership_id, content)
    with db.transaction(write=False) as s:
        assert attachments.get(s, actor=sender.actor, attachment_id=document).filename == "vet-system-nl.pdf"
        with pytest.raises(NotFound):
            attachments.get(s, actor=outsider.actor, attachment_id=document)
        described = views.profile(s, profiles.get(s, actor=sender.actor, profile_id=profile_id))
        assert [a["id"] for a in described["attachments"]] == [document]
    with db.transaction() as s:  # the sender cannot pass on a file of the host's it could only read
        hosts_own = attachments.upload(s, actor=host.actor, filename="private.pdf", content=PDF + b"2").id
    with pytest.raises(Invalid) as refused:
        save(db, sender, partnership_id, {**profile(sender, "DE"), "vet_system_attachments": [hosts_own]})
    assert refused.value.errors == {"vet_system_attachments.0": [f"No attachment {hosts_own}"]}


def test_the_role_map_stays_with_the_partnership_and_says_what_the_registry_knows(db: Database, world: tuple) -> None:
    sender, host, outsider, partnership_id = world
    chamber = make_party(db, "DE", "Chamber")
    register(db, chamber.org_id, "DE", CompetenceFunction.MOU_APPROVAL)
    functions = ecvet_roles(host.org_id)
    functions["mou_approval"]["home"] = {"organisation_id": chamber.org_id}
    functions["recognition"]["home"] = {"organisation_id": chamber.org_id, "notes": "after validation"}
    with db.transaction() as s:
        role_map = roles.save(s, actor=sender.actor, partnership=s.get_one(Partnership, partnership_id),
                              functions=functions, notes="Validation and recognition are separate acts")
        described = views.role_map(s, role_map)
    entries = {(e["function"], e["side"]): e for e in described["entries"]}
    assert len(entries) == 12
    assert (entries[("mou_approval", "home")]["country"], entries[("mou_approval", "home")]["registered"]) == (
        "DE", True)
    assert entries[("recognition", "home")]["registered"] is False, "the registry has it for MoU approval only"
    assert entries[("assessment", "home")] == {
        "function": "assessment", "side": "home", "country": "DE", "organisation_id": None,
        "organisation_name": "Sending school", "notes": None, "registered": None}
    assert entries[("assessment", "host")]["country"] == "NL"
    with db.transaction(write=False) as s:
        assert s.scalars(select(OrganisationCompetence.organisation_id)).all() == [chamber.org_id], \
            "the map does not write the registry"
        current = roles.get_current(s, actor=host.actor, partnership_id=partnership_id)
        assert current is not None
        assert current.id == described["id"]
        with pytest.raises(NotFound):
            roles.get_current(s, actor=outsider.actor, partnership_id=partnership_id)
        assert len(s.scalars(select(RoleMap)).all()) == 1
        shown = views.partnership(s, actor=host.actor, partnership_id=partnership_id)["role_map"]
        assert shown is not None
        assert shown["id"] == described["id"]


def test_an_incomplete_role_map_is_refused(db: Database, world: tuple) -> None:
    sender, host, _outsider, partnership_id = world
    functions = ecvet_roles(host.org_id)
    del functions["la_approval"]
    functions["assessment"]["host"] = {"notes": "somebody"}
    functions["validation"]["home"] = {"organisation_id": 999999}
    functions["teaching"] = {}
    with pytest.raises(Invalid) as refused, db.transaction() as s:
        roles.save(s, actor=sender.actor, partnership=s.get_one(Partnership, partnership_id), functions=functions)
    assert set(refused.value.errors) == {"ecvet_roles.la_approval", "ecvet_roles.assessment.host",
                                         "ecvet_roles.validation.home.organisation_id", "ecvet_roles.teaching"}
    with pytest.raises(Forbidden), db.transaction() as s:
        roles.save(s, actor=host.actor, partnership=s.get_one(Partnership, partnership_id),
                   functions=ecvet_roles(host.org_id))
    with db.transaction(write=False) as s:
        assert s.scalar(select(RoleMap.id)) is None
