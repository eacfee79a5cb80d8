"""The holder's file for agency staff: every event of one holder on one timeline, in time order.

One holder is given a life with known times (Bishkek time): a declaration submitted, taken and
approved, its entry published and later suspended; a breach report with a follow-up, a question,
an answer and a decision; a complaint decided; an inspection with a violation and orders issued,
answered, returned, accepted and withdrawn. Another holder's events happen in between and must
not appear. Confidential text (descriptions, requirements, answers, grounds) never shows.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from markupsafe import escape

from register.extensions import db
from register.models import (
    ActivityEntry,
    AnswerDecision,
    BreachStatus,
    ComplaintStatus,
    DeclarationStatus,
    EntryStatus,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    InspectionViolation,
    OrderAnswer,
    OrderStatus,
    Organisation,
    OrganisationStatus,
    PersonKind,
    RegisterEntryVersion,
    Role,
    User,
)
from register.services import declarations, inspections, register_entries, review
from register.services.holder_file import Group, timeline
from register.services.inspection_plan import risk_for
from tests.factories import (
    ArrayFactory,
    BreachFollowUpFactory,
    BreachQuestionFactory,
    BreachReportFactory,
    ComplaintFactory,
    DeclarationEventFactory,
    DeclarationFactory,
    DeclarationVersionFactory,
    DocumentFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    RegisterEntryEventFactory,
    RegisterEntryFactory,
    StaffFactory,
)
from tests.support.clock import bishkek

SECRETS = (
    "SECRET-breach-description",
    "SECRET-follow-up-information",
    "SECRET-question-text",
    "SECRET-answer-text",
    "SECRET-complaint-what-happened",
    "SECRET-complainant-name",
    "SECRET-findings",
    "SECRET-violation-description",
    "SECRET-order-requirement",
    "SECRET-order-answer",
    "SECRET-return-grounds",
    "SECRET-withdrawal-grounds",
    "SECRET-suspension-grounds",
    "SECRET-declaration-note",
)


@dataclass
class Life:
    """A holder, the staff who acted, and the events expected in its file, oldest first."""

    organisation: Organisation
    holder: User
    inspector: User
    supervisor: User
    expected: list[tuple[str, datetime]]
    other: Organisation


def _inspection(
    organisation: Organisation, reference: str, created_by: User, **values: Any
) -> Inspection:
    inspection = Inspection(
        reference=reference,
        organisation_id=organisation.id,
        kind=InspectionKind.BREACH,
        legal_ground="Breach report of March 2025",
        planned_start=date(2025, 5, 5),
        planned_end=date(2025, 5, 30),
        created_by_id=created_by.id,
        findings="SECRET-findings",
        **values,
    )
    db.session.add(inspection)
    db.session.flush()
    return inspection


def _order(
    inspection: Inspection, number: int, issued_at: datetime, by: User, **values: Any
) -> InspectionOrder:
    order = InspectionOrder(
        inspection_id=inspection.id,
        organisation_id=inspection.organisation_id,
        number=number,
        requirement="SECRET-order-requirement",
        due_on=date(2025, 5, 31),
        issued_at=issued_at,
        issued_by_id=by.id,
        **values,
    )
    db.session.add(order)
    db.session.flush()
    return order


def _answer(order: InspectionOrder, at: datetime, by: User, **values: Any) -> OrderAnswer:
    answer = OrderAnswer(
        order_id=order.id,
        answered_at=at,
        answered_by_id=by.id,
        text="SECRET-order-answer",
        **values,
    )
    db.session.add(answer)
    return answer


def other_holder_life(after: datetime) -> Organisation:
    """Another holder with a little of everything, at times among the first holder's."""
    membership = MembershipFactory()
    other = membership.organisation
    declaration = DeclarationFactory(organisation=other, status=DeclarationStatus.SUBMITTED)
    DeclarationEventFactory(declaration=declaration, occurred_at=after + timedelta(hours=1))
    report = BreachReportFactory(organisation=other, filed_at=after + timedelta(hours=2))
    BreachFollowUpFactory(report=report, filed_at=after + timedelta(hours=3))
    ComplaintFactory(
        organisation_id=other.id, processor_name=None, received_at=after + timedelta(hours=4)
    )
    inspection = _inspection(other, "I-OTHR-0001", membership.user, created_at=after)
    order = _order(inspection, 1, after + timedelta(hours=5), membership.user)
    _answer(order, after + timedelta(hours=6), membership.user)
    db.session.commit()
    return other


