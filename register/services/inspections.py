"""Inspections: planned by a supervisor, carried out by the inspectors assigned, closed when every
order is settled; orders answered by the holder and settled by the agency.

    planned ──start──> in_progress ──report (findings)──> report ──close──> closed
                                                          (refused while an order is unsettled)

    order: open ──answer──> answered ──accept──> accepted
                 ^               └──return (grounds)──> returned ──answer──> answered
           withdraw (grounds), until accepted ──> withdrawn

Every move is a conditional UPDATE on the record's status and `lock_version`
(`triage.conditional_update`): of two staff acting at once exactly one wins and the other is
told who acted. Illegal moves are refused with a message. Findings, notes, violations' text,
orders' requirements, answers and grounds are encrypted. Each move is written to the activity
log; the holder's users are told of the inspection, of orders and of decisions on their
answers; the inspectors of the inspection are told of answers. Notifications never carry the
confidential text itself. Services flush; the request commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from register.database import utcnow
from register.extensions import db
from register.i18n import agency_timezone
from register.models import (
    AWAITING_HOLDER_STATUSES,
    SETTLED_ORDER_STATUSES,
    AnswerDecision,
    BreachReport,
    BreachStatus,
    Complaint,
    ComplaintStatus,
    Document,
    DocumentKind,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    InspectionViolation,
    OrderAnswer,
    OrderStatus,
    Organisation,
    Role,
    User,
    inspection_inspectors,
)
from register.services import activity, documents, reference, tokens, triage
from register.services.members import members_of
from register.services.notifications import local_link, notify
from register.services.triage import StaleRecord, TriageError

OBJECT_TYPE = "inspection"
ORDER_OBJECT_TYPE = "inspection_order"
LAW_ARTICLE = "law_article"
MAX_FILES = 5
TEXT_LIMIT = 20_000

KIND_LABELS: dict[InspectionKind, Any] = {
    InspectionKind.PLANNED: _l("Planned"),
    InspectionKind.UNPLANNED: _l("Unplanned"),
    InspectionKind.COMPLAINT: _l("Triggered by a complaint"),
    InspectionKind.BREACH: _l("Triggered by a breach report"),
}
STATUS_LABELS: dict[InspectionStatus, Any] = {
    InspectionStatus.PLANNED: _l("Planned"),
    InspectionStatus.IN_PROGRESS: _l("In progress"),
    InspectionStatus.REPORT: _l("Report written"),
    InspectionStatus.CLOSED: _l("Closed"),
}
ORDER_STATUS_LABELS: dict[OrderStatus, Any] = {
    OrderStatus.OPEN: _l("Awaiting the holder's answer"),
    OrderStatus.ANSWERED: _l("Answered: awaiting the inspector"),
    OrderStatus.RETURNED: _l("Answer returned: awaiting a new answer"),
    OrderStatus.ACCEPTED: _l("Accepted"),
    OrderStatus.WITHDRAWN: _l("Withdrawn"),
}


class InspectionError(TriageError):
    """The move is not allowed, or the input is wrong; `field` names the input concerned."""


class StaleInspection(StaleRecord, InspectionError):
    """The inspection or the order changed since its page was read."""


def today() -> date:
    """Today in the agency's time zone."""
    return utcnow().astimezone(agency_timezone()).date()


# -- who may do what -----------------------------------------------------------------------


def is_supervisor(user: User) -> bool:
    """Supervisors plan inspections and may act on any of them."""
    return bool(user.is_authenticated) and user.role is Role.SUPERVISOR


def assigned_ids(inspection: Inspection) -> set[uuid.UUID]:
    """The ids of the inspectors assigned to the inspection."""
    if "inspectors" not in sa.inspect(inspection).unloaded:
        return {user.id for user in inspection.inspectors}
    return set(
        db.session.scalars(
            sa.select(inspection_inspectors.c.user_id).where(
                inspection_inspectors.c.inspection_id == inspection.id
            )
        )
    )


def inspectors_of(inspection: Inspection) -> list[User]:
    """The inspectors assigned (loaded with the inspection, or read now)."""
    if "inspectors" not in sa.inspect(inspection).unloaded:
        return list(inspection.inspectors)
    return list(
        db.session.scalars(
            sa.select(User)
            .join(inspection_inspectors, inspection_inspectors.c.user_id == User.id)
            .where(inspection_inspectors.c.inspection_id == inspection.id)
        )
    )


