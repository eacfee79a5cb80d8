"""Statistics for supervisors: each figure agrees with counts made directly from the rows.

The expected numbers are counted in Python over the rows themselves (never with the service's
GROUP BY queries), so a wrong condition or a wrong month boundary in the service shows up.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from register import charts
from register.database import utcnow
from register.extensions import db
from register.models import (
    AWAITING_HOLDER_STATUSES,
    OPEN_BREACH_STATUSES,
    OPEN_COMPLAINT_STATUSES,
    PENDING_STATUSES,
    BreachReport,
    BreachStatus,
    Complaint,
    ComplaintStatus,
    Declaration,
    DeclarationStatus,
    EntryStatus,
    Inspection,
    InspectionOrder,
    InspectionStatus,
    OrderStatus,
    ReferenceItem,
    RegisterEntry,
    Role,
)
from register.services import statistics
from register.services.review import QUEUE_STATUSES
from tests.factories import (
    BreachReportFactory,
    ComplaintFactory,
    DeclarationFactory,
    InspectionFactory,
    InspectionOrderFactory,
    OrganisationFactory,
    RegisterEntryFactory,
    StaffFactory,
)

BISHKEK = ZoneInfo("Asia/Bishkek")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _all(model: type[Any]) -> list[Any]:
    return list(db.session.scalars(sa.select(model)).all())


def _bars(figure: statistics.Figure) -> dict[str, int]:
    """{code: count} of the figure's non-zero bars."""
    return {bar.code: bar.count for bar in figure.bars if bar.count}


def _today() -> Any:
    return utcnow().astimezone(BISHKEK).date()


def make_data(scale: int = 1) -> None:
    """A varied set: entries, declarations, reports, complaints, inspections and orders.

    `scale` repeats it, to check that the number of queries does not grow with the data.
    """
    now = utcnow()
    today = _today()
    for _round in range(scale):
        entries = [
            ("KG-GB", "it", EntryStatus.REGISTERED),
            ("KG-GB", "it", EntryStatus.REGISTERED),
            ("KG-GB", "health", EntryStatus.SUSPENDED),
            ("KG-O", "education", EntryStatus.REGISTERED),
            ("KG-O", "education", EntryStatus.STRUCK_OFF),
            ("KG-C", None, EntryStatus.REGISTERED),
            (None, "health", EntryStatus.SUSPENDED),
            ("KG-T", "zz_unknown", EntryStatus.REGISTERED),  # a code the list does not know
        ]
        for region, sector, status in entries:
            RegisterEntryFactory(region_code=region, sector_code=sector, status=status)
        declarations = [
            (DeclarationStatus.DRAFT, None, None),
            (DeclarationStatus.SUBMITTED, 2, 28),  # days since submission, days to deadline
            (DeclarationStatus.SUBMITTED, 35, -5),  # overdue
            (DeclarationStatus.IN_REVIEW, 10, 20),
            (DeclarationStatus.IN_REVIEW, 45, -1),  # overdue
            (DeclarationStatus.CHANGES_REQUESTED, 40, None),  # clock stopped
            (DeclarationStatus.AWAITING_SIGN_OFF, 70, -40),  # overdue
            (DeclarationStatus.AWAITING_SIGN_OFF, 7, 23),
            (DeclarationStatus.APPROVED, 90, None),
            (DeclarationStatus.REJECTED, 80, None),
            (DeclarationStatus.WITHDRAWN, 3, None),
        ]
        for status, age, left in declarations:
            DeclarationFactory(
                status=status,
                submitted_at=now - timedelta(days=age, hours=1) if age is not None else None,
                due_at=now + timedelta(days=left) if left is not None else None,
            )
        reports = [
            (now - timedelta(days=1), False, BreachStatus.RECEIVED, -1),  # overdue triage
            (now - timedelta(days=2), True, BreachStatus.ASSESSING, 2),
            (now - timedelta(days=40), True, BreachStatus.CLOSED, -30),  # decided: not overdue
            (now - timedelta(days=75), False, BreachStatus.INSPECTION_REQUESTED, -60),
            (now - timedelta(days=200), True, BreachStatus.ASSESSING, -190),  # overdue
            (now - timedelta(days=400), False, BreachStatus.CLOSED, -390),  # outside 12 months
        ]
        for filed_at, late, status, triage_days in reports:
            BreachReportFactory(
                filed_at=filed_at,
                filed_late=late,
                status=status,
                triage_due_at=now + timedelta(days=triage_days),
            )
        for status in ComplaintStatus:
            ComplaintFactory(status=status, due_at=now - timedelta(days=1))  # open: overdue
            ComplaintFactory(status=status, due_at=now + timedelta(days=5))
        organisation = OrganisationFactory()
        for status in InspectionStatus:
            InspectionFactory(organisation=organisation, status=status)
        inspection = InspectionFactory(
            organisation=organisation, status=InspectionStatus.IN_PROGRESS
        )
        orders = [
            (OrderStatus.OPEN, -1),  # overdue
            (OrderStatus.RETURNED, -10),  # overdue
            (OrderStatus.OPEN, 0),  # due today: not yet overdue
            (OrderStatus.ANSWERED, -5),  # the agency's turn
            (OrderStatus.ACCEPTED, -20),
            (OrderStatus.WITHDRAWN, -3),
            (OrderStatus.OPEN, 7),
        ]
        for status, days in orders:
            InspectionOrderFactory(
                inspection=inspection, status=status, due_on=today + timedelta(days=days)
            )


