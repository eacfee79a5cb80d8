# ruff: noqa: RUF001 - holder names are Kyrgyz and Russian, in Cyrillic
"""`holders import`: the legacy register's CSV file becomes published, imported, unverified
entries; bad lines are reported by physical line with every reason; a second run changes
nothing; the registration-number sequence moves past the imported numbers.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale

from register.extensions import db as _db
from register.holders_import import Problem, import_holders
from register.models import (
    ActivityEntry,
    Certificate,
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    EntryStatus,
    Membership,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    RegisterEntry,
    RegisterEntryVersion,
    RegistrationSequence,
)
from register.services import register_entries
from register.services.organisations import find_by_tin
from tests.factories import OrganisationFactory

ENTREPRENEUR_PIN = "21505199012345"  # 15.05.1990: a real PIN, his TIN
HEADER = (
    "registration_number,legal_name,short_name,tin,legal_form,region,sector,status,"
    "registered_on,updated_on,phone,email,website,legal_address,old_remarks"
)


def this_year() -> int:
    return register_entries.agency_today().year


def mixed_file(path: Path) -> Path:
    """Good and bad lines; line 3's quoted name spans lines 3 and 4."""
    year = this_year()
    tomorrow = (register_entries.agency_today() + timedelta(days=1)).isoformat()
    lines = [
        HEADER,  # 1
        "PDH-2019-000007,Алма Софт,АлмаСофт,01234567890123,llc,KG-GB,it,registered,2019-05-10,"
        "2021-02-03,0312 123 456,info@almasoft.kg,https://almasoft.kg,Бишкек,x",  # 2
        f'PDH-{year}-000500,"Ош шаардык\nДарыгер клиникасы",,02345678901234,llc,KG-GO,health,'
        f"suspended,{year}-01-01,,,,,,",  # 3-4
        ",Bad TIN Company,,12345,llc,KG-GB,it,registered,2020-01-01,,,,,,",  # 5
        ",Nowhere Company,,03456789012345,llc,KG-ZZ,it,registered,2020-01-01,,,not-an-email,,,",
        ",Status Company,,04567890123456,llc,KG-GB,it,active,2020-01-01,,,,,,",  # 7
        f",Future Company,,05678901234567,llc,KG-GB,it,registered,{tomorrow},,,,,,",  # 8
        ",Twin Company,,01234567890123,llc,KG-GB,it,registered,2020-01-01,,,,,,",  # 9
        "PDH-19-7,Bad Number Company,,06789012345678,llc,KG-GB,it,registered,2020-01-01,,,,,,",
        ",Жеке ишкер Асанов,,21505199012345,individual_entrepreneur,KG-C,agriculture,"
        "registered,2020-03-04,,,,,,",  # 11
        "PDH-2018-000003,Struck Company,,07890123456789,jsc,KG-T,education,struck_off,"
        "2018-06-01,2022-09-09,,,,,",  # 12
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_report(path: Path) -> dict[int, list[tuple[str, str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_line: dict[int, list[tuple[str, str, str]]] = {}
    for row in rows:
        by_line.setdefault(int(row["line"]), []).append((row["kind"], row["column"], row["reason"]))
    return by_line


def run(runner: Any, path: Path, report: Path | None = None) -> Any:
    args = ["holders", "import", str(path)]
    if report is not None:
        args += ["--report", str(report)]
    return runner.invoke(args=args)


def import_now(path: Path, **kwargs: Any) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    with force_locale("en"):
        result = import_holders(path, problems.append, **kwargs)
    return result, problems


def table_counts(db: Any) -> dict[str, int]:
    db.session.expire_all()
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def sequences(db: Any) -> dict[tuple[str, int], int]:
    rows = db.session.execute(
        sa.select(
            RegistrationSequence.prefix, RegistrationSequence.year, RegistrationSequence.last_value
        )
    ).all()
    return {(prefix, year): value for prefix, year, value in rows}


def entry(number: str) -> RegisterEntry:
    return _db.session.scalars(
        sa.select(RegisterEntry).where(RegisterEntry.registration_number == number)
    ).one()


# -- the report ---------------------------------------------------------------------------------


def test_the_report_lists_each_rejected_line_with_every_reason(runner, db, tmp_path):
    report = tmp_path / "report.csv"
    result = run(runner, mixed_file(tmp_path / "holders.csv"), report)
    assert result.exit_code == 0, result.output
    assert "Imported: 4; already in the register: 0; rejected: 6; conflicts: 0" in result.output
    assert "old_remarks" in result.output  # the unknown column, said once
    by_line = read_report(report)
    assert by_line[1] == [("warning", "old_remarks", "Unknown column(s) ignored: old_remarks")]
    errors = {
        line: sorted(column for _kind, column, _ in reasons) for line, reasons in by_line.items()
    }
    assert errors == {
        1: ["old_remarks"],
        5: ["tin"],  # 12345 (line 5: the row after the two-line name starts on line 5)
        6: ["email", "region"],  # both reasons
        7: ["status"],
        8: ["registered_on"],
        9: ["tin"],  # the same TIN as line 2
        10: ["registration_number"],
    }
    reasons = {
        line: " ".join(reason for _k, _c, reason in found) for line, found in by_line.items()
    }
    assert "14 digits" in reasons[5]
    assert "KG-ZZ" in reasons[6] and "e-mail" in reasons[6]
    assert "active" in reasons[7]
    assert "future" in reasons[8]
    assert "line 2" in reasons[9]
    assert "PDH-2024-000123" in reasons[10]
    assert {kind for found in by_line.values() for kind, _c, _r in found} == {"warning", "error"}


def test_without_a_report_the_reasons_are_printed(runner, db, tmp_path):
    result = run(runner, mixed_file(tmp_path / "holders.csv"))
    assert result.exit_code == 0, result.output
    assert "Line 5 (error): tin: " in result.output
    assert "Line 9 (error): tin: The same TIN is on line 2." in result.output
    assert "Imported: 4;" in result.output


def test_a_missing_required_column_stops_before_anything_is_written(runner, db, tmp_path):
    path = tmp_path / "holders.csv"
    path.write_text(
        "registration_number,legal_name,legal_form,region,sector,status\n"
        "PDH-2019-000007,Алма Софт,llc,KG-GB,it,registered\n",
        encoding="utf-8",
    )
    before = table_counts(db)
    result = run(runner, path, tmp_path / "report.csv")
    assert result.exit_code != 0
    assert "tin, registered_on" in result.output
    assert "nothing was imported" in result.output
    assert table_counts(db) == before


def test_a_file_that_is_not_utf8_stops_before_anything_is_written(db, tmp_path):
    path = tmp_path / "holders.csv"
    path.write_bytes(
        (HEADER + "\n").encode()
        + ",Алма Софт,,01234567890123,llc,KG-GB,it,registered,2019-05-10,,,,,,\n".encode("cp1251")
    )
    before = table_counts(db)
    try:
        import_now(path)
    except Exception as error:  # ImportFileError
        assert "UTF-8" in str(error) and "line 2" in str(error)
    else:
        raise AssertionError("a cp1251 file was accepted")
    assert table_counts(db) == before


# -- what a good row becomes --------------------------------------------------------------------


def test_good_rows_are_published_entries_found_by_the_api_and_the_entry_page(
    runner, db, client, tmp_path
):
    assert run(runner, mixed_file(tmp_path / "holders.csv")).exit_code == 0
    found = client.get("/api/v1/holders", query_string={"q": "алма"}).get_json()["items"]
    assert [item["registration_number"] for item in found] == ["PDH-2019-000007"]
    item = found[0]
    assert item["tin"] == "01234567890123"
    assert (item["status"], item["region"], item["sector"]) == ("registered", "KG-GB", "it")
    assert (item["registered_on"], item["updated_on"]) == ("2019-05-10", "2021-02-03")
    holder = client.get("/api/v1/holders/PDH-2019-000007").get_json()
    assert holder["phone"] == "+996 312 123 456"  # normalised as the forms do
    assert holder["website"] == "https://almasoft.kg"
    page = client.get("/registry/PDH-2019-000007?lang=en")
    assert page.status_code == 200 and "Алма Софт" in page.get_data(as_text=True)

    number = f"PDH-{this_year()}-000500"
    clinic = client.get("/api/v1/holders", query_string={"q": "дарыгер"}).get_json()["items"]
    assert [item["registration_number"] for item in clinic] == [number]
    assert clinic[0]["legal_name"] == "Ош шаардык Дарыгер клиникасы"  # the line break: a space
    assert clinic[0]["status"] == "suspended"
    assert entry(number).status_changed_on == date(this_year(), 1, 1)
    struck = entry("PDH-2018-000003")
    assert struck.status is EntryStatus.STRUCK_OFF
    assert (struck.registered_on, struck.updated_on, struck.status_changed_on) == (
        date(2018, 6, 1),
        date(2022, 9, 9),
        date(2022, 9, 9),
    )
    assert client.get("/registry/PDH-2018-000003").status_code == 200


def test_imported_organisations_are_unverified_with_one_approved_declaration(db, tmp_path):
    result, _problems = import_now(mixed_file(tmp_path / "holders.csv"))
    assert result.imported == 4
    organisations = db.session.scalars(sa.select(Organisation)).all()
    assert len(organisations) == 4
    for organisation in organisations:
        assert organisation.origin is OrganisationOrigin.IMPORTED
        assert organisation.status is OrganisationStatus.UNVERIFIED
        assert organisation.created_by_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 0
    declarations = db.session.scalars(sa.select(Declaration)).all()
    assert {(d.kind, d.status, d.filed_on_paper, d.created_by_id) for d in declarations} == {
        (DeclarationKind.INITIAL, DeclarationStatus.APPROVED, False, None)
    }
    assert all(d.decided_at is not None for d in declarations)
    alma = entry("PDH-2019-000007")
    version = db.session.get(DeclarationVersion, alma.declaration_version_id)
    assert version is not None and version.number == 1
    assert version.published_at == datetime(2019, 5, 10, 6, 0, tzinfo=UTC)  # noon in Bishkek
    assert version.public_snapshot["organisation"]["legal_name"] == "Алма Софт"
    assert '"ownership_form_code":""' in (version.confidential_snapshot or "")
    history = db.session.scalars(
        sa.select(RegisterEntryVersion).where(RegisterEntryVersion.entry_id == alma.id)
    ).all()
    assert [h.number for h in history] == [1]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Certificate)
            .where(Certificate.entry_id == alma.id)
        )
        == 1
    )
    # One activity entry for the run, with the counts; none per row.
    actions = db.session.scalars(sa.select(ActivityEntry.action)).all()
    assert actions.count("register.imported") == 1 and "register.published" not in actions
    recorded = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "register.imported")
    ).one()
    assert recorded.details["imported"] == 4 and recorded.details["rejected"] == 6


