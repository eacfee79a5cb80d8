"""`demo seed` adds organisations in several sectors and regions with their people, once."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from register import validation
from register.demo_organisations import (
    DEMO_HOLDER_EMAIL,
    DEMO_ORGANISATIONS,
    ENTREPRENEUR_PIN,
    find_by_tin,
)
from register.models import (
    MemberRole,
    Membership,
    Organisation,
    Person,
    PersonKind,
    ReferenceList,
)
from register.services import reference
from register.services.accounts import find_by_email


def counts(db: Any) -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Organisation, Person, Membership)
    )


@pytest.fixture
def seeded(runner, db) -> str:
    """The output of a first `demo seed`."""
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return str(result.output)


def demo_organisations() -> list[Organisation]:
    """The demo organisations, in the order of DEMO_ORGANISATIONS."""
    found = [find_by_tin(demo.tin) for demo in DEMO_ORGANISATIONS]
    return [organisation for organisation in found if organisation is not None]


def test_seed_twice_creates_the_organisations_once(runner, db, seeded):
    after_first = counts(db)
    assert after_first[0] >= len(DEMO_ORGANISATIONS) >= 5
    assert after_first[1] >= 2 * len(DEMO_ORGANISATIONS)
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    assert counts(db) == after_first


def test_the_output_names_each_organisation_with_its_region_and_sector(seeded):
    assert "Demo organisations" in seeded
    for demo in DEMO_ORGANISATIONS:
        line = next(line for line in seeded.splitlines() if demo.short_name in line)
        region = next(
            item.label_en
            for item in reference.items(ReferenceList.REGION)
            if item.code == demo.region_code
        )
        sector = next(
            item.label_en
            for item in reference.items(ReferenceList.SECTOR)
            if item.code == demo.sector_code
        )
        assert region in line and sector in line


def test_every_demo_organisation_is_found_by_its_tin(seeded):
    assert len(demo_organisations()) == len(DEMO_ORGANISATIONS)
    assert find_by_tin("09999999999999") is None


def test_organisations_span_sectors_and_regions_with_current_reference_codes(seeded):
    organisations = demo_organisations()
    assert len({organisation.sector_code for organisation in organisations}) >= 4
    assert len({organisation.region_code for organisation in organisations}) >= 4
    for organisation in organisations:
        assert reference.is_offered(ReferenceList.LEGAL_FORM, organisation.legal_form_code)
        assert reference.is_offered(ReferenceList.OWNERSHIP_FORM, organisation.ownership_form_code)
        assert reference.is_offered(ReferenceList.SECTOR, organisation.sector_code)
        assert reference.is_offered(ReferenceList.REGION, organisation.region_code)


def test_the_individual_entrepreneurs_tin_is_her_pin_and_never_public(seeded):
    entrepreneurs = [
        organisation
        for organisation in demo_organisations()
        if organisation.is_individual_entrepreneur
    ]
    assert len(entrepreneurs) == 1
    [entrepreneur] = entrepreneurs
    assert entrepreneur.region_code == "KG-J"
    assert entrepreneur.public_tin is None
    assert entrepreneur.tin == ENTREPRENEUR_PIN
    assert validation.check_pin(entrepreneur.tin) == ENTREPRENEUR_PIN
    legal_entities = [
        organisation
        for organisation in demo_organisations()
        if not organisation.is_individual_entrepreneur
    ]
    assert all(organisation.public_tin == organisation.tin for organisation in legal_entities)


def test_identifiers_and_contacts_are_valid(seeded):
    consents = set()
    for organisation in demo_organisations():
        assert validation.check_tin(organisation.tin) == organisation.tin
        assert validation.check_phone(organisation.phone or "").startswith("+996 ")
        assert validation.check_email(organisation.email or "")
        head = organisation.person(PersonKind.HEAD)
        responsible = organisation.person(PersonKind.RESPONSIBLE)
        assert head is not None and head.full_name and head.position
        assert responsible is not None and responsible.full_name and responsible.position
        assert validation.check_pin(responsible.pin or "") == responsible.pin
        assert validation.check_phone(responsible.phone or "").startswith("+996 ")
        assert validation.check_email(responsible.email or "")
        consents.add(responsible.consents_to_publication)
    assert consents == {True, False}


def test_the_demo_holder_owns_the_organisations_marked_so(seeded, db):
    clerk = find_by_email(DEMO_HOLDER_EMAIL)
    assert clerk is not None
    memberships = list(
        db.session.scalars(sa.select(Membership).where(Membership.user_id == clerk.id))
    )
    assert len(memberships) == sum(demo.owned_by_demo_holder for demo in DEMO_ORGANISATIONS) == 4
    assert {membership.role for membership in memberships} == {MemberRole.OWNER}
    owned = {membership.organisation_id for membership in memberships}
    expected = {
        organisation.id
        for demo, organisation in zip(DEMO_ORGANISATIONS, demo_organisations(), strict=True)
        if demo.owned_by_demo_holder
    }
    assert owned == expected
    assert all(
        organisation.created_by_id == clerk.id
        for organisation in demo_organisations()
        if organisation.id in owned
    )
