"""Open data: the whole public register as three files anyone may download (DESIGN.md §5).

`export(out_dir)` writes `holders.csv` (one row per entry), `arrays.csv` (one row per personal
data array of each entry's current public version) and `holders.jsonl` (one JSON object per
line, exactly what `/api/v1/holders/<number>` answers, with English labels), plus
`manifest.json` (when the files were made, their row counts, sizes and SHA-256). The files hold
every entry an unfiltered API listing holds, in the same (sort name, registration number) order.

Why it is built this way:
- *Public tables only*: rows come from `register_entries` and its public snapshot through the
  API's own serializers (`api.holders.entry_json`), so the files agree with the API and nothing
  is ever decrypted; the CSV rows are derived from that same JSON.
- *Constant memory*: entries are read in keyset batches of `BATCH_SIZE` in a session of the
  export's own, cleared after each batch; one pass writes all three files. On PostgreSQL the
  read runs in one REPEATABLE READ transaction (on SQLite one read transaction), so the files
  are a consistent snapshot of the register.
- *Atomic*: each file is written under a temporary name in the same folder, flushed to disk
  (fsync) and then moved into place with `os.replace`; readers see the old file or the new one,
  never half of one, and a failure removes the temporary files and leaves the previous files
  as they were. The manifest is replaced last. An exclusive lock on the folder keeps two
  exports from interleaving.
- *CSV*: the csv module's default "excel" dialect (comma, double quotes when needed, CRLF line
  ends), UTF-8 *without* a byte-order mark; names with commas, quotes or line breaks
  round-trip through any RFC 4180 reader. Values are codes, not labels (labels depend on the
  language); lists are codes joined with ";", booleans `true`/`false`, dates `YYYY-MM-DD`.

`flask --app register open-data export [--out DIR]` runs it (DIR defaults to `OPEN_DATA_DIR`,
i.e. `<instance>/open-data`); the public pages in `register/public/open_data_views.py` serve
the files and document every column.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import fcntl
import functools
import hashlib
import io
import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple, cast
from urllib.parse import quote

import click
import orjson
import sqlalchemy as sa
from flask import current_app, url_for
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from register.database import write_intent
from register.extensions import db
from register.models import EntryStatus, RegisterEntry

HOLDERS_CSV = "holders.csv"
ARRAYS_CSV = "arrays.csv"
HOLDERS_JSONL = "holders.jsonl"
MANIFEST = "manifest.json"
DATA_FILES = (HOLDERS_CSV, ARRAYS_CSV, HOLDERS_JSONL)
# The only names the public route serves, with their media types.
MIMETYPES = {
    HOLDERS_CSV: "text/csv",  # Werkzeug adds "; charset=utf-8" to text types
    ARRAYS_CSV: "text/csv",
    HOLDERS_JSONL: "application/x-ndjson",
    MANIFEST: "application/json",
}
BATCH_SIZE = 500
LIST_SEPARATOR = ";"
TEMP_SUFFIX = ".partial"
# Placeholder wording until the agency chooses its licence (see README, "Open data").
LICENCE = (
    "Open data of the State Agency for Personal Data Protection; free to reuse with attribution"
)


class Column(NamedTuple):
    """One documented column (or JSON member): its name, what it means, an example value."""

    name: str
    meaning: Any  # a lazy string: translated when the page is shown
    example: str


HOLDER_COLUMNS: tuple[Column, ...] = (
    Column("registration_number", _l("Registration number of the entry."), "PDH-2026-000001"),
    Column("legal_name", _l("Full legal name of the holder."), "Ala-Too Soft LLC"),
    Column("short_name", _l("Short name, if any."), "Ala-Too Soft"),
    Column(
        "tin",
        _l(
            "Taxpayer identification number (14 digits). Empty for an individual entrepreneur, "
            "whose TIN is personal data and is not published."
        ),
        "01234567890123",
    ),
    Column("legal_form", _l("Legal form (code)."), "llc"),
    Column("region", _l("Region (ISO 3166-2:KG code)."), "KG-GB"),
    Column("sector", _l("Sector (code)."), "it"),
    Column(
        "status",
        _l("Standing of the entry: registered, suspended or struck_off."),
        "registered",
    ),
    Column("registered_on", _l("Date of the first registration (YYYY-MM-DD)."), "2026-03-02"),
    Column(
        "updated_on",
        _l("Date of the last publication or change of status (YYYY-MM-DD)."),
        "2026-04-10",
    ),
    Column(
        "status_changed_on",
        _l("Date of the last suspension, reinstatement or striking off; empty if none."),
        "",
    ),
    Column("version", _l("Number of the published version of the entry."), "2"),
    Column(
        "cross_border",
        _l("true when any array is transferred abroad, otherwise false."),
        "false",
    ),
    Column(
        "special_categories",
        _l("true when any array holds special categories of personal data, otherwise false."),
        "true",
    ),
    Column("subordination", _l("Parent body, for public bodies."), "Ministry of Health"),
    Column("legal_address", _l("Legal address."), "Chui avenue 1, Bishkek"),
    Column("phone", _l("Phone of the organisation."), "+996 312 123 456"),
    Column("email", _l("E-mail address of the organisation."), "office@example.kg"),
    Column("website", _l("Website of the organisation."), "https://example.kg"),
    Column(
        "responsible_person_name",
        _l(
            "Name of the person responsible for personal data: only while they consent to its "
            "publication, otherwise empty."
        ),
        "Aida Asanova",
    ),
    Column(
        "responsible_person_phone",
        _l("Work phone of the responsible person: only with their consent."),
        "+996 555 123 456",
    ),
    Column(
        "responsible_person_email",
        _l("Work e-mail address of the responsible person: only with their consent."),
        "dpo@example.kg",
    ),
)

ARRAY_COLUMNS: tuple[Column, ...] = (
    Column(
        "registration_number",
        _l("Registration number of the entry the array belongs to."),
        "PDH-2026-000001",
    ),
    Column(
        "array_id",
        _l("Identifier of the array; it stays the same in every version of the entry."),
        "3f2b6c1e-8d4a-4c3e-9a57-2b1f0e6d7c8a",
    ),
    Column("name", _l("Name of the personal data array."), "Personnel files"),
    Column("purposes", _l("Purposes of processing (codes)."), "hr_employment;accounting"),
    Column("purpose_other", _l("Other purposes, in words."), ""),
    Column("legal_bases", _l("Legal bases of processing (codes)."), "contract;law"),
    Column("data_items", _l("Personal data collected (codes)."), "full_name;pin;address"),
    Column("data_item_other", _l("Other personal data collected, in words."), ""),
    Column(
        "special_categories",
        _l("true when the array holds special categories of personal data, otherwise false."),
        "false",
    ),
    Column("subject_categories", _l("Categories of data subjects (codes)."), "employees"),
    Column(
        "subject_bucket",
        _l("Approximate number of data subjects (code of a range)."),
        "up_to_1000",
    ),
    Column("sources", _l("Sources of collection (codes)."), "subject_directly"),
    Column("recipient_categories", _l("Categories of recipients (codes)."), "state_bodies"),
    Column(
        "cross_border_countries",
        _l("Countries the data are transferred to (ISO 3166-1 alpha-2 codes)."),
        "KZ;RU",
    ),
    Column(
        "retention_value",
        _l("Retention period: the number (empty when a condition is given instead)."),
        "75",
    ),
    Column("retention_unit", _l("Retention period: days, months or years."), "years"),
    Column(
        "retention_condition",
        _l("Retention until a condition, in words, instead of a period."),
        "",
    ),
    Column(
        "storage_country",
        _l("Country where the data are stored (ISO 3166-1 alpha-2 code)."),
        "KG",
    ),
)

JSONL_MEMBERS: tuple[Column, ...] = (
    Column(
        "registration_number, legal_name, short_name, tin, legal_form, region, sector, status, "
        "registered_on, updated_on, status_changed_on, version, cross_border, "
        "special_categories, subordination, legal_address, phone, email, website",
        _l("As in holders.csv; an empty value is null, booleans are true or false."),
        '"region": "KG-GB"',
    ),
    Column(
        "legal_form_label, region_label, sector_label, status_label",
        _l("The codes' labels, in English."),
        '"region_label": "Bishkek"',
    ),
    Column(
        "responsible_person",
        _l(
            "The responsible person's full_name, phone and email, only while they consent to "
            "publication; otherwise null."
        ),
        '{"full_name": "Aida Asanova", "phone": "+996 555 123 456", "email": "dpo@example.kg"}',
    ),
    Column(
        "arrays",
        _l(
            "The personal data arrays, as in arrays.csv (id for array_id); lists are JSON "
            "arrays, retention is {value, unit} or {condition} or null."
        ),
        '[{"id": "3f2b…", "name": "Personnel files", "purposes": ["hr_employment"], …}]',
    ),
    Column(
        "url, versions_url",
        _l("The entry and its published versions in the JSON API."),
        '"url": "https://…/api/v1/holders/PDH-2026-000001"',
    ),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    HOLDERS_CSV: HOLDER_COLUMNS,
    ARRAYS_CSV: ARRAY_COLUMNS,
    HOLDERS_JSONL: JSONL_MEMBERS,
}


@dataclass(frozen=True)
class FileInfo:
    """One file of an export: its name, rows (without the header), size in bytes and SHA-256."""

    name: str
    rows: int
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What an export made: when (UTC), how many holders, and each file's details."""

    generated_at: datetime
    holders: int
    files: dict[str, FileInfo]

    def as_json(self) -> dict[str, Any]:
        """The manifest as written to manifest.json."""
        return {
            "generated_at": self.generated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "licence": LICENCE,
            "holders": self.holders,
            "files": {
                info.name: {"rows": info.rows, "size": info.size, "sha256": info.sha256}
                for info in self.files.values()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """Read a manifest written by `as_json` (KeyError, TypeError or ValueError if not)."""
        generated_at = datetime.fromisoformat(str(data["generated_at"]).replace("Z", "+00:00"))
        files = {
            str(name): FileInfo(
                str(name), int(info["rows"]), int(info["size"]), str(info["sha256"])
            )
            for name, info in dict(data["files"]).items()
        }
        return cls(generated_at.astimezone(UTC), int(data["holders"]), files)


def export_dir() -> Path:
    """The folder the export writes to and the public route serves (OPEN_DATA_DIR)."""
    configured = current_app.config.get("OPEN_DATA_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "open-data"


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of the last export into `folder`; None when none ran (or it is unreadable)."""
    try:
        return Manifest.from_json(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


# -- writing ---------------------------------------------------------------------------------


class _Output:
    """A file being written under a temporary name in its final folder, hashed as it goes."""

    def __init__(self, folder: Path, name: str) -> None:
        self.name = name
        self.final = folder / name
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=TEMP_SUFFIX)
        self.path = Path(temporary)
        self.stream: IO[bytes] = open(descriptor, "wb")  # noqa: SIM115
        self.digest = hashlib.sha256()
        self.rows = 0

    def write(self, text: str) -> None:
        """Append text (UTF-8)."""
        data = text.encode()
        self.digest.update(data)
        self.stream.write(data)

    def finish(self) -> FileInfo:
        """Flush the file to disk, make it world-readable and describe it."""
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        self.path.chmod(0o644)  # mkstemp makes 0600; the web server may run as another user
        return FileInfo(self.name, self.rows, self.path.stat().st_size, self.digest.hexdigest())

    def discard(self) -> None:
        """Close and remove the temporary file (after a failure)."""
        with contextlib.suppress(OSError):
            self.stream.close()
        self.path.unlink(missing_ok=True)


def _cell(value: Any) -> str:
    """A JSON value as a CSV cell: codes joined with ";", true/false, "" for nothing."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return LIST_SEPARATOR.join(map(str, value))
    return str(value)


_PERSON_COLUMNS = {
    "responsible_person_name": "full_name",
    "responsible_person_phone": "phone",
    "responsible_person_email": "email",
}
_HOLDER_NAMES = tuple(column.name for column in HOLDER_COLUMNS)
_ARRAY_NAMES = tuple(column.name for column in ARRAY_COLUMNS)
_RETENTION_COLUMNS = {
    "retention_value": "value",
    "retention_unit": "unit",
    "retention_condition": "condition",
}


def holder_row(entry: dict[str, Any]) -> list[str]:
    """The holders.csv row of an entry as the API gives it (`entry_json`)."""
    person = entry.get("responsible_person") or {}
    return [
        _cell(person.get(_PERSON_COLUMNS[name]) if name in _PERSON_COLUMNS else entry.get(name))
        for name in _HOLDER_NAMES
    ]


def array_rows(entry: dict[str, Any]) -> Iterator[list[str]]:
    """The arrays.csv rows of an entry as the API gives it (`entry_json`)."""
    number = entry["registration_number"]
    for array in entry.get("arrays") or []:
        retention = array.get("retention") or {}
        row = []
        for name in _ARRAY_NAMES:
            if name in _RETENTION_COLUMNS:
                value = retention.get(_RETENTION_COLUMNS[name])
            elif name == "registration_number":
                value = number
            elif name == "array_id":
                value = array.get("id")
            else:
                value = array.get(name)
            row.append(_cell(value))
        yield row


def json_line(entry: dict[str, Any]) -> str:
    """One line of holders.jsonl: compact UTF-8 JSON, with no raw line separator inside."""
    text = orjson.dumps(entry).decode()  # compact, UTF-8, as json.dumps(separators=(",", ":"))
    # json.dumps escapes \n and \r; U+2028/U+2029 are line breaks to str.splitlines, so escape
    # them too: every reader then sees exactly one object per line.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


@contextlib.contextmanager
def _read_session() -> Iterator[Session]:
    """A session of the export's own, reading one consistent snapshot; never writes."""
    bind = db.session.session_factory.kw.get("bind")
    with write_intent(False):  # SQLite: a deferred (read) transaction, not BEGIN IMMEDIATE
        if isinstance(bind, Connection):
            # The test suite binds db.session to one connection inside an outer transaction:
            # read through it so the export sees the test's rows (see tests/conftest.py).
            with Session(bind=bind, join_transaction_mode="create_savepoint") as session:
                yield session
            return
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with Session(bind=connection) as session:  # closing rolls the read back
                yield session


class _Entry(NamedTuple):
    """What `api.holders.entry_json` reads of an entry, read as plain values (no ORM object,
    no per-column result processing: a large part of an export's time went there)."""

    registration_number: str
    legal_name: str
    short_name: str | None
    tin: str | None
    legal_form_code: str | None
    region_code: str | None
    sector_code: str | None
    status: EntryStatus
    registered_on: date
    updated_on: date
    status_changed_on: date | None
    cross_border: bool
    special_categories: bool
    version_number: int
    public_snapshot: dict[str, Any]


_TEXT_COLUMNS = _Entry._fields[:7]


def _day(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


_STATUSES = {status.value: status for status in EntryStatus}


def _entry(row: tuple[Any, ...]) -> RegisterEntry:
    """A raw row (`iter_rows`) as the entry `entry_json` reads."""
    return cast(
        RegisterEntry,
        _Entry(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            _STATUSES[row[7]],
            _day(row[8]),
            _day(row[9]),
            _day(row[10]),
            bool(row[11]),
            bool(row[12]),
            row[13],
            orjson.loads(row[14]),
        ),
    )


def iter_rows(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[list[tuple[Any, ...]]]:
    """Every entry in (sort name, registration number) order, in batches of `batch_size` raw
    rows: plain text, numbers and the snapshot's JSON text, the same on both databases (no
    ORM object, no per-column result processing: most of an export's time went there)."""
    table = RegisterEntry.__table__.c
    key = sa.tuple_(table.sort_name, table.registration_number)
    raw = (
        *(table[name] for name in _TEXT_COLUMNS),
        *(
            sa.type_coerce(table[name], sa.String)
            for name in ("status", "registered_on", "updated_on", "status_changed_on")
        ),
        sa.type_coerce(table.cross_border, sa.Integer),
        sa.type_coerce(table.special_categories, sa.Integer),
        table.version_number,
        sa.cast(table.public_snapshot, sa.Text),
        table.sort_name,
    )
    statement = (
        sa.select(*raw).order_by(table.sort_name, table.registration_number).limit(batch_size)
    )
    after: tuple[str, str] | None = None
    while True:
        page = statement if after is None else statement.where(key > sa.tuple_(*after))
        batch = [tuple(row) for row in session.execute(page)]
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        after = (batch[-1][15], batch[-1][0])


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder: one export at a time writes into it."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _fsync_folder(folder: Path) -> None:
    """Make the renames themselves durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove temporary files an interrupted export left behind (under the folder's lock)."""
    prefixes = tuple(f".{name}." for name in (*DATA_FILES, MANIFEST))
    for path in folder.glob(f".*{TEMP_SUFFIX}"):
        if path.name.startswith(prefixes):
            path.unlink(missing_ok=True)


# What the workers render with, set before they are forked: the labels and the URL maker.
_RENDERING: list[tuple[Any, Callable[[str], str]]] = []


def _render(batch: list[tuple[Any, ...]]) -> tuple[str, str, str, int]:
    """One batch of raw rows as holders.csv, arrays.csv and holders.jsonl text, and the number
    of array rows (in a worker process, or here)."""
    from register.api.holders import entry_json

    labels, url = _RENDERING[0]
    holders_text, arrays_text = io.StringIO(), io.StringIO()
    holders, arrays = csv.writer(holders_text), csv.writer(arrays_text)
    lines = []
    array_count = 0
    for raw in batch:
        data = entry_json(_entry(raw), labels, url)
        holders.writerow(holder_row(data))
        for row in array_rows(data):
            arrays.writerow(row)
            array_count += 1
        lines.append(json_line(data))
    return holders_text.getvalue(), arrays_text.getvalue(), "".join(lines), array_count


def _entry_url(prefix: str, number: str) -> str:
    return f"{prefix}{quote(number, safe='')}"


def _write_data(folder: Path, batch_size: int, workers: int) -> tuple[int, list[_Output]]:
    """Write the three data files under temporary names; the caller moves them into place.

    This process reads the entries (one reader: one consistent snapshot) and `workers` forked
    processes turn batches into text, in order, one batch each ahead at most (memory stays
    flat); with fewer than 2 workers the batches are rendered here.
    """
    from register.services.register_entries import STATUS_LABELS
    from register.services.snapshots import Labels

    outputs: dict[str, _Output] = {}
    pool = None
    try:
        for name in DATA_FILES:
            outputs[name] = _Output(folder, name)
        for name, columns in ((HOLDERS_CSV, HOLDER_COLUMNS), (ARRAYS_CSV, ARRAY_COLUMNS)):
            header = io.StringIO()
            csv.writer(header).writerow([column.name for column in columns])
            outputs[name].write(header.getvalue())
        count = 0

        def write(rendered: tuple[str, str, str, int]) -> None:
            holders_text, arrays_text, lines, array_count = rendered
            outputs[HOLDERS_CSV].write(holders_text)
            outputs[ARRAYS_CSV].write(arrays_text)
            outputs[HOLDERS_JSONL].write(lines)
            outputs[ARRAYS_CSV].rows += array_count

        with _read_session() as session:
            labels = Labels()
            labels.prime(STATUS_LABELS.values())
            prefix = url_for("api.holders", _external=True) + "/"
            _RENDERING[:] = [(labels, functools.partial(_entry_url, prefix))]
            if workers > 1:
                pool = multiprocessing.get_context("fork").Pool(workers)
            pending: collections.deque[Any] = collections.deque()
            for batch in iter_rows(session, batch_size):
                count += len(batch)
                if pool is None:
                    write(_render(batch))
                    continue
                pending.append(pool.apply_async(_render, (batch,)))
                while len(pending) > workers:
                    write(pending.popleft().get())
            while pending:
                write(pending.popleft().get())
        outputs[HOLDERS_CSV].rows = outputs[HOLDERS_JSONL].rows = count
    except BaseException:
        for output in outputs.values():
            output.discard()
        raise
    finally:
        if pool is not None:
            pool.terminate()
        _RENDERING.clear()
    return count, list(outputs.values())


def export(out_dir: Path, *, batch_size: int = BATCH_SIZE, workers: int | None = None) -> Manifest:
    """Write holders.csv, arrays.csv, holders.jsonl and manifest.json into `out_dir`, atomically.

    Needs an application context; the API's links are made against SERVICE_URL and labels are
    in English. On any failure the previous files stay in place and no temporary file remains.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with (
        _folder_lock(folder),
        current_app.test_request_context(base_url=current_app.config["SERVICE_URL"]),
        force_locale("en"),
    ):
        _remove_stale_temporaries(folder)
        generated_at = datetime.now(UTC).replace(microsecond=0)
        if workers is None:
            workers = current_app.config.get("OPEN_DATA_WORKERS") or os.cpu_count() or 1
        count, outputs = _write_data(folder, batch_size, workers)
        manifest_output: _Output | None = None
        try:
            files = {output.name: output.finish() for output in outputs}
            manifest = Manifest(generated_at, count, files)
            manifest_output = _Output(folder, MANIFEST)
            manifest_output.write(json.dumps(manifest.as_json(), ensure_ascii=False, indent=2))
            manifest_output.write("\n")
            manifest_output.finish()
        except BaseException:
            for output in [*outputs, *([manifest_output] if manifest_output else [])]:
                output.discard()
            raise
        for output in outputs:
            os.replace(output.path, output.final)
        os.replace(manifest_output.path, manifest_output.final)
        _fsync_folder(folder)
    return manifest


# -- command line ----------------------------------------------------------------------------

open_data_cli = AppGroup("open-data", help="Export the register as open data files.")


@open_data_cli.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the files (default: OPEN_DATA_DIR, i.e. instance/open-data).",
)
def export_command(out: Path | None) -> None:
    """Write holders.csv, arrays.csv, holders.jsonl and manifest.json (atomically)."""
    folder = out if out is not None else export_dir()
    started = time.monotonic()
    manifest = export(folder)
    elapsed = time.monotonic() - started
    for info in manifest.files.values():
        click.echo(f"{info.name}: {info.rows} rows, {info.size} bytes, {elapsed:.2f} s")
    click.echo(f"{MANIFEST}: {manifest.holders} holders written to {folder} in {elapsed:.2f} s")
