# ruff: noqa: RUF001 - Kyrgyz and Russian labels are written in Cyrillic
"""Reference lists: the contents the migration loads, the admin pages, and the lists in use."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import sqlalchemy as sa

from register.models import ActivityEntry, ReferenceItem, ReferenceList, Role
from register.models.organisations import INDIVIDUAL_ENTREPRENEUR
from register.services import reference
from tests.factories import HolderFactory, StaffFactory

# The codes every list starts with (migration "reference list contents").
EXPECTED_CODES = {
    "legal_form": """llc jsc state_institution municipal_institution state_enterprise
        municipal_enterprise non_commercial individual_entrepreneur branch_or_representative
        other""",
    "ownership_form": "state municipal private mixed foreign other",
    "sector": """public_administration health education finance_banking insurance
        telecommunications it trade_retail transport energy_utilities social_services housing
        law_enforcement judiciary religious hospitality_tourism media manufacturing agriculture
        non_profit other""",
    "region": "KG-GB KG-GO KG-B KG-C KG-J KG-Y KG-N KG-O KG-T",
    "purpose": """hr_employment customer_service contract_performance accounting_tax health_care
        education social_protection state_services security_video marketing statistics_research
        law_enforcement other""",
    "legal_basis": """consent written_consent contract legal_obligation law_special_categories
        vital_interests medical_purposes public_interest_state_functions court_proceedings
        other""",
    "data_item": """full_name pin passport birth_date address phone email photo biometric health
        ethnicity religion political_views criminal_record sex_life financial education
        employment location online_identifiers family other""",
    "subject_category": """employees job_applicants customers patients pupils_students minors
        citizens visitors contractors members other""",
    "subject_bucket": "up_to_1000 up_to_10000 up_to_100000 up_to_1000000 over_1000000",
    "source": "subject_directly third_parties public_sources state_information_systems other",
    "recipient_category": """state_bodies law_enforcement courts banks_financial insurers
        contractors_processors group_companies foreign_recipients other""",
    "security_measure": """access_control encryption backups antivirus firewall audit_logging
        staff_training physical_security pseudonymisation incident_response data_minimisation
        other""",
    "storage_form": "paper electronic mixed",
    "law_article": " ".join([*(f"art_{n}" for n in range(3, 32)), "cabinet_638", "other"]),
}
REGIONS_KY = {
    "KG-GB": "Бишкек шаары",
    "KG-GO": "Ош шаары",
    "KG-B": "Баткен облусу",
    "KG-C": "Чүй облусу",
    "KG-J": "Жалал-Абад облусу",
    "KG-Y": "Ысык-Көл облусу",
    "KG-N": "Нарын облусу",
    "KG-O": "Ош облусу",
    "KG-T": "Талас облусу",
}
# fmt: off
SPECIAL_CATEGORIES = {
    "biometric", "health", "ethnicity", "religion", "political_views", "criminal_record",
    "sex_life",
}
BASES_FOR_SPECIAL_CATEGORIES = {
    "written_consent", "law_special_categories", "vital_interests", "medical_purposes",
    "court_proceedings",
}
# fmt: on
NEW_SECTOR = {
    "code": "sport",
    "label_ky": "Дене тарбия жана спорт",
    "label_ru": "Физическая культура и спорт",
    "label_en": "Sport",
    "sort_order": "205",
}


def all_items(db: Any, list_code: str) -> list[ReferenceItem]:
    return list(
        db.session.scalars(sa.select(ReferenceItem).where(ReferenceItem.list_code == list_code))
    )


def item(db: Any, list_code: str, code: str) -> ReferenceItem:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(ReferenceItem).where(
            ReferenceItem.list_code == list_code, ReferenceItem.code == code
        )
    ).one()


def entries(db: Any, action: str, object_id: str) -> list[ActivityEntry]:
    return list(
        db.session.scalars(
            sa.select(ActivityEntry)
            .where(ActivityEntry.action == action, ActivityEntry.object_id == object_id)
            .order_by(ActivityEntry.seq)
        )
    )


@pytest.fixture
def admin(client, auth):
    """A signed-in admin, pages in English."""
    user = StaffFactory(role=Role.ADMIN, full_name="Ada Admin")
    auth.login(user)
    with client.session_transaction() as session:
        session["lang"] = "en"
    return user


# -- the contents ---------------------------------------------------------------------------


@pytest.mark.parametrize("list_code", [reference_list.value for reference_list in ReferenceList])
def test_every_list_has_its_items_with_three_labels_and_unique_codes(db, list_code):
    found = all_items(db, list_code)
    codes = [found_item.code for found_item in found]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(EXPECTED_CODES[list_code].split())
    pattern = r"KG-[A-Z]{1,2}" if list_code == "region" else r"[a-z0-9_]{1,40}"
    for found_item in found:
        assert re.fullmatch(pattern, found_item.code), found_item.code
        assert not found_item.is_retired
        labels = (found_item.label_ky, found_item.label_ru, found_item.label_en)
        assert all(label and label == label.strip() for label in labels), found_item.code
        # Kyrgyz and Russian labels are in Cyrillic; English ones are not.
        assert re.search("[а-яёүөң]", found_item.label_ky.lower()), found_item.code
        assert re.search("[а-яё]", found_item.label_ru.lower()), found_item.code
        assert not re.search("[а-яё]", found_item.label_en.lower()), found_item.code


def test_every_list_is_in_the_migration_and_nothing_else(db):
    listed = set(db.session.scalars(sa.select(ReferenceItem.list_code).distinct()))
    assert listed == {reference_list.value for reference_list in ReferenceList}


def test_regions_are_the_nine_iso_codes_with_their_kyrgyz_names(db):
    regions = {found.code: found for found in all_items(db, "region")}
    assert {code: found.label_ky for code, found in regions.items()} == REGIONS_KY
    assert regions["KG-GB"].label_ru == "город Бишкек"
    assert regions["KG-C"].label_en == "Chüy Region"


def test_subject_buckets_cover_every_count_with_one_boundary_at_100000(db):
    buckets = sorted(all_items(db, "subject_bucket"), key=lambda bucket: bucket.lower_bound)
    assert buckets[0].lower_bound == 1
    assert buckets[-1].upper_bound is None
    for before, after in itertools.pairwise(buckets):
        assert after.lower_bound == before.upper_bound + 1  # no gap, no overlap
    ending = [bucket for bucket in buckets if bucket.upper_bound == 100_000]
    starting = [bucket for bucket in buckets if bucket.lower_bound == 100_001]
    assert [bucket.code for bucket in ending] == ["up_to_100000"]
    assert [bucket.code for bucket in starting] == ["up_to_1000000"]


def test_special_categories_of_data_are_flagged(db):
    flagged = {found.code for found in all_items(db, "data_item") if found.is_special_category}
    assert flagged == SPECIAL_CATEGORIES
    others = [found for found in all_items(db, "legal_basis") if found.is_special_category]
    assert others == []


def test_legal_bases_that_allow_special_categories_are_flagged(db):
    found = all_items(db, "legal_basis")
    assert {basis.code for basis in found if basis.valid_for_special_categories} == (
        BASES_FOR_SPECIAL_CATEGORIES
    )


def test_the_individual_entrepreneur_code_is_the_one_the_model_knows(db):
    assert INDIVIDUAL_ENTREPRENEUR in {found.code for found in all_items(db, "legal_form")}


# -- the lists in each language ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "bishkek", "entrepreneur"),
    [
        ("ky", "Бишкек шаары", "Жеке ишкер"),
        ("ru", "город Бишкек", "Индивидуальный предприниматель"),
        ("en", "Bishkek city", "Individual entrepreneur"),
    ],
)
def test_choices_and_labels_are_in_the_current_language(app, language, bishkek, entrepreneur):
    with app.test_request_context(f"/?lang={language}"):
        regions = reference.choices(ReferenceList.REGION)
        assert regions[0] == ("KG-GB", bishkek)
        assert [code for code, _ in regions] == list(REGIONS_KY)  # in the list's order
        assert reference.label(ReferenceList.LEGAL_FORM, "individual_entrepreneur") == entrepreneur
        assert reference.label(ReferenceList.REGION, "KG-XX") == "KG-XX"


@pytest.mark.parametrize(
    ("language", "shown", "not_shown"),
    [
        ("ky", "Бишкек шаары", ("город Бишкек", "Bishkek city")),
        ("ru", "город Бишкек", ("Бишкек шаары", "Bishkek city")),
        ("en", "Bishkek city", ("Бишкек шаары", "город Бишкек")),
    ],
)
def test_the_lists_page_shows_items_in_the_chosen_language(
    client, admin, language, shown, not_shown
):
    page = client.get(f"/admin/reference?lang={language}").get_data(as_text=True)
    assert shown in page
    for other in not_shown:
        assert other not in page


@pytest.mark.parametrize(
    ("language", "name"),
    [("ky", "Кыргызстан"), ("ru", "Киргизия"), ("en", "Kyrgyzstan")],
)
def test_countries_come_from_babel_in_the_current_language(app, language, name):
    with app.test_request_context(f"/?lang={language}"):
        countries = reference.countries()
    names = dict(countries)
    assert names["KG"] == name
    assert 240 <= len(countries) <= 260
    codes = set(names)
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in codes)
    assert not codes & {"EU", "EZ", "UN", "QO", "ZZ"}  # aggregates and "unknown region"
    assert {"RU", "KZ", "CN", "UZ", "TJ", "TR", "DE", "US"} <= codes
    assert [country for _, country in countries] == sorted(country for _, country in countries)


def test_countries_leave_out_pseudo_regions(app):
    with app.test_request_context("/?lang=en"):
        codes = {code for code, _ in reference.countries()}
    assert not codes & {"XA", "XB"}


# -- the admin pages --------------------------------------------------------------------------


def test_lists_page_shows_the_fourteen_lists_with_their_counts(client, admin):
    response = client.get("/admin/reference")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)[1:]
    assert len(rows) == 14
    region_row = next(row for row in rows if "/admin/reference/region" in row)
    assert ">Regions<" in region_row
    assert "<td>9</td>" in region_row
    assert ">Legal forms<" in page and ">Security and confidentiality measures<" in page


def test_list_page_shows_codes_labels_and_flags(client, admin):
    page = client.get("/admin/reference/data_item").get_data(as_text=True)
    biometric = next(row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if ">biometric<" in row)
    assert "Биометрикалык маалыматтар" in biometric
    assert "Биометрические данные" in biometric
    assert "Biometric data" in biometric
    assert "<td>Yes</td>" in biometric and "<td>Current</td>" in biometric
    buckets = client.get("/admin/reference/subject_bucket").get_data(as_text=True)
    assert "<td>100000</td>" in buckets and "<td>100001</td>" in buckets


def test_unknown_list_or_item_is_not_found(client, admin):
    assert client.get("/admin/reference/colours").status_code == 404
    assert client.get("/admin/reference/colours/new").status_code == 404
    assert client.get("/admin/reference/sector/no_such_sector").status_code == 404
    response = client.post_form("/admin/reference/sector/no_such_sector/retire")
    assert response.status_code == 404


def test_admin_adds_an_item_which_forms_then_offer(app, client, admin, db):
    form_page = client.get("/admin/reference/sector/new").get_data(as_text=True)
    assert 'name="code"' in form_page
    assert 'name="is_special_category"' not in form_page  # only data items have the flag

    response = client.post_form("/admin/reference/sector/new", NEW_SECTOR)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/reference/sector"
    created = item(db, "sector", "sport")
    assert (created.label_ky, created.label_ru, created.label_en) == (
        "Дене тарбия жана спорт",
        "Физическая культура и спорт",
        "Sport",
    )
    assert created.sort_order == 205
    [entry] = entries(db, "reference.item_created", "sector:sport")
    assert entry.object_type == "reference_item"
    assert entry.actor_id == admin.id
    with app.test_request_context("/?lang=ru"):
        assert ("sport", "Физическая культура и спорт") in reference.choices("sector")


def test_new_item_takes_the_flag_of_its_list_and_a_position_at_the_end(client, admin, db):
    response = client.post_form(
        "/admin/reference/data_item/new",
        {
            "code": "genetic",
            "label_ky": "Генетикалык маалыматтар",
            "label_ru": "Генетические данные",
            "label_en": "Genetic data",
            "is_special_category": "y",
            "sort_order": "",
        },
    )
    assert response.status_code == 302
    created = item(db, "data_item", "genetic")
    assert created.is_special_category is True
    assert created.sort_order > max(
        found.sort_order for found in all_items(db, "data_item") if found.code != "genetic"
    )


def test_duplicate_code_is_refused_beside_the_field_and_the_input_kept(client, admin, db):
    before = len(all_items(db, "sector"))
    response = client.post_form("/admin/reference/sector/new", {**NEW_SECTOR, "code": "health"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(
        r'id="code-error"[^>]*>.*This list already has an item with this code', page, re.S
    )
    assert 'value="health"' in page
    assert 'value="Физическая культура и спорт"' in page
    assert len(all_items(db, "sector")) == before
    assert entries(db, "reference.item_created", "sector:health") == []


def test_a_retired_code_cannot_be_created_again(client, admin, db):
    client.post_form("/admin/reference/sector/religious/retire")
    response = client.post_form("/admin/reference/sector/new", {**NEW_SECTOR, "code": "religious"})
    assert response.status_code == 200
    assert "This list already has an item with this code" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("list_code", "code", "message"),
    [
        ("sector", "Sport Clubs", "Use only lowercase Latin letters"),
        ("sector", "спорт", "Use only lowercase Latin letters"),
        ("sector", "x" * 41, "A code has at most 40 characters"),
        ("sector", "new", "This code is reserved"),
        ("sector", "", "Enter the code"),
        ("region", "bishkek", "Enter the ISO 3166-2 code of the region"),
        ("region", "KG-ABC", "Enter the ISO 3166-2 code of the region"),
    ],
)
def test_badly_formed_codes_are_refused(client, admin, db, list_code, code, message):
    response = client.post_form(f"/admin/reference/{list_code}/new", {**NEW_SECTOR, "code": code})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(ReferenceItem).where(ReferenceItem.code == code)
        )
        == 0
    )


def test_labels_are_required_and_at_most_300_characters(client, admin, db):
    response = client.post_form(
        "/admin/reference/sector/new",
        {**NEW_SECTOR, "label_ky": "  ", "label_en": "x" * 301},
    )
    page = response.get_data(as_text=True)
    assert "Enter the label in Kyrgyz" in page
    assert "A label has at most 300 characters" in page
    assert all_items(db, "sector") and "sport" not in {
        found.code for found in all_items(db, "sector")
    }


def test_a_region_is_added_with_its_iso_code(client, admin, db):
    response = client.post_form(
        "/admin/reference/region/new",
        {"code": "KG-XX", "label_ky": "Сынак", "label_ru": "Тест", "label_en": "Test"},
    )
    assert response.status_code == 302
    assert item(db, "region", "KG-XX").label_en == "Test"


def test_admin_edits_labels_flags_and_order_but_never_the_code(client, admin, db):
    page = client.get("/admin/reference/legal_basis/contract").get_data(as_text=True)
    assert 'name="code"' not in page
    assert 'name="valid_for_special_categories"' in page
    assert 'name="is_special_category"' not in page

    response = client.post_form(
        "/admin/reference/legal_basis/contract",
        {
            "code": "agreement",  # ignored: a code never changes
            "label_ky": "Келишим",
            "label_ru": "Договор",
            "label_en": "A contract with the data subject",
            "valid_for_special_categories": "y",
            "sort_order": "35",
        },
    )
    assert response.status_code == 302
    changed = item(db, "legal_basis", "contract")
    assert (changed.label_ky, changed.label_ru, changed.label_en) == (
        "Келишим",
        "Договор",
        "A contract with the data subject",
    )
    assert changed.valid_for_special_categories is True
    assert changed.sort_order == 35
    assert "agreement" not in {found.code for found in all_items(db, "legal_basis")}
    [entry] = entries(db, "reference.item_changed", "legal_basis:contract")
    assert entry.details["fields"] == (
        "label_ky,label_ru,label_en,sort_order,valid_for_special_categories"
    )


def test_saving_without_changes_records_nothing(client, admin, db):
    current = item(db, "sector", "health")
    response = client.post_form(
        "/admin/reference/sector/health",
        {
            "label_ky": current.label_ky,
            "label_ru": current.label_ru,
            "label_en": current.label_en,
            "sort_order": str(current.sort_order),
        },
    )
    assert response.status_code == 302
    assert entries(db, "reference.item_changed", "sector:health") == []


def test_edit_with_errors_keeps_the_input_and_changes_nothing(client, admin, db):
    response = client.post_form(
        "/admin/reference/sector/health",
        {"label_ky": "Саламаттык", "label_ru": "", "label_en": "Health", "sort_order": "ten"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Enter the label in Russian" in page
    assert "Enter a whole number" in page
    assert 'value="Саламаттык"' in page
    assert item(db, "sector", "health").label_ky == "Саламаттык сактоо"


def test_subject_buckets_cannot_overlap(client, admin, db):
    response = client.post_form(
        "/admin/reference/subject_bucket/new",
        {
            "code": "up_to_500",
            "label_ky": "500гө чейин",
            "label_ru": "До 500",
            "label_en": "Up to 500",
            "lower_bound": "1",
            "upper_bound": "500",
        },
    )
    assert response.status_code == 200
    assert "overlaps the range of the item up_to_1000" in response.get_data(as_text=True)
    response = client.post_form(
        "/admin/reference/subject_bucket/up_to_100000",
        {
            "label_ky": "x",
            "label_ru": "x",
            "label_en": "x",
            "lower_bound": "10001",
            "upper_bound": "9000",
        },
    )
    assert "The upper bound cannot be smaller than the lower bound" in response.get_data(
        as_text=True
    )
    assert item(db, "subject_bucket", "up_to_100000").upper_bound == 100_000


def test_retired_item_leaves_the_choices_but_keeps_its_label_and_comes_back(app, client, admin, db):
    response = client.post_form("/admin/reference/sector/media/retire")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/reference/sector/media"
    assert item(db, "sector", "media").is_retired
    with app.test_request_context("/?lang=en"):
        assert "media" not in dict(reference.choices("sector"))
        assert reference.label("sector", "media") == "Media and publishing"
        assert not reference.is_offered("sector", "media")
    list_page = client.get("/admin/reference/sector").get_data(as_text=True)
    media_row = next(
        row for row in re.findall(r"<tr>.*?</tr>", list_page, re.S) if ">media<" in row
    )
    assert "<td>Retired</td>" in media_row
    assert "Reinstate" in client.get("/admin/reference/sector/media").get_data(as_text=True)

    # Retiring again changes nothing and records nothing.
    client.post_form("/admin/reference/sector/media/retire")
    assert len(entries(db, "reference.item_retired", "sector:media")) == 1

    response = client.post_form("/admin/reference/sector/media/reinstate")
    assert response.status_code == 302
    assert not item(db, "sector", "media").is_retired
    with app.test_request_context("/?lang=en"):
        assert dict(reference.choices("sector"))["media"] == "Media and publishing"
    assert len(entries(db, "reference.item_reinstated", "sector:media")) == 1


def test_retire_needs_the_form_token(client, admin, db):
    response = client.post("/admin/reference/sector/media/retire")
    assert response.status_code == 400
    assert not item(db, "sector", "media").is_retired


# -- who may see the pages --------------------------------------------------------------------


PAGES = [
    ("GET", "/admin/reference"),
    ("GET", "/admin/reference/sector"),
    ("GET", "/admin/reference/sector/new"),
    ("POST", "/admin/reference/sector/new"),
    ("GET", "/admin/reference/sector/health"),
    ("POST", "/admin/reference/sector/health"),
    ("POST", "/admin/reference/sector/health/retire"),
    ("POST", "/admin/reference/sector/health/reinstate"),
]


@pytest.mark.parametrize("role", [Role.HOLDER, Role.INSPECTOR, Role.SUPERVISOR])
def test_only_admins_may_use_the_pages(client, auth, db, role):
    user = HolderFactory() if role is Role.HOLDER else StaffFactory(role=role)
    auth.login(user)
    for method, url in PAGES:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post_form(url, {**NEW_SECTOR, "code": "sport"})
        assert response.status_code == 403, (method, url)
    assert not item(db, "sector", "health").is_retired
    assert "sport" not in {found.code for found in all_items(db, "sector")}


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for method, url in PAGES:
        response = client.get(url) if method == "GET" else client.post_form(url, NEW_SECTOR)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/auth/sign-in")
