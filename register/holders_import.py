"""Legacy import: load the former register's holders from a CSV file as published entries.

`flask --app register holders import FILE.csv [--report FILE]` reads a UTF-8 CSV file (a BOM is
accepted) whose header names the API's fields (DESIGN.md §5, "Legacy import file"). Each row is
checked as the holder's forms would check it; a row that fails is skipped and reported with its
physical line number and every reason, so that the agency can fix the file and import it again.

Each valid row becomes an imported, unverified organisation (nobody acts for it until someone
claims it through an access request), an approved initial declaration with one version, and a
published register entry with its history and certificate, written by
`register_entries.publish`, so that imported entries are like the app's own.

Why it is built this way:

- Idempotent: a row whose TIN (blind index) or registration number is already in the register
  for that holder is skipped and counted as already there, so the same file can be imported
  again after a failure or a fix. A row that disagrees with the register (its TIN is there under
  another number or not yet registered, or its number belongs to another holder) is reported as
  a conflict and changes nothing.
- Two passes over the file: the first checks the header and the encoding and finds the largest
  well-formed registration number of each (prefix, year); the sequences are moved past them
  and committed before any entry is written. Entries imported without a number, and the app's
  later approvals, therefore never take a number that the file holds (not even one on a
  rejected line: it belongs to the former register and keeps it once the line is fixed).
- Bounded memory: rows are streamed, committed every `BATCH_SIZE` imported rows, and the
  session is emptied after each commit; only the TINs and numbers seen (to find repeats inside
  the file) are kept. A row is fully validated before anything is written and is written
  inside a savepoint, so a bad row never undoes its batch.
- One activity entry per run (`register.imported`, with the counts), not one per row.
"""

from __future__ import annotations

import csv
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import TextIO
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from wtforms.validators import ValidationError

from register import validation
from register.database import utcnow
from register.extensions import db
from register.holder.forms import check_website, clean_text
from register.models import (
    INDIVIDUAL_ENTREPRENEUR,
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    EntryStatus,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    ReferenceList,
    RegisterEntry,
    RegistrationSequence,
)
from register.services import activity, reference, register_entries, snapshots
from register.services.organisations import find_by_tin

holders_cli = AppGroup("holders", help="Load holders from the former register.")