def organisation_of(inspection: Inspection) -> Organisation:
    """The inspected organisation (from the identity map when it is loaded)."""
    found = db.session.get(Organisation, inspection.organisation_id)
    if found is None:  # a foreign key: it exists
        raise InspectionError(_l("The organisation no longer exists."))
    return found


def may_act(user: User, inspection: Inspection) -> bool:
    """An inspector assigned to the inspection, or any supervisor."""
    return triage.is_reviewer(user) and (
        user.role is Role.SUPERVISOR or user.id in assigned_ids(inspection)
    )


def assignable_staff() -> list[User]:
    """Active inspectors and supervisors, by name."""
    staff = db.session.scalars(
        sa.select(User).where(
            User.role.in_(list(triage.REVIEWER_ROLES)), User.is_active_account.is_(True)
        )
    ).all()
    return sorted(staff, key=lambda user: ((user.full_name or "").casefold(), str(user.id)))


# -- planning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionDetails:
    """What a supervisor plans (already parsed by the form)."""

    kind: InspectionKind
    legal_ground: str
    planned_start: date | None
    planned_end: date | None
    inspector_ids: list[uuid.UUID] = field(default_factory=list)
    breach_report_id: uuid.UUID | None = None
    complaint_id: uuid.UUID | None = None


def trigger_problems(
    organisation: Organisation, details: InspectionDetails
) -> list[tuple[str, str]]:
    """What is wrong with the breach report or complaint the inspection follows."""
    found: list[tuple[str, str]] = []
    if details.kind is InspectionKind.BREACH:
        report = (
            db.session.get(BreachReport, details.breach_report_id)
            if details.breach_report_id
            else None
        )
        if report is None or report.organisation_id != organisation.id:
            found.append(
                ("kind", str(_l("Start a breach-triggered inspection from the breach report.")))
            )
        elif report.status is not BreachStatus.INSPECTION_REQUESTED:
            found.append(("kind", str(_l("The breach report has not requested an inspection."))))
        elif _already_follows(Inspection.breach_report_id == report.id):
            found.append(("kind", str(_l("An inspection already follows this breach report."))))
    if details.kind is InspectionKind.COMPLAINT:
        complaint = (
            db.session.get(Complaint, details.complaint_id) if details.complaint_id else None
        )
        if complaint is None or complaint.organisation_id != organisation.id:
            found.append(
                ("kind", str(_l("Start a complaint-triggered inspection from the complaint.")))
            )
        elif complaint.status is not ComplaintStatus.INSPECTION_REQUESTED:
            found.append(("kind", str(_l("The complaint has not requested an inspection."))))
        elif _already_follows(Inspection.complaint_id == complaint.id):
            found.append(("kind", str(_l("An inspection already follows this complaint."))))
    return found


def _already_follows(condition: Any) -> bool:
    return db.session.scalar(sa.select(Inspection.id).where(condition).limit(1)) is not None


def problems(organisation: Organisation, details: InspectionDetails) -> list[tuple[str, str]]:
    """(field, message) for each answer that cannot be accepted."""
    found: list[tuple[str, str]] = []
    if not details.legal_ground.strip():
        found.append(("legal_ground", str(_l("Enter the legal ground for the inspection"))))
    if details.planned_start is None:
        found.append(("planned_start", str(_l("Enter the planned start date"))))
    elif details.planned_start < today():
        found.append(("planned_start", str(_l("The planned start cannot be in the past"))))
    if details.planned_end is None:
        found.append(("planned_end", str(_l("Enter the planned end date"))))
    elif details.planned_start is not None and details.planned_end < details.planned_start:
        found.append(("planned_end", str(_l("The planned end must be on or after the start"))))
    staff = {user.id for user in assignable_staff()}
    if not details.inspector_ids:
        found.append(("inspector_ids", str(_l("Assign at least one inspector"))))
    elif not set(details.inspector_ids) <= staff:
        found.append(("inspector_ids", str(_l("Choose inspectors from the list"))))
    return found + trigger_problems(organisation, details)


