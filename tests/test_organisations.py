# ruff: noqa: RUF001 - names and addresses are Kyrgyz and Russian, in Cyrillic
"""A holder registers its organisation: details, head, responsible person, access and privacy.

The reference lists are filled by a migration of their own; until it lands they are empty, so
`add_reference_items` inserts the codes these tests use (skipping any already there).
"""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from markupsafe import escape

from register.extensions import db as _db
from register.models import (
    ActivityEntry,
    MemberRole,
    Membership,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    Person,
    PersonKind,
    ReferenceItem,
)
from register.services import organisations
from tests.conftest import Auth
from tests.factories import (
    DocumentFactory,
    HolderFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
)

# (list, code, Kyrgyz, Russian, English)
REFERENCE_ITEMS = [
    ("legal_form", "llc", "ЖЧК", "ООО", "Limited liability company"),
    ("legal_form", "state_institution", "Мамлекеттик мекеме", "Госучреждение", "State institution"),
    ("legal_form", "individual_entrepreneur", "Жеке ишкер", "ИП", "Individual entrepreneur"),
    ("ownership_form", "private", "Жеке менчик", "Частная", "Private"),
    ("ownership_form", "state", "Мамлекеттик", "Государственная", "State"),
    ("sector", "it", "Маалымат технологиялары", "Информационные технологии", "IT"),
    ("sector", "health", "Саламаттык сактоо", "Здравоохранение", "Health"),
    ("region", "KG-GB", "Бишкек шаары", "город Бишкек", "Bishkek city"),
    ("region", "KG-O", "Ош облусу", "Ошская область", "Osh region"),
]

VALID_PIN = "21505199012345"  # 15 May 1990


def add_reference_items() -> None:
    """Insert the codes the tests use, keeping any that the reference-list migration added."""
    existing = set(_db.session.execute(sa.select(ReferenceItem.list_code, ReferenceItem.code)))
    for order, (list_code, code, label_ky, label_ru, label_en) in enumerate(REFERENCE_ITEMS):
        if (list_code, code) not in existing:
            _db.session.add(
                ReferenceItem(
                    list_code=list_code,
                    code=code,
                    label_ky=label_ky,
                    label_ru=label_ru,
                    label_en=label_en,
                    sort_order=order,
                )
            )
    _db.session.commit()


@pytest.fixture(autouse=True)
def reference_items(db: Any) -> None:
    """The reference codes the organisation forms offer."""
    add_reference_items()


def organisation_form(**changes: str) -> dict[str, str]:
    """A complete, valid "Organisation details" form, with `changes` applied."""
    form = {
        "legal_name": "Limited Liability Company “Ала-Тоо Софт”",
        "short_name": "Ала-Тоо Софт",
        "tin": "02108201910073",
        "legal_form_code": "llc",
        "ownership_form_code": "private",
        "subordination": "",
        "sector_code": "it",
        "region_code": "KG-GB",
        "legal_address": "Chüy avenue 100, Bishkek",
        "actual_address": "Manas avenue 5, office 12, Bishkek",
        "phone": "0312 123 456",
        "email": "Office@AlaToo.example.kg",
        "website": "https://alatoo.example.kg",
    }
    form.update(changes)
    return form


def responsible_form(**changes: str) -> dict[str, str]:
    """A complete, valid responsible-person form, with `changes` applied."""
    form = {
        "full_name": "Айгүл Бакирова",
        "position": "Data protection officer",
        "pin": VALID_PIN,
        "phone": "0555 123 456",
        "email": "dpo@alatoo.example.kg",
        "consents_to_publication": "y",
    }
    form.update(changes)
    return form


def signed_in_holder(auth: Auth, **attributes: Any) -> Any:
    """A new holder user, signed in on the test client."""
    user = HolderFactory(**attributes)
    auth.login(user)
    return user


def member_of(auth: Auth, **organisation: Any) -> tuple[Any, Organisation]:
    """A signed-in holder who owns a new organisation."""
    membership = MembershipFactory(organisation=OrganisationFactory(**organisation))
    auth.login(membership.user)
    return membership.user, membership.organisation


