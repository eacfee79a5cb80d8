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
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.models import EntryStatus, ReferenceList, RegisterEntry, search_terms
from register.models import RegisterEntryVersion as EntryVersion
from register.models.register_entries import TERM_LENGTH
from register.search_text import words
from register.services import reference

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_QUERY = 200  # characters of a query that are read; more is a 400 in the API
MAX_WORDS = 12
MAX_CURSOR = 2048  # characters of an encoded cursor (a real one is far shorter)
COUNT_CAP = 10_000
SELECTIVE = 2_000  # filters that keep fewer entries are read by their index and sorted
COMMON_COUNT_CAP = 1_000  # a common word's matches are counted to here (along the words table)
COMMON = 1_000  # more matches than this, and the words table is walked instead of sorting
MAX_EXPANSIONS = 16  # terms a prefix may stand for and still be walked as one word
FIRST_BLOCK = 64  # rows read from one term's range at a time, at first (then doubling)
LAST_BLOCK = 4096
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
    count: int | None = None  # up to count_cap + 1 (None when not asked for)
    filters: Filters = field(default_factory=Filters)
    count_cap: int = 10_000  # more matches than this show as "more than …"


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


@dataclass
class _Text:
    """How a text query is answered: a condition on the entries, or a walk of the words table."""

    condition: sa.ColumnElement[bool] | None = None
    walk: list[list[str]] | None = None  # per query word, its terms (a word's entries in order)
    others: list[sa.ColumnElement[bool]] = field(default_factory=list)  # words without a stream
    indexed: sa.ColumnElement[bool] | None = None  # the full-text condition (for the count)
    probe: sa.Select[Any] | None = None  # the full-text index's matches alone (for the count)
    common: bool = False  # more than COMMON matches


def _like(word: str) -> sa.ColumnElement[bool]:
    """The word as a test of one row's search text (a prefix from 3 characters)."""
    padded = sa.literal(" ") + RegisterEntry.search_text + sa.literal(" ")
    return padded.like(f"% {word}%") if len(word) >= 3 else padded.like(f"% {word} %")


def _expansions(word: str) -> list[str] | None:
    """The terms a query word matches (itself; every term it begins, from 3 characters), read
    by skipping along the words index; None when there are more than MAX_EXPANSIONS."""
    word = word[:TERM_LENGTH]
    if len(word) < 3:
        return [word]
    term = search_terms.c.term
    end = word + "\U0010ffff"
    found: list[str] = []
    for _ in range(MAX_EXPANSIONS + 1):
        lower = term >= word if not found else term > found[-1]
        following = db.session.scalar(
            sa.select(term).where(lower, term < end).order_by(term).limit(1)
        )
        if following is None:
            return found
        found.append(following)
    return None


def _text(q: str) -> _Text | None:
    """How to answer a text query; None: the query has nothing to look for."""
    stripped = q.strip()
    if _TIN.match(stripped):
        return _Text(condition=RegisterEntry.tin == stripped)
    if _NUMBER.match(stripped):
        return _Text(condition=RegisterEntry.registration_number == stripped.upper())
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
    # than COMMON matches, the words table is walked instead: each word's entries come in
    # results order, and the words' ranges are intersected by leapfrogging (a range that lags
    # seeks to where another one is), so a page costs a few index ranges. A word with too
    # many terms (a 3-letter prefix of hundreds of names) is tested row by row instead.
    # How common: a single word's entries are counted by index in the words table (to
    # COMMON + 1); several words' intersection by the full-text index.
    expansions = {word: _expansions(word) for word in dict.fromkeys(words)}
    bounded = [terms for terms in expansions.values() if terms is not None]
    if len(expansions) == 1 and bounded:
        matches = _distinct_entries(bounded[0], [], COMMON)
    else:
        matches = int(
            db.session.scalar(
                sa.select(sa.func.count()).select_from(probe.limit(COMMON + 1).subquery())
            )
            or 0
        )
    if matches <= COMMON:
        return _Text(condition=indexed, indexed=indexed, probe=probe)
    others = [_like(word) for word, terms in expansions.items() if terms is None]
    if not bounded:  # only prefixes of hundreds of terms: test every row along the sort index
        return _Text(condition=sa.and_(*others), indexed=indexed, probe=probe, common=True)
    return _Text(walk=bounded, others=others, indexed=indexed, probe=probe, common=True)


def _distinct_entries(terms: list[str], filters: list[sa.ColumnElement[bool]], cap: int) -> int:
    """Entries holding one of the terms and passing the filters, counted to cap + 1 by index.

    An entry holds each term once, so (cap + 1) x terms rows hold at least cap + 1 entries:
    reading that many rows at most gives the exact count below the cap.
    """
    table = search_terms.c
    rows = (
        sa.select(table.entry_id)
        .where(table.term.in_(terms), *filters)
        # In the index's order: PostgreSQL would otherwise scan the table for a common term
        # and, starting where another scan stands, may read most of it before the first row.
        .order_by(table.term, table.sort_name, table.registration_number)
        .limit((cap + 1) * len(terms))
        .subquery()
    )
    counted = db.session.scalar(sa.select(sa.func.count(sa.distinct(rows.c.entry_id))))
    return min(int(counted or 0), cap + 1)