@pytest.fixture
def data(db):
    make_data()


# -- each figure against the rows --------------------------------------------------------------


def test_register_entries_by_region_sector_and_status_agree_with_the_rows(app, data):
    entries = _all(RegisterEntry)
    with app.test_request_context("/?lang=en"):
        regions = statistics.entries_by_region()
        sectors = statistics.entries_by_sector()
        statuses = statistics.entries_by_status()
    assert _bars(regions) == Counter(entry.region_code or "" for entry in entries)
    assert _bars(sectors) == Counter(entry.sector_code or "" for entry in entries)
    assert _bars(statuses) == Counter(entry.status.value for entry in entries)
    assert regions.total == sectors.total == statuses.total == len(entries)
    # Labels come from the reference lists; a missing code is "Not given", an unknown one is
    # shown as it is; every region of the list has its bar, even with none.
    labels = {bar.code: bar.label for bar in regions.bars}
    assert labels["KG-GB"] == "Bishkek city" and labels[""] == "Not given"
    assert labels["KG-N"] and dict((b.code, b.count) for b in regions.bars)["KG-N"] == 0
    assert {bar.code: bar.label for bar in sectors.bars}["zz_unknown"] == "zz_unknown"
    assert [bar.code for bar in statuses.bars] == [status.value for status in EntryStatus]


def test_declarations_by_status_and_age_agree_with_the_rows(app, data):
    now = utcnow()
    declarations = _all(Declaration)
    with app.test_request_context("/?lang=en"):
        by_status = statistics.declarations_by_status()
        by_age = statistics.pending_declarations_by_age(now)
    assert _bars(by_status) == Counter(
        d.status.value for d in declarations if d.status is not DeclarationStatus.DRAFT
    )
    assert "draft" not in {bar.code for bar in by_status.bars}

    def bucket(declaration: Declaration) -> str:
        days = (now - (declaration.submitted_at or declaration.created_at)).days
        return "0-6" if days < 7 else "7-29" if days < 30 else "30-59" if days < 60 else "60+"

    pending = [d for d in declarations if d.status in PENDING_STATUSES]
    assert _bars(by_age) == Counter(bucket(d) for d in pending)
    assert [bar.code for bar in by_age.bars] == ["0-6", "7-29", "30-59", "60+"]
    assert by_age.total == len(pending) and len({bucket(d) for d in pending}) == 4


def test_complaints_and_inspections_by_status_agree_with_the_rows(app, data):
    with app.test_request_context("/?lang=en"):
        complaints = statistics.complaints_by_status()
        inspections = statistics.inspections_by_status()
    assert _bars(complaints) == Counter(c.status.value for c in _all(Complaint))
    assert _bars(inspections) == Counter(i.status.value for i in _all(Inspection))
    assert {bar.code for bar in complaints.bars} == {status.value for status in ComplaintStatus}
    assert dict((bar.code, bar.label) for bar in complaints.bars)["not_upheld"] == "Not upheld"