def plan_inspection(
    organisation: Organisation, details: InspectionDetails, user: User, risk_score: int | None
) -> Inspection:
    """Create the inspection (supervisors only) and tell the holder and the inspectors."""
    if not is_supervisor(user):
        raise InspectionError(_l("Only supervisors plan inspections."))
    found = problems(organisation, details)
    if found:
        field_name, message = found[0]
        raise InspectionError(message, field=field_name)
    if details.planned_start is None or details.planned_end is None:  # problems() said so
        raise InspectionError(_l("Enter the planned dates"), field="planned_start")
    inspectors = list(db.session.scalars(sa.select(User).where(User.id.in_(details.inspector_ids))))
    reference = tokens.readable_reference("I")
    while db.session.scalar(sa.select(Inspection.id).where(Inspection.reference == reference)):
        reference = tokens.readable_reference("I")  # taken (1 in 30^8 per inspection): again
    inspection = Inspection(
        id=uuid.uuid4(),
        reference=reference,
        organisation_id=organisation.id,
        kind=details.kind,
        legal_ground=details.legal_ground.strip()[:500],
        planned_start=details.planned_start,
        planned_end=details.planned_end,
        breach_report_id=details.breach_report_id
        if details.kind is InspectionKind.BREACH
        else None,
        complaint_id=details.complaint_id if details.kind is InspectionKind.COMPLAINT else None,
        created_by_id=user.id,
        risk_score=risk_score,
    )
    db.session.add(inspection)
    db.session.flush()
    db.session.execute(
        sa.insert(inspection_inspectors),
        [{"inspection_id": inspection.id, "user_id": staff.id} for staff in inspectors],
    )
    db.session.flush()
    _record(inspection, "inspection.planned", user, kind=details.kind.value)
    subject = _l("Inspection %(reference)s planned", reference=inspection.reference)
    _tell_members(
        inspection,
        "inspection.planned",
        subject,
        _l(
            "The agency has planned an inspection (%(kind)s) of %(organisation)s from %(start)s "
            "to %(end)s. Legal ground: %(ground)s. The inspectors will contact you.",
            kind=KIND_LABELS[inspection.kind],
            organisation=organisation.legal_name,
            start=format_date(inspection.planned_start, "medium"),
            end=format_date(inspection.planned_end, "medium"),
            ground=inspection.legal_ground,
        ),
    )
    for staff in inspectors:
        if staff.id != user.id and staff.is_active:
            notify(
                staff,
                "inspection.assigned",
                _l("You are assigned to inspection %(reference)s", reference=inspection.reference),
                _l(
                    "You are assigned to the inspection of %(organisation)s, planned from "
                    "%(start)s.",
                    organisation=organisation.legal_name,
                    start=format_date(inspection.planned_start, "medium"),
                ),
                link=local_link("agency.inspection", inspection_id=str(inspection.id)),
            )
    return inspection


# -- the inspection's moves ----------------------------------------------------------------


def _guard(user: User, inspection: Inspection) -> None:
    if not may_act(user, inspection):
        raise InspectionError(
            _l("Only the inspectors assigned to this inspection, or a supervisor, can do that.")
        )


def _update(
    record: Inspection | InspectionOrder,
    expected_lock_version: int,
    allowed_from: Iterable[Any],
    values: dict[str, Any],
) -> None:
    """The guarded move of an inspection or an order (`triage.conditional_update`)."""
    order = isinstance(record, InspectionOrder)
    try:
        triage.conditional_update(
            record,
            expected_lock_version,
            allowed_from,
            values,
            object_type=ORDER_OBJECT_TYPE if order else OBJECT_TYPE,
            status_labels=ORDER_STATUS_LABELS if order else STATUS_LABELS,
        )
    except StaleRecord as error:
        raise StaleInspection(str(error)) from error


def _not_now(record: Inspection | InspectionOrder) -> InspectionError:
    """The move does not start from the record's status."""
    if isinstance(record, InspectionOrder):
        return InspectionError(
            _l(
                "That cannot be done now: the order is %(status)s.",
                status=str(ORDER_STATUS_LABELS[record.status]).lower(),
            )
        )
    return InspectionError(
        _l(
            "That cannot be done now: the inspection is %(status)s.",
            status=str(STATUS_LABELS[record.status]).lower(),
        )
    )


def _refuse_unless(
    record: Inspection | InspectionOrder, expected_lock_version: int, allowed: Iterable[Any]
) -> None:
    """Refuse a move that does not start from the status the page showed. (When the page was
    older than the record, the guarded update says who changed it instead.)"""
    if record.status not in set(allowed) and record.lock_version == expected_lock_version:
        raise _not_now(record)


