"""Breach reports, the holder's side: the 72-hour clock (frozen, Bishkek time), late reports and
their reason, follow-ups attached to their report, answers to the agency's questions, bad input,
and holders seeing only their own organisation's reports."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from register.extensions import db
from register.models import (
    ActivityEntry,
    BreachFollowUp,
    BreachQuestion,
    BreachReport,
    BreachStatus,
    Notification,
    Role,
)
from register.services import breaches
from tests.factories import MembershipFactory, StaffFactory
from tests.support.clock import FrozenClock, bishkek

# Detected on Monday 23 November 2026 at 22:00 in Bishkek (16:00 UTC): the 72 hours end on
# Thursday 26 November at 22:00 in Bishkek.
DETECTED = bishkek(2026, 11, 23, 22, 0)
DEADLINE = bishkek(2026, 11, 26, 22, 0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, DETECTED + timedelta(hours=1))


@pytest.fixture
def holder(client: Any, auth: Any) -> Any:
    """A signed-in holder and the organisation it acts for (English pages)."""
    membership = MembershipFactory(user__full_name="Aida Holder")
    auth.login(membership.user)
    with client.session_transaction() as session:
        session["lang"] = "en"
    return membership


def url(membership: Any, tail: str = "") -> str:
    return f"/organisation/{membership.organisation.id}/breaches{tail}"


def form(**changes: Any) -> dict[str, Any]:
    """A complete report as the form posts it (times typed in Bishkek time)."""
    values: dict[str, Any] = {
        "occurred_at": "2026-11-23T18:30",
        "detected_at": "2026-11-23T22:00",
        "nature_codes": ["confidentiality"],
        "description": "A laptop with the HR database was stolen from a car.",
        "data_item_codes": ["full_name", "pin"],
        "data_details": "Names, PINs and salaries of current staff",
        "subject_category_codes": ["employees"],
        "subjects_affected": "1 200",
        "records_affected": "1200",
        "consequences": "Identity fraud is possible",
        "measures_taken": "Passwords changed; police informed",
        "subjects_told": "no",
        "contact_name": "Aida Holder",
        "contact_phone": "0312 123 456",
        "contact_email": "dpo@company.example.kg",
        "action": "file",
    }
    values.update(changes)
    return values


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def error_beside(page: str, field: str) -> str:
    """The error message shown beside `field` (its `<id>-error` paragraph)."""
    found = re.search(rf'id="{field}-error" class="error-message">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "").strip()


def reports() -> list[BreachReport]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(BreachReport)))


# -- the clock -----------------------------------------------------------------------------------


def test_the_clock_counts_72_hours_from_detection_in_bishkek_time(client, holder, clock):
    clock.set(DEADLINE - timedelta(hours=2, minutes=15))
    page = text(
        client.post_form(
            url(holder, "/new"), {"detected_at": "2026-11-23T22:00", "action": "check"}
        )
    )
    # Server-side, without JavaScript: the time left and the deadline in Bishkek time.
    assert "2 h 15 min left" in page
    assert "Nov 26, 2026, 10:00:00" in page and "PM" in page  # 22:00 in Bishkek, not 16:00 UTC
    assert 'data-hours="72"' in page and 'data-utc-offset="360"' in page  # for the script
    assert reports() == []  # checking saves nothing

    response = client.post_form(url(holder, "/new"), form())
    assert response.status_code == 302
    [report] = reports()
    assert report.detected_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert report.occurred_at == datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
    assert report.report_due_at == DEADLINE
    assert report.filed_late is False and report.late_reason is None
    assert report.status is BreachStatus.RECEIVED
    assert report.subjects_affected == 1200
    # Filed on Thursday 26 November (Bishkek): three working days are Fri, Mon, Tue.
    assert report.triage_due_at == bishkek(2026, 12, 2)
    shown = text(client.get(response.headers["Location"]))
    assert "In time" in shown and "Filed late" not in shown
    assert "The agency triages it by the end of" in shown and "December 1, 2026" in shown


def test_a_late_report_is_flagged_and_must_say_why(client, holder, clock):
    clock.set(DEADLINE + timedelta(minutes=1))
    page = text(
        client.post_form(
            url(holder, "/new"), {"detected_at": "2026-11-23T22:00", "action": "check"}
        )
    )
    assert "Late" in page and "ended on Nov 26, 2026, 10:00:00" in page

    refused = client.post_form(url(holder, "/new"), form())
    assert refused.status_code == 422
    message = error_beside(text(refused), "late_reason")
    assert "This report is late" in message and "Nov 26, 2026, 10:00:00" in message
    assert "A laptop with the HR database was stolen from a car." in text(refused)  # kept
    assert reports() == []

    filed = client.post_form(
        url(holder, "/new"), form(late_reason="The theft was confirmed only on Friday.")
    )
    assert filed.status_code == 302
    [report] = reports()
    assert report.filed_late is True
    assert report.late_reason == "The theft was confirmed only on Friday."
    page = text(client.get(filed.headers["Location"]))
    assert "Filed late" in page and "The theft was confirmed only on Friday." in page
    listing = text(client.get(url(holder)))
    assert "Filed late" in listing


def test_the_clock_at_the_service(app, clock):
    with app.test_request_context():
        on_time = breaches.clock(DETECTED, DEADLINE - timedelta(minutes=1))
        assert not on_time.late and (on_time.hours_left, on_time.minutes_left) == (0, 1)
        exactly = breaches.clock(DETECTED, DEADLINE)
        assert not exactly.late  # the 72nd hour still counts
        late = breaches.clock(DETECTED, DEADLINE + timedelta(hours=3, minutes=1))
        assert late.late and late.hours_late == 4 and late.hours_left == 0


def test_filing_tells_the_members_and_is_logged(client, holder, clock):
    colleague = MembershipFactory(organisation=holder.organisation, user__locale="en")
    client.post_form(url(holder, "/new"), form())
    [report] = reports()
    notices = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "breach_report.filed")
    ).all()
    assert {notice.recipient_id for notice in notices} == {holder.user_id, colleague.user_id}
    assert all("A laptop" not in notice.body for notice in notices)  # no confidential text
    logged = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "breach_report.filed")
    ).one()
    assert logged.object_id == str(report.id) and logged.details["late"] is False


# -- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_shown_beside_each_field_kept_and_nothing_is_saved(
    client, holder, clock, caplog
):
    caplog.set_level(logging.INFO, logger="register.breaches")
    bad = form(
        occurred_at="2026-11-24T09:00",  # after the detection
        detected_at="2026-11-23T22:00",
        nature_codes=[],
        description="",
        subjects_affected="about a thousand",
        contact_phone="",
        contact_email="not an address",
        subjects_told="yes",
        subjects_told_on="",
        data_details="Kept text ÖҢҮ",
    )
    response = client.post_form(url(holder, "/new"), bad)
    page = text(response)
    assert response.status_code == 422
    assert error_beside(page, "description") == "Describe what happened"
    assert error_beside(page, "nature_codes") == "Choose what the breach compromised"
    assert error_beside(page, "subjects_affected") == "Enter a whole number, for example 1500"
    assert "e-mail address" in error_beside(page, "contact_email")
    assert (
        error_beside(page, "occurred_at") == "The breach cannot have happened after it was detected"
    )
    assert error_beside(page, "subjects_told_on") == "Enter when the data subjects were told"
    assert "There is a problem" in page
    assert "Kept text ÖҢҮ" in page and 'value="about a thousand"' in page
    assert 'value="2026-11-24T09:00"' in page
    assert reports() == []
    assert any("breach report refused" in record.getMessage() for record in caplog.records)
    assert all("Kept text" not in record.getMessage() for record in caplog.records)


def test_detection_in_the_future_and_unreadable_times_are_refused(client, holder, clock):
    response = client.post_form(
        url(holder, "/new"),
        form(detected_at="2026-12-24T10:00", occurred_at="yesterday evening"),
    )
    page = text(response)
    assert response.status_code == 422
    assert error_beside(page, "detected_at") == "The breach cannot be detected in the future"
    assert (
        error_beside(page, "occurred_at") == "Enter a date and time, for example 2026-11-23 14:30"
    )
    assert 'value="yesterday evening"' in page
    assert reports() == []


def test_a_contact_is_required(client, holder, clock):
    response = client.post_form(
        url(holder, "/new"), form(contact_phone="", contact_email="", contact_name="")
    )
    page = text(response)
    assert response.status_code == 422
    assert error_beside(page, "contact_name") == "Enter the name of the person to contact"
    assert (
        error_beside(page, "contact_email") == "Give a phone number or an e-mail address to contact"
    )


def test_the_form_starts_with_the_user_as_contact_and_the_clock_explained(client, holder):
    page = text(client.get(url(holder, "/new")))
    assert 'value="Aida Holder"' in page
    assert "must be reported within 72 hours of its detection" in page
    assert "js/breach-clock.js" in page and "<script>" not in page  # no inline script


# -- follow-ups and questions ----------------------------------------------------------------------


def filed(client: Any, membership: Any) -> BreachReport:
    response = client.post_form(url(membership, "/new"), form())
    assert response.status_code == 302
    report_id = response.headers["Location"].rsplit("/", 1)[1]
    db.session.expire_all()
    report = db.session.get(BreachReport, uuid.UUID(report_id))
    assert report is not None and report.organisation_id == membership.organisation_id
    return report


def test_follow_ups_attach_to_their_report_in_order(client, holder, clock):
    first = filed(client, holder)
    clock.advance(timedelta(minutes=5))
    second = filed(client, holder)
    clock.advance(timedelta(days=1))
    page = url(holder, f"/{first.id}/follow-up")
    assert client.get(page).status_code == 200
    refused = client.post_form(page, {"information": "", "subjects_affected": "many"})
    assert refused.status_code == 422
    assert (
        error_beside(text(refused), "information") == "Say what you have learned since the report"
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BreachFollowUp)) == 0

    assert (
        client.post_form(
            page, {"information": "The laptop was encrypted after all.", "subjects_affected": "900"}
        ).status_code
        == 302
    )
    clock.advance(timedelta(hours=2))
    assert (
        client.post_form(
            page, {"information": "All staff have been told.", "subjects_told_on": "2026-11-25"}
        ).status_code
        == 302
    )

    db.session.expire_all()
    follow_ups = db.session.scalars(
        sa.select(BreachFollowUp).order_by(BreachFollowUp.filed_at)
    ).all()
    assert [f.report_id for f in follow_ups] == [first.id, first.id]
    assert [f.information for f in follow_ups] == [
        "The laptop was encrypted after all.",
        "All staff have been told.",
    ]
    assert follow_ups[0].subjects_affected == 900
    shown = text(client.get(url(holder, f"/{first.id}")))
    assert shown.index("The laptop was encrypted after all.") < shown.index(
        "All staff have been told."
    )
    assert "The laptop was encrypted" not in text(client.get(url(holder, f"/{second.id}")))


def assessing(report: BreachReport, staff: Any | None = None) -> Any:
    staff = staff or StaffFactory(role=Role.INSPECTOR)
    breaches.start_assessment(report, staff, report.lock_version)
    db.session.commit()
    return staff


def test_the_holder_sees_the_status_and_answers_the_agencys_questions(client, holder, clock, app):
    report = filed(client, holder)
    with app.test_request_context():
        inspector = assessing(report)
        question = breaches.ask_question(
            report, inspector, "Was the disk of the laptop encrypted?", report.lock_version
        )
        db.session.commit()
    page = text(client.get(url(holder, f"/{report.id}")))
    assert "Being assessed" in page and "Was the disk of the laptop encrypted?" in page
    answer_url = url(holder, f"/{report.id}/questions/{question.id}/answer")
    prefix = f"q-{question.id.hex[:8]}-answer"

    empty = client.post_form(answer_url, {prefix: "  "})
    assert empty.status_code == 422
    assert error_beside(text(empty), prefix) == "Write your answer"
    assert client.post_form(answer_url, {prefix: "Yes, with BitLocker."}).status_code == 302
    db.session.expire_all()
    answered = db.session.get(BreachQuestion, question.id)
    assert answered.answer == "Yes, with BitLocker." and answered.answered_by_id == holder.user_id
    assert "Yes, with BitLocker." in text(client.get(url(holder, f"/{report.id}")))
    # The assessor is told; a second answer is refused.
    told = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "breach_report.question_answered")
    ).all()
    assert [notice.recipient_id for notice in told] == [inspector.id]
    again = client.post_form(answer_url, {prefix: "Changed my mind."}, follow_redirects=True)
    assert "This question has already been answered." in text(again)
    assert db.session.get(BreachQuestion, question.id).answer == "Yes, with BitLocker."


def test_nothing_is_added_to_a_closed_report(client, holder, clock, app):
    report = filed(client, holder)
    with app.test_request_context():
        inspector = assessing(report)
        question = breaches.ask_question(
            report, inspector, "Who had the laptop?", report.lock_version
        )
        breaches.decide(
            report, inspector, "close", "Encrypted device: low risk.", report.lock_version
        )
        db.session.commit()
    page = text(client.get(url(holder, f"/{report.id}")))
    assert "Closed" in page and "Encrypted device: low risk." in page
    assert "Add information to the report" not in page
    response = client.post_form(
        url(holder, f"/{report.id}/follow-up"), {"information": "More."}, follow_redirects=True
    )
    assert "closed this report" in text(response)
    prefix = f"q-{question.id.hex[:8]}-answer"
    client.post_form(
        url(holder, f"/{report.id}/questions/{question.id}/answer"), {prefix: "Late answer"}
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BreachFollowUp)) == 0
    assert db.session.get(BreachQuestion, question.id).answer is None
    with app.test_request_context(), pytest.raises(breaches.BreachError, match="closed"):
        breaches.add_follow_up(report, holder.user, breaches.FollowUpDetails(information="x"))


# -- whose reports ---------------------------------------------------------------------------------


def test_holders_see_only_their_own_organisations_reports(client, holder, auth, clock, app):
    own = filed(client, holder)
    other = MembershipFactory()
    auth.login(other.user)
    assert client.get(url(holder)).status_code == 404
    assert client.get(url(holder, f"/{own.id}")).status_code == 404
    assert client.get(url(holder, f"/{own.id}/follow-up")).status_code == 404
    # Another organisation's report under one's own organisation's address: still 404.
    assert client.get(url(other, f"/{own.id}")).status_code == 404
    assert (
        client.post_form(url(other, f"/{own.id}/follow-up"), {"information": "x"}).status_code
        == 404
    )
    assert "A laptop" not in text(client.get(url(other)))
    mine = filed(client, other)
    listing = text(client.get(url(other)))
    assert str(mine.id) in listing and str(own.id) not in listing


@pytest.mark.parametrize(
    "changes",
    [
        {"detected_at": "9999-12-31T23:59", "occurred_at": "0001-01-01T00:00"},
        {"nature_codes": ["leak", ""], "data_item_codes": ["no-such-item"]},
        {"subjects_affected": "9" * 40, "records_affected": "-5"},
        {"description": "x\x00y" * 3000, "contact_name": "\x00"},
        {"subjects_told": "maybe", "subjects_told_on": "31.02.2026"},
        {"detected_at": ["2026-11-23T22:00", "2026-11-24T22:00"]},
    ],
)
def test_odd_input_is_refused_beside_the_field_never_a_server_error(client, holder, clock, changes):
    response = client.post_form(url(holder, "/new"), form(**changes))
    assert response.status_code == 422
    assert 'class="error-message"' in text(response)
    assert reports() == []
