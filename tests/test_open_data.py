"""Open data: the exported files agree with the API, hold no confidential value, survive any
name through a CSV reader, are replaced atomically, and are served with ETags; the page
documents every column; the CLI command writes them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from register import open_data
from register.extensions import db
from register.models import (
    INDIVIDUAL_ENTREPRENEUR,
    DeclarationStatus,
    EntryStatus,
    PersonKind,
    Role,
)
from register.services import declarations, register_entries, review
from tests.factories import (
    ArrayFactory,
    DocumentFactory,
    MembershipFactory,
    PersonFactory,
    StaffFactory,
)
from tests.support.registry import array, published

FILES = ("holders.csv", "arrays.csv", "holders.jsonl", "manifest.json")


def approved(
    person: dict[str, Any],
    *,
    organisation: dict[str, Any] | None = None,
    head: dict[str, Any] | None = None,
    array_values: dict[str, Any] | None = None,
) -> Any:
    """An organisation declared by its holder and approved through the review services."""
    membership = MembershipFactory(
        **{f"organisation__{name}": value for name, value in (organisation or {}).items()}
    )
    user, holder = membership.user, membership.organisation
    PersonFactory(
        organisation=holder,
        kind=PersonKind.HEAD,
        **(head or {"pin": None, "phone": None, "email": None}),
    )
    PersonFactory(organisation=holder, **person)
    DocumentFactory(organisation=holder, uploaded_by_id=user.id)
    ArrayFactory(organisation=holder, **(array_values or {}))
    db.session.expire(holder, ["people"])
    declaration = declarations.submit(holder, user)
    first, second = StaffFactory(role=Role.SUPERVISOR), StaffFactory(role=Role.SUPERVISOR)
    review.claim(declaration, first, declaration.lock_version)
    review.approve(declaration, first, grounds="OK", expected_lock_version=declaration.lock_version)
    if declaration.status is DeclarationStatus.AWAITING_SIGN_OFF:  # high risk: four eyes
        review.sign_off(
            declaration, second, grounds="OK", expected_lock_version=declaration.lock_version
        )
    db.session.flush()
    entry = register_entries.entry_of(holder.id)
    assert entry is not None
    return entry


@pytest.fixture
def folder(app: Any, tmp_path: Path) -> Iterator[Path]:
    """The app's export folder, pointed at a fresh temporary folder for the test."""
    previous = app.config["OPEN_DATA_DIR"]
    app.config["OPEN_DATA_DIR"] = str(tmp_path / "open-data")
    try:
        yield tmp_path / "open-data"
    finally:
        app.config["OPEN_DATA_DIR"] = previous


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return [json.loads(line) for line in stream]