def start(inspection: Inspection, user: User, expected_lock_version: int) -> None:
    """planned → in progress (today)."""
    _guard(user, inspection)
    _refuse_unless(inspection, expected_lock_version, [InspectionStatus.PLANNED])
    _update(
        inspection,
        expected_lock_version,
        [InspectionStatus.PLANNED],
        {"status": InspectionStatus.IN_PROGRESS, "started_on": today()},
    )
    _record(inspection, "inspection.started", user)
    _tell_members(
        inspection,
        "inspection.started",
        _l("Inspection %(reference)s has started", reference=inspection.reference),
        _l(
            "The agency's inspection of %(organisation)s has started.",
            organisation=organisation_of(inspection).legal_name,
        ),
    )


def save_record(
    inspection: Inspection, user: User, expected_lock_version: int, findings: str, notes: str
) -> None:
    """Keep the findings and notes (before the inspection is closed)."""
    _guard(user, inspection)
    allowed = [InspectionStatus.IN_PROGRESS, InspectionStatus.REPORT]
    if inspection.status not in allowed and inspection.lock_version == expected_lock_version:
        raise InspectionError(
            _l("Findings are kept from the start of the inspection until it is closed.")
        )
    _check_length(findings, "findings")
    _check_length(notes, "notes")
    _update(inspection, expected_lock_version, allowed, {})
    inspection.findings = findings.strip() or None
    inspection.notes = notes.strip() or None
    db.session.flush()
    _record(inspection, "inspection.record_saved", user)


def write_report(
    inspection: Inspection, user: User, expected_lock_version: int, findings: str
) -> None:
    """in progress → report: the findings are required."""
    _guard(user, inspection)
    _refuse_unless(inspection, expected_lock_version, [InspectionStatus.IN_PROGRESS])
    if not findings.strip():
        raise InspectionError(_l("Write the findings before the report"), field="findings")
    _check_length(findings, "findings")
    _update(
        inspection,
        expected_lock_version,
        [InspectionStatus.IN_PROGRESS],
        {"status": InspectionStatus.REPORT, "report_on": today()},
    )
    inspection.findings = findings.strip()
    db.session.flush()
    _record(inspection, "inspection.reported", user)
    _tell_members(
        inspection,
        "inspection.reported",
        _l("Inspection %(reference)s: report written", reference=inspection.reference),
        _l(
            "The inspectors have written their report on %(organisation)s. Orders addressed to "
            "you, if any, are on the inspection's page.",
            organisation=organisation_of(inspection).legal_name,
        ),
    )


def unsettled_orders(inspection: Inspection) -> list[InspectionOrder]:
    """The inspection's orders that are neither accepted nor withdrawn."""
    return [order for order in inspection.orders if order.status not in SETTLED_ORDER_STATUSES]


def close(inspection: Inspection, user: User, expected_lock_version: int) -> None:
    """report → closed, only when every order is settled."""
    _guard(user, inspection)
    if (
        inspection.status is not InspectionStatus.REPORT
        and inspection.lock_version == expected_lock_version
    ):
        raise (
            _not_now(inspection)
            if inspection.status is InspectionStatus.CLOSED
            else InspectionError(_l("Write the report before closing the inspection."))
        )
    waiting = db.session.scalar(
        sa.select(sa.func.count(InspectionOrder.id)).where(
            InspectionOrder.inspection_id == inspection.id,
            InspectionOrder.status.not_in(list(SETTLED_ORDER_STATUSES)),
        )
    )
    if waiting:
        raise InspectionError(
            _l(
                "The inspection cannot close while orders are unsettled (%(count)s): accept "
                "or withdraw each one first.",
                count=waiting,
            )
        )
    _update(
        inspection,
        expected_lock_version,
        [InspectionStatus.REPORT],
        {"status": InspectionStatus.CLOSED, "closed_at": utcnow()},
    )
    _record(inspection, "inspection.closed", user)
    _tell_members(
        inspection,
        "inspection.closed",
        _l("Inspection %(reference)s closed", reference=inspection.reference),
        _l(
            "The agency has closed its inspection of %(organisation)s.",
            organisation=organisation_of(inspection).legal_name,
        ),
    )


def _check_length(text: str, field_name: str) -> None:
    if len(text or "") > TEXT_LIMIT:
        raise InspectionError(
            _l("Keep this under %(limit)s characters", limit=f"{TEXT_LIMIT:,}".replace(",", " ")),
            field=field_name,
        )


# -- violations and orders -----------------------------------------------------------------

RECORDING_STATUSES = (InspectionStatus.IN_PROGRESS, InspectionStatus.REPORT)