def holder_life() -> Life:
    """The holder's life, with every event's time set, and another holder's events among them."""
    membership = MembershipFactory(
        organisation=OrganisationFactory(
            legal_name="Timeline Bank OJSC", status=OrganisationStatus.VERIFIED
        )
    )
    holder, organisation = membership.user, membership.organisation
    inspector = StaffFactory(role=Role.INSPECTOR, full_name="Ina Inspector")
    supervisor = StaffFactory(role=Role.SUPERVISOR, full_name="Sam Supervisor")
    expected: list[tuple[str, datetime]] = []

    def expect(kind: str, at: datetime) -> datetime:
        expected.append((kind, at))
        return at

    # Registration: submitted, taken, approved and published at the same moment, suspended.
    declaration = DeclarationFactory(
        organisation=organisation, status=DeclarationStatus.APPROVED, created_by_id=holder.id
    )
    version = DeclarationVersionFactory(declaration=declaration, number=1)
    for from_status, to_status, at, actor in (
        ("draft", "submitted", bishkek(2025, 1, 10, 9), holder),
        ("submitted", "in_review", bishkek(2025, 1, 12, 10), inspector),
        ("in_review", "approved", bishkek(2025, 1, 15, 11), inspector),
    ):
        DeclarationEventFactory(
            declaration=declaration,
            from_status=from_status,
            to_status=to_status,
            occurred_at=expect(f"declaration.{to_status}", at),
            actor_id=actor.id,
            note="SECRET-declaration-note",
        )
    entry = RegisterEntryFactory(
        organisation=organisation,
        declaration_version=version,
        registration_number="PDH-2025-000777",
        registered_on=date(2025, 1, 15),
        special_categories=True,
        cross_border=True,
    )
    db.session.add(
        RegisterEntryVersion(
            entry_id=entry.id,
            number=1,
            declaration_version_id=version.id,
            published_at=expect("entry.published", bishkek(2025, 1, 15, 11)),
            public_snapshot={"organisation": {}, "arrays": {}},
        )
    )

    # A breach report: filed, completed, a question and its answer, decided.
    report = BreachReportFactory(
        organisation=organisation,
        filed_by_id=holder.id,
        description="SECRET-breach-description",
        detected_at=bishkek(2025, 2, 28, 18),
        occurred_at=bishkek(2025, 2, 28, 12),
        filed_at=expect("breach.filed", bishkek(2025, 3, 1, 10)),
        subjects_affected=1200,
        status=BreachStatus.INSPECTION_REQUESTED,
        decided_by_id=inspector.id,
        decided_at=bishkek(2025, 3, 10, 10),
        decision_grounds="SECRET-suspension-grounds",
    )
    BreachFollowUpFactory(
        report=report,
        filed_by_id=holder.id,
        filed_at=expect("breach.follow_up", bishkek(2025, 3, 2, 10)),
        information="SECRET-follow-up-information",
    )
    BreachQuestionFactory(
        report=report,
        asked_by_id=inspector.id,
        asked_at=expect("breach.question", bishkek(2025, 3, 3, 10)),
        question="SECRET-question-text",
        answered_by_id=holder.id,
        answered_at=expect("breach.answered", bishkek(2025, 3, 4, 10)),
        answer="SECRET-answer-text",
    )
    expect("breach.decided", bishkek(2025, 3, 10, 10))

    # A complaint about the holder, upheld.
    ComplaintFactory(
        receipt_number="C-FILE-0001",
        organisation_id=organisation.id,
        registration_number=entry.registration_number,
        processor_name=None,
        what_happened="SECRET-complaint-what-happened",
        complainant_name="SECRET-complainant-name",
        received_at=expect("complaint.received", bishkek(2025, 4, 1, 12)),
        status=ComplaintStatus.UPHELD,
        decided_at=expect("complaint.decided", bishkek(2025, 4, 20, 12)),
        decided_by_id=supervisor.id,
        grounds="The holder published the phone number without consent.",
    )

    # An inspection: planned, started (a date), a violation and two orders, answers, report, closed.
    inspection = _inspection(
        organisation,
        "I-FILE-0001",
        supervisor,
        created_at=expect("inspection.planned", bishkek(2025, 5, 1, 9)),
        status=InspectionStatus.CLOSED,
        started_on=date(2025, 5, 5),
        report_on=date(2025, 6, 2),
        closed_at=bishkek(2025, 6, 10, 10),
    )
    expect("inspection.started", bishkek(2025, 5, 5))
    violation = InspectionViolation(
        inspection_id=inspection.id,
        article_code="art_8",
        description="SECRET-violation-description",
        recorded_at=expect("violation.recorded", bishkek(2025, 5, 6, 10)),
        recorded_by_id=inspector.id,
    )
    db.session.add(violation)
    db.session.flush()
    first = _order(
        inspection,
        1,
        expect("order.issued", bishkek(2025, 5, 6, 10)),  # the violation's moment: shown after it
        inspector,
        violation_id=violation.id,
        status=OrderStatus.ACCEPTED,
        settled_at=bishkek(2025, 5, 27, 15),
        settled_by_id=inspector.id,
    )
    second = _order(
        inspection,
        2,
        expect("order.issued", bishkek(2025, 5, 6, 10, 5)),
        inspector,
        status=OrderStatus.WITHDRAWN,
        withdrawal_grounds="SECRET-withdrawal-grounds",
        settled_by_id=supervisor.id,
    )
    _answer(
        first,
        expect("order.answered", bishkek(2025, 5, 20, 15)),
        holder,
        decision=AnswerDecision.RETURNED,
        decided_at=expect("order.returned", bishkek(2025, 5, 22, 15)),
        decided_by_id=inspector.id,
        return_grounds="SECRET-return-grounds",
    )
    _answer(
        first,
        expect("order.answered", bishkek(2025, 5, 25, 15)),
        holder,
        decision=AnswerDecision.ACCEPTED,
        decided_at=expect("order.accepted", bishkek(2025, 5, 27, 15)),
        decided_by_id=inspector.id,
    )
    second.settled_at = expect("order.withdrawn", bishkek(2025, 5, 28, 9))
    expect("inspection.report", bishkek(2025, 6, 2))
    expect("inspection.closed", bishkek(2025, 6, 10, 10))

    # The entry suspended later.
    RegisterEntryEventFactory(
        entry=entry,
        from_status="registered",
        to_status="suspended",
        occurred_at=expect("entry.suspended", bishkek(2025, 7, 1, 10)),
        actor_id=supervisor.id,
        article="Article 30",
        grounds="SECRET-suspension-grounds",
    )
    entry.status = EntryStatus.SUSPENDED
    db.session.commit()
    other = other_holder_life(after=bishkek(2025, 3, 1, 9))
    expected.sort(key=lambda pair: pair[1])  # stable: ties keep the order written above
    return Life(organisation, holder, inspector, supervisor, expected, other)