def test_overdue_counts_agree_with_the_rows_and_the_lists_rules(app, data):
    now = utcnow()
    today = _today()
    with app.test_request_context("/?lang=en"):
        figure = statistics.overdue(now)
    expected = {
        "reviews": sum(
            d.status in QUEUE_STATUSES and d.due_at is not None and d.due_at < now
            for d in _all(Declaration)
        ),
        "breach_triage": sum(
            r.status in OPEN_BREACH_STATUSES and r.triage_due_at < now for r in _all(BreachReport)
        ),
        "complaints": sum(
            c.status in OPEN_COMPLAINT_STATUSES and c.due_at < now for c in _all(Complaint)
        ),
        "orders": sum(o.is_overdue(today) for o in _all(InspectionOrder)),
    }
    assert {bar.code: bar.count for bar in figure.bars} == expected
    assert all(expected.values())  # the data set has some of each
    assert expected["orders"] == sum(
        o.status in AWAITING_HOLDER_STATUSES and o.due_on < today for o in _all(InspectionOrder)
    )


def test_breaches_per_month_count_by_the_agency_month_and_split_the_late_ones(app, db):
    now = _at("2026-11-15T06:00:00")
    filed = [
        ("2026-10-31T20:00:00", False),  # 1 November, 02:00 in Bishkek
        ("2026-10-31T17:59:59", True),  # 31 October, 23:59 in Bishkek
        ("2026-11-14T10:00:00", True),
        ("2026-11-02T10:00:00", False),
        ("2026-06-10T10:00:00", False),
        ("2025-11-30T18:00:00", True),  # 1 December 2025, 00:00 in Bishkek: the first month
        ("2025-11-30T17:59:59", False),  # 30 November 2025 in Bishkek: before the window
        ("2026-11-30T18:00:00", False),  # 1 December 2026 in Bishkek: after it
    ]
    for moment, late in filed:
        BreachReportFactory(filed_at=_at(moment), filed_late=late)
    with app.test_request_context("/?lang=en"):
        figure = statistics.breaches_per_month(now)
    months = [f"{2025 + (10 + i) // 12}-{(10 + i) % 12 + 1:02d}" for i in range(1, 13)]
    assert [bar.code for bar in figure.bars] == months  # December 2025 to November 2026
    reports = _all(BreachReport)
    local = Counter(r.filed_at.astimezone(BISHKEK).strftime("%Y-%m") for r in reports)
    late = Counter(
        r.filed_at.astimezone(BISHKEK).strftime("%Y-%m") for r in reports if r.filed_late
    )
    assert {bar.code: bar.count for bar in figure.bars} == {month: local[month] for month in months}
    assert {bar.code: bar.part for bar in figure.bars} == {month: late[month] for month in months}
    by_month = {bar.code: bar for bar in figure.bars}
    assert (by_month["2026-11"].count, by_month["2026-11"].part) == (3, 1)
    assert (by_month["2026-10"].count, by_month["2026-10"].part) == (1, 1)
    assert (by_month["2025-12"].count, by_month["2025-12"].part) == (1, 1)
    assert by_month["2026-11"].label == "November 2026"
    assert figure.total == 6


def test_month_starts_are_agency_midnights(app):
    with app.app_context():
        starts = statistics.month_starts(_at("2026-10-31T20:00:00"))
    assert len(starts) == 13
    assert starts[-2].astimezone(UTC) == _at("2026-10-31T18:00:00")  # 1 Nov 00:00 in Bishkek
    assert starts[0].astimezone(UTC) == _at("2025-11-30T18:00:00")


# -- the page and the CSV ----------------------------------------------------------------------


@pytest.fixture
def supervisor(db):
    return StaffFactory(role=Role.SUPERVISOR)


def _expected(app: Any) -> dict[str, dict[str, int]]:
    """Each figure's counts by code, from the service (already checked against the rows)."""
    with app.test_request_context("/?lang=en"):
        figures = statistics.all_figures()
    expected = {figure.key: {bar.code: bar.count for bar in figure.bars} for figure in figures}
    months = next(figure for figure in figures if figure.part_key)
    expected[months.part_key] = {bar.code: bar.part or 0 for bar in months.bars}
    return expected


def _sections(page: str) -> dict[str, str]:
    found = re.findall(r'<section class="statistics" id="([a-z-]+)".*?</section>', page, re.S)
    return {
        key: re.search(rf'<section class="statistics" id="{key}".*?</section>', page, re.S)[0]
        for key in found
    }