def record_violation(
    inspection: Inspection, user: User, article_code: str, description: str
) -> InspectionViolation:
    """A violation found, with the article of law (from the reference list)."""
    _guard(user, inspection)
    if inspection.status not in RECORDING_STATUSES:
        raise _not_now(inspection)
    if not reference.is_offered(LAW_ARTICLE, article_code or ""):
        raise InspectionError(_l("Choose the article of law from the list"), field="article_code")
    if not (description or "").strip():
        raise InspectionError(_l("Describe the violation"), field="description")
    _check_length(description, "description")
    violation = InspectionViolation(
        id=uuid.uuid4(),
        inspection_id=inspection.id,
        article_code=article_code,
        recorded_by_id=user.id,
    )
    violation.description = description.strip()
    db.session.add(violation)
    db.session.flush()
    _record(inspection, "inspection.violation_recorded", user, article=article_code)
    return violation


def issue_order(
    inspection: Inspection,
    user: User,
    requirement: str,
    due_on: date | None,
    violation_id: uuid.UUID | None,
) -> InspectionOrder:
    """An order to the holder, due on a date (today or later), optionally for a violation."""
    _guard(user, inspection)
    if inspection.status not in RECORDING_STATUSES:
        raise _not_now(inspection)
    if not (requirement or "").strip():
        raise InspectionError(_l("Say what the holder must do"), field="requirement")
    _check_length(requirement, "requirement")
    if due_on is None:
        raise InspectionError(_l("Enter the date the order is due"), field="due_on")
    if due_on < today():
        raise InspectionError(_l("The due date cannot be in the past"), field="due_on")
    if violation_id is not None and not db.session.scalar(
        sa.select(InspectionViolation.id).where(
            InspectionViolation.id == violation_id,
            InspectionViolation.inspection_id == inspection.id,
        )
    ):
        raise InspectionError(_l("Choose a violation of this inspection"), field="violation_id")
    # Numbers are per inspection: the inspection's row is locked first (an UPDATE holds it to the
    # end of the transaction on PostgreSQL; SQLite's writers take turns), so two staff issuing
    # orders at once number them one after the other.
    db.session.execute(
        sa.update(Inspection)
        .where(Inspection.id == inspection.id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    number = 1 + int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(InspectionOrder.number), 0)).where(
                InspectionOrder.inspection_id == inspection.id
            )
        )
        or 0
    )
    order = InspectionOrder(
        id=uuid.uuid4(),
        inspection_id=inspection.id,
        organisation_id=inspection.organisation_id,
        number=number,
        violation_id=violation_id,
        due_on=due_on,
        issued_by_id=user.id,
    )
    order.requirement = requirement.strip()
    db.session.add(order)
    db.session.flush()
    _record_order(order, "inspection_order.issued", user, due_on=due_on.isoformat())
    _tell_members(
        inspection,
        "inspection_order.issued",
        _l(
            "Order %(number)s of inspection %(reference)s",
            number=number,
            reference=inspection.reference,
        ),
        _l(
            "The agency has issued an order to %(organisation)s, due on %(due)s. Read it and "
            "answer it on its page.",
            organisation=organisation_of(inspection).legal_name,
            due=format_date(due_on, "long"),
        ),
        link=_holder_order_link(order),
    )
    return order


