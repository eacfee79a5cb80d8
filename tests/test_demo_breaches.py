"""`demo seed` adds an on-time and a late breach report (with a follow-up) and a complaint in
each state, made through the real services, once, and prints working links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import sqlalchemy as sa

from register.models import (
    BreachFollowUp,
    BreachQuestion,
    BreachReport,
    BreachStatus,
    Complaint,
    ComplaintStatus,
)


def breach_rows(db) -> list[tuple[bool, str, int]]:
    db.session.expire_all()
    reports = db.session.scalars(sa.select(BreachReport)).all()
    return sorted(
        (
            report.filed_late,
            report.status.value,
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(BreachFollowUp)
                .where(BreachFollowUp.report_id == report.id)
            ),
        )
        for report in reports
    )


def test_demo_breaches_and_complaints(runner, db, client):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    # The bank's late report led to an inspection (the demo inspections decide it).
    expected = [
        (False, BreachStatus.ASSESSING.value, 0),
        (True, BreachStatus.INSPECTION_REQUESTED.value, 1),
    ]
    assert breach_rows(db) == expected
    late = db.session.scalars(sa.select(BreachReport).where(BreachReport.filed_late)).one()
    assert late.late_reason and "four days later" in late.late_reason
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BreachQuestion)) == 1
    states = sorted(status.value for status in db.session.scalars(sa.select(Complaint.status)))
    assert states == sorted(status.value for status in ComplaintStatus)
    assert "reported late" in first.output and "reported in time" in first.output

    links = re.findall(r"(C-[2-9A-Z]{4}-[2-9A-Z]{4}) \([^)]*\): (\S+)", first.output)
    assert len(links) == len(ComplaintStatus)
    for number, link in links:
        parts = urlsplit(link)
        page = client.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200 and number in page.get_data(as_text=True)

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert breach_rows(db) == expected
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == len(
        ComplaintStatus
    )
    assert re.findall(r"(C-[2-9A-Z]{4}-[2-9A-Z]{4}) \(", again.output) == [n for n, _ in links]
