"""The public register as the public reads it: search, an entry, its versions. Never decrypts.

Everything here reads `register_entries` and `register_entry_versions` only (DESIGN.md §2).
Search (DESIGN.md §5): the query is normalised like the names were (`register.search_text`) and
split into words of letters and digits; each word is passed as a quoted term, never as query
syntax, and a word of 3 characters or more also matches as a prefix. SQLite searches its FTS5
table, PostgreSQL a GIN index over `to_tsvector('simple', search_text)`. A query that is a
TIN (14 digits) or a registration number finds that entry exactly. Results are ordered by
(sort name, registration number), which is also the cursor: keyset pagination, as deep as
anyone likes, at the same cost on every page.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.models import EntryStatus, ReferenceList, RegisterEntry
from register.models import RegisterEntryVersion as EntryVersion
from register.search_text import words
from register.services import reference

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_QUERY = 200  # characters of a query that are read; more is a 400 in the API
MAX_WORDS = 12
MAX_CURSOR = 2048  # characters of an encoded cursor (a real one is far shorter)
COUNT_CAP = 10_000
COMMON = 5_000  # more full-text matches than this, and the sort index is walked instead
_NUMBER = re.compile(r"^[A-Za-z]{1,20}-\d{4}-\d{1,9}$")
_TIN = re.compile(r"^\d{14}$")
BOOLEANS = {"true": True, "false": False}


class BadParameter(ValueError):
    """A query parameter that cannot be used; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Cursor:
    """A position in the order of results: after (or before) this sort name and number."""

    sort_name: str
    number: str

    def encode(self) -> str:
        """The opaque form used in URLs."""
        raw = json.dumps([self.sort_name, self.number], ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, name: str = "cursor") -> Cursor:
        """Read a cursor from a URL; BadParameter when it is not one of ours."""
        invalid = BadParameter(name, str(_l("The cursor is not valid: start again.")))
        if len(text) > MAX_CURSOR:
            raise invalid
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort_name, number = json.loads(raw.decode())
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
            raise invalid from None
        if not isinstance(sort_name, str) or not isinstance(number, str) or len(number) > 40:
            raise invalid
        if not (storable(sort_name) and storable(number)):
            raise invalid
        return cls(sort_name[:500], number)


@dataclass(frozen=True)
class Filters:
    """What a search asks for (already checked)."""

    q: str = ""
    tin: str | None = None
    region: str | None = None
    sector: str | None = None
    status: EntryStatus | None = None
    cross_border: bool | None = None
    special_categories: bool | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links to other pages of the results)."""
        args: dict[str, str] = {}
        for name in ("q", "tin", "region", "sector"):
            value = getattr(self, name)
            if value:
                args[name] = value
        if self.status is not None:
            args["status"] = self.status.value
        for name in ("cross_border", "special_categories"):
            value = getattr(self, name)
            if value is not None:
                args[name] = "true" if value else "false"
        return args


@dataclass
class Page:
    """One page of results and the cursors of its neighbours."""

    items: list[RegisterEntry]
    next_cursor: str | None
    previous_cursor: str | None
    count: int | None = None  # capped at COUNT_CAP (None when not asked for)
    filters: Filters = field(default_factory=Filters)


def _codes(list_code: ReferenceList) -> set[str]:
    return {item.code for item in reference.items(list_code, include_retired=True)}


def parse_filters(args: Mapping[str, str]) -> Filters:
    """The filters of a query string; BadParameter names the first one that is wrong."""
    q = args.get("q", "") or ""
    if len(q) > MAX_QUERY:
        raise BadParameter("q", str(_l("Search for %(num)d characters or fewer.", num=MAX_QUERY)))
    tin = (args.get("tin") or "").strip() or None
    if tin is not None and not _TIN.match(tin):
        raise BadParameter("tin", str(_l("A TIN is 14 digits.")))
    values: dict[str, Any] = {"q": q.strip(), "tin": tin}
    for name, list_code in (("region", ReferenceList.REGION), ("sector", ReferenceList.SECTOR)):
        code = (args.get(name) or "").strip()
        if code:
            if code not in _codes(list_code):
                raise BadParameter(
                    name, str(_l("Unknown code %(code)s: use a code of the list.", code=code[:20]))
                )
            values[name] = code
    status = (args.get("status") or "").strip()
    if status:
        try:
            values["status"] = EntryStatus(status)
        except ValueError:
            raise BadParameter(
                "status", str(_l("The status is one of: registered, suspended, struck_off."))
            ) from None
    for name in ("cross_border", "special_categories"):
        flag = (args.get(name) or "").strip().lower()
        if flag:
            if flag not in BOOLEANS:
                raise BadParameter(name, str(_l("%(name)s is true or false.", name=name)))
            values[name] = BOOLEANS[flag]
    return Filters(**values)


def parse_limit(raw: str | None) -> int:
    """`limit`: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    # isascii: "²" and "①" are digits to str.isdigit, not to int().
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadParameter(
            "limit", str(_l("The limit is a whole number from 1 to %(max)d.", max=MAX_LIMIT))
        )
    return int(raw)


def query_words(q: str) -> list[str]:
    """The words of a query as the search column has them (letters and digits only)."""
    return words(q)[:MAX_WORDS]


