"""Statistics for supervisors: the register, declarations, breaches, complaints and what is overdue.

Each figure is a few GROUP BY queries (a fixed number whatever the size of the tables) giving a
list of `Bar`s: a category's code, its label in the current language and its count. Categories
with no rows are shown as 0 where the list of categories is known (statuses, reference lists,
months), so that figures compare from one day to the next. The page draws them
(`register.charts`) and the CSV download lists them (`rows_for_csv`).

Months and "today" are those of the agency's time zone (TIMEZONE, Asia/Bishkek by default): the
month boundaries are computed in Python in that zone and the reports counted by range, which
works alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from register.database import utcnow
from register.extensions import db
from register.i18n import agency_timezone
from register.models import (
    AWAITING_HOLDER_STATUSES,
    OPEN_BREACH_STATUSES,
    OPEN_COMPLAINT_STATUSES,
    PENDING_STATUSES,
    BreachReport,
    Complaint,
    ComplaintStatus,
    Declaration,
    DeclarationStatus,
    EntryStatus,
    Inspection,
    InspectionOrder,
    ReferenceList,
    RegisterEntry,
)
from register.services import complaints, inspections, reference, register_entries, registration
from register.services.review import QUEUE_STATUSES

NOT_GIVEN = ""  # the code of "Not given" (an entry without a region or a sector)
MONTHS = 12
# Pending declarations by days since their (latest) submission: (code, lower bound in days).
AGE_BUCKETS: tuple[tuple[str, int], ...] = (("0-6", 0), ("7-29", 7), ("30-59", 30), ("60+", 60))
AGE_LABELS = {
    "0-6": _l("Less than 7 days"),
    "7-29": _l("7 to 29 days"),
    "30-59": _l("30 to 59 days"),
    "60+": _l("60 days or more"),
}
INSPECTION_STATUS_LABELS = inspections.STATUS_LABELS  # one set of labels for both pages
OVERDUE_LABELS = {
    "reviews": _l("Declarations past their review deadline"),
    "breach_triage": _l("Breach reports past their triage deadline"),
    "complaints": _l("Complaints past their deadline"),
    "orders": _l("Inspection orders past their due date"),
}


@dataclass(frozen=True)
class Bar:
    """One category of a figure: its code, its label and how many; `part` counts a subset
    (the reports filed late, in the month's count)."""

    code: str
    label: str
    count: int
    part: int | None = None
    short: str = ""  # a shorter label for a chart's axis (the months)


@dataclass(frozen=True)
class Figure:
    """One chart and its table: a stable key (the CSV's), a title, what it counts, the bars."""

    key: str
    title: str
    description: str
    bars: list[Bar]
    kind: str = "bars"  # "bars" (horizontal) or "columns" (the months)
    part_label: str = ""  # what `Bar.part` counts, when the figure has one
    part_key: str = ""  # the CSV's figure name for the parts
    total: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", sum(bar.count for bar in self.bars))


def _grouped(column: Any, *conditions: Any) -> dict[Any, int]:
    """{value: count} of `column`'s table grouped by `column` (one query)."""
    query = sa.select(column, sa.func.count()).group_by(column)
    if conditions:
        query = query.where(*conditions)
    return {value: int(count) for value, count in db.session.execute(query).all()}


def _enum_bars(counts: Mapping[Any, int], labels: Mapping[Any, Any]) -> list[Bar]:
    """A bar for every status in `labels` (in their order), 0 where none."""
    return [
        Bar(str(status.value), str(label), counts.get(status, 0))
        for status, label in labels.items()
    ]


def _reference_bars(list_code: ReferenceList, counts: Mapping[str | None, int]) -> list[Bar]:
    """A bar per item of the list (in its order; retired ones only when counted), then codes
    the list does not know, then "Not given"."""
    language = reference.current_language()
    bars: list[Bar] = []
    known: set[str] = set()
    for item in reference.items(list_code, include_retired=True):
        known.add(item.code)
        if item.is_retired and not counts.get(item.code):
            continue
        bars.append(Bar(item.code, item.label(language), counts.get(item.code, 0)))
    unknown = sorted(code for code in counts if code and code not in known)
    bars += [Bar(code, code, counts[code]) for code in unknown]
    missing = counts.get(None, 0) + counts.get("", 0)
    if missing:
        bars.append(Bar(NOT_GIVEN, str(_l("Not given")), missing))
    return bars


# -- the register ----------------------------------------------------------------------------


def entries_by_region() -> Figure:
    """Register entries (every status) by region."""
    counts = _grouped(RegisterEntry.region_code)
    return Figure(
        "entries_by_region",
        str(_l("Register entries by region")),
        str(_l("Entries in the register, whatever their status, by the holder's region.")),
        _reference_bars(ReferenceList.REGION, counts),
    )


def entries_by_sector() -> Figure:
    """Register entries (every status) by sector."""
    counts = _grouped(RegisterEntry.sector_code)
    return Figure(
        "entries_by_sector",
        str(_l("Register entries by sector")),
        str(_l("Entries in the register, whatever their status, by the holder's sector.")),
        _reference_bars(ReferenceList.SECTOR, counts),
    )


def entries_by_status() -> Figure:
    """Register entries by status (registered, suspended, struck off)."""
    counts = _grouped(RegisterEntry.status)
    return Figure(
        "entries_by_status",
        str(_l("Register entries by status")),
        str(_l("Entries in the register by their public status.")),
        _enum_bars(
            counts, {status: register_entries.STATUS_LABELS[status] for status in EntryStatus}
        ),
    )


# -- declarations ----------------------------------------------------------------------------


def declarations_by_status() -> Figure:
    """Declarations by workflow status (drafts, which the agency does not see, left out)."""
    counts = _grouped(Declaration.status, Declaration.status != DeclarationStatus.DRAFT)
    labels = {
        status: registration.STATUS_LABELS[status]
        for status in DeclarationStatus
        if status is not DeclarationStatus.DRAFT
    }
    return Figure(
        "declarations_by_status",
        str(_l("Declarations by status")),
        str(_l("Every declaration submitted so far, by where it stands (drafts not counted).")),
        _enum_bars(counts, labels),
    )


def pending_declarations_by_age(now: datetime | None = None) -> Figure:
    """Pending declarations (with the agency or with the holder) by days since submission."""
    now = now or utcnow()
    submitted = sa.func.coalesce(Declaration.submitted_at, Declaration.created_at)
    # Oldest first in the CASE, so that each declaration falls in exactly one bucket.
    bucket = sa.case(
        *[
            (submitted <= now - timedelta(days=lower), code)
            for code, lower in reversed(AGE_BUCKETS[1:])
        ],
        else_=AGE_BUCKETS[0][0],
    )
    counts = _grouped(bucket, Declaration.status.in_(list(PENDING_STATUSES)))
    return Figure(
        "pending_declarations_by_age",
        str(_l("Pending declarations by age")),
        str(
            _l(
                "Declarations submitted, in review, awaiting sign-off or waiting for the "
                "holder's changes, by the days since they were last submitted."
            )
        ),
        [Bar(code, str(AGE_LABELS[code]), counts.get(code, 0)) for code, _lower in AGE_BUCKETS],
    )


# -- breach reports --------------------------------------------------------------------------


def month_starts(now: datetime | None = None, months: int = MONTHS) -> list[datetime]:
    """The first moments of the last `months` months in the agency's time zone, oldest first,
    and the start of the next month after them (months + 1 aware datetimes)."""
    zone = agency_timezone()
    local = (now or utcnow()).astimezone(zone)
    year, month = local.year, local.month
    starts: list[datetime] = []
    for offset in range(months - 1, -2, -1):  # from months-1 months ago to next month
        index = year * 12 + (month - 1) - offset
        starts.append(datetime(index // 12, index % 12 + 1, 1, tzinfo=zone))
    return starts


def breaches_per_month(now: datetime | None = None) -> Figure:
    """Breach reports filed in each of the last 12 months (agency time zone), late ones apart."""
    starts = month_starts(now)
    month = sa.case(
        *[(BreachReport.filed_at < starts[i + 1], i) for i in range(MONTHS)],
        else_=None,
    )
    query = (
        sa.select(month, BreachReport.filed_late, sa.func.count())
        .where(BreachReport.filed_at >= starts[0], BreachReport.filed_at < starts[-1])
        .group_by(month, BreachReport.filed_late)
    )
    counts = [0] * MONTHS
    late = [0] * MONTHS
    for index, filed_late, count in db.session.execute(query).all():
        counts[int(index)] += int(count)
        if filed_late:
            late[int(index)] += int(count)
    bars = [
        Bar(
            start.strftime("%Y-%m"),
            format_date(start.date(), "LLLL y"),
            counts[i],
            late[i],
            short=f"{format_date(start.date(), 'LLL')}\n{start.year}",
        )
        for i, start in enumerate(starts[:MONTHS])
    ]
    return Figure(
        "breach_reports_per_month",
        str(_l("Breach reports per month")),
        str(
            _l(
                "Breach reports filed in each of the last 12 months (agency time), and how many "
                "of them were filed after the 72 hours."
            )
        ),
        bars,
        kind="columns",
        part_label=str(_l("Filed late")),
        part_key="breach_reports_filed_late_per_month",
    )


# -- complaints, inspections and what is overdue ---------------------------------------------


def complaints_by_status() -> Figure:
    """Complaints by outcome (or by triage status while open)."""
    counts = _grouped(Complaint.status)
    return Figure(
        "complaints_by_status",
        str(_l("Complaints by outcome")),
        str(_l("Every complaint received, by its outcome, or where it stands while open.")),
        _enum_bars(
            counts, {status: complaints.STATUS_LABELS[status] for status in ComplaintStatus}
        ),
    )


def inspections_by_status() -> Figure:
    """Inspections by status."""
    counts = _grouped(Inspection.status)
    return Figure(
        "inspections_by_status",
        str(_l("Inspections by status")),
        str(_l("Every inspection, by where it stands.")),
        _enum_bars(counts, INSPECTION_STATUS_LABELS),
    )


def overdue(now: datetime | None = None) -> Figure:
    """What is past its deadline now: reviews, breach triage, complaints, orders (one query)."""
    now = now or utcnow()
    today = register_entries.agency_today(now)

    def count(model: Any, *conditions: Any) -> Any:
        return sa.select(sa.func.count()).select_from(model).where(*conditions).scalar_subquery()

    # The same conditions as the lists' "overdue" filters (services.review, breaches,
    # complaints) and `InspectionOrder.is_overdue`.
    row = db.session.execute(
        sa.select(
            count(
                Declaration,
                Declaration.status.in_(list(QUEUE_STATUSES)),
                Declaration.due_at < now,
            ),
            count(
                BreachReport,
                BreachReport.status.in_(list(OPEN_BREACH_STATUSES)),
                BreachReport.triage_due_at < now,
            ),
            count(
                Complaint,
                Complaint.status.in_(list(OPEN_COMPLAINT_STATUSES)),
                Complaint.due_at < now,
            ),
            count(
                InspectionOrder,
                InspectionOrder.status.in_(list(AWAITING_HOLDER_STATUSES)),
                InspectionOrder.due_on < today,
            ),
        )
    ).one()
    return Figure(
        "overdue",
        str(_l("Overdue now")),
        str(
            _l(
                "What is past its deadline today: reviews, breach triage and complaints still "
                "with the agency, and orders still waiting for the holder."
            )
        ),
        [
            Bar(code, str(label), int(value or 0))
            for (code, label), value in zip(OVERDUE_LABELS.items(), row, strict=True)
        ],
    )


def all_figures(now: datetime | None = None) -> list[Figure]:
    """Every figure of the statistics page, in its order (a fixed number of queries)."""
    now = now or utcnow()
    return [
        entries_by_region(),
        entries_by_sector(),
        entries_by_status(),
        declarations_by_status(),
        pending_declarations_by_age(now),
        breaches_per_month(now),
        complaints_by_status(),
        overdue(now),
        inspections_by_status(),
    ]


CSV_HEADER = ("figure", "code", "label", "count")


def rows_for_csv(figures: Iterable[Figure]) -> Iterator[tuple[str, str, str, int]]:
    """One row per figure and category (the late reports of a month as a figure of their own)."""
    for figure in figures:
        for bar in figure.bars:
            yield figure.key, bar.code, bar.label, bar.count
        if figure.part_key:
            for bar in figure.bars:
                yield figure.part_key, bar.code, bar.label, bar.part or 0