def test_an_entrepreneurs_tin_is_never_public(runner, db, client, tmp_path):
    assert run(runner, mixed_file(tmp_path / "holders.csv")).exit_code == 0
    organisation = find_by_tin(ENTREPRENEUR_PIN)
    assert organisation is not None and organisation.public_tin is None
    ie_entry = db.session.scalars(
        sa.select(RegisterEntry).where(RegisterEntry.organisation_id == organisation.id)
    ).one()
    assert ie_entry.tin is None
    assert ie_entry.registration_number.startswith("PDH-2020-")  # its registration year
    assert "tin" not in ie_entry.public_snapshot["organisation"]
    listing = client.get("/api/v1/holders", query_string={"limit": 200})
    assert ENTREPRENEUR_PIN not in listing.get_data(as_text=True)
    assert (
        client.get("/api/v1/holders", query_string={"q": ENTREPRENEUR_PIN}).get_json()["items"]
        == []
    )
    holder = client.get(f"/api/v1/holders/{ie_entry.registration_number}")
    assert holder.get_json()["tin"] is None
    assert ENTREPRENEUR_PIN not in holder.get_data(as_text=True)


def test_an_entrepreneurs_tin_must_be_a_valid_pin(db, tmp_path):
    path = tmp_path / "holders.csv"
    path.write_text(
        HEADER + "\n,Жеке ишкер,,31234567890123,individual_entrepreneur,KG-C,it,registered,"
        "2020-03-04,,,,,,\n",
        encoding="utf-8",
    )
    result, problems = import_now(path)
    assert result.rejected == 1
    assert [p.column for p in problems if p.kind == "error"] == ["tin"]
    assert "PIN" in problems[-1].reason