BATCH_SIZE = 1000  # imported rows per commit
REQUIRED_COLUMNS = (
    "legal_name",
    "tin",
    "legal_form",
    "region",
    "sector",
    "status",
    "registered_on",
)
OPTIONAL_COLUMNS = (
    "registration_number",
    "short_name",
    "legal_address",
    "subordination",
    "phone",
    "email",
    "website",
    "updated_on",
)
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
NUMBER_PATTERN = re.compile(r"^([A-Z]{1,20})-(\d{4})-(\d{6})$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The reference list each code column is checked against.
CODE_LISTS = {
    "legal_form": ReferenceList.LEGAL_FORM,
    "region": ReferenceList.REGION,
    "sector": ReferenceList.SECTOR,
}
# Free-text columns: the Organisation column whose size limits each.
TEXT_COLUMNS = ("legal_name", "short_name", "legal_address", "subordination")

ERROR = "error"  # the line is rejected
CONFLICT = "conflict"  # the line disagrees with the register; nothing is changed
WARNING = "warning"  # said once; the import goes on

ProblemSink = Callable[["Problem"], None]


class ImportFileError(Exception):
    """The file cannot be imported at all (nothing has been written); the message says why."""


@dataclass(frozen=True)
class Problem:
    """One reason why a line was not imported, or a warning about the file."""

    line: int
    kind: str  # ERROR, CONFLICT or WARNING
    column: str  # the column concerned, or "" for the whole line
    reason: str


@dataclass
class ImportResult:
    """What one run did."""

    imported: int = 0
    already_present: int = 0
    rejected: int = 0
    conflicts: int = 0
    elapsed: float = 0.0

    def counts(self) -> dict[str, int]:
        """The counts, as recorded in the activity log."""
        return {
            "imported": self.imported,
            "already_present": self.already_present,
            "rejected": self.rejected,
            "conflicts": self.conflicts,
        }


@dataclass(frozen=True)
class HolderRow:
    """A validated line of the file, its values normalised."""

    line: int
    registration_number: str | None
    legal_name: str
    short_name: str | None
    tin: str
    legal_form: str
    region: str
    sector: str
    status: EntryStatus
    registered_on: date
    updated_on: date
    legal_address: str | None
    subordination: str | None
    phone: str | None
    email: str | None
    website: str | None


@dataclass
class _Checks:
    """What a run checks rows against: reference codes, today, repeats inside the file."""

    codes: dict[str, set[str]]
    today: date
    seen_tins: dict[str, int] = field(default_factory=dict)  # TIN → its first line
    seen_numbers: dict[str, int] = field(default_factory=dict)  # number → its first line


# -- reading the file --------------------------------------------------------------------------


class _CsvFile:
    """The file opened for one pass: the header checked on entry, then its records."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.names: list[str] = []
        self.warnings: list[Problem] = []
        self._handle: TextIO | None = None
        self._line = 1  # the last physical line read so far

    def __enter__(self) -> _CsvFile:
        try:
            self._handle = self.path.open(encoding="utf-8-sig", newline="")
        except OSError as error:
            raise ImportFileError(
                _("Cannot open %(path)s: %(error)s", path=str(self.path), error=error.strerror)
            ) from None
        self._reader = csv.reader(self._handle)
        try:
            header = self._guard(lambda: next(self._reader, None))
            if not header:
                raise ImportFileError(_("The file is empty: it needs a header row."))
            self._line = self._reader.line_num
            self._check_header([name.strip() for name in header])
        except BaseException:
            self._handle.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()

    def _guard(self, read: Callable[[], list[str] | None]) -> list[str] | None:
        """Read one record, turning a broken file into an ImportFileError."""
        try:
            return read()
        except UnicodeDecodeError:
            raise ImportFileError(
                _(
                    "The file is not UTF-8 text (near line %(line)d): save it as UTF-8 CSV.",
                    line=self._line + 1,
                )
            ) from None
        except csv.Error as error:
            raise ImportFileError(
                _(
                    "The file is not valid CSV near line %(line)d: %(error)s",
                    line=self._line + 1,
                    error=str(error),
                )
            ) from None

    def _check_header(self, names: list[str]) -> None:
        repeated = sorted({name for name in names if name and names.count(name) > 1})
        if repeated:
            raise ImportFileError(
                _("The header repeats the column(s) %(names)s.", names=", ".join(repeated))
            )
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise ImportFileError(
                _(
                    "The header lacks the required column(s) %(names)s: nothing was imported.",
                    names=", ".join(missing),
                )
            )
        unknown = [name or '""' for name in names if name not in KNOWN_COLUMNS]
        if unknown:
            listed = ", ".join(unknown)
            self.warnings.append(
                Problem(1, WARNING, listed, _("Unknown column(s) ignored: %(names)s", names=listed))
            )
        self.names = names

    def records(self) -> Iterator[tuple[int, dict[str, str], list[Problem]]]:
        """(first physical line, values of the known columns, problems of shape) per record.

        A quoted field may span lines: `line_num` after a record is its last line, so a record
        starts on the line after the previous one's last. Blank lines are skipped.
        """
        while True:
            fields = self._guard(lambda: next(self._reader, None))
            if fields is None:
                return
            start, self._line = self._line + 1, self._reader.line_num
            if not any(value.strip() for value in fields):
                continue
            problems = []
            if len(fields) > len(self.names):
                problems.append(
                    Problem(
                        start,
                        ERROR,
                        "",
                        _(
                            "The line has %(found)d fields, the header %(expected)d.",
                            found=len(fields),
                            expected=len(self.names),
                        ),
                    )
                )
            values = {
                name: fields[index] if index < len(fields) else ""
                for index, name in enumerate(self.names)
                if name in KNOWN_COLUMNS
            }
            yield start, values, problems


# -- checking a row ----------------------------------------------------------------------------


def _text(value: str) -> str:
    """One line of text: runs of white space (a line break in a quoted field too) become one
    space, control characters go (as the forms' filter does)."""
    return str(clean_text(" ".join(value.split())))


def _column_length(name: str) -> int:
    """The size of an Organisation column."""
    return int(getattr(Organisation.__table__.c[name].type, "length", 0) or 0)


def _date(value: str, today: date, problems: list[Problem], line: int, column: str) -> date | None:
    """A real date written YYYY-MM-DD, not after today (agency time zone); None if not given."""
    if not value:
        return None
    try:
        if not DATE_PATTERN.match(value):
            raise ValueError(value)
        parsed = date.fromisoformat(value)
    except ValueError:
        problems.append(
            Problem(line, ERROR, column, _("Enter a real date as YYYY-MM-DD, e.g. 2024-03-15."))
        )
        return None
    if parsed > today:
        problems.append(Problem(line, ERROR, column, _("The date is in the future.")))
        return None
    return parsed


def _tin(values: dict[str, str], problems: list[Problem], line: int) -> str | None:
    """The TIN's 14 digits; an individual entrepreneur's must be a valid PIN (it is one)."""
    raw = _text(values.get("tin", ""))
    if not raw:
        problems.append(Problem(line, ERROR, "tin", _("Enter the TIN.")))
        return None
    try:
        tin = validation.check_tin(raw)
        if _text(values.get("legal_form", "")) == INDIVIDUAL_ENTREPRENEUR:
            try:
                validation.check_pin(tin)
            except ValueError as error:
                lead = _("An individual entrepreneur's TIN is his or her PIN.")
                raise ValueError(f"{lead} {error}") from None
    except ValueError as error:
        problems.append(Problem(line, ERROR, "tin", str(error)))
        return None
    return tin


def _contact(
    value: str,
    column: str,
    limit: int,
    check: Callable[[str], str],
    problems: list[Problem],
    line: int,
) -> str | None:
    if not value:
        return None
    if len(value) > limit:
        problems.append(Problem(line, ERROR, column, _too_long(limit, len(value))))
        return None
    try:
        return check(value)
    except ValueError as error:
        problems.append(Problem(line, ERROR, column, str(error)))
        return None


def _too_long(limit: int, length: int) -> str:
    return _(
        "At most %(limit)d characters are allowed; this has %(length)d.",
        limit=limit,
        length=length,
    )


def _website(value: str) -> str:
    """The forms' rule: an http or https address with a host name."""
    try:
        check_website(None, SimpleNamespace(data=value))
    except ValidationError as error:
        raise ValueError(str(error)) from None
    return value


def validate_row(
    line: int, values: dict[str, str], checks: _Checks, problems: list[Problem]
) -> HolderRow | None:
    """The row checked as the forms would check it; every reason is added to `problems`.

    None when `problems` holds anything (also a problem of shape found before the call).
    """
    texts: dict[str, str | None] = {}
    for column in TEXT_COLUMNS:
        value = _text(values.get(column, ""))
        limit = _column_length(column)
        if len(value) > limit:
            problems.append(Problem(line, ERROR, column, _too_long(limit, len(value))))
        texts[column] = value or None
    if not texts["legal_name"]:
        problems.append(Problem(line, ERROR, "legal_name", _("Enter the legal name.")))

    tin = _tin(values, problems, line)
    codes: dict[str, str] = {}
    for column, list_code in CODE_LISTS.items():
        code = _text(values.get(column, ""))
        if not code:
            problems.append(
                Problem(
                    line,
                    ERROR,
                    column,
                    _("Enter a code of the list %(list)s.", list=str(list_code)),
                )
            )
        elif code not in checks.codes[column]:
            problems.append(
                Problem(
                    line,
                    ERROR,
                    column,
                    _(
                        "%(code)s is not a code of the list %(list)s.",
                        code=code,
                        list=str(list_code),
                    ),
                )
            )
        codes[column] = code

    status: EntryStatus | None = None
    raw_status = _text(values.get("status", ""))
    try:
        status = EntryStatus(raw_status)
    except ValueError:
        problems.append(
            Problem(
                line,
                ERROR,
                "status",
                _(
                    "%(value)s is not a status; use one of %(statuses)s.",
                    value=raw_status or '""',
                    statuses=", ".join(member.value for member in EntryStatus),
                ),
            )
        )

    registered_on = _date(
        _text(values.get("registered_on", "")), checks.today, problems, line, "registered_on"
    )
    if registered_on is None and not _text(values.get("registered_on", "")):
        problems.append(Problem(line, ERROR, "registered_on", _("Enter the date of registration.")))
    updated_on = _date(
        _text(values.get("updated_on", "")), checks.today, problems, line, "updated_on"
    )
    if updated_on and registered_on and updated_on < registered_on:
        problems.append(
            Problem(line, ERROR, "updated_on", _("The date is before the date of registration."))
        )

    number = _text(values.get("registration_number", "")) or None
    if number is not None and not NUMBER_PATTERN.match(number):
        problems.append(
            Problem(
                line,
                ERROR,
                "registration_number",
                _("A registration number looks like PDH-2024-000123."),
            )
        )
        number = None

    phone = _contact(
        _text(values.get("phone", "")),
        "phone",
        _column_length("phone"),
        validation.check_phone,
        problems,
        line,
    )
    email = _contact(
        _text(values.get("email", "")),
        "email",
        _column_length("email"),
        validation.check_email,
        problems,
        line,
    )
    website = _contact(
        _text(values.get("website", "")),
        "website",
        _column_length("website"),
        _website,
        problems,
        line,
    )
    # Repeats inside the file: the first line keeps the TIN (or number), later ones are refused.
    if tin is not None:
        first = checks.seen_tins.setdefault(tin, line)
        if first != line:
            problems.append(
                Problem(line, ERROR, "tin", _("The same TIN is on line %(line)d.", line=first))
            )
    if number is not None:
        first = checks.seen_numbers.setdefault(number, line)
        if first != line:
            problems.append(
                Problem(
                    line,
                    ERROR,
                    "registration_number",
                    _("The same registration number is on line %(line)d.", line=first),
                )
            )

    if problems or tin is None or status is None or registered_on is None:
        return None
    return HolderRow(
        line=line,
        registration_number=number,
        legal_name=texts["legal_name"] or "",
        short_name=texts["short_name"],
        tin=tin,
        legal_form=codes["legal_form"],
        region=codes["region"],
        sector=codes["sector"],
        status=status,
        registered_on=registered_on,
        updated_on=updated_on or registered_on,
        legal_address=texts["legal_address"],
        subordination=texts["subordination"],
        phone=phone,
        email=email,
        website=website,
    )


# -- writing -----------------------------------------------------------------------------------


def _scan_numbers(path: Path) -> dict[tuple[str, int], int]:
    """First pass: the largest well-formed number of each (prefix, year) in the file."""
    largest: dict[tuple[str, int], int] = {}
    with _CsvFile(path) as csv_file:
        for _line, values, _problems in csv_file.records():
            match = NUMBER_PATTERN.match(_text(values.get("registration_number", "")))
            if match:
                key = (match.group(1), int(match.group(2)))
                largest[key] = max(largest.get(key, 0), int(match.group(3)))
    return largest


def reserve_numbers(largest: dict[tuple[str, int], int]) -> None:
    """Move each (prefix, year) sequence to at least the given value (row made if missing).

    `last_value = max(last_value, n)` in one UPDATE, so an approval running at the same time
    (which increments the row under its lock) is neither lost nor given an imported number.
    """
    if not largest:
        return
    insert = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    for (prefix, year), value in sorted(largest.items()):
        db.session.execute(
            insert(RegistrationSequence)
            .values(id=uuid.uuid4(), prefix=prefix, year=year, last_value=value)
            .on_conflict_do_nothing(index_elements=["prefix", "year"])
        )
        db.session.execute(
            sa.update(RegistrationSequence)
            .where(
                RegistrationSequence.prefix == prefix,
                RegistrationSequence.year == year,
                RegistrationSequence.last_value < value,
            )
            .values(last_value=value)
            .execution_options(synchronize_session=False)
        )


def _codes() -> dict[str, set[str]]:
    """The codes of each list a code column is checked against (retired ones too: the former
    register's holders may carry a code the agency has since retired, as the forms keep it
    for an organisation that has it)."""
    return {
        column: {item.code for item in reference.items(list_code, include_retired=True)}
        for column, list_code in CODE_LISTS.items()
    }


PRESENT = "present"
NEW = "new"


def _standing(row: HolderRow) -> tuple[str, Problem | None]:
    """NEW, PRESENT (this holder is in the register already) or CONFLICT with its reason."""
    organisation = find_by_tin(row.tin)
    if organisation is not None:
        entry = register_entries.entry_of(organisation.id)
        if entry is None:
            return CONFLICT, Problem(
                row.line,
                CONFLICT,
                "tin",
                _(
                    "An organisation with this TIN is in the application but not yet in the "
                    "register; it is left as it is."
                ),
            )
        if row.registration_number in (None, entry.registration_number):
            return PRESENT, None
        return CONFLICT, Problem(
            row.line,
            CONFLICT,
            "registration_number",
            _(
                "This TIN is in the register under another number, %(number)s; it is left as "
                "it is.",
                number=entry.registration_number,
            ),
        )
    if row.registration_number is not None:
        taken = db.session.scalar(
            sa.select(RegisterEntry.id).where(
                RegisterEntry.registration_number == row.registration_number
            )
        )
        if taken is not None:
            return CONFLICT, Problem(
                row.line,
                CONFLICT,
                "registration_number",
                _("This registration number belongs to another holder in the register."),
            )
    return NEW, None


def _published_moment(registered_on: date, now: datetime) -> datetime:
    """Noon of the registration day in the agency's time zone (now, if that is still ahead)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return min(datetime.combine(registered_on, clock(12), tzinfo=zone), now)


def write_holder(row: HolderRow, now: datetime) -> RegisterEntry:
    """The row as an imported organisation, an approved declaration and a published entry."""
    organisation = Organisation(
        status=OrganisationStatus.UNVERIFIED,  # until claimed through an access request
        origin=OrganisationOrigin.IMPORTED,
        created_by_id=None,
        legal_name=row.legal_name,
        short_name=row.short_name,
        legal_form_code=row.legal_form,
        ownership_form_code="",  # the former register does not have it
        subordination=row.subordination,
        sector_code=row.sector,
        region_code=row.region,
        legal_address=row.legal_address or "",
        phone=row.phone,
        email=row.email,
        website=row.website,
    )
    organisation.set_tin(row.tin)  # after the legal form: it decides whether the TIN is public
    db.session.add(organisation)
    public, confidential = snapshots.build_snapshots(organisation, [], special_codes=set())
    declaration = Declaration(
        organisation_id=organisation.id,
        kind=DeclarationKind.INITIAL,
        status=DeclarationStatus.APPROVED,
        filed_on_paper=False,
        created_by_id=None,
        decided_at=now,
    )
    db.session.add(declaration)
    version = DeclarationVersion(
        organisation_id=organisation.id,
        declaration_id=declaration.id,
        number=1,
        created_by_id=None,
        public_snapshot=public,
        confidential_snapshot=snapshots.encode(confidential),
    )
    declaration.versions.append(version)
    entry = register_entries.publish(
        version,
        organisation,
        None,
        _published_moment(row.registered_on, now),
        number=row.registration_number,
        record_activity=False,
    )
    entry.status = row.status
    entry.updated_on = row.updated_on
    if row.status is not EntryStatus.REGISTERED:
        entry.status_changed_on = row.updated_on
    db.session.flush()
    return entry


def import_holders(
    path: Path,
    report: ProblemSink,
    *,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
    progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Import the file; each problem goes to `report` as it is found; commits in batches.

    Raises ImportFileError, before anything is written, when the file cannot be imported at
    all (unreadable, not UTF-8 CSV, a required column missing).
    """
    started = time.monotonic()
    now = now or utcnow()
    largest = _scan_numbers(path)  # reads the whole file once: a broken one stops here
    result = ImportResult()
    with _CsvFile(path) as csv_file:
        for warning in csv_file.warnings:
            report(warning)
        reserve_numbers(largest)
        db.session.commit()  # at once: approvals running meanwhile already skip these numbers
        checks = _Checks(codes=_codes(), today=register_entries.agency_today(now))
        pending = 0
        for line, values, problems in csv_file.records():
            row = validate_row(line, values, checks, problems)
            if row is None:
                result.rejected += 1
                for problem in problems:
                    report(problem)
                continue
            standing, conflict = _standing(row)
            if conflict is not None:
                result.conflicts += 1
                report(conflict)
                continue
            if standing == PRESENT:
                result.already_present += 1
                continue
            try:
                with db.session.begin_nested():  # a failure undoes this row, not the batch
                    write_holder(row, now)
            except IntegrityError:
                result.conflicts += 1
                report(
                    Problem(
                        row.line,
                        CONFLICT,
                        "",
                        _(
                            "The TIN or the registration number was added to the register "
                            "meanwhile; import the file again."
                        ),
                    )
                )
                continue
            result.imported += 1
            pending += 1
            if pending >= batch_size:
                db.session.commit()
                db.session.expunge_all()  # keeps the session, and memory, small
                pending = 0
                if progress is not None:
                    progress(result)
    result.elapsed = time.monotonic() - started
    activity.record(
        "register.imported",
        object_type="import",
        object_id=path.name[:64],
        details={**result.counts(), "elapsed_seconds": round(result.elapsed, 1)},
    )
    db.session.commit()
    return result


# -- the command -------------------------------------------------------------------------------

REPORT_HEADER = ("line", "kind", "column", "reason")


@holders_cli.command("import")
@click.argument("path")
@click.option(
    "--report",
    "report",
    default=None,
    help="Write the rejected lines and their reasons here (CSV); otherwise they are printed.",
)
def import_command(path: str, report: str | None) -> None:
    """Import FILE.csv as published entries (idempotent: run it again after fixing lines)."""
    report_file = None
    if report:
        try:
            # UTF-8 with a BOM, so that a spreadsheet opens the Cyrillic text right.
            report_file = Path(report).open("w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as error:
            raise click.ClickException(
                _("Cannot write %(path)s: %(error)s", path=report, error=error.strerror)
            ) from None
    writer = csv.writer(report_file) if report_file is not None else None
    if writer is not None:
        writer.writerow(REPORT_HEADER)

    def sink(problem: Problem) -> None:
        if writer is not None:
            writer.writerow((problem.line, problem.kind, problem.column, problem.reason))
        if problem.kind == WARNING:
            click.echo(_("Warning: %(reason)s", reason=problem.reason), err=True)
        elif writer is None:
            where = f"{problem.column}: " if problem.column else ""
            click.echo(
                _("Line %(line)d (%(kind)s): ", line=problem.line, kind=problem.kind)
                + where
                + problem.reason
            )

    def progress(result: ImportResult) -> None:
        click.echo(_("… %(count)d imported so far", count=result.imported), err=True)

    try:
        result = import_holders(Path(path), sink, progress=progress)
    except ImportFileError as error:
        raise click.ClickException(str(error)) from None
    finally:
        if report_file is not None:
            report_file.close()
    click.echo(
        _(
            "Imported: %(imported)d; already in the register: %(present)d; rejected: "
            "%(rejected)d; conflicts: %(conflicts)d; elapsed: %(elapsed).1f s.",
            imported=result.imported,
            present=result.already_present,
            rejected=result.rejected,
            conflicts=result.conflicts,
            elapsed=result.elapsed,
        )
    )
    if report and (result.rejected or result.conflicts):
        click.echo(_("The lines not imported and the reasons are in %(path)s.", path=report))
