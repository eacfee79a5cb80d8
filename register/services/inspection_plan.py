"""The inspection plan: registered holders ranked by a risk score that explains itself.

The score is a sum of terms, each from one fact about the holder:

    special categories    3 if any array holds special categories of personal data
    subjects              3 from HIGH_RISK_SUBJECTS (100,000) subjects, 2 from 10,000, 1 from 1,000
                          (the largest subject-count bucket of the published entry)
    cross-border          2 if any array transfers data abroad
    breaches              2 per breach report filed in the last 3 years, at most 3 counted
    upheld complaints     2 per complaint upheld in the last 3 years, at most 3 counted
    open violations       3 per violation not yet put right, at most 3 counted
    last inspection       4 if never inspected; 3 if the last closed more than 3 years ago,
                          2 more than 2 years, 1 more than 1 year ago

A violation is open while an order issued for it is not settled, or, when no order names it,
while its inspection is not closed. The terms are data: `points` gives each term's points
from a holder's facts, `explain` says why, term by term. The plan ranks every registered
holder without reading the whole register (see "the plan at national scale" below); a
reference ranking that reads every holder's facts in one query and scores each with the same
`points` is kept for the tests, which check that both agree (its query also serves `risk_for`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql

from register.database import utcnow
from register.extensions import db
from register.models import (
    OPEN_INSPECTION_STATUSES,
    SETTLED_ORDER_STATUSES,
    BreachReport,
    Complaint,
    ComplaintStatus,
    EntryStatus,
    Inspection,
    InspectionOrder,
    InspectionStatus,
    InspectionViolation,
    Organisation,
    RegisterEntry,
)
from register.services import triage

YEAR = timedelta(days=365)
LOOK_BACK = 3 * YEAR  # breaches and upheld complaints count for three years
PLANNED_STATUSES = (EntryStatus.REGISTERED, EntryStatus.SUSPENDED)  # not struck off


@dataclass(frozen=True)
class RiskTerm:
    """One term of a holder's score: what it is, the holder's fact, the points and why."""

    code: str
    label: str
    value: str
    points: int
    explanation: str


@dataclass(frozen=True)
class Risk:
    """A holder's score and its terms (the score is their sum)."""

    score: int
    terms: list[RiskTerm]


@dataclass(frozen=True)
class Facts:
    """What the score is computed from, for one holder."""

    special_categories: bool
    cross_border: bool
    max_subjects: int | None
    breaches: int
    upheld_complaints: int
    open_violations: int
    last_inspected: datetime | None
    open_inspection: bool = False


# -- the terms, as data --------------------------------------------------------------------

SPECIAL_POINTS = 3
CROSS_BORDER_POINTS = 2
PER_BREACH, MAX_BREACHES = 2, 3
PER_UPHELD, MAX_UPHELD = 2, 3
PER_VIOLATION, MAX_VIOLATIONS = 3, 3
NEVER_INSPECTED_POINTS = 4
INSPECTION_AGE_TIERS = ((3, 3), (2, 2), (1, 1))  # (more than N years ago, points)


def subject_tiers() -> tuple[tuple[int, int], ...]:
    """(from N subjects, points), largest first."""
    high = int(current_app.config["HIGH_RISK_SUBJECTS"])
    return ((high, 3), (10_000, 2), (1_000, 1))


TERM_LABELS = {
    "special_categories": _l("Special categories of personal data"),
    "subjects": _l("Number of data subjects"),
    "cross_border": _l("Cross-border transfers"),
    "breaches": _l("Breach reports in the last 3 years"),
    "upheld_complaints": _l("Complaints upheld in the last 3 years"),
    "open_violations": _l("Violations not yet put right"),
    "last_inspection": _l("Time since the last inspection"),
}


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _subject_points(
    max_subjects: int | None, tiers: tuple[tuple[int, int], ...] | None = None
) -> int:
    for bound, points in tiers or subject_tiers():
        if max_subjects is not None and max_subjects >= bound:
            return points
    return 0


def _age_points(last: datetime | None, now: datetime) -> int:
    if last is None:
        return NEVER_INSPECTED_POINTS
    for years, points in INSPECTION_AGE_TIERS:
        if last < now - years * YEAR:
            return points
    return 0