# -- running again, conflicts, BOM ---------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(runner, db, tmp_path):
    path = mixed_file(tmp_path / "holders.csv")
    first = run(runner, path, tmp_path / "first.csv")
    assert first.exit_code == 0, first.output
    counts, numbers = table_counts(db), sequences(db)
    second = run(runner, path, tmp_path / "second.csv")
    assert second.exit_code == 0, second.output
    assert "Imported: 0; already in the register: 4; rejected: 6; conflicts: 0" in second.output
    after = table_counts(db)
    # Only the activity log grows: one entry for the run.
    assert after.pop("activity_entries") == counts.pop("activity_entries") + 1
    assert after == counts
    assert sequences(db) == numbers
    assert read_report(tmp_path / "second.csv") == read_report(tmp_path / "first.csv")


def test_a_tin_in_the_register_under_another_number_is_a_conflict(db, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text(
        HEADER + "\nPDH-2019-000007,Алма Софт,,01234567890123,llc,KG-GB,it,registered,"
        "2019-05-10,,,,,,\n",
        encoding="utf-8",
    )
    assert import_now(first)[0].imported == 1
    before = table_counts(db)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        HEADER + "\nPDH-2019-000008,Алма Софт,,01234567890123,llc,KG-GB,it,registered,"
        "2019-05-10,,,,,,\n"
        "PDH-2019-000007,Other Company,,09876543210987,llc,KG-GB,it,registered,"
        "2019-05-10,,,,,,\n",
        encoding="utf-8",
    )
    result, problems = import_now(changed)
    assert (result.imported, result.conflicts, result.already_present) == (0, 2, 0)
    problems = [p for p in problems if p.kind != "warning"]
    assert [(p.line, p.kind, p.column) for p in problems] == [
        (2, "conflict", "registration_number"),
        (3, "conflict", "registration_number"),
    ]
    assert "PDH-2019-000007" in problems[0].reason
    after = table_counts(db)
    assert after.pop("activity_entries") == before.pop("activity_entries") + 1
    assert after == before


