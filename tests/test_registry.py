# ruff: noqa: RUF001 - holder names are Kyrgyz and Russian, in Cyrillic
"""The public register: search that finds Kyrgyz and Russian names, filters, pages without end,
entry pages with their history, the JSON API, and never a confidential value.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import EntryStatus, PersonKind, RegisterEntry, Role
from register.search_text import normalise
from register.services import declarations, register_entries, registry, review
from tests.factories import (
    ArrayFactory,
    DeclarationVersionFactory,
    DocumentFactory,
    MembershipFactory,
    PersonFactory,
    StaffFactory,
)
from tests.support.registry import array, published


def names(client: Any, query: str = "", **args: Any) -> list[str]:
    response = client.get("/api/v1/holders", query_string={"q": query, "limit": 200, **args})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["legal_name"] for item in response.get_json()["items"]]


# -- search -------------------------------------------------------------------------------------


def test_search_finds_kyrgyz_names_with_or_without_kyrgyz_letters_in_any_case(client):
    published("Өзгөн шаардык Үй-бүлөлүк медицина борбору")
    published("Общество «Медицинский центр „Ден-Соолук“»", "МЦ Ден-Соолук")
    published("Ала-Тоо Софт")
    ozgon = "Өзгөн шаардык Үй-бүлөлүк медицина борбору"
    for query in ("Өзгөн", "озгон", "ӨЗГӨН", "өзг", "уй булолук", "ҮЙ-БҮЛӨЛҮК", "медицина борб"):
        assert names(client, query) == [ozgon], query
    for query in ("медицинский", "МЕДИЦИНСКИЙ", "ден соолук", "ден-соолук", "«Ден-Соолук»", "мц"):
        assert names(client, query) == ["Общество «Медицинский центр „Ден-Соолук“»"], query
    assert (
        names(client, "МЕДИЦ")
        == names(client, "мед")
        == sorted(
            [ozgon, "Общество «Медицинский центр „Ден-Соолук“»"],
            key=lambda name: normalise(name),
        )
    )
    assert names(client, "ала тоо") == ["Ала-Тоо Софт"]
    assert names(client, "оз") == []  # two letters: whole words only
    assert names(client, "софт медицина") == []  # every word must match


def test_a_tin_or_a_registration_number_finds_that_entry(client):
    first = published("First Company")
    published("Second Company")
    assert names(client, first.tin) == ["First Company"]
    assert names(client, first.registration_number) == ["First Company"]
    assert names(client, first.registration_number.lower()) == ["First Company"]
    assert names(client, "PDH-1999-000001") == []
    assert names(client, tin=first.tin) == ["First Company"]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "NEAR(",
        "NEAR(a b)",
        "a OR b",
        "AND",
        "%",
        "_",
        "%_%",
        "'",
        "a' OR 1=1 --",
        "(",
        ")",
        "^",
        ":",
        "-",
        "col:val",
        "\\",
        "&",
        "|",
        "!",
        "<->",
        "a:*",
        "\x00",
    ],
)
def test_search_syntax_characters_are_just_characters(client, query):
    published("Company Alpha")
    published("Company Beta")
    response = client.get("/api/v1/holders", query_string={"q": query})
    assert response.status_code == 200
    assert response.get_json()["items"] == []  # nothing to look for, never "everything"
    assert client.get("/registry", query_string={"q": query}).status_code == 200


def test_each_filter(client):
    published("Alpha", region="KG-O", sector="health")
    published("Beta", arrays=[array(cross_border_countries=["KZ"])])
    published("Gamma", arrays=[array(special_categories=True, data_item_codes=["health"])])
    published("Delta", status=EntryStatus.SUSPENDED)
    published("Epsilon", status=EntryStatus.STRUCK_OFF)
    assert names(client) == ["Alpha", "Beta", "Delta", "Epsilon", "Gamma"]  # every status
    assert names(client, region="KG-O") == ["Alpha"]
    assert names(client, sector="health") == ["Alpha"]
    assert names(client, status="suspended") == ["Delta"]
    assert names(client, status="struck_off") == ["Epsilon"]
    assert names(client, status="registered") == ["Alpha", "Beta", "Gamma"]
    assert names(client, cross_border="true") == ["Beta"]
    assert "Beta" not in names(client, cross_border="false")
    assert names(client, special_categories="true") == ["Gamma"]
    assert names(client, "a", region="KG-GB", status="registered") == []
    page = client.get("/registry?region=KG-O").get_data(as_text=True)
    assert "Alpha" in page and "Beta" not in page and "1 entry" in page


def walk_api(client: Any, limit: int, **args: Any) -> list[str]:
    found, cursor = [], None
    for _ in range(100):
        query = {"limit": limit, **args, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/holders", query_string=query).get_json()
        found += [item["registration_number"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("too many pages")


def test_walking_every_page_yields_every_match_once_in_order(client):
    entries = [published(f"Same Name {index % 3}") for index in range(11)]
    published("Unrelated")
    expected = [
        entry.registration_number
        for entry in sorted(entries, key=lambda entry: (entry.sort_name, entry.registration_number))
    ]
    for limit in (1, 2, 5, 200):
        assert walk_api(client, limit, q="same") == expected

    # The page walks forwards and back with the same order.
    seen, url = [], "/registry?q=same"
    pages = []
    while url:
        page = client.get(url)
        html = page.get_data(as_text=True)
        numbers = [n for n in expected if f'data-number="{n}"' in html]
        seen += numbers
        pages.append(url)
        marker = 'rel="next"'
        url = None
        if marker in html:
            href = html[: html.index(marker)].rsplit('href="', 1)[1].split('"', 1)[0]
            url = href.replace("&amp;", "&")
    assert seen == expected and len(pages) == 1  # 25 a page: one page of 11
    assert "11 entries" in client.get("/registry?q=same").get_data(as_text=True)


def test_previous_pages_with_the_before_cursor(app):
    entries = [published(f"Paged {index:02d}") for index in range(6)]
    numbers = [entry.registration_number for entry in entries]
    first = registry.search(registry.Filters(q="paged"), limit=2)
    second = registry.search(
        registry.Filters(q="paged"), after=registry.Cursor.decode(first.next_cursor), limit=2
    )
    third = registry.search(
        registry.Filters(q="paged"), after=registry.Cursor.decode(second.next_cursor), limit=2
    )
    assert [e.registration_number for e in third.items] == numbers[4:6] and not third.next_cursor
    back = registry.search(
        registry.Filters(q="paged"), before=registry.Cursor.decode(third.previous_cursor), limit=2
    )
    assert [e.registration_number for e in back.items] == numbers[2:4]
    start = registry.search(
        registry.Filters(q="paged"), before=registry.Cursor.decode(back.previous_cursor), limit=2
    )
    assert [e.registration_number for e in start.items] == numbers[0:2]
    assert start.previous_cursor is None


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "99999999999999999999"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "W1sxXV0"}, "cursor"),
        ({"region": "KG-XX"}, "region"),
        ({"sector": "nonsense"}, "sector"),
        ({"status": "deleted"}, "status"),
        ({"cross_border": "yes"}, "cross_border"),
        ({"special_categories": "1"}, "special_categories"),
        ({"tin": "123"}, "tin"),
        ({"q": "я" * 3000}, "q"),
    ],
)
def test_bad_parameters_are_a_400_problem_naming_them(client, args, parameter):
    response = client.get("/api/v1/holders", query_string=args)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["invalid-params"][0]["name"] == parameter
    page = client.get("/registry", query_string=args)
    assert page.status_code in (200, 400)
    assert "There is a problem" in page.get_data(as_text=True) or parameter in ("limit", "cursor")


def test_odd_bytes_in_a_query_never_crash(client):
    for raw in ("/api/v1/holders?q=%FF", "/registry?q=%FF%FE", "/api/v1/holders?q=%00"):
        assert client.get(raw).status_code in (200, 400)


# -- the entry page and the entry in the API ----------------------------------------------------


def test_the_entry_page_shows_public_fields_arrays_and_the_changes_between_versions(client):
    entry = published(
        "Versioned Company", arrays=[array("Customers", retention={"value": 3, "unit": "years"})]
    )
    number = entry.registration_number
    page = client.get(f"/registry/{number}?lang=en").get_data(as_text=True)
    assert "Versioned Company" in page and "Customers" in page and "3 years" in page
    assert entry.tin in page
    assert client.get(f"/registry/{number.lower()}").status_code == 301
    assert client.get("/registry/PDH-1999-999999").status_code == 404

    # A second version renames the company and shortens the retention.
    organisation = db.session.get(register_entries.Organisation, entry.organisation_id)
    snapshot = dict(entry.public_snapshot)
    snapshot["organisation"] = {**snapshot["organisation"], "legal_name": "Renamed Company"}
    array_id, values = next(iter(snapshot["arrays"].items()))
    snapshot["arrays"] = {array_id: {**values, "retention": {"value": 1, "unit": "years"}}}
    version = DeclarationVersionFactory(
        declaration__organisation=organisation, public_snapshot=snapshot, number=2
    )
    register_entries.publish(version, organisation, StaffFactory(), utcnow())
    db.session.flush()
    page = client.get(f"/registry/{number}?lang=en").get_data(as_text=True)
    assert "Renamed Company" in page
    changes = page[page.index('id="changes"') :]
    assert "Versioned Company" in changes and "Renamed Company" in changes
    assert "3 years" in changes and "1 year" in changes
    assert names(client, "renamed") == ["Renamed Company"]
    assert names(client, "versioned") == []  # the search text followed the new name

    versions = client.get(f"/api/v1/holders/{number}/versions").get_json()
    assert [item["version"] for item in versions["items"]] == [1, 2]
    assert {change["path"] for change in versions["items"][1]["changes"]} == {
        "organisation/legal_name",
        f"arrays/{array_id}/retention",
    }


def test_suspended_and_struck_off_entries_say_so(client):
    suspended = published("Suspended One", status=EntryStatus.SUSPENDED)
    struck = published("Struck One", status=EntryStatus.STRUCK_OFF)
    assert "This entry is suspended." in client.get(
        f"/registry/{suspended.registration_number}?lang=en"
    ).get_data(as_text=True)
    assert "This entry has been struck off the register." in client.get(
        f"/registry/{struck.registration_number}?lang=en"
    ).get_data(as_text=True)


def test_the_api_entry_has_an_etag_cache_control_and_cors(client):
    entry = published("Cached Company", arrays=[array("Clients"), array("Staff")])
    url = f"/api/v1/holders/{entry.registration_number}"
    first = client.get(url)
    body = first.get_json()
    assert body["registration_number"] == entry.registration_number
    assert body["version"] == 1 and [item["name"] for item in body["arrays"]] == [
        "Clients",
        "Staff",
    ]
    assert body["region"] == "KG-GB" and body["status"] == "registered"
    assert {"legal_name", "tin", "sector", "registered_on", "updated_on"} <= set(body)
    assert "max-age" in first.headers["Cache-Control"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    register_entries.change_status(entry, "suspend", StaffFactory(role=Role.SUPERVISOR), "x")
    db.session.flush()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["status"] == "suspended"
    missing = client.get("/api/v1/holders/PDH-1999-000009")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_the_list_has_what_design_promises(client):
    published("Listed Company")
    [item] = client.get("/api/v1/holders").get_json()["items"]
    for name in (
        "registration_number",
        "legal_name",
        "tin",
        "region",
        "sector",
        "status",
        "registered_on",
        "updated_on",
    ):
        assert name in item, name


# -- consent and confidentiality ----------------------------------------------------------------


def approved_organisation(**person: Any) -> tuple[Any, Any, RegisterEntry]:
    membership = MembershipFactory()
    user, organisation = membership.user, membership.organisation
    PersonFactory(organisation=organisation, kind=PersonKind.HEAD, pin=None, phone=None, email=None)
    PersonFactory(organisation=organisation, **person)
    DocumentFactory(organisation=organisation, uploaded_by_id=user.id)
    ArrayFactory(organisation=organisation)
    db.session.expire(organisation, ["people"])
    declaration = declarations.submit(organisation, user)
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    review.claim(declaration, supervisor, declaration.lock_version)
    review.approve(
        declaration, supervisor, grounds="OK", expected_lock_version=declaration.lock_version
    )
    db.session.flush()
    return user, organisation, register_entries.entry_of(organisation.id)


def test_withdrawing_consent_removes_the_contact_from_every_public_version(client, auth):
    user, organisation, entry = approved_organisation(
        full_name="Consenting Person",
        phone="+996 555 111 222",
        email="dpo@consent.example.kg",
        consents_to_publication=True,
    )
    url = f"/registry/{entry.registration_number}"
    assert "Consenting Person" in client.get(url).get_data(as_text=True)
    assert (
        client.get(f"/api/v1/holders/{entry.registration_number}").get_json()["responsible_person"][
            "full_name"
        ]
        == "Consenting Person"
    )
    auth.login(user)
    response = client.post_form(
        f"/organisation/{organisation.id}/responsible",
        {
            "full_name": "Consenting Person",
            "position": "DPO",
            "pin": "21505199012345",
            "phone": "+996 555 111 222",
            "email": "dpo@consent.example.kg",
        },
    )
    assert response.status_code == 302
    auth.logout()
    db.session.expire_all()
    for answer in (
        client.get(url).get_data(as_text=True),
        client.get(f"/api/v1/holders/{entry.registration_number}").get_data(as_text=True),
        client.get(f"/api/v1/holders/{entry.registration_number}/versions").get_data(as_text=True),
        str(
            db.session.execute(
                sa.select(register_entries.RegisterEntryVersion.public_snapshot)
            ).all()
        ),
    ):
        assert "Consenting Person" not in answer and "dpo@consent.example.kg" not in answer


def test_no_confidential_value_in_any_public_answer(client):
    mark = "SENTINEL-{}-c0ffee".format
    _, organisation, entry = approved_organisation(
        full_name=mark("responsible"),
        pin="21505199077777",
        phone="+996 555 777 777",
        email="sentinel@dpo.example.kg",
        position=mark("position"),
    )
    organisation.actual_address = mark("actual_address")
    db.session.flush()
    number = entry.registration_number
    answers = [
        client.get("/registry").get_data(as_text=True),
        client.get(f"/registry?q={organisation.legal_name.split()[0]}").get_data(as_text=True),
        client.get(f"/registry/{number}").get_data(as_text=True),
        client.get("/api/v1/holders").get_data(as_text=True),
        client.get(f"/api/v1/holders/{number}").get_data(as_text=True),
        client.get(f"/api/v1/holders/{number}/versions").get_data(as_text=True),
    ]
    confidential = [
        "SENTINEL",
        "21505199077777",
        "+996 555 777 777",
        "sentinel@dpo.example.kg",
        "Bishkek head office, room 12",
        "1C: Salary and HR",
        "Social Fund of the Kyrgyz Republic",
        "From the employee at hiring",
        "Written notice at hiring",
    ]
    for answer in answers:
        for value in confidential:
            assert value not in answer, value


def test_a_common_word_walks_the_sort_index_and_finds_the_same(client, monkeypatch):
    """On SQLite a word with many matches is tested row by row along the sort index; the
    results and their order must be those of the full-text index."""
    for index in range(9):
        published(f"Общество «Альянс {index}» и Ко", region="KG-O" if index % 2 else "KG-GB")
    published("Ала-Тоо Альянс-Сервис")
    published("Ак-Суу №5 мектеби")
    queries = ["альянс", "АЛЬ", "общество альянс", "ко", "ала тоо", "5", "мектеби", "№5", "xyz"]
    expected = {query: walk_api(client, 3, q=query) for query in queries}
    filtered = walk_api(client, 2, q="альянс", region="KG-O")
    monkeypatch.setattr(registry, "COMMON", 1)  # every word is "common" now
    for query in queries:
        assert walk_api(client, 3, q=query) == expected[query], query
    assert walk_api(client, 2, q="альянс", region="KG-O") == filtered
    assert len(expected["альянс"]) == 10 and len(filtered) == 4
    assert expected["xyz"] == []


def _terms() -> set[tuple[str, str, str]]:
    from register.models import search_terms

    table = search_terms.c
    return {
        (term, number, str(entry_id), region, sector, status, bool(cross), bool(special))
        for term, number, entry_id, region, sector, status, cross, special in db.session.execute(
            sa.select(
                table.term,
                table.registration_number,
                table.entry_id,
                table.region_code,
                table.sector_code,
                table.status,
                table.cross_border,
                table.special_categories,
            )
        )
    }


def _expected_terms() -> set[tuple[str, str, str]]:
    return {
        (
            word[:100],
            entry.registration_number,
            str(entry.id),
            entry.region_code,
            entry.sector_code,
            entry.status.value,
            entry.cross_border,
            entry.special_categories,
        )
        for entry in db.session.scalars(sa.select(RegisterEntry))
        for word in entry.search_text.split()
    }


def test_the_words_table_follows_every_change_of_an_entry(client):
    """Triggers keep `register_search_terms` equal to the words of every entry's search text
    and its filters, on a new entry, a change of status, region or flag, a new name, a new
    number and a deleted entry."""
    first = published("Общество «Береке-Транс»", "ОсОО Береке")
    second = published("Ынтымак " + "ж" * 150)  # a word longer than a term: cut, like the query
    db.session.flush()
    assert _terms() == _expected_terms()
    assert any(row[:3] == ("береке", first.registration_number, str(first.id)) for row in _terms())
    first.status = EntryStatus.SUSPENDED  # the filters are copied too
    first.region_code = "KG-O"
    first.cross_border = True
    db.session.flush()
    assert _terms() == _expected_terms()
    first.legal_name = "Новое имя"
    first.search_text = "новое имя " + first.registration_number.lower().replace("-", " ")
    first.sort_name = "новое имя"
    db.session.flush()
    assert _terms() == _expected_terms()
    assert not any(row[0] == "береке" for row in _terms())
    second.registration_number = "PDH-2020-999999"
    db.session.flush()
    assert _terms() == _expected_terms()
    from register.models import Certificate, RegisterEntryVersion

    for model in (Certificate, RegisterEntryVersion):
        db.session.execute(sa.delete(model).where(model.entry_id == first.id))
    db.session.execute(sa.delete(RegisterEntry).where(RegisterEntry.id == first.id))
    db.session.expire_all()
    assert _terms() == _expected_terms()
    assert all(row[1] != first.registration_number for row in _terms())


def _pages_backwards(limit: int, filters: registry.Filters) -> list[str]:
    """Every page from the last one back to the first, by `before` cursors."""
    forward = registry.search(filters, limit=10_000)
    if not forward.items:
        return []
    last = forward.items[-1]
    found = [last.registration_number]
    cursor = registry.Cursor(last.sort_name, last.registration_number)
    for _ in range(100):
        page = registry.search(filters, before=cursor, limit=limit)
        found = [entry.registration_number for entry in page.items] + found
        if page.previous_cursor is None:
            return found
        cursor = registry.Cursor.decode(page.previous_cursor)
    raise AssertionError("too many pages")


def test_the_words_walk_pages_both_ways_with_filters_and_counts(client, monkeypatch):
    """The leapfrog walk of the words table gives the full-text index's results, order and
    counts, forwards and backwards, with filters, with a prefix of several terms, and with a
    prefix of too many terms (tested row by row)."""
    names = [
        "Общество «Альянс Капитал»",
        "Общество «Альянс-Сервис»",
        "Альянсы Востока",
        "«Капитал Альянс» ЖЧК",
        "Ала-Тоо Капитал",
        "Капиталстрой Альянс",
        "Общество «Восток»",
    ]
    for index, name in enumerate(names * 3):
        published(name, region="KG-O" if index % 2 else "KG-GB")
    queries = [
        registry.Filters(q="альянс"),
        registry.Filters(q="альянс капитал"),
        registry.Filters(q="общество капитал"),
        registry.Filters(q="капитал", region="KG-O"),
        registry.Filters(q="аль кап", region="KG-GB"),
        registry.Filters(q="восток общество"),
        registry.Filters(q="нет такого"),
    ]

    def answers() -> list[tuple[list[str], list[str], int | None]]:
        results = []
        for filters in queries:
            whole = registry.search(filters, limit=10_000, count=True)
            forward = [entry.registration_number for entry in whole.items]
            results.append((forward, _pages_backwards(2, filters), whole.count))
        return results

    expected = answers()
    for forward, backward, count in expected:
        assert backward == forward and count == len(forward)
    assert len(expected[0][0]) == 15 and len(expected[3][0]) == 6 and expected[-1][0] == []
    monkeypatch.setattr(registry, "COMMON", 1)
    assert answers() == expected
    monkeypatch.setattr(registry, "MAX_EXPANSIONS", 1)  # "аль" and "кап": too many terms
    assert answers() == expected
    monkeypatch.setattr(registry, "FIRST_BLOCK", 1)  # every block boundary crossed
    monkeypatch.setattr(registry, "LAST_BLOCK", 2)
    assert answers() == expected


def test_a_common_word_is_counted_to_a_lower_cap(client, monkeypatch):
    """A common word's matches are counted along the words table to COMMON_COUNT_CAP, with or
    without filters, and the page says "more than"; rare words are counted to 10 000."""
    for index in range(5):
        published(f"Общество «Альянс {index}»", region="KG-O")
    monkeypatch.setattr(registry, "COMMON", 1)
    monkeypatch.setattr(registry, "COMMON_COUNT_CAP", 3)
    alone = registry.search(registry.Filters(q="альянс"), count=True)
    assert (alone.count, alone.count_cap) == (4, 3)
    filtered = registry.search(registry.Filters(q="альянс", region="KG-O"), count=True)
    assert (filtered.count, filtered.count_cap) == (4, 3)
    page = client.get("/registry", query_string={"q": "альянс", "region": "KG-O"})
    assert "More than 3 entries" in page.get_data(as_text=True)
    assert len(filtered.items) == 5  # the page itself is whole
    monkeypatch.setattr(registry, "COMMON", 10)  # rare again: counted exactly, to 10 000
    rare = registry.search(registry.Filters(q="альянс", region="KG-O"), count=True)
    assert (rare.count, rare.count_cap) == (5, registry.COUNT_CAP)


@pytest.mark.parametrize("language", ["ky", "ru", "en"])
def test_remembered_dates_read_as_babel_writes_them(app, language):
    from datetime import date

    import flask_babel

    from register.i18n import medium_date

    with app.test_request_context(f"/?lang={language}"):
        for day in (date(2019, 1, 10), date(2024, 2, 29), date(2026, 12, 31)):
            assert medium_date(day) == flask_babel.format_date(day, "medium")
            assert medium_date(day) == medium_date(day)


def test_filters_that_keep_many_entries_give_the_same_pages(client, monkeypatch):
    """Filters alone that keep many entries are marked likely for SQLite's planner (it then
    walks the name order): the pages, both ways, and the counts do not change."""
    for index in range(9):
        published(f"Холдер {index}", region="KG-O" if index % 3 else "KG-GB")
    queries = [
        registry.Filters(region="KG-O"),
        registry.Filters(region="KG-GB", status=EntryStatus.REGISTERED),
        registry.Filters(region="KG-T"),
    ]

    def answers() -> list[tuple[list[str], list[str], int | None]]:
        results = []
        for filters in queries:
            whole = registry.search(filters, limit=10_000, count=True)
            forward = [entry.registration_number for entry in whole.items]
            results.append((forward, _pages_backwards(2, filters), whole.count))
        return results

    expected = answers()
    assert [len(forward) for forward, _, _ in expected] == [6, 3, 0]
    monkeypatch.setattr(registry, "SELECTIVE", 0)  # every filter "keeps many"
    assert answers() == expected
