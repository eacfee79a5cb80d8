"""A holder describes its personal data arrays: add, change, remove; the rules; who may.

The reference lists come from their migration (purposes, legal bases, data items, …), so the
codes used here are the real ones.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from markupsafe import escape

from register.models import (
    ActivityEntry,
    Organisation,
    PersonalDataArray,
    ProcessingMode,
    RetentionUnit,
)
from register.services import arrays
from tests.conftest import Auth
from tests.factories import (
    ArrayFactory,
    HolderFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
)

CONFIDENTIAL = {
    "storage_location_details": "Server room 7, Ala-Too hosting, Bishkek",
    "information_systems": "1C Salary and HR 3.1",
    "named_recipients": "Social Fund of the Kyrgyz Republic",
    "cross_border_grounds": "Standard contractual clauses with the processor",
    "security_description": "Locked cabinets and role-based access",
}


def array_form(**changes: Any) -> dict[str, Any]:
    """A complete, valid array form, with `changes` applied (None removes a field)."""
    form: dict[str, Any] = {
        "name": "Personnel files",
        "purpose_codes": ["hr_employment", "accounting_tax"],
        "purpose_other": "",
        "legal_basis_codes": ["contract", "legal_obligation"],
        "collection_methods": "From the employee at hiring",
        "processing_mode": "mixed",
        "data_item_codes": ["full_name", "pin", "address"],
        "data_item_other": "",
        "subject_category_codes": ["employees"],
        "subject_bucket_code": "up_to_1000",
        "source_codes": ["subject_directly"],
        "informing_subjects": "Written notice at hiring",
        "storage_form_code": "mixed",
        "retention_value": "75",
        "retention_unit": "years",
        "retention_condition": "",
        "storage_country": "KG",
        "recipient_category_codes": ["state_bodies"],
        "cross_border": "yes",
        "cross_border_countries": ["KZ", "RU"],
        "security_measure_codes": ["access_control", "backups"],
        "processing_start_date-day": "1",
        "processing_start_date-month": "3",
        "processing_start_date-year": "2015",
        **CONFIDENTIAL,
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def member_of(auth: Auth) -> tuple[Any, Organisation]:
    """A signed-in holder who owns a new organisation."""
    membership = MembershipFactory(organisation=OrganisationFactory())
    auth.login(membership.user)
    return membership.user, membership.organisation


def arrays_in(db: Any, organisation: Organisation) -> list[PersonalDataArray]:
    db.session.expire_all()
    return arrays.arrays_of(organisation.id)


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
    """The input, textarea, checkbox or option shows what the user typed or chose."""
    escaped = str(escape(value))
    tag = re.search(rf'<(input|textarea)[^>]*\bname="{re.escape(field)}"[^>]*>', page)
    if tag is not None and tag.group(1) == "textarea":
        assert f"{escaped}</textarea>" in page, value
        return
    checked = re.search(
        rf'<input[^>]*\bchecked\b[^>]*name="{field}"[^>]*value="{re.escape(escaped)}"', page
    )
    if checked is not None:
        return
    if tag is not None and 'type="text"' in tag.group(0):
        assert f'value="{escaped}"' in tag.group(0), tag.group(0)
        return
    select = re.search(rf'<select[^>]*\bname="{field}".*?</select>', page, re.S)
    assert select is not None, f"no input {field}"
    assert f'<option selected value="{escaped}">' in select.group(0), value


# -- adding, changing, removing ----------------------------------------------------------------


def test_add_a_complete_array(client, auth, db):
    _, organisation = member_of(auth)
    page = client.get(f"/organisation/{organisation.id}/arrays/new").get_data(as_text=True)
    legends = re.findall(r'<legend class="fieldset__legend heading-m">(.*?)</legend>', page)
    assert legends == [
        "About the array",
        "Personal data",
        "Storage",
        "Recipients and transfers",
        "Security",
        "Processing start date",
    ]
    special = re.findall(r'value="(\w+)">\s*<label[^>]*>[^<]*\(special category\)</label>', page)
    assert "health" in special and "biometric" in special and "pin" not in special
    assert '<option selected value="KG">' in page  # the storage country starts as Kyrgyzstan
    response = client.post_form(f"/organisation/{organisation.id}/arrays/new", array_form())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisation/{organisation.id}/registration"
    [array] = arrays_in(db, organisation)
    assert array.name == "Personnel files"
    assert array.purpose_codes == ["hr_employment", "accounting_tax"]
    assert array.processing_mode is ProcessingMode.MIXED
    assert (array.retention_value, array.retention_unit) == (75, RetentionUnit.YEARS)
    assert array.cross_border and array.cross_border_countries == ["KZ", "RU"]
    assert array.processing_start_date == date(2015, 3, 1)
    assert array.security_description == CONFIDENTIAL["security_description"]
    assert arrays.state(array) == "completed"
    assert db.session.scalar(
        sa.select(ActivityEntry.id).where(
            ActivityEntry.action == "array.created", ActivityEntry.object_id == str(array.id)
        )
    )


def test_the_edit_page_shows_what_was_saved_and_saves_changes(client, auth, db):
    _, organisation = member_of(auth)
    array = ArrayFactory(organisation=organisation, cross_border=True)
    array.cross_border_countries = ["KZ"]
    array.cross_border_grounds = "Contract clauses"
    db.session.commit()
    url = f"/organisation/{organisation.id}/arrays/{array.id}"
    page = client.get(url).get_data(as_text=True)
    assert_kept(page, "name", array.name)
    assert_kept(page, "purpose_codes", "hr_employment")
    assert_kept(page, "processing_mode", "mixed")
    assert_kept(page, "retention_value", "75")
    assert_kept(page, "retention_unit", "years")
    assert_kept(page, "cross_border", "yes")
    assert_kept(page, "cross_border_countries", "KZ")
    assert_kept(page, "security_description", array.security_description)
    assert 'name="processing_start_date-year" type="text" inputmode="numeric"' in page
    assert 'value="2015"' in page
    response = client.post_form(
        url,
        array_form(
            name="Personnel files (archive)",
            retention_value="",
            retention_unit="",
            retention_condition="until the contract ends",
            cross_border="no",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert array.name == "Personnel files (archive)"
    assert array.retention_value is None and array.retention_unit is None
    assert array.retention_condition == "until the contract ends"
    # No transfer: the countries and grounds of the hidden answers are not kept.
    assert not array.cross_border and array.cross_border_countries == []
    assert array.cross_border_grounds is None
    assert arrays.state(array) == "completed"


def test_remove_an_array_after_confirming(client, auth, db):
    _, organisation = member_of(auth)
    array = ArrayFactory(organisation=organisation, name="Old card index")
    kept = ArrayFactory(organisation=organisation)
    url = f"/organisation/{organisation.id}/arrays/{array.id}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "Are you sure you want to remove “Old card index”?" in html.unescape(page)
    response = client.post_form(url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisation/{organisation.id}/registration"
    assert [found.id for found in arrays_in(db, organisation)] == [kept.id]
    assert db.session.scalar(
        sa.select(ActivityEntry.id).where(ActivityEntry.action == "array.removed")
    )
    assert client.post_form(url).status_code == 404  # already gone


def test_an_incomplete_array_saves_and_is_in_progress(client, auth, db):
    _, organisation = member_of(auth)
    response = client.post_form(
        f"/organisation/{organisation.id}/arrays/new", {"name": "Visitors' log"}
    )
    assert response.status_code == 302
    [array] = arrays_in(db, organisation)
    assert array.storage_country == "KG"  # the select's default
    assert arrays.state(array) == "in_progress"
    assert arrays.missing_fields(array) == [
        name for name in arrays.REQUIRED_FIELDS if name not in {"name", "storage_country"}
    ]
    assert arrays.state(None) == "not_started"


def test_state_and_missing_fields(db):
    array = ArrayFactory()
    assert arrays.missing_fields(array) == []
    assert arrays.rule_errors(array) == {}
    assert arrays.state(array) == "completed"
    array.purpose_codes = []
    array.purpose_other = "Loyalty programme"  # "other" fills the list too
    array.retention_value, array.retention_unit = None, None
    assert arrays.missing_fields(array) == ["retention"]
    assert arrays.state(array) == "in_progress"
    array.retention_condition = "until the contract ends"
    array.data_item_codes = ["health"]  # special: "contract" does not allow it
    assert arrays.missing_fields(array) == []
    assert arrays.rule_errors(array) == {"legal_basis_codes": str(arrays.SPECIAL_BASIS_NEEDED)}
    assert arrays.state(array) == "in_progress"
    assert arrays.has_special_categories(array)
    assert "health" in arrays.special_item_codes() and "pin" not in arrays.special_item_codes()


def test_confidential_fields_are_encrypted(client, auth, db):
    _, organisation = member_of(auth)
    client.post_form(f"/organisation/{organisation.id}/arrays/new", array_form())
    [array] = arrays_in(db, organisation)
    table = PersonalDataArray.__table__
    columns = [table.c[f"{name}_encrypted"] for name in CONFIDENTIAL]
    stored = db.session.execute(sa.select(*columns).where(table.c.id == array.id)).one()
    for name, raw in zip(CONFIDENTIAL, stored, strict=True):
        assert raw is not None and CONFIDENTIAL[name].encode() not in bytes(raw), name
        assert getattr(array, name) == CONFIDENTIAL[name]


def test_control_characters_are_dropped(client, auth, db):
    _, organisation = member_of(auth)
    client.post_form(
        f"/organisation/{organisation.id}/arrays/new",
        array_form(name="Nul\x00 files", security_description="Bell\x07 safe"),
    )
    [array] = arrays_in(db, organisation)
    assert (array.name, array.security_description) == ("Nul files", "Bell safe")


# -- the rules ---------------------------------------------------------------------------------

FUTURE = date.today() + timedelta(days=2)  # tomorrow or later in Bishkek too

ARRAY_ERRORS: list[tuple[dict[str, Any], str, str]] = [
    ({"name": ""}, "name", "Enter the name of the array"),
    ({"name": "Ы" * 301}, "name", "The name must be 300 characters or fewer"),
    ({"purpose_other": "Ы" * 501}, "purpose_other", "500 characters or fewer"),
    ({"collection_methods": "Ы" * 4001}, "collection_methods", "4000 characters or fewer"),
    ({"security_description": "Ы" * 4001}, "security_description", "4000 characters or fewer"),
    ({"purpose_codes": ["hr_employment", "spying"]}, "purpose_codes", "Choose only from"),
    ({"data_item_codes": ["soul"]}, "data_item_codes", "Choose only from"),
    ({"subject_bucket_code": "a_few"}, "subject_bucket_code", "Choose only from"),
    ({"processing_mode": "telepathic"}, "processing_mode", "Choose only from"),
    ({"storage_country": "XX"}, "storage_country", "Choose a country from the list"),
    ({"cross_border_countries": []}, "cross_border_countries", "Select the countries"),
    ({"cross_border_countries": ["ZZ"]}, "cross_border_countries", "Choose a country"),
    ({"cross_border_grounds": ""}, "cross_border_grounds", "Enter the grounds"),
    (
        {"data_item_codes": ["full_name", "health"]},
        "legal_basis_codes",
        "select at least one legal basis that allows processing them",
    ),
    ({"retention_value": "0"}, "retention_value", "a whole number greater than 0"),
    ({"retention_value": "-5"}, "retention_value", "a whole number greater than 0"),
    ({"retention_value": "ten"}, "retention_value", "a whole number greater than 0"),
    ({"retention_value": "2.5"}, "retention_value", "a whole number greater than 0"),
    ({"retention_unit": ""}, "retention_value", "days, months or years"),
    ({"retention_value": "", "retention_unit": "years"}, "retention_value", "number of days"),
    (
        {"retention_condition": "until the contract ends"},
        "retention_value",
        "either a retention period or a condition, not both",
    ),
    (
        {"processing_start_date-day": "31", "processing_start_date-month": "2"},
        "processing_start_date",
        "must be a real date",
    ),
    ({"processing_start_date-month": "13"}, "processing_start_date", "must be a real date"),
    ({"processing_start_date-year": "twenty"}, "processing_start_date", "must be a real date"),
    ({"processing_start_date-day": ""}, "processing_start_date", "must include a day"),
    (
        {
            "processing_start_date-day": str(FUTURE.day),
            "processing_start_date-month": str(FUTURE.month),
            "processing_start_date-year": str(FUTURE.year),
        },
        "processing_start_date",
        "today or in the past",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), ARRAY_ERRORS)
def test_what_is_entered_is_checked(client, auth, db, changes, field, message):
    _, organisation = member_of(auth)
    array = ArrayFactory(organisation=organisation, name="Before")
    url = f"/organisation/{organisation.id}/arrays/{array.id}"
    response = client.post_form(url, array_form(**{"name": "After", **changes}))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert_error(page, field, message)
    # What was typed is kept, in this field and the others.
    for name, value in changes.items():
        if isinstance(value, str) and value and name != "retention_unit":
            if name.startswith("processing_start_date-"):
                assert f'value="{value}"' in page
            elif name not in {"subject_bucket_code", "processing_mode", "storage_country"}:
                assert_kept(page, name, value)  # an unknown code has no option to show
    if "name" not in changes:
        assert_kept(page, "name", "After")
    if "security_description" not in changes:
        assert_kept(page, "security_description", CONFIDENTIAL["security_description"])
    if "data_item_codes" not in changes:
        assert_kept(page, "data_item_codes", "pin")
    if "cross_border_countries" not in changes:
        assert_kept(page, "cross_border_countries", "KZ")
    db.session.expire_all()
    assert array.name == "Before"  # nothing saved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDataArray)) == 1


def test_special_categories_with_a_basis_that_allows_them(client, auth, db):
    _, organisation = member_of(auth)
    response = client.post_form(
        f"/organisation/{organisation.id}/arrays/new",
        array_form(
            data_item_codes=["full_name", "health"],
            legal_basis_codes=["contract", "medical_purposes"],
        ),
    )
    assert response.status_code == 302
    [array] = arrays_in(db, organisation)
    assert arrays.has_special_categories(array)
    assert arrays.state(array) == "completed"


def test_a_retired_code_stays_for_the_array_that_has_it(client, auth, db):
    from register.database import utcnow
    from register.models import ReferenceItem

    _, organisation = member_of(auth)
    array = ArrayFactory(organisation=organisation, purpose_codes=["marketing"])
    item = db.session.scalar(
        sa.select(ReferenceItem).where(
            ReferenceItem.list_code == "purpose", ReferenceItem.code == "marketing"
        )
    )
    item.retired_at = utcnow()
    db.session.commit()
    assert 'value="marketing"' not in client.get(
        f"/organisation/{organisation.id}/arrays/new"
    ).get_data(as_text=True)
    url = f"/organisation/{organisation.id}/arrays/{array.id}"
    assert 'value="marketing"' in client.get(url).get_data(as_text=True)
    response = client.post_form(url, array_form(purpose_codes=["marketing"]))
    assert response.status_code == 302


# -- who may -----------------------------------------------------------------------------------


def array_urls(organisation: Organisation, array_id: uuid.UUID) -> list[tuple[str, str]]:
    base = f"/organisation/{organisation.id}/arrays"
    return [
        ("GET", f"{base}/new"),
        ("POST", f"{base}/new"),
        ("GET", f"{base}/{array_id}"),
        ("POST", f"{base}/{array_id}"),
        ("GET", f"{base}/{array_id}/remove"),
        ("POST", f"{base}/{array_id}/remove"),
    ]


def request(client: Any, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.post_form(url, array_form())


def test_a_holder_of_another_organisation_gets_404(client, auth, db):
    owner = MembershipFactory()
    array = ArrayFactory(organisation=owner.organisation)
    auth.login(MembershipFactory().user)
    for method, url in array_urls(owner.organisation, array.id):
        assert request(client, method, url).status_code == 404, (method, url)
    assert len(arrays_in(db, owner.organisation)) == 1


def test_an_array_of_another_organisation_is_404_under_ones_own(client, auth, db):
    _, own = member_of(auth)
    other = MembershipFactory().organisation
    array = ArrayFactory(organisation=other)
    for method, url in array_urls(own, array.id)[2:]:
        assert request(client, method, url).status_code == 404, (method, url)
    base = f"/organisation/{own.id}/arrays/{uuid.uuid4()}"
    assert client.get(base).status_code == 404
    assert len(arrays_in(db, other)) == 1 and arrays_in(db, own) == []


def test_staff_get_403(client, auth, db):
    array = ArrayFactory(organisation=MembershipFactory().organisation)
    auth.login(StaffFactory())
    for method, url in array_urls(array.organisation, array.id):
        assert request(client, method, url).status_code == 403, (method, url)


def test_anonymous_users_are_sent_to_sign_in(client, db):
    array = ArrayFactory()
    response = client.get(f"/organisation/{array.organisation_id}/arrays/{array.id}")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_a_holder_without_membership_gets_404_for_new(client, auth, db):
    organisation = OrganisationFactory()
    auth.login(HolderFactory())
    assert client.get(f"/organisation/{organisation.id}/arrays/new").status_code == 404


def test_changes_need_the_csrf_token(client, auth, db):
    _, organisation = member_of(auth)
    array = ArrayFactory(organisation=organisation)
    base = f"/organisation/{organisation.id}/arrays"
    assert client.post(f"{base}/new", data=array_form()).status_code == 400
    assert client.post(f"{base}/{array.id}", data=array_form(name="X")).status_code == 400
    assert client.post(f"{base}/{array.id}/remove").status_code == 400
    assert [found.name for found in arrays_in(db, organisation)] == [array.name]


# -- the service -------------------------------------------------------------------------------


def test_arrays_of_is_one_query_in_name_order(db, query_counter):
    organisation = OrganisationFactory()
    organisation_id = organisation.id
    ArrayFactory(organisation=organisation, name="B", cross_border=False)
    ArrayFactory()  # another organisation's

    def task_list() -> tuple[list[str], list[str], list[str]]:
        db.session.expire_all()
        with query_counter() as statements:
            found = arrays.arrays_of(organisation_id)
            catalogue = arrays.catalogue()
            states = [arrays.state(array, catalogue) for array in found]
        return [array.name for array in found], states, selects(statements)

    names, states, one = task_list()
    assert names == ["B"] and states == ["completed"]
    for number in range(19):
        ArrayFactory(
            organisation=organisation,
            name=f"A{number:02d}",
            cross_border=True,
            cross_border_countries=["KZ"],
            cross_border_grounds="Contract clauses",
        )
    names, states, twenty = task_list()
    assert names == sorted(names) and len(names) == 20 and set(states) == {"completed"}
    assert len(twenty) == len(one) == 2  # the arrays and the catalogue, however many arrays
    db.session.expire_all()
    with query_counter() as statements:
        arrays.arrays_of(organisation_id)
    assert len(selects(statements)) == 1


def selects(statements: list[str]) -> list[str]:
    return [statement for statement in statements if statement.lstrip().startswith("SELECT")]


def test_service_changes_are_recorded(db):
    organisation = OrganisationFactory()
    array = arrays.create_array(organisation, arrays.ArrayDetails(name="  Card index  "))
    assert array.name == "Card index" and array.storage_country == "KG"
    arrays.update_array(array, arrays.ArrayDetails(name="Card index 2", purpose_codes=["a", "a"]))
    assert array.purpose_codes == ["a"]
    assert arrays.rule_errors(array) == {"purpose_codes": str(arrays.UNKNOWN_CODE)}
    arrays.remove_array(array)
    actions = db.session.scalars(
        sa.select(ActivityEntry.action).where(ActivityEntry.object_id == str(array.id))
    ).all()
    assert sorted(actions) == ["array.created", "array.removed", "array.updated"]


def test_hints_say_what_is_public_and_what_is_confidential(client, auth):
    _, organisation = member_of(auth)
    page = client.get(f"/organisation/{organisation.id}/arrays/new").get_data(as_text=True)

    def hint(field: str) -> str:
        found = re.search(rf'<div id="{field}-hint" class="hint">(.*?)</div>', page, re.S)
        assert found is not None, field
        return found.group(1)

    public = ["name", "purpose_codes", "legal_basis_codes", "data_item_codes", "storage_country"]
    public += ["subject_category_codes", "subject_bucket_code", "source_codes"]
    public += ["recipient_category_codes", "cross_border_countries"]
    for field in public:
        assert hint(field).startswith("Public."), field
    for field in [*CONFIDENTIAL, "security_measure_codes", "processing_start_date"]:
        assert hint(field).startswith("Confidential."), field
    assert "Public." in hint("retention")