def test_a_tin_of_an_organisation_not_yet_registered_is_a_conflict(db, tmp_path):
    OrganisationFactory(tin="01234567890123", public_tin="01234567890123")
    path = tmp_path / "holders.csv"
    path.write_text(
        HEADER + "\n,Алма Софт,,01234567890123,llc,KG-GB,it,registered,2019-05-10,,,,,,\n",
        encoding="utf-8",
    )
    result, problems = import_now(path)
    assert (result.imported, result.conflicts) == (0, 1)
    assert [(p.line, p.kind, p.column) for p in problems if p.kind != "warning"] == [
        (2, "conflict", "tin")
    ]


def test_a_file_with_a_byte_order_mark_is_read(db, tmp_path):
    path = tmp_path / "holders.csv"
    path.write_text(
        "registration_number,legal_name,tin,legal_form,region,sector,status,registered_on\n"
        "PDH-2019-000042,Алма Софт,01234567890123,llc,KG-GB,it,registered,2019-05-10\n",
        encoding="utf-8-sig",
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result, problems = import_now(path)
    assert (result.imported, problems) == (1, [])
    assert entry("PDH-2019-000042").legal_name == "Алма Софт"


# -- numbers and batches -------------------------------------------------------------------------


def test_the_next_approval_gets_a_number_past_the_imported_ones(runner, app, db, tmp_path):
    year = this_year()
    assert run(runner, mixed_file(tmp_path / "holders.csv")).exit_code == 0
    assert sequences(db)[("PDH", year)] == 500
    assert sequences(db)[("PDH", 2019)] >= 7 and sequences(db)[("PDH", 2018)] >= 3
    with app.test_request_context():
        number = register_entries.next_registration_number()
    assert number == f"PDH-{year}-000501"


def test_numbers_are_reserved_before_rows_without_a_number_take_one(db, tmp_path):
    """A row without a number, earlier in the file, must not take a later row's number."""
    path = tmp_path / "holders.csv"
    path.write_text(
        HEADER + "\n,First Company,,01234567890123,llc,KG-GB,it,registered,2019-05-10,,,,,,\n"
        "PDH-2019-000001,Second Company,,02345678901234,llc,KG-GB,it,registered,2019-06-10,,,,,,\n",
        encoding="utf-8",
    )
    result, problems = import_now(path)
    assert (result.imported, [p.kind for p in problems]) == (2, ["warning"])
    first = db.session.scalars(
        sa.select(RegisterEntry).where(RegisterEntry.legal_name == "First Company")
    ).one()
    assert first.registration_number == "PDH-2019-000002"
    assert entry("PDH-2019-000001").legal_name == "Second Company"


def test_rows_are_committed_in_batches_and_a_bad_row_never_undoes_its_batch(db, tmp_path):
    rows = [
        f",Company {index},,{index:014d},llc,KG-GB,it,registered,2020-01-01,,,,,,"
        for index in range(1, 8)
    ]
    rows[3] = ",Bad Company,,123,llc,KG-GB,it,registered,2020-01-01,,,,,,"
    path = tmp_path / "holders.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result, problems = import_now(path, batch_size=2)
    assert (result.imported, result.rejected) == (6, 1)
    assert [p.line for p in problems if p.kind == "error"] == [5]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry)) == 6


def test_a_line_with_more_fields_than_the_header_is_rejected(db, tmp_path):
    path = tmp_path / "holders.csv"
    path.write_text(
        "legal_name,tin,legal_form,region,sector,status,registered_on\n"
        "Алма Софт,01234567890123,llc,KG-GB,it,registered,2019-05-10,surplus\n"
        "Ала-Тоо,02345678901234,llc,KG-GB,it,registered,2019-05-10\n",
        encoding="utf-8",
    )
    result, problems = import_now(path)
    assert (result.imported, result.rejected) == (1, 1)
    assert [(p.line, p.column) for p in problems] == [(2, "")]
    assert "8 fields" in problems[0].reason