def _text_condition(q: str) -> sa.ColumnElement[bool] | None:
    """The WHERE clause of a text query; None: the query has nothing to look for."""
    stripped = q.strip()
    if _TIN.match(stripped):
        return RegisterEntry.tin == stripped
    if _NUMBER.match(stripped):
        return RegisterEntry.registration_number == stripped.upper()
    words = query_words(stripped)
    if not words:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        terms = " & ".join(f"'{word}':*" if len(word) >= 3 else f"'{word}'" for word in words)
        indexed = sa.func.to_tsvector("simple", RegisterEntry.search_text).op("@@")(
            sa.func.to_tsquery("simple", terms)
        )
        probe: sa.Select[Any] = sa.select(RegisterEntry.id).where(indexed)
    else:
        match = " ".join(f'"{word}"*' if len(word) >= 3 else f'"{word}"' for word in words)
        matching: sa.Select[Any] = (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.table("register_entries_fts"))
            .where(sa.literal_column("register_entries_fts").op("MATCH")(match))
        )
        indexed = RegisterEntry.search_rowid.in_(matching)
        probe = matching
    # The full-text index fetches every match, and the page then sorts them by name: right
    # for rare words, seconds for a word in a third of all names. When the index holds more
    # than COMMON matches, walk the (sort name, number) index instead and test each row's
    # words: the first page is then found after a few hundred rows. Same rows, same order.
    common = db.session.scalar(
        sa.select(sa.func.count()).select_from(probe.limit(COMMON).subquery())
    )
    if int(common or 0) < COMMON:
        return indexed
    padded = sa.literal(" ") + RegisterEntry.search_text + sa.literal(" ")
    return sa.and_(
        *(
            padded.like(f"% {word}%") if len(word) >= 3 else padded.like(f"% {word} %")
            for word in words
        )
    )


def _conditions(filters: Filters) -> list[sa.ColumnElement[bool]] | None:
    """Every condition of the filters; None when the text query can match nothing."""
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.q:
        text = _text_condition(filters.q)
        if text is None:
            return None
        conditions.append(text)
    if filters.tin:
        conditions.append(RegisterEntry.tin == filters.tin)
    if filters.region:
        conditions.append(RegisterEntry.region_code == filters.region)
    if filters.sector:
        conditions.append(RegisterEntry.sector_code == filters.sector)
    if filters.status is not None:
        conditions.append(RegisterEntry.status == filters.status)
    if filters.cross_border is not None:
        conditions.append(RegisterEntry.cross_border.is_(filters.cross_border))
    if filters.special_categories is not None:
        conditions.append(RegisterEntry.special_categories.is_(filters.special_categories))
    return conditions


def search(
    filters: Filters,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    limit: int = DEFAULT_LIMIT,
    count: bool = False,
) -> Page:
    """One page of entries matching the filters, in (sort name, number) order."""
    conditions = _conditions(filters)
    if conditions is None:
        return Page([], None, None, 0 if count else None, filters)
    key = sa.tuple_(RegisterEntry.sort_name, RegisterEntry.registration_number)
    # A list shows no snapshot: leave the largest column unread.
    statement = (
        sa.select(RegisterEntry)
        .where(*conditions)
        .options(
            sa.orm.defer(RegisterEntry.public_snapshot), sa.orm.defer(RegisterEntry.search_text)
        )
    )
    if before is not None:
        statement = statement.where(key < sa.tuple_(before.sort_name, before.number)).order_by(
            RegisterEntry.sort_name.desc(), RegisterEntry.registration_number.desc()
        )
    else:
        if after is not None:
            statement = statement.where(key > sa.tuple_(after.sort_name, after.number))
        statement = statement.order_by(RegisterEntry.sort_name, RegisterEntry.registration_number)
    rows = list(db.session.scalars(statement.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    first = Cursor(rows[0].sort_name, rows[0].registration_number) if rows else None
    last = Cursor(rows[-1].sort_name, rows[-1].registration_number) if rows else None
    if before is not None:
        next_cursor = last.encode() if last else None
        previous_cursor = first.encode() if (first and more) else None
    else:
        next_cursor = last.encode() if (last and more) else None
        previous_cursor = first.encode() if (first and after is not None) else None
    total = None
    if count:
        capped = sa.select(RegisterEntry.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = int(db.session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0)
    return Page(rows, next_cursor, previous_cursor, total, filters)


def storable(text: str) -> bool:
    """Text a database can hold: no NUL (PostgreSQL refuses it), no lone surrogate."""
    return "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)


def entry(number: str) -> RegisterEntry | None:
    """The entry with this registration number (any case), if there is one."""
    if not number or len(number) > 40 or not number.isascii() or not storable(number):
        return None
    return db.session.scalar(
        sa.select(RegisterEntry).where(RegisterEntry.registration_number == number.upper())
    )


def versions(found: RegisterEntry) -> list[EntryVersion]:
    """The entry's published versions, oldest first."""
    return list(
        db.session.scalars(
            sa.select(EntryVersion)
            .where(EntryVersion.entry_id == found.id)
            .order_by(EntryVersion.number)
        )
    )