def points(
    facts: Facts, now: datetime, tiers: tuple[tuple[int, int], ...] | None = None
) -> dict[str, int]:
    """Each term's points (the score is their sum); `explain` says why. `tiers`: the subject
    tiers, when the caller scores many holders and has read them once."""
    return {
        "special_categories": SPECIAL_POINTS if facts.special_categories else 0,
        "subjects": _subject_points(facts.max_subjects, tiers),
        "cross_border": CROSS_BORDER_POINTS if facts.cross_border else 0,
        "breaches": PER_BREACH * min(facts.breaches, MAX_BREACHES),
        "upheld_complaints": PER_UPHELD * min(facts.upheld_complaints, MAX_UPHELD),
        "open_violations": PER_VIOLATION * min(facts.open_violations, MAX_VIOLATIONS),
        "last_inspection": _age_points(facts.last_inspected, now),
    }


def explain(facts: Facts, now: datetime | None = None) -> Risk:
    """The terms of a holder's score, each with the fact, its points and why."""
    now = now or utcnow()
    scored = points(facts, now)
    terms = []

    def term(code: str, value: str, points: int, explanation: Any) -> None:
        terms.append(RiskTerm(code, str(TERM_LABELS[code]), value, points, str(explanation)))

    term(
        "special_categories",
        str(_l("Yes") if facts.special_categories else _l("No")),
        scored["special_categories"],
        _l("%(points)s points when any array holds special categories.", points=SPECIAL_POINTS),
    )
    tiers = ", ".join(
        str(_l("%(points)s from %(number)s", points=points, number=_number(bound)))
        for bound, points in subject_tiers()
    )
    term(
        "subjects",
        str(_l("From %(number)s", number=_number(facts.max_subjects)))
        if facts.max_subjects is not None
        else str(_l("Not given")),
        scored["subjects"],
        _l("Points by the largest array's number of subjects: %(tiers)s.", tiers=tiers),
    )
    term(
        "cross_border",
        str(_l("Yes") if facts.cross_border else _l("No")),
        scored["cross_border"],
        _l("%(points)s points when any array transfers data abroad.", points=CROSS_BORDER_POINTS),
    )
    term(
        "breaches",
        ngettext("%(num)d report", "%(num)d reports", facts.breaches),
        scored["breaches"],
        _l(
            "%(points)s points per report, at most %(most)s counted.",
            points=PER_BREACH,
            most=MAX_BREACHES,
        ),
    )
    term(
        "upheld_complaints",
        ngettext("%(num)d complaint", "%(num)d complaints", facts.upheld_complaints),
        scored["upheld_complaints"],
        _l(
            "%(points)s points per upheld complaint, at most %(most)s counted.",
            points=PER_UPHELD,
            most=MAX_UPHELD,
        ),
    )
    term(
        "open_violations",
        ngettext("%(num)d violation", "%(num)d violations", facts.open_violations),
        scored["open_violations"],
        _l(
            "%(points)s points per violation whose orders are not settled, at most %(most)s "
            "counted.",
            points=PER_VIOLATION,
            most=MAX_VIOLATIONS,
        ),
    )
    term(
        "last_inspection",
        str(_l("Closed on %(date)s", date=format_date(facts.last_inspected, "medium")))
        if facts.last_inspected is not None
        else str(_l("Never inspected")),
        scored["last_inspection"],
        _l(
            "%(never)s points if never inspected; 3 if more than 3 years ago, 2 if more than "
            "2, 1 if more than 1.",
            never=NEVER_INSPECTED_POINTS,
        ),
    )
    return Risk(sum(t.points for t in terms), terms)


# -- the facts, read from the database ------------------------------------------------------


def _subquery_facts(now: datetime) -> dict[str, Any]:
    """Per-organisation aggregates (small: only holders with breaches, complaints, inspections)."""
    breaches = (
        sa.select(BreachReport.organisation_id, sa.func.count().label("n"))
        .where(BreachReport.filed_at >= now - LOOK_BACK)
        .group_by(BreachReport.organisation_id)
        .subquery("breaches")
    )
    upheld = (
        sa.select(Complaint.organisation_id, sa.func.count().label("n"))
        .where(
            Complaint.status == ComplaintStatus.UPHELD,
            Complaint.decided_at >= now - LOOK_BACK,
            Complaint.organisation_id.is_not(None),
        )
        .group_by(Complaint.organisation_id)
        .subquery("upheld")
    )
    unsettled = sa.exists().where(
        InspectionOrder.violation_id == InspectionViolation.id,
        InspectionOrder.status.not_in(list(SETTLED_ORDER_STATUSES)),
    )
    any_order = sa.exists().where(InspectionOrder.violation_id == InspectionViolation.id)
    violations = (
        sa.select(Inspection.organisation_id, sa.func.count(InspectionViolation.id).label("n"))
        .join(Inspection, Inspection.id == InspectionViolation.inspection_id)
        .where(
            sa.or_(
                unsettled,
                sa.and_(~any_order, Inspection.status != InspectionStatus.CLOSED),
            )
        )
        .group_by(Inspection.organisation_id)
        .subquery("violations")
    )
    inspected = (
        sa.select(
            Inspection.organisation_id,
            sa.func.max(
                sa.case((Inspection.status == InspectionStatus.CLOSED, Inspection.closed_at))
            ).label("last"),
            sa.func.sum(
                sa.case((Inspection.status.in_(list(OPEN_INSPECTION_STATUSES)), 1), else_=0)
            ).label("open"),
        )
        .group_by(Inspection.organisation_id)
        .subquery("inspected")
    )
    return {
        "breaches": breaches,
        "upheld": upheld,
        "violations": violations,
        "inspected": inspected,
    }