def holder_organisation() -> tuple[User, Organisation]:
    """An owner and an organisation whose registration is complete (as in test_review)."""
    membership = MembershipFactory()
    user, found = membership.user, membership.organisation
    PersonFactory(organisation=found, kind=PersonKind.HEAD, pin=None, phone=None, email=None)
    PersonFactory(organisation=found, full_name="Aida Responsible")
    DocumentFactory(organisation=found, uploaded_by_id=user.id)
    ArrayFactory(organisation=found, name="Personnel files")
    db.session.expire(found, ["people"])
    return user, found


def as_staff(auth: Any, user: User) -> None:
    auth.login(user)
    with auth.client.session_transaction() as session:
        session["lang"] = "en"


def file_url(organisation: Organisation, **query: str) -> str:
    suffix = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/agency/organisations/{organisation.id}/file" + (f"?{suffix}" if suffix else "")


# -- the service -------------------------------------------------------------------------------


def test_the_file_lists_every_event_once_in_time_order_and_nothing_of_another_holder(app):
    life = holder_life()
    with app.test_request_context():
        events = timeline(life.organisation.id)
        assert [(event.kind, event.at) for event in events] == life.expected
        assert all(
            event.at.tzinfo is not None and event.at.utcoffset() == timedelta(0) for event in events
        )
        # A date-only step counts from the start of that day in Bishkek (18:00 UTC the day before).
        started = next(event for event in events if event.kind == "inspection.started")
        assert started.at == datetime(2025, 5, 4, 18, 0, tzinfo=UTC)
        # Nothing of the other holder: its events alone would all be listed for it.
        others = timeline(life.other.id)
        assert {event.kind for event in others} >= {
            "declaration.submitted",
            "breach.filed",
            "breach.follow_up",
            "complaint.received",
            "inspection.planned",
            "order.issued",
            "order.answered",
        }
        assert not {event.record_id for event in others} & {event.record_id for event in events}


