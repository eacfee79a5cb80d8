"""Demo inspections, made through the real services, in every state, with orders due, overdue
and settled.

- The medical centre: a planned inspection next month (planned).
- The telecom operator: an unplanned inspection under way, with an order due in five days and
  an answer the inspector returned (in progress).
- The bank: the inspection its late breach report led to; report written; one order accepted, one
  answered and waiting for the inspector, one overdue (report).
- The school: last year's planned inspection, closed, its orders accepted or withdrawn.

Past dates are made by moving the dates of records the services created (the services refuse a
start or a due date in the past, as they should for people). Idempotent: an organisation that
has an inspection is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from register.database import utcnow
from register.demo_declarations import BANK, CLINIC, SCHOOL, TELECOM
from register.extensions import db
from register.models import (
    BreachReport,
    BreachStatus,
    Inspection,
    InspectionKind,
    InspectionOrder,
    Organisation,
    User,
)
from register.services import breaches, inspections
from register.services.accounts import find_by_email
from register.services.organisations import find_by_tin


def _staff(email: str) -> User:
    user = find_by_email(email)
    if user is None:  # demo.seed creates the staff first
        raise RuntimeError(f"demo staff account {email} is missing")
    return user


def _inspected(organisation: Organisation) -> bool:
    return (
        db.session.scalar(
            sa.select(Inspection.id).where(Inspection.organisation_id == organisation.id).limit(1)
        )
        is not None
    )


def _plan(
    organisation: Organisation,
    supervisor: User,
    inspector: User,
    kind: InspectionKind,
    ground: str,
    start: date,
    end: date,
    **trigger: Any,
) -> Inspection:
    today = inspections.today()
    inspection = inspections.plan_inspection(
        organisation,
        inspections.InspectionDetails(
            kind=kind,
            legal_ground=ground,
            planned_start=max(start, today),
            planned_end=max(end, today),
            inspector_ids=[inspector.id],
            **trigger,
        ),
        supervisor,
        None,
    )
    inspection.planned_start, inspection.planned_end = start, end
    db.session.flush()
    return inspection


def _order(
    inspection: Inspection, inspector: User, text: str, due_on: date, violation: Any = None
) -> InspectionOrder:
    order = inspections.issue_order(
        inspection,
        inspector,
        text,
        max(due_on, inspections.today()),
        violation.id if violation is not None else None,
    )
    order.due_on = due_on  # a date in the past: time has passed in the demo
    if due_on < inspections.today():  # issued a month before it was due
        order.issued_at = utcnow() - timedelta(days=(inspections.today() - due_on).days + 30)
    db.session.flush()
    return order


def _answer(order: InspectionOrder, holder: User, text: str) -> None:
    inspections.answer_order(order, holder, order.lock_version, text, [])


def seed_inspections(holder: User | None) -> list[str]:
    """Inspections in every state, with orders due, overdue and settled."""
    if holder is None:
        return []
    supervisor = _staff("supervisor@demo.example")
    inspector = _staff("inspector@demo.example")
    today = inspections.today()
    lines = [
        "Demo inspections (sign in as the inspector or the supervisor; the clerk answers orders):"
    ]

    clinic = find_by_tin(CLINIC)
    if clinic is not None:
        if not _inspected(clinic):
            _plan(
                clinic,
                supervisor,
                inspector,
                InspectionKind.PLANNED,
                "Plan of inspections for the year, item 12 (health data of over 10,000 patients)",
                today + timedelta(days=30),
                today + timedelta(days=40),
            )
        lines.append(f"  {clinic.short_name}: planned for next month")

    telecom = find_by_tin(TELECOM)
    if telecom is not None:
        if not _inspected(telecom):
            inspection = _plan(
                telecom,
                supervisor,
                inspector,
                InspectionKind.UNPLANNED,
                "Reports in the press of subscriber data offered for sale",
                today - timedelta(days=10),
                today + timedelta(days=10),
            )
            inspections.start(inspection, inspector, inspection.lock_version)
            inspection.started_on = today - timedelta(days=10)
            violation = inspections.record_violation(
                inspection,
                inspector,
                "art_30",
                "The billing archive (2.1 million subscribers) is not declared in the register.",
            )
            _order(
                inspection,
                inspector,
                "Declare the billing archive in an amendment to the registration.",
                today + timedelta(days=5),
                violation,
            )
            returned = _order(
                inspection,
                inspector,
                "Name the staff with access to the subscriber database and why each needs it.",
                today + timedelta(days=12),
            )
            _answer(returned, holder, "All of the customer service department.")
            inspections.return_answer(
                returned,
                inspector,
                returned.lock_version,
                "Name the people and the reason for each; a department is not an answer.",
            )
        lines.append(f"  {telecom.short_name}: in progress; one order due in 5 days, one returned")

    bank = find_by_tin(BANK)
    if bank is not None:
        if not _inspected(bank):
            # The bank's late breach report: assessed, and an inspection requested.
            report = db.session.scalar(
                sa.select(BreachReport)
                .where(BreachReport.organisation_id == bank.id)
                .order_by(BreachReport.filed_at.desc())
                .limit(1)
            )
            trigger: dict[str, Any] = {}
            if report is not None and report.status is BreachStatus.RECEIVED:
                breaches.start_assessment(report, inspector, report.lock_version)
                breaches.decide(
                    report,
                    supervisor,
                    "request_inspection",
                    "A laptop with unencrypted customer data, reported late: the security "
                    "measures need checking on site.",
                    report.lock_version,
                )
            if report is not None and report.status is BreachStatus.INSPECTION_REQUESTED:
                trigger = {"breach_report_id": report.id}
            inspection = _plan(
                bank,
                supervisor,
                inspector,
                InspectionKind.BREACH if trigger else InspectionKind.UNPLANNED,
                "The breach report on a stolen laptop; the agency's decision to inspect",
                today - timedelta(days=60),
                today - timedelta(days=45),
                **trigger,
            )
            inspections.start(inspection, inspector, inspection.lock_version)
            inspection.started_on = today - timedelta(days=60)
            violation = inspections.record_violation(
                inspection,
                inspector,
                "other",
                "Customer data were kept unencrypted on staff laptops, although the declaration "
                "lists full-disk encryption among the security measures.",
            )
            accepted = _order(
                inspection,
                inspector,
                "Encrypt the disks of every laptop that holds customer data.",
                today - timedelta(days=30),
                violation,
            )
            _answer(
                accepted,
                holder,
                "All 34 laptops are encrypted; the IT department's act is attached.",
            )
            inspections.accept_answer(accepted, inspector, accepted.lock_version)
            answered = _order(
                inspection,
                inspector,
                "Send the agency the procedure for taking devices out of the office.",
                today - timedelta(days=2),
            )
            _answer(answered, holder, "The procedure approved by the board is attached.")
            _order(
                inspection,
                inspector,
                "Tell the customers whose data were on the stolen laptop, in writing.",
                today - timedelta(days=10),
            )
            inspections.write_report(
                inspection,
                inspector,
                inspection.lock_version,
                "Customer data were copied to laptops without encryption, contrary to the "
                "declared security measures; see the violations and orders.",
            )
            inspection.report_on = today - timedelta(days=40)
        lines.append(f"  {bank.short_name}: report written; orders accepted, answered and overdue")

    school = find_by_tin(SCHOOL)
    if school is not None:
        if not _inspected(school):
            inspection = _plan(
                school,
                supervisor,
                inspector,
                InspectionKind.PLANNED,
                "Plan of inspections for last year, item 3 (data of minors)",
                today - timedelta(days=300),
                today - timedelta(days=290),
            )
            inspections.start(inspection, inspector, inspection.lock_version)
            inspection.started_on = today - timedelta(days=300)
            done = _order(
                inspection,
                inspector,
                "Lock the cabinet holding pupils' medical cards.",
                today - timedelta(days=270),
            )
            _answer(done, holder, "A lock was fitted; the key is with the nurse.")
            inspections.accept_answer(done, inspector, done.lock_version)
            mistaken = _order(
                inspection, inspector, "Appoint a responsible person.", today - timedelta(days=270)
            )
            inspections.withdraw_order(
                mistaken, inspector, mistaken.lock_version, "The school had already appointed one."
            )
            inspections.write_report(
                inspection, inspector, inspection.lock_version, "Minor shortcomings, put right."
            )
            inspections.close(inspection, inspector, inspection.lock_version)
            inspection.report_on = today - timedelta(days=285)
            inspection.closed_at = utcnow() - timedelta(days=260)
        lines.append(f"  {school.short_name}: closed last year, its orders settled")
    db.session.flush()
    return lines