def walk_api(client: Any) -> list[str]:
    """Every registration number of an unfiltered API listing, page after page."""
    numbers: list[str] = []
    cursor = None
    for _ in range(1000):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/holders", query_string=query).get_json()
        numbers += [item["registration_number"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return numbers
    raise AssertionError("the API listing did not end")


def without_links(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without its absolute URLs (the export uses SERVICE_URL, the client localhost)."""
    return {key: value for key, value in entry.items() if key not in ("url", "versions_url")}


# -- the files ---------------------------------------------------------------------------------


def test_the_files_hold_what_the_api_holds(client, folder):
    published("Beta Bank", arrays=[array("Clients"), array("Cards", cross_border_countries=["KZ"])])
    published("Alpha Clinic", "Alpha", arrays=[array("Patients", data_item_codes=["health"])])
    published("Gamma School", status=EntryStatus.SUSPENDED)
    published("Delta Shop", status=EntryStatus.STRUCK_OFF)
    published("Epsilon Farm")
    consenting = approved(
        {
            "full_name": "Consenting Person",
            "phone": "+996 555 111 222",
            "email": "dpo@consent.example.kg",
            "consents_to_publication": True,
        }
    )

    manifest = open_data.export(folder, batch_size=2)  # several keyset batches

    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)
    numbers = walk_api(client)
    assert len(numbers) == 6
    holders = read_csv(folder / "holders.csv")
    lines = read_jsonl(folder / "holders.jsonl")
    assert [row["registration_number"] for row in holders] == numbers  # same entries, same order
    assert [line["registration_number"] for line in lines] == numbers
    assert list(holders[0]) == [column.name for column in open_data.HOLDER_COLUMNS]

    client.get("/?lang=en")  # the export's labels are English
    arrays = read_csv(folder / "arrays.csv")
    for row, line in zip(holders, lines, strict=True):
        api = client.get(f"/api/v1/holders/{row['registration_number']}").get_json()
        assert without_links(line) == without_links(api)
        assert line["url"].endswith(f"/api/v1/holders/{row['registration_number']}")
        for name in ("legal_name", "tin", "legal_form", "region", "sector", "status"):
            assert row[name] == (api[name] or ""), name
        assert row["registered_on"] == api["registered_on"]
        assert row["updated_on"] == api["updated_on"]
        assert row["version"] == str(api["version"])
        assert row["cross_border"] == ("true" if api["cross_border"] else "false")
        assert row["special_categories"] == ("true" if api["special_categories"] else "false")
        mine = [a for a in arrays if a["registration_number"] == row["registration_number"]]
        assert [a["array_id"] for a in mine] == [a["id"] for a in api["arrays"]]
        for csv_array, api_array in zip(mine, api["arrays"], strict=True):
            assert csv_array["name"] == api_array["name"]
            assert csv_array["purposes"] == ";".join(api_array["purposes"])
            assert csv_array["cross_border_countries"] == ";".join(
                api_array["cross_border_countries"]
            )
            retention = api_array["retention"] or {}
            assert csv_array["retention_value"] == str(retention.get("value") or "")
            assert csv_array["retention_unit"] == (retention.get("unit") or "")

    by_number = {row["registration_number"]: row for row in holders}
    statuses = {row["legal_name"]: row["status"] for row in holders}
    assert statuses["Gamma School"] == "suspended" and statuses["Delta Shop"] == "struck_off"
    contact = by_number[consenting.registration_number]
    assert contact["responsible_person_name"] == "Consenting Person"
    assert contact["responsible_person_email"] == "dpo@consent.example.kg"
    assert {row["legal_name"]: row["cross_border"] for row in holders}["Beta Bank"] == "true"

    assert manifest.holders == 6
    assert manifest.files["holders.csv"].rows == manifest.files["holders.jsonl"].rows == 6
    assert manifest.files["arrays.csv"].rows == len(arrays) == 7
    written = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert written["holders"] == 6 and written["generated_at"].endswith("Z")
    for name in ("holders.csv", "arrays.csv", "holders.jsonl"):
        content = (folder / name).read_bytes()
        assert written["files"][name]["size"] == len(content)
        assert written["files"][name]["sha256"] == hashlib.sha256(content).hexdigest()
    assert open_data.read_manifest(folder) == manifest


def test_an_empty_register_gives_files_with_only_their_headers(folder):
    manifest = open_data.export(folder)
    assert manifest.holders == 0
    assert read_csv(folder / "holders.csv") == [] and read_csv(folder / "arrays.csv") == []
    assert (folder / "holders.jsonl").read_bytes() == b""
    header = (folder / "arrays.csv").read_bytes().decode("utf-8")
    assert header == ",".join(column.name for column in open_data.ARRAY_COLUMNS) + "\r\n"


def test_no_confidential_value_reaches_any_file(folder):
    mark = "SENTINEL-{}-c0ffee".format
    confidential_array = {
        "collection_methods": mark("collection_methods"),
        "informing_subjects": mark("informing_subjects"),
        "storage_location_details": mark("storage_location_details"),
        "information_systems": mark("information_systems"),
        "named_recipients": mark("named_recipients"),
        "cross_border": True,
        "cross_border_countries": ["KZ"],
        "cross_border_grounds": mark("cross_border_grounds"),
        "security_description": mark("security_description"),
    }
    entry = approved(
        {
            "full_name": mark("responsible"),
            "position": mark("position"),
            "pin": "21505199077777",
            "phone": "+996 555 777 777",
            "email": "sentinel@dpo.example.kg",
            "consents_to_publication": False,
        },
        organisation={"actual_address": mark("actual_address")},
        head={"full_name": mark("head"), "position": mark("head_position"), "pin": None},
        array_values=confidential_array,
    )
    entrepreneur = approved(
        {"full_name": "Entrepreneur DPO", "consents_to_publication": False},
        organisation={
            "legal_form_code": INDIVIDUAL_ENTREPRENEUR,
            "tin": "21505199088888",
            "public_tin": None,
        },
    )
    open_data.export(folder)

    contents = {name: (folder / name).read_text(encoding="utf-8") for name in FILES}
    # The entries are there, with their public values...
    for number in (entry.registration_number, entrepreneur.registration_number):
        assert number in contents["holders.csv"] and number in contents["holders.jsonl"]
    assert "KZ" in contents["arrays.csv"]
    # ...and nothing confidential, in any file.
    for name, text in contents.items():
        for value in (
            "SENTINEL",
            "c0ffee",
            "21505199077777",  # the responsible person's PIN
            "+996 555 777 777",
            "sentinel@dpo.example.kg",
            "21505199088888",  # an individual entrepreneur's TIN
            "Entrepreneur DPO",
        ):
            assert value not in text, (name, value)


def test_names_with_commas_quotes_and_line_breaks_round_trip(folder):
    awkward = 'Acme, "Quoted" & Co\nSecond line LLC'
    short = 'A,B "C"\r\nD'
    array_name = 'Files, "x";\nnew line'
    published(awkward, short, arrays=[array(array_name, purpose_other='a, b\n"c"')])
    published("Plain Company \u2028 with a line separator")
    open_data.export(folder)

    raw = (folder / "holders.csv").read_bytes()
    assert raw.startswith(b"registration_number,legal_name,")  # UTF-8 without a BOM
    assert raw.split(b"\r\n")[0] == ",".join(c.name for c in open_data.HOLDER_COLUMNS).encode()
    with (folder / "holders.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    names = {row[1]: row[2] for row in rows[1:]}
    assert names[awkward] == short
    arrays = read_csv(folder / "arrays.csv")
    assert arrays[0]["name"] == array_name and arrays[0]["purpose_other"] == 'a, b\n"c"'
    lines = (folder / "holders.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2  # one object per line, whatever the names hold
    assert {json.loads(line)["legal_name"] for line in lines} == {
        awkward,
        "Plain Company \u2028 with a line separator",
    }


def test_worker_processes_write_the_same_bytes_as_one_process(folder, tmp_path):
    """Batches rendered by forked workers come back in order: the files are identical."""
    for index in range(7):
        published(f"Company {index}, «Quoted»", arrays=[array(f"Array {index}")])
    alone = open_data.export(folder, batch_size=2, workers=0)
    contents = {name: (folder / name).read_bytes() for name in FILES if name != "manifest.json"}
    parallel = open_data.export(tmp_path / "parallel", batch_size=2, workers=2)
    for name, content in contents.items():
        assert (tmp_path / "parallel" / name).read_bytes() == content, name
    assert alone.files == parallel.files and alone.holders == parallel.holders == 7


def test_a_failed_export_leaves_the_previous_files_and_no_temporary_file(folder, monkeypatch):
    for name in ("One", "Two", "Three", "Four", "Five"):
        published(f"Company {name}")
    open_data.export(folder)
    before = {name: (folder / name).read_bytes() for name in FILES}
    (folder / ".holders.csv.stale.partial").write_text("left by a killed export")
    published("Company Six")

    real = open_data.json_line
    calls = itertools.count(1)

    def failing(entry: dict[str, Any]) -> str:
        if next(calls) == 4:
            raise RuntimeError("disk full")
        return real(entry)

    monkeypatch.setattr(open_data, "json_line", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        open_data.export(folder, batch_size=2)

    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)
    assert {name: (folder / name).read_bytes() for name in FILES} == before

    monkeypatch.setattr(open_data, "json_line", real)
    manifest = open_data.export(folder, batch_size=2)
    assert manifest.holders == 6
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)


# -- the routes and the page ---------------------------------------------------------------------


def test_the_files_are_served_with_etags_and_conditional_answers(client, folder):
    published("Served Company")
    assert client.get("/open-data/holders.csv").status_code == 404  # no export yet
    open_data.export(folder)

    response = client.get("/open-data/holders.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert response.data == (folder / "holders.csv").read_bytes()
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert etag and modified
    again = client.get("/open-data/holders.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = client.get("/open-data/holders.csv", headers={"If-Modified-Since": modified})
    assert since.status_code == 304

    expected = {
        "arrays.csv": "text/csv; charset=utf-8",
        "holders.jsonl": "application/x-ndjson",
        "manifest.json": "application/json",
    }
    for name, content_type in expected.items():
        answer = client.get(f"/open-data/{name}")
        assert answer.status_code == 200, name
        assert answer.headers["Content-Type"] == content_type
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["ETag"] and answer.headers["Last-Modified"]

    (folder / "keys.json").write_text("{}")  # even a file in the folder is not served
    (folder / "holders.txt").write_text("")
    for path in (
        "/open-data/../secret",
        "/open-data/%2e%2e%2fsecret",
        "/open-data/keys.json",
        "/open-data/holders.txt",
        "/open-data/.holders.csv.x.partial",
        "/open-data/HOLDERS.CSV",
    ):
        assert client.get(path).status_code == 404, path


def test_a_new_export_changes_the_etag(client, folder):
    published("First Company")
    open_data.export(folder)
    first = client.get("/open-data/holders.csv").headers["ETag"]
    published("Second Company")
    open_data.export(folder)
    response = client.get("/open-data/holders.csv", headers={"If-None-Match": first})
    assert response.status_code == 200
    assert b"Second Company" in response.data


def test_the_page_documents_every_column_and_says_when_the_files_were_made(client, folder):
    page = client.get("/open-data?lang=en").get_data(as_text=True)
    assert "No export has run yet" in page

    published("Documented Company", arrays=[array(retention={"condition": "Until closure"})])
    manifest = open_data.export(folder)
    response = client.get("/open-data?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No export has run yet" not in page
    assert (
        "Open data of the State Agency for Personal Data Protection; free to reuse with attribution"
        in page
    )
    for name in ("holders.csv", "arrays.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as stream:
            header = next(csv.reader(stream))
        for column in header:
            assert f"<code>{column}</code>" in page, (name, column)
    entry = read_jsonl(folder / "holders.jsonl")[0]
    for member in entry:
        assert member in page, member
    for member in entry["arrays"][0]:
        assert member in page or member == "id", member
    local = manifest.generated_at.astimezone(ZoneInfo("Asia/Bishkek"))
    assert f"{local.year}" in page and f":{local.minute:02d}:{local.second:02d}" in page
    for info in manifest.files.values():
        assert info.sha256 in page
    assert 'href="/open-data/holders.csv"' in page
    assert "codes, not labels" in page
    assert 'href="/open-data"' in client.get("/").get_data(as_text=True)


# -- the command line ----------------------------------------------------------------------------


def test_the_command_writes_the_files(runner, folder, tmp_path):
    published("Command Company", arrays=[array("One"), array("Two")])
    out = tmp_path / "elsewhere"
    result = runner.invoke(args=["open-data", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == sorted(FILES)
    assert "holders.csv: 1 rows" in result.output
    assert "arrays.csv: 2 rows" in result.output
    assert "holders.jsonl: 1 rows" in result.output
    assert [row["legal_name"] for row in read_csv(out / "holders.csv")] == ["Command Company"]

    result = runner.invoke(args=["open-data", "export"])  # into OPEN_DATA_DIR
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)
    assert io.StringIO((folder / "holders.jsonl").read_text(encoding="utf-8")).readline()