def test_events_name_the_actor_and_link_to_the_record(app):
    life = holder_life()
    with app.test_request_context():
        events = {event.kind: event for event in timeline(life.organisation.id)}
        assert events["declaration.approved"].actor == "Ina Inspector"
        assert events["complaint.decided"].actor == "Sam Supervisor"
        assert events["complaint.received"].actor is None  # the complainant is confidential
        assert events["breach.filed"].url.startswith("/agency/breaches/")
        assert events["complaint.decided"].url.startswith("/agency/complaints/")
        assert events["declaration.submitted"].url.startswith("/agency/declarations/")
        assert "C-FILE-0001" in events["complaint.decided"].summary
        assert "Upheld" in events["complaint.decided"].summary
        assert "version 1" in events["declaration.submitted"].summary
        assert "PDH-2025-000777" in events["entry.suspended"].summary
        assert "I-FILE-0001" in events["order.issued"].summary
        assert events["inspection.planned"].url.startswith("/agency/inspections/")
        assert events["order.accepted"].url == events["inspection.planned"].url


def test_filters_by_part_and_by_date_range(app):
    life = holder_life()
    with app.test_request_context():
        breaches_only = timeline(life.organisation.id, groups=[Group.BREACHES])
        assert [event.kind for event in breaches_only] == [
            kind for kind, _at in life.expected if kind.startswith("breach.")
        ]
        # May 2025 in Bishkek: from the inspection's planning to the withdrawn order.
        may = timeline(life.organisation.id, since=date(2025, 5, 1), until=date(2025, 5, 31))
        assert [(event.kind, event.at) for event in may] == [
            (kind, at)
            for kind, at in life.expected
            if bishkek(2025, 5, 1) <= at < bishkek(2025, 6, 1)
        ]
        assert may[0].kind == "inspection.planned" and may[-1].kind == "order.withdrawn"
        # The start (18:00 UTC on 4 May) is on 5 May in Bishkek: inside the range from 5 May.
        later = timeline(life.organisation.id, since=date(2025, 5, 5), until=date(2025, 5, 5))
        assert [event.kind for event in later] == ["inspection.started"]


def test_the_real_workflow_puts_its_steps_in_the_file(app):
    holder, organisation = holder_organisation()
    inspector = StaffFactory(role=Role.INSPECTOR)
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    declaration = declarations.submit(organisation, holder)
    review.claim(declaration, inspector, declaration.lock_version)
    review.approve(
        declaration, inspector, grounds="Complete.", expected_lock_version=declaration.lock_version
    )
    entry = register_entries.entry_of(organisation.id)
    assert entry is not None
    register_entries.change_status(entry, "suspend", supervisor, "SECRET-suspension-grounds")
    db.session.commit()
    with app.test_request_context():
        kinds = [event.kind for event in timeline(organisation.id)]
    assert kinds == [
        "declaration.submitted",
        "declaration.in_review",
        "declaration.approved",
        "entry.published",
        "entry.suspended",
    ]