def organisation_count() -> int:
    return int(_db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) or 0)


def assert_error(page: str, field: str, message: str) -> None:
    """The message is beside the field and, linking to it, in the error summary."""
    assert "There is a problem" in page
    beside = re.search(rf'<p id="{field}-error" class="error-message">(.*?)</p>', page, re.S)
    assert beside is not None, f"no error beside {field}"
    assert message in html.unescape(beside.group(1))
    summary = page.split('class="error-summary__list"', 1)[1].split("</ul>", 1)[0]
    linked = re.findall(rf'<a href="#{field}">(.*?)</a>', summary, re.S)
    assert any(message in html.unescape(text) for text in linked), summary


def assert_kept(page: str, field: str, value: str) -> None:
    """The input shows what the user typed."""
    tag = re.search(rf'<(?:input|select)[^>]*\bid="{field}"[^>]*>', page)
    assert tag is not None, f"no input {field}"
    if tag.group(0).startswith("<select"):
        assert re.search(rf'<option selected value="{re.escape(value)}">', page), value
    else:
        assert f'value="{escape(value)}"' in tag.group(0)


# -- pages and the whole journey --------------------------------------------------------------


def test_start_page_says_what_is_needed(client, auth):
    signed_in_holder(auth)
    page = client.get("/organisation/").get_data(as_text=True)
    assert "Register your organisation" in page
    for needed in ("(TIN)", "legal form", "legal address", "head", "(PIN)", "document proving"):
        assert needed in page
    assert 'href="/organisation/new"' in page


def test_register_an_organisation_page_by_page(client, auth, db):
    user = signed_in_holder(auth)
    assert client.get("/organisation/new").status_code == 200

    created = client.post_form("/organisation/new", organisation_form(tin="0210 8201 9100 73"))
    assert created.status_code == 302
    organisation = db.session.scalars(
        sa.select(Organisation).where(Organisation.created_by_id == user.id)
    ).one()
    assert created.headers["Location"] == f"/organisation/{organisation.id}/head"
    assert organisation.status is OrganisationStatus.UNVERIFIED
    assert organisation.origin is OrganisationOrigin.ONLINE
    assert organisation.tin == "02108201910073"
    assert organisation.public_tin == "02108201910073"  # a legal entity's TIN is public
    assert organisation.legal_name == "Limited Liability Company “Ала-Тоо Софт”"
    assert organisation.actual_address == "Manas avenue 5, office 12, Bishkek"
    assert organisation.phone == "+996 312 123 456"
    assert organisation.email == "Office@alatoo.example.kg"
    assert organisation.subordination is None
    membership = db.session.scalars(
        sa.select(Membership).where(Membership.organisation_id == organisation.id)
    ).one()
    assert (membership.user_id, membership.role) == (user.id, MemberRole.OWNER)
    assert db.session.scalar(
        sa.select(ActivityEntry).where(
            ActivityEntry.action == "organisation.created",
            ActivityEntry.object_id == str(organisation.id),
        )
    )

    overview = client.get("/organisation/").get_data(as_text=True)
    assert overview.count("Not started") == 3 and overview.count("Completed") == 1
    assert "Unverified" in overview

    base = f"/organisation/{organisation.id}"
    head = client.post_form(f"{base}/head", {"full_name": "Бакыт Асанов", "position": "Director"})
    assert head.headers["Location"] == f"{base}/responsible"
    responsible = client.post_form(f"{base}/responsible", responsible_form())
    assert responsible.headers["Location"] == f"{base}/documents"
    upload = client.post_form(
        f"{base}/documents", {"file": (io.BytesIO(b"%PDF-1.7\n..."), "order.pdf")}
    )
    assert upload.headers["Location"] == f"{base}/documents"

    db.session.expire_all()
    head_person = organisation.person(PersonKind.HEAD)
    assert (head_person.full_name, head_person.position) == ("Бакыт Асанов", "Director")
    person = organisation.person(PersonKind.RESPONSIBLE)
    assert person.pin == VALID_PIN
    assert person.phone == "+996 555 123 456"
    assert person.email == "dpo@alatoo.example.kg"
    assert person.consents_to_publication is True

    overview = client.get("/organisation/").get_data(as_text=True)
    assert overview.count("Completed") == 4 and "Not started" not in overview
    # Editing a person later goes back to the overview.
    again = client.post_form(f"{base}/head", {"full_name": "Бакыт Асанов", "position": "CEO"})
    assert again.headers["Location"] == "/organisation/"


