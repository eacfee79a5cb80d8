"""Breach reports, the agency's side: the triage state machine (every legal and illegal move),
the triage deadline in working days, the list with its filters in a fixed number of queries,
questions to the holder, decisions with grounds, stale forms, and each opening logged."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from register.extensions import db
from register.models import ActivityEntry, BreachReport, BreachStatus, Notification, Role
from register.services import breaches
from tests.factories import MembershipFactory, OrganisationFactory, StaffFactory
from tests.support.clock import FrozenClock, bishkek

NOW = bishkek(2026, 11, 24, 10, 0)  # Tuesday morning in Bishkek


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, NOW)


def report_of(
    organisation: Any = None,
    *,
    detected_hours_ago: float = 5,
    late_reason: str | None = None,
    holder: Any = None,
) -> BreachReport:
    """A report filed now through the service (late when detected over 72 hours ago)."""
    membership = holder or MembershipFactory(
        organisation=organisation or OrganisationFactory(), user__locale="en"
    )
    detected = breaches.utcnow() - timedelta(hours=detected_hours_ago)
    details = breaches.BreachDetails(
        occurred_at=detected - timedelta(hours=1),
        detected_at=detected,
        nature_codes=["availability"],
        description="Ransomware encrypted the patient database.",
        contact_name="Bakyt Contact",
        contact_email="it@clinic.example.kg",
        late_reason=late_reason,
    )
    report = breaches.file_report(membership.organisation, membership.user, details)
    db.session.commit()
    return report


def fresh(report: BreachReport) -> BreachReport:
    db.session.expire_all()
    found = breaches.find(report.id)
    assert found is not None
    return found


def staff(auth: Any, role: Role = Role.INSPECTOR) -> Any:
    member = StaffFactory(role=role)
    auth.login(member)
    with auth.client.session_transaction() as session:
        session["lang"] = "en"
    return member


def text(response: Any) -> str:
    return response.get_data(as_text=True)


# -- the state machine ---------------------------------------------------------------------------


def test_every_legal_and_illegal_move(app, clock):
    with app.test_request_context():
        inspector = StaffFactory(role=Role.INSPECTOR)
        other = StaffFactory(role=Role.INSPECTOR)
        supervisor = StaffFactory(role=Role.SUPERVISOR)
        admin = StaffFactory(role=Role.ADMIN)
        report = report_of()
        assert report.status is BreachStatus.RECEIVED

        # From received: only starting the assessment, and only by inspectors and supervisors.
        with pytest.raises(breaches.BreachError, match="Start assessing the report first"):
            breaches.decide(report, inspector, "close", "Nothing to do.", report.lock_version)
        with pytest.raises(breaches.BreachError, match="Start assessing the report first"):
            breaches.ask_question(report, inspector, "Why?", report.lock_version)
        with pytest.raises(breaches.BreachError, match="Only inspectors and supervisors"):
            breaches.start_assessment(report, admin, report.lock_version)
        assert fresh(report).status is BreachStatus.RECEIVED
        breaches.start_assessment(report, inspector, report.lock_version)
        report = fresh(report)
        assert (report.status, report.assignee_id) == (BreachStatus.ASSESSING, inspector.id)

        # While assessing: not started again; only the assessor or a supervisor acts.
        with pytest.raises(breaches.BreachError, match="cannot be done now: the report is being"):
            breaches.start_assessment(report, other, report.lock_version)
        with pytest.raises(breaches.BreachError, match="Only the staff member assessing"):
            breaches.decide(report, other, "close", "Fine.", report.lock_version)
        with pytest.raises(breaches.BreachError, match="Choose a decision"):
            breaches.decide(report, inspector, "approve", "Fine.", report.lock_version)
        with pytest.raises(breaches.BreachError, match="State the grounds"):
            breaches.decide(report, inspector, "close", "  ", report.lock_version)
        breaches.ask_question(report, supervisor, "Do you have backups?", report.lock_version)
        breaches.decide(
            report, inspector, "close", "Restored from backups.", fresh(report).lock_version
        )
        report = fresh(report)
        assert report.status is BreachStatus.CLOSED
        assert (report.decided_by_id, report.decision_grounds) == (
            inspector.id,
            "Restored from backups.",
        )

        # Closed is final.
        for move in (
            lambda: breaches.start_assessment(report, supervisor, report.lock_version),
            lambda: breaches.decide(
                report, supervisor, "request_inspection", "x", report.lock_version
            ),
            lambda: breaches.ask_question(report, supervisor, "x", report.lock_version),
        ):
            with pytest.raises(
                breaches.BreachError, match="cannot be done now: the report is closed"
            ):
                move()

        # The other way out: an inspection requested (by a supervisor), final too.
        second = report_of()
        breaches.start_assessment(second, inspector, second.lock_version)
        breaches.decide(
            second,
            supervisor,
            "request_inspection",
            "No backups; health data.",
            fresh(second).lock_version,
        )
        second = fresh(second)
        assert second.status is BreachStatus.INSPECTION_REQUESTED
        with pytest.raises(breaches.BreachError, match="inspection requested"):
            breaches.decide(second, supervisor, "close", "x", second.lock_version)
        actions = db.session.scalars(
            sa.select(ActivityEntry.action)
            .where(ActivityEntry.object_id == str(second.id))
            .order_by(ActivityEntry.seq)
        ).all()
        assert actions == [
            "breach_report.filed",
            "breach_report.assessing",
            "breach_report.inspection_requested",
        ]


def test_a_stale_form_is_refused_naming_who_acted(app, clock):
    with app.test_request_context():
        first = StaffFactory(role=Role.INSPECTOR, full_name="First Inspector")
        second = StaffFactory(role=Role.SUPERVISOR)
        report = report_of()
        read_at = report.lock_version
        breaches.start_assessment(report, first, read_at)
        with pytest.raises(breaches.StaleBreach, match="changed by First Inspector"):
            breaches.start_assessment(fresh(report), second, read_at)
        assert fresh(report).assignee_id == first.id


def test_moves_are_told_to_the_holders_users(app, clock):
    with app.test_request_context():
        inspector = StaffFactory(role=Role.INSPECTOR)
        report = report_of()
        breaches.start_assessment(report, inspector, report.lock_version)
        breaches.ask_question(report, inspector, "Which systems?", fresh(report).lock_version)
        breaches.decide(
            report, inspector, "request_inspection", "Secret grounds.", fresh(report).lock_version
        )
        kinds = db.session.scalars(
            sa.select(Notification.kind)
            .where(Notification.kind.like("breach_report.%"))
            .order_by(Notification.created_at)
        ).all()
        assert kinds == [
            "breach_report.filed",
            "breach_report.assessing",
            "breach_report.question_asked",
            "breach_report.inspection_requested",
        ]
        bodies = " ".join(db.session.scalars(sa.select(Notification.body)).all())
        assert "Secret grounds." not in bodies and "Which systems?" not in bodies
        assert "Ransomware" not in bodies


# -- the pages ----------------------------------------------------------------------------------


def test_the_list_shows_deadlines_and_filters_in_a_fixed_number_of_queries(
    client, auth, clock, query_counter
):
    inspector = staff(auth)
    osh = OrganisationFactory(legal_name="Osh Clinic LLC", region_code="KG-O", sector_code="health")
    bishkek_bank = OrganisationFactory(
        legal_name="Bishkek Bank OJSC", sector_code="finance_banking"
    )
    clock.set(NOW - timedelta(days=10))
    report_of(osh, detected_hours_ago=100, late_reason="Found the logs late.")
    clock.set(NOW)
    fresh_one = report_of(bishkek_bank)
    breaches.start_assessment(fresh_one, inspector, fresh_one.lock_version)
    db.session.commit()

    page = text(client.get("/agency/breaches"))
    assert "2 reports" in page
    assert page.index("Bishkek Bank OJSC") < page.index("Osh Clinic LLC")  # newest first
    assert "Filed late" in page and "Overdue by" in page
    assert "3 working days left" in page  # filed on Tuesday: Wed, Thu, Fri

    def names(query: str) -> set[str]:
        found = text(client.get(f"/agency/breaches?{query}"))
        return {name for name in ("Osh Clinic LLC", "Bishkek Bank OJSC") if name in found}

    assert names("late=yes") == {"Osh Clinic LLC"}
    assert names("late=no") == {"Bishkek Bank OJSC"}
    assert names("overdue=y") == {"Osh Clinic LLC"}
    assert names("status=assessing") == {"Bishkek Bank OJSC"}
    assert names("status=received") == {"Osh Clinic LLC"}
    assert names("region=KG-O") == {"Osh Clinic LLC"}
    assert names("sector=finance_banking") == {"Bishkek Bank OJSC"}
    assert names("holder=osh+clinic") == {"Osh Clinic LLC"}
    assert names(f"holder={bishkek_bank.tin}") == {"Bishkek Bank OJSC"}
    assert names("holder=nobody+such") == set()
    assert names("status=nonsense&region=XX") == {"Osh Clinic LLC", "Bishkek Bank OJSC"}

    with query_counter() as few:
        client.get("/agency/breaches")
    for _ in range(5):
        membership = MembershipFactory()
        report = report_of(holder=membership)
        breaches.add_follow_up(
            report, membership.user, breaches.FollowUpDetails(information="More.")
        )
    db.session.commit()
    with query_counter() as many:
        listing = text(client.get("/agency/breaches"))
    assert "7 reports" in listing and "1 follow-up" in listing
    assert len(many) == len(few)  # no query per row


def test_the_list_is_paginated(client, auth, clock):
    staff(auth)
    organisation = OrganisationFactory()
    for _ in range(breaches.triage.PAGE_SIZE + 1):
        report_of(organisation)
    assert "Page 1 of 2" in text(client.get("/agency/breaches"))
    assert text(client.get("/agency/breaches?page=2")).count('data-report="') == 1


def test_opening_a_report_is_logged_and_shows_everything(client, auth, clock):
    inspector = staff(auth)
    report = report_of(late_reason=None)
    page = text(client.get(f"/agency/breaches/{report.id}"))
    assert "Ransomware encrypted the patient database." in page and "Bakyt Contact" in page
    assert "Start assessing this report" in page
    opened = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "breach_report.opened")
    ).all()
    assert [(entry.actor_id, entry.object_id) for entry in opened] == [
        (inspector.id, str(report.id))
    ]


def test_the_agency_asks_decides_and_a_stale_page_keeps_what_was_typed(client, auth, clock):
    inspector = staff(auth)
    report = report_of()
    base = f"/agency/breaches/{report.id}"
    assert (
        client.post_form(f"{base}/assess", {"lock_version": report.lock_version}).status_code == 302
    )
    report = fresh(report)

    empty = client.post_form(
        f"{base}/questions", {"question": "", "lock_version": report.lock_version}
    )
    assert empty.status_code == 422 and 'id="question-error"' in text(empty)
    asked = client.post_form(
        f"{base}/questions",
        {"question": "When was the last backup?", "lock_version": report.lock_version},
    )
    assert asked.status_code == 302
    report = fresh(report)
    assert [q.question for q in report.questions] == ["When was the last backup?"]

    no_grounds = client.post_form(
        f"{base}/decide", {"decision": "close", "grounds": "", "lock_version": report.lock_version}
    )
    assert no_grounds.status_code == 422
    assert re.search(r'id="grounds-error"[^>]*>.*State the grounds', text(no_grounds), re.S)
    assert fresh(report).status is BreachStatus.ASSESSING

    # A supervisor closes it meanwhile; the inspector's page (read before) is refused.
    read_at = report.lock_version
    supervisor = StaffFactory(role=Role.SUPERVISOR, full_name="Sup Ervisor")
    breaches.decide(report, supervisor, "close", "Handled.", read_at)
    db.session.commit()
    stale = client.post_form(
        f"{base}/decide",
        {
            "decision": "request_inspection",
            "grounds": "My careful grounds.",
            "lock_version": read_at,
        },
    )
    page = text(stale)
    assert stale.status_code == 409, page
    print(re.search(r'id="conflict"><p>(.*?)</p>', page, re.S).group(1))
    assert "changed by Sup Ervisor" in page and "My careful grounds." in page
    assert fresh(report).status is BreachStatus.CLOSED
    assert inspector.id != fresh(report).decided_by_id