def _facts_select(now: datetime) -> sa.Select[Any]:
    """Each entry's id and the facts of its score (narrow: never the published snapshot)."""
    parts = _subquery_facts(now)
    return (
        sa.select(
            RegisterEntry.id,
            RegisterEntry.special_categories,
            RegisterEntry.cross_border,
            RegisterEntry.max_subjects,
            parts["breaches"].c.n,
            parts["upheld"].c.n,
            parts["violations"].c.n,
            parts["inspected"].c.last,
            parts["inspected"].c.open,
        )
        .outerjoin(
            parts["breaches"], parts["breaches"].c.organisation_id == RegisterEntry.organisation_id
        )
        .outerjoin(
            parts["upheld"], parts["upheld"].c.organisation_id == RegisterEntry.organisation_id
        )
        .outerjoin(
            parts["violations"],
            parts["violations"].c.organisation_id == RegisterEntry.organisation_id,
        )
        .outerjoin(
            parts["inspected"],
            parts["inspected"].c.organisation_id == RegisterEntry.organisation_id,
        )
    )


def _facts(row: Any) -> Facts:
    _id, special, cross_border, max_subjects, breaches, upheld, violations, last, open_count = row
    return Facts(
        special_categories=bool(special),
        cross_border=bool(cross_border),
        max_subjects=max_subjects,
        breaches=int(breaches or 0),
        upheld_complaints=int(upheld or 0),
        open_violations=int(violations or 0),
        last_inspected=last,
        open_inspection=bool(open_count),
    )


def risk_for(organisation_id: uuid.UUID, now: datetime | None = None) -> Risk | None:
    """One holder's score, term by term; None if it has no register entry."""
    now = now or utcnow()
    row = db.session.execute(
        _facts_select(now).where(RegisterEntry.organisation_id == organisation_id)
    ).first()
    return explain(_facts(row), now) if row is not None else None


@dataclass(frozen=True)
class PlanFilters:
    """What the plan is narrowed to."""

    region: str | None = None
    sector: str | None = None
    holder: str = ""
    include_open: bool = False  # holders with an inspection under way too


@dataclass(frozen=True)
class PlanRow:
    """One holder in the plan."""

    entry: RegisterEntry
    risk: Risk
    open_inspection: bool


def _conditions(filters: PlanFilters, *, under_way: bool = True) -> list[Any]:
    """The plan's filters; without `under_way`, holders with an inspection under way stay in."""
    conditions: list[Any] = [RegisterEntry.status.in_(list(PLANNED_STATUSES))]
    if filters.region:
        conditions.append(RegisterEntry.region_code == filters.region)
    if filters.sector:
        conditions.append(RegisterEntry.sector_code == filters.sector)
    found = triage.holder_condition(filters.holder)
    if found is not None:
        conditions.append(
            RegisterEntry.organisation_id.in_(sa.select(Organisation.id).where(found))
        )
    if under_way and not filters.include_open:
        conditions.append(
            ~sa.exists().where(
                Inspection.organisation_id == RegisterEntry.organisation_id,
                Inspection.status.in_(list(OPEN_INSPECTION_STATUSES)),
            )
        )
    return conditions


class Ranked(NamedTuple):
    """An entry's place in the reference ranking."""

    id: uuid.UUID
    score: int