def answer_order(
    order: InspectionOrder,
    user: User,
    expected_lock_version: int,
    text: str,
    files: list[tuple[str, bytes]],
) -> OrderAnswer:
    """The holder's answer (text and up to MAX_FILES documents): open or returned → answered."""
    _refuse_unless(order, expected_lock_version, AWAITING_HOLDER_STATUSES)
    if not (text or "").strip():
        raise InspectionError(_l("Write your answer"), field="text")
    _check_length(text, "text")
    if len(files) > MAX_FILES:
        raise InspectionError(_l("Attach at most %(count)s files", count=MAX_FILES), field="files")
    for _name, content in files:
        try:
            documents.check_content(content)
        except documents.DocumentError as error:
            raise InspectionError(str(error), field="files") from error
    now = utcnow()
    _update(
        order,
        expected_lock_version,
        list(AWAITING_HOLDER_STATUSES),
        {"status": OrderStatus.ANSWERED, "last_answered_at": now},
    )
    answer = OrderAnswer(
        id=uuid.uuid4(), order_id=order.id, answered_at=now, answered_by_id=user.id
    )
    answer.text = text.strip()
    db.session.add(answer)
    db.session.flush()
    organisation = db.session.get(Organisation, order.organisation_id)
    if organisation is None:  # the order's organisation is a foreign key: it exists
        raise InspectionError(_l("The organisation no longer exists."))
    for name, content in files:
        document = documents.add_document(
            organisation, user, name, content, kind=DocumentKind.ORDER_ANSWER
        )
        document.order_answer_id = answer.id
    db.session.flush()
    _record_order(order, "inspection_order.answered", user, files=len(files))
    inspection = order.inspection
    for staff in inspectors_of(inspection):
        if staff.is_active:
            notify(
                staff,
                "inspection_order.answered",
                _l(
                    "Order %(number)s of %(reference)s answered",
                    number=order.number,
                    reference=inspection.reference,
                ),
                _l(
                    "%(organisation)s has answered order %(number)s. Accept the answer or return "
                    "it with grounds.",
                    organisation=organisation.legal_name,
                    number=order.number,
                ),
                link=local_link("agency.inspection", inspection_id=str(inspection.id)),
            )
    return answer


def _latest_answer(order: InspectionOrder) -> OrderAnswer | None:
    return db.session.scalar(
        sa.select(OrderAnswer)
        .where(OrderAnswer.order_id == order.id)
        .order_by(OrderAnswer.answered_at.desc(), OrderAnswer.id)
        .limit(1)
    )


def accept_answer(order: InspectionOrder, user: User, expected_lock_version: int) -> None:
    """answered → accepted: the order is settled."""
    inspection = order.inspection
    _guard(user, inspection)
    _refuse_unless(order, expected_lock_version, [OrderStatus.ANSWERED])
    now = utcnow()
    _update(
        order,
        expected_lock_version,
        [OrderStatus.ANSWERED],
        {"status": OrderStatus.ACCEPTED, "settled_at": now, "settled_by_id": user.id},
    )
    answer = _latest_answer(order)
    if answer is not None:
        answer.decision = AnswerDecision.ACCEPTED
        answer.decided_at = now
        answer.decided_by_id = user.id
    db.session.flush()
    _record_order(order, "inspection_order.accepted", user)
    _tell_members(
        inspection,
        "inspection_order.accepted",
        _l(
            "Order %(number)s of %(reference)s: answer accepted",
            number=order.number,
            reference=inspection.reference,
        ),
        _l(
            "The agency has accepted your answer to order %(number)s. Nothing more is needed "
            "for it.",
            number=order.number,
        ),
        link=_holder_order_link(order),
    )


def return_answer(
    order: InspectionOrder, user: User, expected_lock_version: int, grounds: str
) -> None:
    """answered → returned, with grounds the holder reads."""
    inspection = order.inspection
    _guard(user, inspection)
    _refuse_unless(order, expected_lock_version, [OrderStatus.ANSWERED])
    if not (grounds or "").strip():
        raise InspectionError(_l("Give the grounds for returning the answer"), field="grounds")
    _check_length(grounds, "grounds")
    _update(order, expected_lock_version, [OrderStatus.ANSWERED], {"status": OrderStatus.RETURNED})
    answer = _latest_answer(order)
    if answer is not None:
        answer.decision = AnswerDecision.RETURNED
        answer.decided_at = utcnow()
        answer.decided_by_id = user.id
        answer.return_grounds = grounds.strip()
    db.session.flush()
    _record_order(order, "inspection_order.returned", user)
    _tell_members(
        inspection,
        "inspection_order.returned",
        _l(
            "Order %(number)s of %(reference)s: answer returned",
            number=order.number,
            reference=inspection.reference,
        ),
        _l(
            "The agency has returned your answer to order %(number)s, due on %(due)s. The "
            "grounds are on the order's page; answer it again there.",
            number=order.number,
            due=format_date(order.due_on, "long"),
        ),
        link=_holder_order_link(order),
    )