def test_pages_are_filled_from_what_was_saved(client, auth):
    _, organisation = member_of(auth)
    PersonFactory(organisation=organisation, full_name="Нурлан Токтогулов", pin=VALID_PIN)
    page = client.get(f"/organisation/{organisation.id}/responsible").get_data(as_text=True)
    assert 'value="Нурлан Токтогулов"' in page and f'value="{VALID_PIN}"' in page
    details = client.get(f"/organisation/{organisation.id}/details").get_data(as_text=True)
    assert f'value="{escape(organisation.legal_name)}"' in details
    assert '<option selected value="llc">' in details
    assert 'name="tin"' not in details and organisation.tin in details  # shown, not editable


def test_reference_labels_follow_the_language(client, auth):
    member_of(auth, region_code="KG-O", legal_form_code="state_institution")
    page = client.get("/organisation/new?lang=ru").get_data(as_text=True)
    assert "Ошская область" in page and "Osh region" not in page
    overview = client.get("/organisation/?lang=en").get_data(as_text=True)
    assert re.search(r'class="meta">State institution · Osh [Rr]egion · TIN', overview)


def test_edit_details_keeps_the_tin(client, auth, db):
    _, organisation = member_of(auth)
    tin = organisation.tin
    response = client.post_form(
        f"/organisation/{organisation.id}/details",
        organisation_form(legal_name="Renamed LLC", tin="09999999999999", region_code="KG-O"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert organisation.legal_name == "Renamed LLC" and organisation.region_code == "KG-O"
    assert organisation.tin == tin and organisation.public_tin == tin


def test_a_legal_entity_cannot_become_an_entrepreneur_with_a_tin_that_is_no_pin(client, auth, db):
    _, organisation = member_of(auth, tin="01234567890123", public_tin="01234567890123")
    response = client.post_form(
        f"/organisation/{organisation.id}/details",
        organisation_form(legal_form_code="individual_entrepreneur"),
    )
    assert response.status_code == 200
    assert_error(response.get_data(as_text=True), "legal_form_code", "is not a PIN")
    db.session.expire_all()
    assert organisation.legal_form_code == "llc" and organisation.public_tin == "01234567890123"


def test_an_entrepreneur_cannot_become_a_legal_entity_and_publish_the_pin(client, auth, db):
    _, organisation = member_of(
        auth, legal_form_code="individual_entrepreneur", tin=VALID_PIN, public_tin=None
    )
    response = client.post_form(
        f"/organisation/{organisation.id}/details", organisation_form(legal_form_code="llc")
    )
    assert response.status_code == 200
    assert_error(response.get_data(as_text=True), "legal_form_code", "never published")
    db.session.expire_all()
    assert organisation.legal_form_code == "individual_entrepreneur"
    assert organisation.public_tin is None


# -- individual entrepreneurs ----------------------------------------------------------------


def test_an_entrepreneurs_tin_is_kept_confidential(client, auth, db):
    user = signed_in_holder(auth)
    response = client.post_form(
        "/organisation/new",
        organisation_form(legal_form_code="individual_entrepreneur", tin="11203198700021"),
    )
    assert response.status_code == 302
    organisation = organisations.find_by_tin("11203198700021")
    assert organisation is not None and organisation.created_by_id == user.id
    assert organisation.public_tin is None
    assert organisation.tin == "11203198700021"
    table = Organisation.__table__
    stored = db.session.execute(
        sa.select(table.c.tin_encrypted).where(table.c.id == organisation.id)
    ).scalar_one()
    assert b"11203198700021" not in bytes(stored)


def test_an_entrepreneurs_tin_must_be_a_pin(client, auth):
    signed_in_holder(auth)
    before = organisation_count()
    response = client.post_form(
        "/organisation/new",
        organisation_form(legal_form_code="individual_entrepreneur", tin="31203198700021"),
    )
    assert response.status_code == 200
    assert_error(response.get_data(as_text=True), "tin", "A PIN starts with 1 or 2")
    assert organisation_count() == before


# -- validation ------------------------------------------------------------------------------

LONG = "Ы" * 501

ORGANISATION_ERRORS = [
    ("tin", "12345", "Enter the TIN as 14 digits"),
    ("tin", "0123456789012a", "Enter the TIN as 14 digits"),
    ("tin", "012345678901234", "Enter the TIN as 14 digits"),
    ("tin", "", "Enter the TIN"),
    ("legal_name", "", "Enter the organisation's legal name"),
    ("legal_name", LONG, "The legal name must be 500 characters or fewer"),
    ("short_name", "Ы" * 201, "The short name must be 200 characters or fewer"),
    ("subordination", LONG, "The parent body must be 500 characters or fewer"),
    ("legal_address", LONG, "The legal address must be 500 characters or fewer"),
    ("actual_address", LONG, "The actual address must be 500 characters or fewer"),
    ("legal_form_code", "", "Select the legal form"),
    ("legal_form_code", "sole_trader", "Select the legal form"),
    ("ownership_form_code", "communal", "Select the form of ownership"),
    ("sector_code", "", "Select the sector"),
    ("region_code", "KG-XX", "Select the region"),
    ("phone", "12", "This phone number is not valid"),
    ("phone", "call me", "Enter a phone number"),
    ("phone", "1" * 41, "A phone number must be 40 characters or fewer"),
    ("email", "office.example.kg", "Enter an e-mail address in the correct format"),
    ("email", "office@", "Enter an e-mail address in the correct format"),
    ("website", "ftp://example.kg", "starting with http:// or https://"),
    ("website", "example.kg", "starting with http:// or https://"),
    ("website", "javascript:alert(1)", "starting with http:// or https://"),
    (
        "website",
        "https://" + "a" * 300 + ".kg",
        "The website address must be 300 characters or fewer",
    ),
]


@pytest.mark.parametrize(("field", "value", "message"), ORGANISATION_ERRORS)
def test_organisation_details_are_checked(client, auth, field, value, message):
    signed_in_holder(auth)
    before = organisation_count()
    response = client.post_form("/organisation/new", organisation_form(**{field: value}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert_error(page, field, message)
    if value and not field.endswith("_code"):  # an unknown code has no option to select
        assert_kept(page, field, value)
    other = "short_name" if field == "legal_name" else "legal_name"
    assert_kept(page, other, organisation_form()[other])  # the rest of the form is kept too
    if field != "region_code":
        assert_kept(page, "region_code", "KG-GB")
    assert organisation_count() == before


def test_control_characters_never_reach_the_database(client, auth, db):
    user = signed_in_holder(auth)
    response = client.post_form("/organisation/new", organisation_form(legal_name="Nul\x00 LLC"))
    assert response.status_code == 302
    organisation = db.session.scalars(
        sa.select(Organisation).where(Organisation.created_by_id == user.id)
    ).one()
    assert organisation.legal_name == "Nul LLC"


RESPONSIBLE_ERRORS = [
    ("pin", "2150519901234", "Enter the PIN as 14 digits"),
    ("pin", "215051990123456", "Enter the PIN as 14 digits"),
    ("pin", "2150519901234x", "Enter the PIN as 14 digits"),
    ("pin", "31505199012345", "A PIN starts with 1 or 2"),
    ("pin", "23102200112345", "this one is not a real date"),  # 31 February 2001
    ("pin", "20101209912345", "check the year"),  # 1 January 2099
    ("pin", "", "Enter the PIN"),
    ("full_name", "", "Enter the full name of the responsible person"),
    ("full_name", "Ы" * 201, "The full name must be 200 characters or fewer"),
    ("position", "Ы" * 201, "The position must be 200 characters or fewer"),
    ("phone", "+996 12", "This phone number is not valid"),
    ("phone", "", "Enter the work phone number"),
    ("email", "dpo@@alatoo.kg", "Enter an e-mail address in the correct format"),
]


@pytest.mark.parametrize(("field", "value", "message"), RESPONSIBLE_ERRORS)
def test_responsible_person_is_checked(client, auth, db, field, value, message):
    _, organisation = member_of(auth)
    response = client.post_form(
        f"/organisation/{organisation.id}/responsible", responsible_form(**{field: value})
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert_error(page, field, message)
    if value:
        assert_kept(page, field, value)
    assert re.search(r'<input[^>]*\bchecked\b[^>]*id="consents_to_publication"', page)
    assert (
        db.session.scalar(sa.select(Person.id).where(Person.organisation_id == organisation.id))
        is None
    )


def test_head_is_checked(client, auth, db):
    _, organisation = member_of(auth)
    response = client.post_form(
        f"/organisation/{organisation.id}/head", {"full_name": "", "position": "Ы" * 201}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert_error(page, "full_name", "Enter the head's full name")
    assert_error(page, "position", "The position must be 200 characters or fewer")
    assert (
        db.session.scalar(sa.select(Person.id).where(Person.organisation_id == organisation.id))
        is None
    )


def test_consent_can_be_withdrawn(client, auth, db):
    _, organisation = member_of(auth)
    person = PersonFactory(organisation=organisation, consents_to_publication=True)
    DocumentFactory(organisation=organisation)
    form = responsible_form()
    del form["consents_to_publication"]
    response = client.post_form(f"/organisation/{organisation.id}/responsible", form)
    assert response.headers["Location"] == "/organisation/"
    db.session.expire_all()
    assert person.consents_to_publication is False
    assert db.session.scalar(
        sa.select(ActivityEntry.id).where(ActivityEntry.action == "organisation.consent_withdrawn")
    )


# -- a TIN already in the register -----------------------------------------------------------


def test_a_second_holder_with_the_same_tin_is_sent_to_request_access(client, auth, db):
    existing = MembershipFactory().organisation
    newcomer = signed_in_holder(auth)
    before = organisation_count()

    spaced = " ".join([existing.tin[:4], existing.tin[4:]])
    response = client.post_form(
        "/organisation/new", organisation_form(tin=spaced, legal_name="Takeover LLC")
    )
    assert response.status_code == 302
    # The TIN is carried in the session, never in a URL (an entrepreneur's TIN is a PIN).
    assert response.headers["Location"] == "/organisation/request-access"
    page = client.get("/organisation/request-access").get_data(as_text=True)
    assert existing.legal_name in page
    db.session.expire_all()
    assert organisation_count() == before
    assert db.session.scalar(sa.select(Membership).where(Membership.user_id == newcomer.id)) is None
    assert existing.legal_name != "Takeover LLC"
    assert (
        db.session.scalar(
            sa.select(ActivityEntry.id).where(
                ActivityEntry.action == "organisation.created",
                ActivityEntry.actor_id == newcomer.id,
            )
        )
        is None
    )


def test_a_concurrent_insert_of_the_same_tin_also_leads_to_request_access(
    client, auth, db, monkeypatch
):
    """Both requests looked the TIN up before either inserted: the unique index decides."""
    existing = OrganisationFactory()
    newcomer = signed_in_holder(auth)
    before = organisation_count()
    real_find = organisations.find_by_tin
    lookups: list[str] = []

    def not_yet_visible(tin: str):
        # The first look-up runs before the other request's insert is visible.
        lookups.append(tin)
        return None if len(lookups) == 1 else real_find(tin)

    monkeypatch.setattr(organisations, "find_by_tin", not_yet_visible)

    response = client.post_form("/organisation/new", organisation_form(tin=existing.tin))
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisation/request-access"
    db.session.expire_all()
    assert organisation_count() == before
    assert db.session.scalar(sa.select(Membership).where(Membership.user_id == newcomer.id)) is None


def test_a_member_entering_its_own_tin_is_sent_to_its_organisations(client, auth):
    _, organisation = member_of(auth)
    before = organisation_count()
    response = client.post_form("/organisation/new", organisation_form(tin=organisation.tin))
    assert response.headers["Location"] == "/organisation/"
    assert organisation_count() == before