def ranking_in_one_query(
    filters: PlanFilters, limit: int, offset: int = 0, now: datetime | None = None
) -> list[Ranked]:
    """The plan's rows by scoring every holder (one query for their facts, `points` for the
    score): simple, and the reference the faster `plan` is tested against. It reads the whole
    register: seconds at national scale."""
    now = now or utcnow()
    tiers = subject_tiers()
    rows = db.session.execute(
        _facts_select(now)
        .add_columns(RegisterEntry.sort_name, RegisterEntry.registration_number)
        .where(*_conditions(filters))
    )
    scored = []
    for row in rows:
        score = sum(points(_facts(tuple(row)[:9]), now, tiers).values())
        scored.append((-score, row.sort_name, row.registration_number, row.id))
    scored.sort()
    return [Ranked(entry_id, -score) for score, _name, _number, entry_id in scored][
        offset : offset + limit
    ]


# -- the plan at national scale ----------------------------------------------------------------
#
# Most holders have no history: no breach report or upheld complaint in the window, no open
# violation, no inspection. Their score is fixed by their entry alone (special categories,
# transfers abroad, the largest subject bucket) plus the points of "never inspected". So the
# plan merges two short lists: the holders with a history, scored in full by SQL (a few
# thousand at most), and the best of the others, read in score order from the index
# ix_register_entries_plan (special categories, cross-border, largest bucket, then the results'
# order): one short index range per combination of those three, highest scores first, until a
# page is full. A page costs milliseconds whatever the size of the register.

_CHUNK = 200


def _history_counts(now: datetime) -> dict[str, dict[uuid.UUID, Any]]:
    """Per organisation with a history: its breach reports, upheld complaints and open
    violations counted, and its last closed inspection and inspections under way."""
    parts = _subquery_facts(now)
    found: dict[str, dict[uuid.UUID, Any]] = {}
    for name in ("breaches", "upheld", "violations"):
        part = parts[name]
        found[name] = {
            organisation: int(n)
            for organisation, n in db.session.execute(sa.select(part.c.organisation_id, part.c.n))
        }
    inspected = parts["inspected"]
    found["inspected"] = {
        organisation: (last, int(open_count or 0))
        for organisation, last, open_count in db.session.execute(
            sa.select(inspected.c.organisation_id, inspected.c.last, inspected.c.open)
        )
    }
    return found


_HISTORY_CHUNK = 5000  # organisation ids per query (SQLite allows 32,766 parameters)


def _among(ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
    """The entries of these organisations: one array parameter on PostgreSQL (an index probe
    each), a list on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return RegisterEntry.organisation_id == sa.any_(
            sa.bindparam("organisations", ids, type_=postgresql.ARRAY(sa.Uuid()))
        )
    return RegisterEntry.organisation_id.in_(ids)


def _combinations() -> list[tuple[int, bool, bool, int | None]]:
    """Each (special, cross-border, largest bucket) present in the register, with the score of
    a holder without history that has it; highest first. A loose index scan: a few probes."""
    found: list[tuple[bool, bool, int | None]] = []
    for special in (True, False):
        for cross in (True, False):
            same = (
                RegisterEntry.special_categories == special,
                RegisterEntry.cross_border == cross,
            )
            bound: int | None = None
            while True:
                below = [RegisterEntry.max_subjects < bound] if bound is not None else []
                bound = db.session.scalar(
                    sa.select(RegisterEntry.max_subjects)
                    .where(*same, RegisterEntry.max_subjects.is_not(None), *below)
                    .order_by(RegisterEntry.max_subjects.desc())
                    .limit(1)
                )
                if bound is None:
                    break
                found.append((special, cross, bound))
            if db.session.scalar(
                sa.select(RegisterEntry.id)
                .where(*same, RegisterEntry.max_subjects.is_(None))
                .limit(1)
            ):
                found.append((special, cross, None))
    scored = [
        (
            (SPECIAL_POINTS if special else 0)
            + (CROSS_BORDER_POINTS if cross else 0)
            + _subject_points(bound)
            + NEVER_INSPECTED_POINTS,
            special,
            cross,
            bound,
        )
        for special, cross, bound in found
    ]
    return sorted(scored, key=lambda item: -item[0])


_NARROW = (
    RegisterEntry.id,
    RegisterEntry.special_categories,
    RegisterEntry.cross_border,
    RegisterEntry.max_subjects,
    RegisterEntry.sort_name,
    RegisterEntry.registration_number,
    RegisterEntry.organisation_id,
)


def _without_history(
    combination: tuple[int, bool, bool, int | None],
    conditions: list[Any],
    history: set[uuid.UUID],
    wanted: int,
) -> list[Any]:
    """Up to `wanted` holders of one combination without history, in the results' order."""
    _score, special, cross, bound = combination
    same = [
        RegisterEntry.special_categories == special,
        RegisterEntry.cross_border == cross,
        RegisterEntry.max_subjects.is_(None)
        if bound is None
        else RegisterEntry.max_subjects == bound,
    ]
    rows: list[Any] = []
    after: tuple[str, str] | None = None
    while len(rows) < wanted:
        keyset = (
            [
                sa.tuple_(RegisterEntry.sort_name, RegisterEntry.registration_number)
                > sa.tuple_(sa.literal(after[0]), sa.literal(after[1]))
            ]
            if after is not None
            else []
        )
        limit = wanted - len(rows) + _CHUNK
        chunk = db.session.execute(
            sa.select(*_NARROW)
            .where(*same, *conditions, *keyset)
            .order_by(RegisterEntry.sort_name, RegisterEntry.registration_number)
            .limit(limit)
        ).all()
        rows += [row for row in chunk if row.organisation_id not in history]
        if len(chunk) < limit:
            break
        after = (chunk[-1].sort_name, chunk[-1].registration_number)
    return rows[:wanted]


def _count(filters: PlanFilters) -> int:
    """How many holders the plan ranks: the entries that match, less those with an inspection
    under way (a join of the few open inspections, not a test of every entry)."""
    plain = _conditions(filters, under_way=False)
    total = int(
        db.session.scalar(sa.select(sa.func.count()).select_from(RegisterEntry).where(*plain)) or 0
    )
    if filters.include_open:
        return total
    under_way = sa.select(Inspection.organisation_id).where(
        Inspection.status.in_(list(OPEN_INSPECTION_STATUSES))
    )
    return total - int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RegisterEntry)
            .where(*plain, RegisterEntry.organisation_id.in_(under_way))
        )
        or 0
    )