def test_an_inspection_run_by_its_services_puts_each_step_in_the_file_once(app):
    membership = MembershipFactory()
    holder, organisation = membership.user, membership.organisation
    RegisterEntryFactory(organisation=organisation)
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    inspector = StaffFactory(role=Role.INSPECTOR, full_name="Assigned Inspector")
    db.session.commit()
    details = inspections.InspectionDetails(
        kind=InspectionKind.PLANNED,
        legal_ground="Plan of inspections, item 4",
        planned_start=inspections.today() + timedelta(days=1),
        planned_end=inspections.today() + timedelta(days=5),
        inspector_ids=[inspector.id],
    )
    inspection = inspections.plan_inspection(organisation, details, supervisor, 7)
    inspections.start(inspection, inspector, inspection.lock_version)
    violation = inspections.record_violation(inspection, inspector, "art_8", "SECRET-violation")
    due = inspections.today() + timedelta(days=14)
    kept = inspections.issue_order(inspection, inspector, "SECRET-order-1", due, violation.id)
    dropped = inspections.issue_order(inspection, inspector, "SECRET-order-2", due, None)
    inspections.answer_order(kept, holder, kept.lock_version, "SECRET-answer-1", [])
    inspections.return_answer(kept, inspector, kept.lock_version, "SECRET-grounds")
    inspections.answer_order(kept, holder, kept.lock_version, "SECRET-answer-2", [])
    inspections.accept_answer(kept, inspector, kept.lock_version)
    inspections.withdraw_order(dropped, supervisor, dropped.lock_version, "SECRET-withdrawn")
    inspections.write_report(inspection, inspector, inspection.lock_version, "SECRET-findings")
    inspections.close(inspection, inspector, inspection.lock_version)
    db.session.commit()
    with app.test_request_context():
        events = timeline(organisation.id, groups=[Group.INSPECTIONS])
    assert sorted(event.kind for event in events) == sorted(
        [
            "inspection.planned",
            "inspection.started",
            "violation.recorded",
            "order.issued",
            "order.issued",
            "order.answered",
            "order.returned",
            "order.answered",
            "order.accepted",
            "order.withdrawn",
            "inspection.report",
            "inspection.closed",
        ]
    )
    # Planned, started and reported on one day: the day's steps never come before the planning.
    kinds = [event.kind for event in events]
    assert kinds[0] == "inspection.planned" and kinds[-1] == "inspection.closed"
    assert kinds.index("inspection.started") < kinds.index("inspection.report")
    assert events == sorted(events, key=lambda event: event.sort_key())
    assert {event.actor for event in events if event.kind == "order.accepted"} == {
        "Assigned Inspector"
    }


# -- the page ----------------------------------------------------------------------------------


def test_the_page_shows_the_timeline_newest_first_by_month_without_confidential_text(client, auth):
    life = holder_life()
    as_staff(auth, life.inspector)
    response = client.get(file_url(life.organisation))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Timeline Bank OJSC" in page and "PDH-2025-000777" in page and "Suspended" in page
    kinds = re.findall(r'data-kind="([a-z_.]+)"', page)
    assert kinds == [kind for kind, _at in reversed(life.expected)]
    months = re.findall(r'<h3 class="heading-s" id="month-\d+">([^<]+)</h3>', page)
    assert months == [
        "July 2025",
        "June 2025",
        "May 2025",
        "April 2025",
        "March 2025",
        "January 2025",
    ]
    # A step known by its day shows the day, not a midnight.
    assert 'data-kind="inspection.started"><time datetime="2025-05-05">May 5, 2025</time>' in page
    assert page.count('href="/agency/breaches/') == 5  # filed, follow-up, question, answer, decided
    assert "Ina Inspector" in page and "Sam Supervisor" in page
    for secret in SECRETS:
        assert secret not in page
    assert life.other.legal_name not in page


def test_the_risk_box_shows_each_term_and_the_total(client, auth, app):
    life = holder_life()
    as_staff(auth, life.supervisor)
    page = client.get(file_url(life.organisation)).get_data(as_text=True)
    with app.test_request_context("/?lang=en"):
        risk = risk_for(life.organisation.id)
    assert risk is not None and risk.score > 0
    assert risk.score == sum(term.points for term in risk.terms)
    for term in risk.terms:
        row = re.search(rf'<tr data-term="{re.escape(term.code)}">(.*?)</tr>', page, re.S)
        assert row is not None, term.code
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        assert cells[-1].strip() == str(term.points)
        assert str(escape(term.value)) in row.group(1)
    total = re.search(r'id="risk-total"><strong>(\d+)</strong>', page)
    assert total is not None and int(total.group(1)) == risk.score


