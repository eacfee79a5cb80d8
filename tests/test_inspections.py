"""Inspections: the risk-ranked plan (its order and each term explained), the inspection's and the
order's state machines (every legal and illegal move), closing only once every order is settled,
what the holder sees (its own inspections and orders, never the findings), the pages' forms
(422 with the input kept, 409 on a stale page), documents with answers, and lists in a fixed
number of queries."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import (
    ActivityEntry,
    BreachStatus,
    ComplaintStatus,
    Document,
    EntryStatus,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    Notification,
    OrderStatus,
    Organisation,
    RegisterEntry,
    Role,
    User,
)
from register.services import inspection_plan, inspections
from register.services.inspections import InspectionDetails, InspectionError, StaleInspection
from tests.factories import (
    BreachReportFactory,
    ComplaintFactory,
    MembershipFactory,
    OrganisationFactory,
    RegisterEntryFactory,
    StaffFactory,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FINDINGS = "Sentinel finding: the patient archive is open to every clerk."
REQUIREMENT = "Restrict access to the patient archive to the two archivists."


@dataclass
class World:
    supervisor: User
    inspector: User  # assigned
    bystander: User  # an inspector not assigned
    holder: User
    organisation: Organisation
    other_holder: User
    other_organisation: Organisation


@pytest.fixture
def world(app) -> World:
    membership = MembershipFactory(user__locale="en")
    other = MembershipFactory(user__locale="en")
    RegisterEntryFactory(organisation=membership.organisation)
    built = World(
        supervisor=StaffFactory(role=Role.SUPERVISOR, full_name="Super Visor"),
        inspector=StaffFactory(role=Role.INSPECTOR, full_name="Assigned Inspector"),
        bystander=StaffFactory(role=Role.INSPECTOR, full_name="Other Inspector"),
        holder=membership.user,
        organisation=membership.organisation,
        other_holder=other.user,
        other_organisation=other.organisation,
    )
    db.session.commit()
    return built


def plan(world: World, **changes: Any) -> Inspection:
    details = InspectionDetails(
        kind=changes.pop("kind", InspectionKind.PLANNED),
        legal_ground=changes.pop("legal_ground", "Plan of inspections for 2027, item 4"),
        planned_start=changes.pop("planned_start", inspections.today() + timedelta(days=3)),
        planned_end=changes.pop("planned_end", inspections.today() + timedelta(days=10)),
        inspector_ids=changes.pop("inspector_ids", [world.inspector.id]),
        **changes,
    )
    inspection = inspections.plan_inspection(world.organisation, details, world.supervisor, 7)
    db.session.commit()
    return fresh(inspection)


def fresh(inspection: Inspection) -> Inspection:
    db.session.expire_all()
    found = inspections.find(inspection.id)
    assert found is not None
    return found


def under_way(world: World) -> Inspection:
    inspection = plan(world)
    inspections.start(inspection, world.inspector, inspection.lock_version)
    db.session.commit()
    return fresh(inspection)


def order_of(world: World, inspection: Inspection, days: int = 14) -> InspectionOrder:
    order = inspections.issue_order(
        inspection, world.inspector, REQUIREMENT, inspections.today() + timedelta(days=days), None
    )
    db.session.commit()
    found = inspections.find_order(fresh(inspection), order.id)
    assert found is not None
    return found


def reload_order(inspection: Inspection, order: InspectionOrder) -> InspectionOrder:
    found = inspections.find_order(fresh(inspection), order.id)
    assert found is not None
    return found


# -- the plan --------------------------------------------------------------------------------


def _entry(name: str, **values: Any) -> RegisterEntry:
    organisation = OrganisationFactory(legal_name=name)
    return RegisterEntryFactory(
        organisation=organisation, legal_name=name, sort_name=name.casefold(), **values
    )


def org_of(entry: RegisterEntry) -> Organisation:
    found = db.session.get(Organisation, entry.organisation_id)
    assert found is not None
    return found


def test_the_plan_ranks_a_constructed_set_and_explains_each_term(app):
    now = utcnow()
    _entry("Alpha Bank", special_categories=True, cross_border=True, max_subjects=100_000)
    breached = _entry("Beta Clinic", max_subjects=10_000)
    for _ in range(4):  # four reports: three count
        BreachReportFactory(organisation=org_of(breached))
    BreachReportFactory(organisation=org_of(breached), filed_at=now - timedelta(days=4 * 365))
    ComplaintFactory(
        organisation_id=breached.organisation_id,
        status=ComplaintStatus.UPHELD,
        decided_at=now - timedelta(days=30),
    )
    ComplaintFactory(
        organisation_id=breached.organisation_id,
        status=ComplaintStatus.NOT_UPHELD,
        decided_at=now - timedelta(days=30),
    )
    calm = _entry("Gamma School", max_subjects=1_000)
    recently = Inspection(
        id=uuid.uuid4(),
        reference="I-TEST-0001",
        organisation_id=calm.organisation_id,
        kind=InspectionKind.PLANNED,
        status=InspectionStatus.CLOSED,
        legal_ground="Plan",
        planned_start=date(2026, 1, 10),
        planned_end=date(2026, 1, 20),
        closed_at=now - timedelta(days=100),
    )
    db.session.add(recently)
    violating = _entry("Delta Shop")
    old = Inspection(
        id=uuid.uuid4(),
        reference="I-TEST-0002",
        organisation_id=violating.organisation_id,
        kind=InspectionKind.PLANNED,
        status=InspectionStatus.CLOSED,
        legal_ground="Plan",
        planned_start=date(2022, 1, 10),
        planned_end=date(2022, 1, 20),
        closed_at=now - timedelta(days=2 * 365 + 30),
    )
    db.session.add(old)
    db.session.flush()
    from register.models import InspectionViolation

    open_violation = InspectionViolation(
        id=uuid.uuid4(), inspection_id=old.id, article_code="art_30"
    )
    open_violation.description = "Not registered"
    settled_violation = InspectionViolation(
        id=uuid.uuid4(), inspection_id=old.id, article_code="art_25"
    )
    settled_violation.description = "Transfer without grounds"
    db.session.add_all([open_violation, settled_violation])
    db.session.flush()
    for number, (violation, status) in enumerate(
        [(open_violation, OrderStatus.RETURNED), (settled_violation, OrderStatus.ACCEPTED)], 1
    ):
        order = InspectionOrder(
            id=uuid.uuid4(),
            inspection_id=old.id,
            organisation_id=violating.organisation_id,
            number=number,
            violation_id=violation.id,
            due_on=date(2022, 3, 1),
            status=status,
        )
        order.requirement = "Put it right"
        db.session.add(order)
    struck = _entry("Epsilon Struck", special_categories=True, status=EntryStatus.STRUCK_OFF)
    db.session.commit()

    found = inspection_plan.plan(inspection_plan.PlanFilters(), now=now)
    names = [row.entry.legal_name for row in found.rows]
    # Alpha: 3 special + 3 subjects + 2 abroad + 4 never = 12; Beta: 2 subjects + 6 breaches
    # + 2 upheld + 4 never = 14; Delta: 3 violation + 2 (inspected 2+ years ago) = 5;
    # Gamma: 1 subjects + 0 (inspected 100 days ago) = 1. Struck-off entries are not planned.
    assert names == ["Beta Clinic", "Alpha Bank", "Delta Shop", "Gamma School"]
    assert struck.legal_name not in names
    scores = {row.entry.legal_name: row.risk.score for row in found.rows}
    assert scores == {"Beta Clinic": 14, "Alpha Bank": 12, "Delta Shop": 5, "Gamma School": 1}
    for row in found.rows:
        assert row.risk.score == sum(term.points for term in row.risk.terms)
        assert {term.code for term in row.risk.terms} == set(inspection_plan.TERM_LABELS)
        assert all(term.explanation and term.label for term in row.risk.terms)
        again = inspection_plan.risk_for(row.entry.organisation_id, now=now)
        assert again is not None and again == row.risk

    beta = {term.code: term for term in scores_of(found, "Beta Clinic")}
    assert beta["breaches"].points == 6 and beta["breaches"].value == "4 reports"
    assert (
        beta["upheld_complaints"].points == 2 and beta["upheld_complaints"].value == "1 complaint"
    )
    assert beta["last_inspection"].value == "Never inspected"
    delta = {term.code: term for term in scores_of(found, "Delta Shop")}
    assert delta["open_violations"].points == 3 and delta["open_violations"].value == "1 violation"
    assert delta["last_inspection"].points == 2


def scores_of(found: Any, name: str) -> list[inspection_plan.RiskTerm]:
    return next(row.risk.terms for row in found.rows if row.entry.legal_name == name)


def test_the_plan_leaves_out_holders_with_an_inspection_under_way_unless_asked(world):
    plan(world)
    entry = db.session.scalar(
        sa.select(RegisterEntry).where(RegisterEntry.organisation_id == world.organisation.id)
    )
    without = inspection_plan.plan(inspection_plan.PlanFilters())
    assert entry.id not in {row.entry.id for row in without.rows}
    with_open = inspection_plan.plan(inspection_plan.PlanFilters(include_open=True))
    mine = [row for row in with_open.rows if row.entry.id == entry.id]
    assert mine and mine[0].open_inspection


def test_publishing_records_the_largest_subject_bucket(app):
    from register.services import register_entries

    bounds = {"b_1_100": 1, "b_huge": 1_000_000}
    arrays = [{"subject_bucket_code": "b_1_100"}, {"subject_bucket_code": "b_huge"}, {}]
    assert register_entries.max_subjects(arrays, bounds) == 1_000_000
    assert register_entries.max_subjects([{}], bounds) is None


# -- the inspection's state machine ----------------------------------------------------------


def test_every_legal_and_illegal_move_of_an_inspection(world):
    inspection = plan(world)
    assert inspection.status is InspectionStatus.PLANNED
    assert [user.id for user in inspection.inspectors] == [world.inspector.id]

    with pytest.raises(InspectionError, match="assigned"):
        inspections.start(inspection, world.bystander, inspection.lock_version)
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.write_report(inspection, world.inspector, inspection.lock_version, FINDINGS)
    with pytest.raises(InspectionError, match="Write the report"):
        inspections.close(inspection, world.inspector, inspection.lock_version)
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.record_violation(inspection, world.inspector, "art_30", "x")

    inspections.start(inspection, world.inspector, inspection.lock_version)
    db.session.commit()
    inspection = fresh(inspection)
    assert inspection.status is InspectionStatus.IN_PROGRESS
    assert inspection.started_on == inspections.today()
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.start(inspection, world.inspector, inspection.lock_version)
    with pytest.raises(InspectionError, match="findings") as blank:
        inspections.write_report(inspection, world.inspector, inspection.lock_version, "  ")
    assert blank.value.field == "findings"
    with pytest.raises(InspectionError, match="article"):
        inspections.record_violation(inspection, world.inspector, "art_999", "x")

    violation = inspections.record_violation(
        inspection, world.inspector, "art_30", "Processing without registration"
    )
    order = inspections.issue_order(
        inspection,
        world.inspector,
        REQUIREMENT,
        inspections.today() + timedelta(days=5),
        violation.id,
    )
    with pytest.raises(InspectionError, match="past"):
        inspections.issue_order(
            inspection, world.inspector, REQUIREMENT, inspections.today() - timedelta(days=1), None
        )
    with pytest.raises(InspectionError, match="violation of this inspection"):
        inspections.issue_order(
            inspection, world.inspector, REQUIREMENT, inspections.today(), uuid.uuid4()
        )
    db.session.commit()
    inspection = fresh(inspection)
    assert [o.number for o in inspection.orders] == [1]

    # A supervisor may act on any inspection.
    inspections.write_report(inspection, world.supervisor, inspection.lock_version, FINDINGS)
    db.session.commit()
    inspection = fresh(inspection)
    assert inspection.status is InspectionStatus.REPORT and inspection.findings == FINDINGS

    with pytest.raises(InspectionError, match="orders are unsettled"):
        inspections.close(inspection, world.inspector, inspection.lock_version)
    db.session.rollback()
    inspection = fresh(inspection)
    assert inspection.status is InspectionStatus.REPORT

    pending = inspections.find_order(inspection, order.id)
    inspections.answer_order(pending, world.holder, pending.lock_version, "Access restricted.", [])
    db.session.commit()
    pending = reload_order(inspection, pending)
    inspections.accept_answer(pending, world.inspector, pending.lock_version)
    db.session.commit()
    inspection = fresh(inspection)
    inspections.close(inspection, world.inspector, inspection.lock_version)
    db.session.commit()
    inspection = fresh(inspection)
    assert inspection.status is InspectionStatus.CLOSED and inspection.closed_at is not None
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.close(inspection, world.inspector, inspection.lock_version)
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.issue_order(inspection, world.inspector, REQUIREMENT, inspections.today(), None)
    actions = db.session.scalars(
        sa.select(ActivityEntry.action)
        .where(ActivityEntry.object_id == str(inspection.id))
        .order_by(ActivityEntry.seq)
    ).all()
    assert actions == [
        "inspection.planned",
        "inspection.started",
        "inspection.violation_recorded",
        "inspection.reported",
        "inspection.closed",
    ]


def test_only_supervisors_plan_and_the_plan_is_checked(world):
    details = InspectionDetails(
        kind=InspectionKind.PLANNED,
        legal_ground="Plan",
        planned_start=inspections.today(),
        planned_end=inspections.today(),
        inspector_ids=[world.inspector.id],
    )
    with pytest.raises(InspectionError, match="Only supervisors"):
        inspections.plan_inspection(world.organisation, details, world.inspector, None)
    bad = InspectionDetails(
        kind=InspectionKind.PLANNED,
        legal_ground=" ",
        planned_start=inspections.today() - timedelta(days=1),
        planned_end=inspections.today() - timedelta(days=5),
        inspector_ids=[world.holder.id],
    )
    fields = {name for name, _ in inspections.problems(world.organisation, bad)}
    assert fields == {"legal_ground", "planned_start", "planned_end", "inspector_ids"}
    reversed_dates = InspectionDetails(
        kind=InspectionKind.PLANNED,
        legal_ground="Plan",
        planned_start=inspections.today() + timedelta(days=5),
        planned_end=inspections.today() + timedelta(days=1),
        inspector_ids=[world.inspector.id],
    )
    assert [n for n, _ in inspections.problems(world.organisation, reversed_dates)] == [
        "planned_end"
    ]


def test_a_breach_or_complaint_that_requested_an_inspection_is_followed_once(world):
    report = BreachReportFactory(organisation=world.organisation, status=BreachStatus.CLOSED)
    complaint = ComplaintFactory(
        organisation_id=world.organisation.id, status=ComplaintStatus.INSPECTION_REQUESTED
    )
    db.session.commit()
    with pytest.raises(InspectionError, match="not requested"):
        plan(world, kind=InspectionKind.BREACH, breach_report_id=report.id)
    report.status = BreachStatus.INSPECTION_REQUESTED
    db.session.commit()
    followed = plan(world, kind=InspectionKind.BREACH, breach_report_id=report.id)
    assert followed.breach_report_id == report.id
    assert inspections.requested_by(breach_report_id=report.id).id == followed.id
    with pytest.raises(InspectionError, match="already follows"):
        plan(world, kind=InspectionKind.BREACH, breach_report_id=report.id)
    db.session.rollback()
    by_complaint = plan(world, kind=InspectionKind.COMPLAINT, complaint_id=complaint.id)
    assert (
        by_complaint.kind is InspectionKind.COMPLAINT and by_complaint.complaint_id == complaint.id
    )
    other = ComplaintFactory(
        organisation_id=world.other_organisation.id, status=ComplaintStatus.INSPECTION_REQUESTED
    )
    db.session.commit()
    with pytest.raises(InspectionError, match="from the complaint"):
        plan(world, kind=InspectionKind.COMPLAINT, complaint_id=other.id)


def test_a_stale_page_is_refused_naming_who_acted(world):
    inspection = plan(world)
    seen = inspection.lock_version
    inspections.start(inspection, world.supervisor, seen)
    db.session.commit()
    inspection = fresh(inspection)
    with pytest.raises(StaleInspection, match="Super Visor"):
        inspections.save_record(inspection, world.inspector, seen, FINDINGS, "")


# -- the order's state machine ---------------------------------------------------------------


def test_every_legal_and_illegal_move_of_an_order(world):
    inspection = under_way(world)
    order = order_of(world, inspection)
    assert order.status is OrderStatus.OPEN

    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.accept_answer(order, world.inspector, order.lock_version)
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.return_answer(order, world.inspector, order.lock_version, "No")
    with pytest.raises(InspectionError, match="Write your answer"):
        inspections.answer_order(order, world.holder, order.lock_version, " ", [])
    with pytest.raises(InspectionError, match="PDF, PNG or JPEG"):
        inspections.answer_order(
            order, world.holder, order.lock_version, "Done", [("a.exe", b"MZ")]
        )
    with pytest.raises(InspectionError, match="at most 5"):
        inspections.answer_order(
            order, world.holder, order.lock_version, "Done", [("a.pdf", PDF)] * 6
        )

    inspections.answer_order(order, world.holder, order.lock_version, "First try", [("a.pdf", PDF)])
    db.session.commit()
    order = reload_order(inspection, order)
    assert order.status is OrderStatus.ANSWERED and order.last_answered_at is not None
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.answer_order(order, world.holder, order.lock_version, "Again", [])
    with pytest.raises(InspectionError, match="assigned"):
        inspections.accept_answer(order, world.bystander, order.lock_version)
    with pytest.raises(InspectionError, match="grounds"):
        inspections.return_answer(order, world.inspector, order.lock_version, " ")

    inspections.return_answer(order, world.inspector, order.lock_version, "Show the access list")
    db.session.commit()
    order = reload_order(inspection, order)
    assert order.status is OrderStatus.RETURNED
    assert order.answers[-1].return_grounds == "Show the access list"

    inspections.answer_order(order, world.holder, order.lock_version, "Here it is", [])
    db.session.commit()
    order = reload_order(inspection, order)
    inspections.accept_answer(order, world.inspector, order.lock_version)
    db.session.commit()
    order = reload_order(inspection, order)
    assert order.status is OrderStatus.ACCEPTED and order.is_settled
    assert [a.decision.value for a in order.answers] == ["returned", "accepted"]
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.withdraw_order(order, world.inspector, order.lock_version, "Mistake")

    second = order_of(world, fresh(inspection))
    assert second.number == 2
    with pytest.raises(InspectionError, match="grounds"):
        inspections.withdraw_order(second, world.inspector, second.lock_version, "")
    inspections.withdraw_order(second, world.inspector, second.lock_version, "Issued twice")
    db.session.commit()
    second = reload_order(inspection, second)
    assert second.status is OrderStatus.WITHDRAWN and second.is_settled
    with pytest.raises(InspectionError, match="cannot be done now"):
        inspections.answer_order(second, world.holder, second.lock_version, "x", [])

    documents = db.session.scalars(
        sa.select(Document).where(Document.order_answer_id.is_not(None))
    ).all()
    assert len(documents) == 1 and documents[0].organisation_id == world.organisation.id


def test_overdue_orders_are_the_ones_waiting_for_the_holder_after_their_date(world):
    inspection = under_way(world)
    order = order_of(world, inspection, days=0)
    today = inspections.today()
    assert not order.is_overdue(today)
    assert order.is_overdue(today + timedelta(days=1))
    inspections.answer_order(order, world.holder, order.lock_version, "Done", [])
    db.session.commit()
    order = reload_order(inspection, order)
    assert not order.is_overdue(today + timedelta(days=1))  # the agency's turn now


def test_the_holder_and_the_inspectors_are_told_without_the_confidential_text(world):
    inspection = under_way(world)
    order = order_of(world, inspection)
    inspections.answer_order(order, world.holder, order.lock_version, "Sentinel answer text", [])
    db.session.commit()
    kinds = lambda user: [  # noqa: E731
        n.kind
        for n in db.session.scalars(
            sa.select(Notification)
            .where(Notification.recipient_id == user.id)
            .order_by(Notification.created_at)
        )
    ]
    assert kinds(world.holder) == [
        "inspection.planned",
        "inspection.started",
        "inspection_order.issued",
    ]
    assert kinds(world.inspector) == ["inspection.assigned", "inspection_order.answered"]
    assert kinds(world.other_holder) == []
    bodies = " ".join(f"{n.subject} {n.body}" for n in db.session.scalars(sa.select(Notification)))
    assert REQUIREMENT not in bodies and "Sentinel answer text" not in bodies


# -- pages -----------------------------------------------------------------------------------


def test_a_supervisor_plans_through_the_form_and_bad_input_is_kept(client, auth, world):
    auth.login(world.supervisor)
    url = f"/agency/organisations/{world.organisation.id}/inspections/new"
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Risk score" in text and "Assigned Inspector" in text
    bad = client.post_form(
        url,
        {
            "kind": "planned",
            "legal_ground": "Plan item 9",
            "planned_start": "31.02.2027",
            "planned_end": "",
            "inspectors": [str(world.inspector.id)],
        },
    )
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Plan item 9" in body and "Enter the planned end date" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0
    start = (inspections.today() + timedelta(days=2)).isoformat()
    end = (inspections.today() + timedelta(days=9)).isoformat()
    made = client.post_form(
        url,
        {
            "kind": "unplanned",
            "legal_ground": "Signals in the press",
            "planned_start": start,
            "planned_end": end,
            "inspectors": [str(world.inspector.id), str(world.bystander.id)],
        },
    )
    assert made.status_code == 302
    inspection = db.session.scalars(sa.select(Inspection)).one()
    assert made.headers["Location"] == f"/agency/inspections/{inspection.id}"
    assert inspection.kind is InspectionKind.UNPLANNED
    assert {u.id for u in fresh(inspection).inspectors} == {world.inspector.id, world.bystander.id}
    assert inspection.risk_score is not None


def test_the_inspection_page_flow_and_stale_forms(client, auth, world):
    inspection = plan(world)
    auth.login(world.inspector)
    base = f"/agency/inspections/{inspection.id}"
    assert (
        client.post_form(base + "/start", {"lock_version": inspection.lock_version}).status_code
        == 302
    )
    stale = client.post_form(
        base + "/record", {"lock_version": inspection.lock_version, "findings": "Typed text"}
    )
    assert stale.status_code == 409
    assert "Typed text" in stale.get_data(as_text=True)
    inspection = fresh(inspection)
    saved = client.post_form(
        base + "/record",
        {"lock_version": inspection.lock_version, "findings": FINDINGS, "notes": "Call back"},
    )
    assert saved.status_code == 302
    refused = client.post_form(base + "/violations", {"article_code": "", "description": "x"})
    assert refused.status_code == 422
    assert "Choose the article of law" in refused.get_data(as_text=True)
    assert (
        client.post_form(
            base + "/violations", {"article_code": "art_30", "description": "Unregistered"}
        ).status_code
        == 302
    )
    due = (inspections.today() + timedelta(days=7)).isoformat()
    late = client.post_form(base + "/orders", {"requirement": REQUIREMENT, "due_on": "2001-01-01"})
    assert late.status_code == 422 and REQUIREMENT in late.get_data(as_text=True)
    assert (
        client.post_form(base + "/orders", {"requirement": REQUIREMENT, "due_on": due}).status_code
        == 302
    )
    page = client.get(base).get_data(as_text=True)
    assert FINDINGS in page and REQUIREMENT in page and "Order 1" in page
    opened = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ActivityEntry)
        .where(
            ActivityEntry.action == "inspection.opened",
            ActivityEntry.object_id == str(inspection.id),
        )
    )
    assert opened >= 1


def test_the_holder_sees_its_orders_answers_with_a_document_and_never_the_findings(
    client, auth, world
):
    inspection = under_way(world)
    inspections.save_record(
        inspection, world.inspector, inspection.lock_version, FINDINGS, "Notes!"
    )
    inspections.record_violation(
        fresh(inspection), world.inspector, "art_30", "Secret violation text"
    )
    db.session.commit()
    order = order_of(world, fresh(inspection), days=3)
    auth.login(world.holder)
    listing = client.get(f"/organisation/{world.organisation.id}/inspections").get_data(
        as_text=True
    )
    assert inspection.reference in listing and "Order 1" in listing
    holder_page = client.get(f"/organisation/{world.organisation.id}/inspections/{inspection.id}")
    order_page = client.get(f"/organisation/{world.organisation.id}/orders/{order.id}")
    for response in (holder_page, order_page):
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert FINDINGS not in text and "Notes!" not in text and "Secret violation text" not in text
    assert REQUIREMENT in order_page.get_data(as_text=True)

    empty = client.post_form(
        f"/organisation/{world.organisation.id}/orders/{order.id}/answer",
        {"lock_version": order.lock_version, "text": ""},
    )
    assert empty.status_code == 422 and "Write your answer" in empty.get_data(as_text=True)
    wrong = client.post_form(
        f"/organisation/{world.organisation.id}/orders/{order.id}/answer",
        {
            "lock_version": order.lock_version,
            "text": "Kept text",
            "files": (io.BytesIO(b"not a pdf"), "evil.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    assert "Kept text" in wrong.get_data(as_text=True)
    answered = client.post_form(
        f"/organisation/{world.organisation.id}/orders/{order.id}/answer",
        {
            "lock_version": order.lock_version,
            "text": "Access list attached",
            "files": (io.BytesIO(PDF), "access-list.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answered.status_code == 302
    document = db.session.scalars(
        sa.select(Document).where(Document.order_answer_id.is_not(None))
    ).one()
    own = client.get(
        f"/organisation/{world.organisation.id}/orders/{order.id}/documents/{document.id}"
    )
    assert own.status_code == 200 and own.get_data() == PDF
    # The answer's document is not one of the organisation's own documents.
    assert "access-list.pdf" not in client.get(
        f"/organisation/{world.organisation.id}/documents"
    ).get_data(as_text=True)

    auth.login(world.other_holder)
    assert client.get(f"/organisation/{world.organisation.id}/orders/{order.id}").status_code == 404
    assert (
        client.get(f"/organisation/{world.other_organisation.id}/orders/{order.id}").status_code
        == 404
    )
    assert "Order 1" not in client.get(
        f"/organisation/{world.other_organisation.id}/inspections"
    ).get_data(as_text=True)

    auth.login(world.inspector)
    staff_copy = client.get(
        f"/agency/inspections/{inspection.id}/orders/{order.id}/documents/{document.id}"
    )
    assert staff_copy.status_code == 200 and staff_copy.get_data() == PDF


def test_the_list_and_the_plan_run_a_fixed_number_of_queries(client, auth, world, query_counter):
    auth.login(world.supervisor)

    def count(url: str) -> int:
        with query_counter() as statements:
            response = client.get(url)
            assert response.status_code == 200
        return len(statements)

    plan(world)
    few_list, few_plan = count("/agency/inspections"), count("/agency/inspections/plan")
    for _ in range(4):
        other = MembershipFactory().organisation
        RegisterEntryFactory(organisation=other)
        db.session.commit()
        inspection = inspections.plan_inspection(
            other,
            InspectionDetails(
                kind=InspectionKind.PLANNED,
                legal_ground="Plan",
                planned_start=inspections.today(),
                planned_end=inspections.today(),
                inspector_ids=[world.inspector.id, world.bystander.id],
            ),
            world.supervisor,
            None,
        )
        inspections.start(inspection, world.supervisor, inspection.lock_version)
        inspections.issue_order(inspection, world.supervisor, "Do it", inspections.today(), None)
        _entry(f"Extra {uuid.uuid4().hex[:6]}")
        db.session.commit()
    listing = client.get("/agency/inspections").get_data(as_text=True)
    assert listing.count("data-inspection=") == 5
    assert count("/agency/inspections") == few_list
    assert count("/agency/inspections/plan") == few_plan
    overdue_only = client.get("/agency/inspections?overdue_orders=y").get_data(as_text=True)
    assert overdue_only.count("data-inspection=") == 0


def test_the_organisation_page_lists_inspections_and_offers_planning_to_supervisors(
    client, auth, world
):
    inspection = plan(world)
    auth.login(world.supervisor)
    page = client.get(f"/agency/organisations/{world.organisation.id}").get_data(as_text=True)
    assert inspection.reference in page
    assert f"/agency/organisations/{world.organisation.id}/inspections/new" in page
    details = page[page.index('<dl class="summary-list">') :]
    assert "<h2" not in details[: details.index("</dl>")]  # the sections follow the details
    auth.login(world.inspector)
    page = client.get(f"/agency/organisations/{world.organisation.id}").get_data(as_text=True)
    assert inspection.reference in page
    assert "/inspections/new" not in page


def test_the_fast_plan_agrees_with_scoring_every_holder_in_one_query(world):
    """Holders with and without history, in every combination of the entry's terms, over
    several pages and with filters: the plan equals the reference ranking."""
    import random

    rng = random.Random(7)
    bounds = [None, 0, 1_000, 10_000, 100_000, 1_000_000]
    entries = []
    for number in range(130):
        entry = _entry(
            f"Holder {rng.choice('ABC')}{number:03d}",
            special_categories=rng.random() < 0.3,
            cross_border=rng.random() < 0.3,
            max_subjects=rng.choice(bounds),
            region_code=rng.choice(["KG-GB", "KG-C"]),
        )
        entries.append(entry)
    for entry in rng.sample(entries, 25):
        BreachReportFactory(organisation=org_of(entry))
    for entry in rng.sample(entries, 10):
        db.session.add(
            Inspection(
                id=uuid.uuid4(),
                reference=f"I-AGR-{entry.registration_number[-4:]}",
                organisation_id=entry.organisation_id,
                kind=InspectionKind.PLANNED,
                status=rng.choice([InspectionStatus.CLOSED, InspectionStatus.IN_PROGRESS]),
                legal_ground="Plan",
                planned_start=date(2024, 1, 1),
                planned_end=date(2024, 1, 5),
                closed_at=utcnow() - timedelta(days=rng.randint(10, 1500)),
            )
        )
    db.session.commit()
    now = utcnow()
    for filters in (
        inspection_plan.PlanFilters(),
        inspection_plan.PlanFilters(include_open=True),
        inspection_plan.PlanFilters(region="KG-C"),
    ):
        for page in (1, 2, 3):
            fast = inspection_plan.plan(filters, page, now=now)
            reference = inspection_plan.ranking_in_one_query(
                filters, inspection_plan.triage.PAGE_SIZE, (fast.page - 1) * 50, now=now
            )  # a page past the last shows the last
            assert [row.entry.id for row in fast.rows] == [row[0] for row in reference], (
                filters,
                page,
            )
            assert [row.risk.score for row in fast.rows] == [row.score for row in reference]