def _conditions(filters: Filters) -> list[sa.ColumnElement[bool]]:
    """Every condition of the filters but the text query's."""
    conditions: list[sa.ColumnElement[bool]] = []
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
    text = _text(filters.q) if filters.q else _Text()
    if text is None:
        return Page([], None, None, 0 if count else None, filters)
    # A list shows no snapshot: leave the largest column unread.
    unread = (sa.orm.defer(RegisterEntry.public_snapshot), sa.orm.defer(RegisterEntry.search_text))
    if text.walk is not None:
        cursor = before or after
        start = (cursor.sort_name, cursor.number) if cursor is not None else None
        walk_filters = _term_filters(filters)
        ids = _walk(text.walk, walk_filters, text.others, start, before is not None, limit + 1)
        found = {
            row.id: row
            for row in db.session.scalars(
                sa.select(RegisterEntry).where(RegisterEntry.id.in_(ids)).options(*unread)
            )
        }
        rows = [found[entry_id] for entry_id in ids if entry_id in found]
    else:
        where = list(conditions)
        if text.condition is not None:
            where.append(text.condition)
        elif where and _many(where):
            # Filters alone that keep many entries: SQLite, which has no statistics per value,
            # would read all of them by a filter's index and sort them; marked likely (true for
            # most rows), its planner walks the name order instead and stops after one page.
            where = [sa.func.likely(condition) for condition in where]
        key = sa.tuple_(RegisterEntry.sort_name, RegisterEntry.registration_number)
        statement = sa.select(RegisterEntry).where(*where).options(*unread)
        if before is not None:
            statement = statement.where(key < sa.tuple_(before.sort_name, before.number)).order_by(
                RegisterEntry.sort_name.desc(), RegisterEntry.registration_number.desc()
            )
        else:
            if after is not None:
                statement = statement.where(key > sa.tuple_(after.sort_name, after.number))
            statement = statement.order_by(
                RegisterEntry.sort_name, RegisterEntry.registration_number
            )
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
    total, cap = None, COUNT_CAP
    if count and text.walk is not None:
        # A common word: counted along the words table (filtered as read), to 1 000.
        cap = COMMON_COUNT_CAP
        if not conditions and cap <= COMMON:
            total = cap + 1  # more than COMMON matched, as the walk was chosen
        elif len(text.walk) == 1 and not text.others:
            total = _distinct_entries(text.walk[0], _term_filters(filters), cap)
        else:
            walked = _walk(text.walk, _term_filters(filters), text.others, None, False, cap + 1)
            total = len(walked)
    elif count:
        total, cap = _count(conditions, text)
    return Page(rows, next_cursor, previous_cursor, total, filters, cap)


def _many(conditions: list[sa.ColumnElement[bool]]) -> bool:
    """On SQLite, whether more than SELECTIVE entries meet the conditions (read by index)."""
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    probe = sa.select(RegisterEntry.id).where(*conditions).limit(SELECTIVE + 1).subquery()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(probe)) or 0) > SELECTIVE


def _count(conditions: list[sa.ColumnElement[bool]], text: _Text) -> tuple[int, int]:
    """How many entries match, counted up to a cap + 1; and the cap.

    Words alone are counted in the full-text index (no entry is read). Words with filters are
    counted up to COUNT_CAP when they are rare, and up to COMMON_COUNT_CAP when they are common
    (each match is then read to test the filters: "more than 1 000" is all a person needs).
    """
    cap = COUNT_CAP
    if text.probe is not None and not conditions:
        counted: sa.Select[Any] = text.probe.limit(cap + 1)
    else:
        where = list(conditions)
        if text.common:
            cap = COMMON_COUNT_CAP
        if text.indexed is not None:  # the full-text index's condition stands for every word
            where.append(text.indexed)
        elif text.condition is not None:
            where.append(text.condition)
        counted = sa.select(RegisterEntry.id).where(*where).limit(cap + 1)
    found = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery()))
    return int(found or 0), cap


# -- walking the words table -------------------------------------------------------------------

Key = tuple[str, str]  # (sort name, registration number): a place in the results' order