def test_a_holder_without_an_entry_has_no_score_but_a_file(client, auth):
    organisation = OrganisationFactory(legal_name="Newcomer LLC")
    as_staff(auth, StaffFactory(role=Role.INSPECTOR))
    page = client.get(file_url(organisation)).get_data(as_text=True)
    assert "No risk score: the holder has no register entry." in page
    assert "Nothing in the file for these filters." in page


def test_the_page_filters_and_refuses_a_bad_range_keeping_the_input(client, auth):
    life = holder_life()
    as_staff(auth, life.inspector)
    page = client.get(file_url(life.organisation, group="complaints")).get_data(as_text=True)
    assert re.findall(r'data-kind="([a-z_.]+)"', page) == [
        "complaint.decided",
        "complaint.received",
    ]
    refused = client.get(file_url(life.organisation, since="2025-06-01", until="2025-05-01"))
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "The end of the range must not be before its start" in body
    assert 'value="2025-06-01"' in body and 'value="2025-05-01"' in body
    assert "data-kind=" not in body
    bad = client.get(file_url(life.organisation, since="yesterday"))
    assert bad.status_code == 422
    assert "Enter a date, for example 2026-11-23" in bad.get_data(as_text=True)
    assert 'value="yesterday"' in bad.get_data(as_text=True)


def test_opening_the_file_is_logged(client, auth):
    life = holder_life()
    as_staff(auth, life.inspector)

    def openings() -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ActivityEntry)
            .where(
                ActivityEntry.action == "organisation.file_opened",
                ActivityEntry.object_id == str(life.organisation.id),
                ActivityEntry.actor_id == life.inspector.id,
            )
        )

    assert openings() == 0
    assert client.get(file_url(life.organisation)).status_code == 200
    assert openings() == 1


def test_the_organisation_page_links_to_the_file(client, auth):
    life = holder_life()
    as_staff(auth, life.inspector)
    page = client.get(f"/agency/organisations/{life.organisation.id}").get_data(as_text=True)
    assert f'href="{file_url(life.organisation)}"' in page


def test_the_page_reads_a_fixed_number_of_queries(client, auth, query_counter):
    life = holder_life()
    as_staff(auth, life.inspector)
    url = file_url(life.organisation)
    client.get(url)  # the reference lists cached, as on any later request
    with query_counter() as few:
        assert client.get(url).status_code == 200
    # More of everything: breach reports with follow-ups and questions, complaints, orders with
    # answers, declaration steps, by other staff.
    for number in range(3):
        someone = StaffFactory(role=Role.INSPECTOR)
        report = BreachReportFactory(organisation=life.organisation, filed_by_id=life.holder.id)
        BreachFollowUpFactory(report=report, filed_by_id=life.holder.id)
        BreachQuestionFactory(report=report, asked_by_id=someone.id)
        ComplaintFactory(
            organisation_id=life.organisation.id, processor_name=None, assignee_id=someone.id
        )
        inspection = _inspection(life.organisation, f"I-MORE-000{number}", someone)
        order = _order(inspection, 1, bishkek(2025, 8, 1 + number), someone)
        _answer(order, bishkek(2025, 8, 2 + number), life.holder)
        declaration = DeclarationFactory(
            organisation=life.organisation, status=DeclarationStatus.SUBMITTED
        )
        DeclarationVersionFactory(declaration=declaration, number=10 + number)
        DeclarationEventFactory(declaration=declaration, actor_id=someone.id)
    db.session.commit()
    with query_counter() as many:
        page = client.get(url).get_data(as_text=True)
    # Each round: a report, its follow-up and question, a complaint, an inspection, its order and
    # the answer, a declaration submitted.
    assert page.count("data-kind=") == len(life.expected) + 3 * 8
    assert len(many) == len(few)


def test_an_unknown_holder_is_not_found(client, auth):
    as_staff(auth, StaffFactory(role=Role.SUPERVISOR))
    response = client.get(f"/agency/organisations/{uuid.uuid4()}/file")
    assert response.status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ActivityEntry)
            .where(ActivityEntry.action == "organisation.file_opened")
        )
        == 0
    )