def withdraw_order(
    order: InspectionOrder, user: User, expected_lock_version: int, grounds: str
) -> None:
    """An order issued by mistake: withdrawn, with grounds (until it is accepted)."""
    inspection = order.inspection
    _guard(user, inspection)
    allowed = [OrderStatus.OPEN, OrderStatus.ANSWERED, OrderStatus.RETURNED]
    _refuse_unless(order, expected_lock_version, allowed)
    if inspection.status is InspectionStatus.CLOSED:
        raise _not_now(inspection)
    if not (grounds or "").strip():
        raise InspectionError(_l("Give the grounds for withdrawing the order"), field="grounds")
    _check_length(grounds, "grounds")
    _update(
        order,
        expected_lock_version,
        allowed,
        {"status": OrderStatus.WITHDRAWN, "settled_at": utcnow(), "settled_by_id": user.id},
    )
    order.withdrawal_grounds = grounds.strip()
    db.session.flush()
    _record_order(order, "inspection_order.withdrawn", user)
    _tell_members(
        inspection,
        "inspection_order.withdrawn",
        _l(
            "Order %(number)s of %(reference)s withdrawn",
            number=order.number,
            reference=inspection.reference,
        ),
        _l(
            "The agency has withdrawn order %(number)s. The grounds are on the order's page.",
            number=order.number,
        ),
        link=_holder_order_link(order),
    )


# -- telling people ------------------------------------------------------------------------


def _record(inspection: Inspection, action: str, user: User, **details: Any) -> None:
    activity.record(
        action,
        actor=user,
        object_type=OBJECT_TYPE,
        object_id=str(inspection.id),
        details={
            "organisation": str(inspection.organisation_id),
            "reference": inspection.reference,
            **details,
        },
    )


def _record_order(order: InspectionOrder, action: str, user: User, **details: Any) -> None:
    activity.record(
        action,
        actor=user,
        object_type=ORDER_OBJECT_TYPE,
        object_id=str(order.id),
        details={
            "organisation": str(order.organisation_id),
            "inspection": str(order.inspection_id),
            "number": order.number,
            **details,
        },
    )


def _holder_order_link(order: InspectionOrder) -> str:
    return local_link(
        "holder.inspection_order",
        organisation_id=str(order.organisation_id),
        order_id=str(order.id),
    )


def _tell_members(
    inspection: Inspection, kind: str, subject: Any, body: Any, link: str | None = None
) -> None:
    """Every user of the inspected organisation (link: the inspection's page, unless given)."""
    organisation = organisation_of(inspection)
    link = link or local_link(
        "holder.inspection", organisation_id=str(organisation.id), inspection_id=str(inspection.id)
    )
    for membership in members_of(organisation):
        notify(membership.user, kind, subject, body, link=link)


# -- reading -------------------------------------------------------------------------------


def _whole() -> list[Any]:
    return [
        selectinload(Inspection.organisation),
        selectinload(Inspection.inspectors),
        selectinload(Inspection.violations),
        selectinload(Inspection.orders).selectinload(InspectionOrder.answers),
    ]


def find(inspection_id: uuid.UUID) -> Inspection | None:
    """Any inspection, whole (the agency's view)."""
    return db.session.scalar(
        sa.select(Inspection).where(Inspection.id == inspection_id).options(*_whole())
    )


def find_order(inspection: Inspection, order_id: uuid.UUID) -> InspectionOrder | None:
    """One of the inspection's orders."""
    return next((order for order in inspection.orders if order.id == order_id), None)


def find_for_organisation(
    organisation: Organisation, inspection_id: uuid.UUID
) -> Inspection | None:
    """One of the organisation's inspections (another organisation's is None)."""
    return db.session.scalar(
        sa.select(Inspection)
        .where(Inspection.id == inspection_id, Inspection.organisation_id == organisation.id)
        .options(*_whole())
    )


def find_order_for_organisation(
    organisation: Organisation, order_id: uuid.UUID
) -> InspectionOrder | None:
    """One of the orders addressed to the organisation, with its inspection and answers."""
    return db.session.scalar(
        sa.select(InspectionOrder)
        .where(InspectionOrder.id == order_id, InspectionOrder.organisation_id == organisation.id)
        .options(
            selectinload(InspectionOrder.inspection),
            selectinload(InspectionOrder.answers),
            selectinload(InspectionOrder.violation),
        )
    )


def inspections_of(organisation: Organisation) -> list[Inspection]:
    """The organisation's inspections, newest first, with their orders (the holder's list)."""
    return list(
        db.session.scalars(
            sa.select(Inspection)
            .where(Inspection.organisation_id == organisation.id)
            .options(selectinload(Inspection.orders))
            .order_by(Inspection.created_at.desc(), Inspection.id)
        )
    )