class _Stream:
    """One query word's entries in results order: the union of its terms' index ranges, read
    in blocks (one query per term) that double in size as the walk goes on."""

    def __init__(
        self, terms: list[str], descending: bool, filters: list[sa.ColumnElement[bool]]
    ) -> None:
        self.terms = terms
        self.descending = descending
        self.filters = filters  # on the words table's copy of the entry's filters
        self.rows: list[tuple[Key, uuid.UUID]] = []
        self.position = 0
        self.complete = False  # the buffer holds every row from its start to the end
        self.block = FIRST_BLOCK

    def _beyond(self, key: Key, target: Key, inclusive: bool) -> bool:
        """Whether `key` is at (when inclusive) or past `target` in the walk's direction."""
        if key == target:
            return inclusive
        return key < target if self.descending else key > target

    def seek(self, target: Key | None, inclusive: bool) -> tuple[Key, uuid.UUID] | None:
        """The first row at or past `target` (strictly past unless inclusive); None at the end."""
        while True:
            rows = self.rows
            while (
                self.position < len(rows)
                and target is not None
                and not self._beyond(rows[self.position][0], target, inclusive)
            ):
                self.position += 1
            if self.position < len(rows):
                return rows[self.position]
            if self.complete:
                return None
            start = target
            if rows and (start is None or self._beyond(rows[-1][0], start, False)):
                start, inclusive = rows[-1][0], False
            self._fetch(start, inclusive)

    def _fetch(self, start: Key | None, inclusive: bool) -> None:
        table = search_terms.c
        key = sa.tuple_(table.sort_name, table.registration_number)
        order = (
            (table.sort_name.desc(), table.registration_number.desc())
            if self.descending
            else (table.sort_name, table.registration_number)
        )
        merged: list[tuple[Key, uuid.UUID]] = []
        limits: list[Key] = []
        for term in self.terms:
            statement = sa.select(table.sort_name, table.registration_number, table.entry_id).where(
                table.term == term, *self.filters
            )
            if start is not None:
                bound = sa.tuple_(*start)
                if self.descending:
                    statement = statement.where(key <= bound if inclusive else key < bound)
                else:
                    statement = statement.where(key >= bound if inclusive else key > bound)
            found = [
                ((sort_name, number), entry_id)
                for sort_name, number, entry_id in db.session.execute(
                    statement.order_by(*order).limit(self.block)
                )
            ]
            if len(found) == self.block:
                limits.append(found[-1][0])
            merged += found
        # Rows past the first full block's last key may miss another term's rows: kept later.
        merged.sort(key=lambda row: row[0], reverse=self.descending)
        if limits:
            edge = max(limits) if self.descending else min(limits)
            merged = [row for row in merged if not self._beyond(row[0], edge, False)]
        deduplicated: list[tuple[Key, uuid.UUID]] = []
        for row in merged:  # one entry, several terms of the same word
            if not deduplicated or deduplicated[-1][0] != row[0]:
                deduplicated.append(row)
        self.rows, self.position = deduplicated, 0
        self.complete = not limits
        self.block = min(self.block * 2, LAST_BLOCK)


def _next_match(
    streams: list[_Stream], start: Key | None, inclusive: bool
) -> tuple[Key, Any] | None:
    """The first entry past `start` that every stream holds (leapfrog: each stream in turn
    seeks to the furthest key seen, until they all stand on the same one)."""
    target, including = start, inclusive
    agreed = 0
    index = 0
    while True:
        row = streams[index].seek(target, including)
        if row is None:
            return None
        if row[0] == target and including:
            agreed += 1
        else:
            target, including, agreed = row[0], True, 1
        if agreed == len(streams):
            return row
        index = (index + 1) % len(streams)


def _walk(
    words: list[list[str]],
    filters: list[sa.ColumnElement[bool]],
    others: list[sa.ColumnElement[bool]],
    start: Key | None,
    descending: bool,
    wanted: int,
) -> list[uuid.UUID]:
    """The ids of the first `wanted` entries past `start` that hold a term of every word, pass
    the filters (read from the words table) and the other words' tests (read from the entries,
    a batch at a time), in the walk's order."""
    streams = [_Stream(terms, descending, filters) for terms in words]
    found: list[uuid.UUID] = []
    key, inclusive = start, False
    batch = max(wanted, FIRST_BLOCK)
    while len(found) < wanted:
        candidates: list[uuid.UUID] = []
        while len(candidates) < batch:
            match = _next_match(streams, key, inclusive)
            if match is None:
                break
            key, inclusive = match[0], False
            candidates.append(match[1])
        if not candidates:
            break
        if others:
            kept = set(
                db.session.scalars(
                    sa.select(RegisterEntry.id).where(RegisterEntry.id.in_(candidates), *others)
                )
            )
            candidates = [entry_id for entry_id in candidates if entry_id in kept]
        found += candidates
        if match is None:
            break
        batch = min(batch * 2, LAST_BLOCK)
    return found[:wanted]


def _term_filters(filters: Filters) -> list[sa.ColumnElement[bool]]:
    """The filters as conditions on the words table's copy of each entry's filters."""
    table = search_terms.c
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.tin:
        conditions.append(
            table.entry_id.in_(sa.select(RegisterEntry.id).where(RegisterEntry.tin == filters.tin))
        )
    if filters.region:
        conditions.append(table.region_code == filters.region)
    if filters.sector:
        conditions.append(table.sector_code == filters.sector)
    if filters.status is not None:
        conditions.append(table.status == filters.status.value)
    if filters.cross_border is not None:
        conditions.append(table.cross_border.is_(filters.cross_border))
    if filters.special_categories is not None:
        conditions.append(table.special_categories.is_(filters.special_categories))
    return conditions


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