def plan(
    filters: PlanFilters, page: int = 1, now: datetime | None = None
) -> triage.ListPage[PlanRow]:
    """Registered holders, highest score first (then by name), 50 a page."""
    now = now or utcnow()
    conditions = _conditions(filters)
    total = _count(filters)
    page, pages = triage.page_bounds(total, page)
    wanted = page * triage.PAGE_SIZE
    tiers = subject_tiers()
    # Holders with a history, scored in Python from the small tables' counts (each count one
    # query) and their entries, probed by organisation a chunk at a time.
    counts = _history_counts(now)
    history = set().union(*(found.keys() for found in counts.values()))
    candidates: list[tuple[int, str, str, Facts, uuid.UUID]] = []
    ordered = list(history)
    connection = db.session.connection()  # plain rows: thousands of them, no ORM needed
    for first in range(0, len(ordered), _HISTORY_CHUNK):
        for row in connection.execute(
            sa.select(*_NARROW).where(*conditions, _among(ordered[first : first + _HISTORY_CHUNK]))
        ):
            organisation = row.organisation_id
            last, open_count = counts["inspected"].get(organisation, (None, 0))
            facts = Facts(
                special_categories=bool(row.special_categories),
                cross_border=bool(row.cross_border),
                max_subjects=row.max_subjects,
                breaches=counts["breaches"].get(organisation, 0),
                upheld_complaints=counts["upheld"].get(organisation, 0),
                open_violations=counts["violations"].get(organisation, 0),
                last_inspected=last,
                open_inspection=bool(open_count),
            )
            score = sum(points(facts, now, tiers).values())
            candidates.append((score, row.sort_name, row.registration_number, facts, row.id))
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    del candidates[wanted:]
    # The others, best first, until the page is full.
    others: list[tuple[int, str, str, Facts, uuid.UUID]] = []
    for combination in _combinations():
        if len(others) >= wanted and combination[0] < others[-1][0]:
            break
        for row in _without_history(combination, conditions, history, wanted):
            facts = Facts(
                special_categories=bool(row.special_categories),
                cross_border=bool(row.cross_border),
                max_subjects=row.max_subjects,
                breaches=0,
                upheld_complaints=0,
                open_violations=0,
                last_inspected=None,
            )
            others.append((combination[0], row.sort_name, row.registration_number, facts, row.id))
        others.sort(key=lambda item: (-item[0], item[1], item[2]))
        del others[wanted:]
    merged = sorted(candidates + others, key=lambda item: (-item[0], item[1], item[2]))
    shown = merged[(page - 1) * triage.PAGE_SIZE : wanted]
    ids = [item[4] for item in shown]
    entries = {
        entry.id: entry
        for entry in db.session.scalars(sa.select(RegisterEntry).where(RegisterEntry.id.in_(ids)))
    }
    result = [
        PlanRow(entries[entry_id], explain(facts, now), facts.open_inspection)
        for _score, _name, _number, facts, entry_id in shown
    ]
    return triage.ListPage(result, total, page, pages)