def answer_documents(answers: Iterable[OrderAnswer]) -> dict[uuid.UUID, list[Document]]:
    """The documents of each answer (names only; contents are read for a download)."""
    ids = [answer.id for answer in answers]
    found: dict[uuid.UUID, list[Document]] = {answer_id: [] for answer_id in ids}
    if not ids:
        return found
    rows = db.session.scalars(
        sa.select(Document)
        .where(Document.order_answer_id.in_(ids))
        .options(sa.orm.defer(getattr(Document, Document.content.column)))
        .order_by(Document.created_at, Document.id)
    )
    for document in rows:
        if document.order_answer_id is not None:  # always: the query asked for these answers
            found[document.order_answer_id].append(document)
    return found


def find_answer_document(order: InspectionOrder, document_id: uuid.UUID) -> Document | None:
    """A document attached to one of the order's answers."""
    return db.session.scalar(
        sa.select(Document)
        .join(OrderAnswer, OrderAnswer.id == Document.order_answer_id)
        .where(Document.id == document_id, OrderAnswer.order_id == order.id)
    )


# -- the agency's list ---------------------------------------------------------------------


@dataclass(frozen=True)
class InspectionFilters:
    """What the agency's list is narrowed to (already validated)."""

    status: InspectionStatus | None = None
    kind: InspectionKind | None = None
    mine: bool = False
    overdue_orders: bool = False
    region: str | None = None
    sector: str | None = None
    holder: str = ""


@dataclass(frozen=True)
class InspectionRow:
    """One inspection in the agency's list."""

    inspection: Inspection
    orders: int
    unsettled: int
    overdue: int


def agency_list(
    filters: InspectionFilters, user: User, page: int = 1
) -> triage.ListPage[InspectionRow]:
    """Inspections, by planned start (newest first), filtered, in a fixed number of queries."""
    day = today()
    conditions: list[Any] = []
    if filters.status is not None:
        conditions.append(Inspection.status == filters.status)
    if filters.kind is not None:
        conditions.append(Inspection.kind == filters.kind)
    if filters.mine:
        conditions.append(
            Inspection.id.in_(
                sa.select(inspection_inspectors.c.inspection_id).where(
                    inspection_inspectors.c.user_id == user.id
                )
            )
        )
    overdue_condition = sa.and_(
        InspectionOrder.inspection_id == Inspection.id,
        InspectionOrder.status.in_(list(AWAITING_HOLDER_STATUSES)),
        InspectionOrder.due_on < day,
    )
    if filters.overdue_orders:
        conditions.append(sa.exists().where(overdue_condition))
    conditions += triage.organisation_conditions(filters.region, filters.sector, filters.holder)
    base = (
        sa.select(Inspection)
        .join(Organisation, Organisation.id == Inspection.organisation_id)
        .where(*conditions)
    )
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0)
    page, pages = triage.page_bounds(total, page)
    orders = (
        sa.select(sa.func.count(InspectionOrder.id))
        .where(InspectionOrder.inspection_id == Inspection.id)
        .scalar_subquery()
    )
    unsettled = (
        sa.select(sa.func.count(InspectionOrder.id))
        .where(
            InspectionOrder.inspection_id == Inspection.id,
            InspectionOrder.status.not_in(list(SETTLED_ORDER_STATUSES)),
        )
        .scalar_subquery()
    )
    overdue = (
        sa.select(sa.func.count(InspectionOrder.id)).where(overdue_condition).scalar_subquery()
    )
    found = db.session.execute(
        base.add_columns(orders, unsettled, overdue)
        .options(
            sa.orm.contains_eager(Inspection.organisation), selectinload(Inspection.inspectors)
        )
        .order_by(Inspection.planned_start.desc(), Inspection.created_at.desc(), Inspection.id)
        .limit(triage.PAGE_SIZE)
        .offset((page - 1) * triage.PAGE_SIZE)
    ).all()
    rows = [
        InspectionRow(inspection, int(total_orders or 0), int(waiting or 0), int(late or 0))
        for inspection, total_orders, waiting, late in found
    ]
    return triage.ListPage(rows, total, page, pages)


def requested_by(
    breach_report_id: uuid.UUID | None = None, complaint_id: uuid.UUID | None = None
) -> Inspection | None:
    """The inspection that follows a breach report or a complaint, if one was planned."""
    condition = (
        Inspection.breach_report_id == breach_report_id
        if breach_report_id is not None
        else Inspection.complaint_id == complaint_id
    )
    return db.session.scalar(sa.select(Inspection).where(condition).limit(1))