def test_the_page_shows_each_figure_as_a_chart_and_a_table_with_the_same_numbers(
    app, client, auth, data, supervisor
):
    auth.login(supervisor)
    response = client.get("/agency/statistics?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = _expected(app)
    sections = _sections(page)
    figures = [key for key in expected if not key.endswith("_filed_late_per_month")]
    assert sorted(sections) == sorted(key.replace("_", "-") for key in figures)
    assert page.count("<svg") == len(figures)
    for key in figures:
        section = sections[key.replace("_", "-")]
        rows = dict(re.findall(r'<tr data-code="([^"]*)">.*?data-count="(\d+)"', section, re.S))
        assert {code: int(count) for code, count in rows.items()} == expected[key]
        svg = section[section.index("<svg") : section.index("</svg>")]
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
        assert "style=" not in svg and "<style" not in svg and "<script" not in svg
        values = re.findall(r'<text class="chart__value" [^>]*>([^<]+)</text>', svg)
        assert values == [str(count) for count in expected[key].values()]
    months = sections["breach-reports-per-month"]
    parts = [int(value) for value in re.findall(r'data-part="(\d+)"', months)]
    assert parts == list(expected["breach_reports_filed_late_per_month"].values())
    assert "Not given" in sections["entries-by-region"]
    assert 'href="/agency/statistics.csv"' in page


def test_overdue_numbers_link_to_the_lists_that_show_the_same_items(
    app, client, auth, data, supervisor
):
    """The lists' own "overdue" filters count what the statistics count."""
    auth.login(supervisor)
    page = client.get("/agency/statistics?lang=en").get_data(as_text=True)
    section = _sections(page)["overdue"]
    expected = _expected(app)["overdue"]
    for code, count_id in (
        ("reviews", "queue-count"),
        ("breach_triage", "list-count"),
        ("complaints", "list-count"),
    ):
        found = re.search(rf'<tr data-code="{code}">.*?<a href="([^"]+)"', section, re.S)
        assert found, code
        listing = client.get(found[1].replace("&amp;", "&")).get_data(as_text=True)
        total = re.search(rf'id="{count_id}">(\d+) ', listing)
        assert total and int(total[1]) == expected[code], code


def test_the_csv_lists_the_same_numbers(app, client, auth, data, supervisor):
    auth.login(supervisor)
    response = client.get("/agency/statistics.csv?lang=ru")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="statistics-')
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # a BOM, for spreadsheets
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(statistics.CSV_HEADER)
    found: dict[str, dict[str, int]] = {}
    for figure, code, _label, count in rows[1:]:
        found.setdefault(figure, {})[code] = int(count)
    assert found == _expected(app)
    labels = {(figure, code): label for figure, code, label, _count in rows[1:]}
    bishkek = db.session.scalar(
        sa.select(ReferenceItem.label_ru).where(
            ReferenceItem.list_code == "region", ReferenceItem.code == "KG-GB"
        )
    )
    assert labels[("entries_by_region", "KG-GB")] == bishkek  # in the language asked for


def test_the_page_takes_a_fixed_number_of_queries(
    app, client, auth, data, supervisor, query_counter
):
    auth.login(supervisor)
    client.get("/agency/statistics")  # warm the reference lists' cache
    with query_counter() as few:
        assert client.get("/agency/statistics").status_code == 200
    make_data(scale=2)
    with query_counter() as more:
        page = client.get("/agency/statistics").get_data(as_text=True)
    assert len(more) == len(few)
    assert len(few) <= 20
    # The larger set is what the page shows: three times the entries in Bishkek.
    assert re.search(r'<tr data-code="KG-GB">.*?data-count="9"', page, re.S)


def test_only_supervisors_see_the_nav_link(client, auth, db, supervisor):
    auth.login(supervisor)
    assert 'href="/agency/statistics"' in client.get("/inbox/").get_data(as_text=True)
    auth.login(StaffFactory(role=Role.INSPECTOR))
    assert 'href="/agency/statistics"' not in client.get("/inbox/").get_data(as_text=True)


# -- the charts --------------------------------------------------------------------------------


def test_charts_escape_labels_and_print_every_value():
    data = [
        charts.Datum('<script>alert("x")</script> & Co', 12),
        charts.Datum("Жалал-Абад облусу", 0),
        charts.Datum("Ош", 1234),
    ]
    svg = str(charts.bar_chart("chart-x", "Title <b>", 'Desc "q"', data))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; Co" in svg
    assert '<title id="chart-x-title">Title &lt;b&gt;</title>' in svg
    assert re.findall(r'class="chart__value"[^>]*>([^<]+)<', svg) == ["12", "0", "1\u202f234"]
    assert "Жалал-Абад облусу" in svg and "style" not in svg
    columns = str(
        charts.column_chart("chart-y", "Months", "Per month", [charts.Datum("May", 4, 1)], "Late")
    )
    assert 'class="chart__bar chart__bar--part"' in columns and ">Late<" in columns
