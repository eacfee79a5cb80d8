"""Reminders of deadlines, sent once each: `flask --app register reminders send`, run daily.

Who is told what:
- holders: an inspection order waiting for them (open, or its answer returned) whose due date
  is within REMINDER_ORDER_DAYS (stage `due_soon`) or has passed (`overdue`), to every active
  user of the organisation;
- staff: a declaration waiting on the agency (its review clock running), a breach report or a
  complaint not triaged yet, whose deadline is within REMINDER_STAFF_WORKING_DAYS working days
  (`due_soon`) or has passed (`overdue`), to the staff member who has it when that person is
  still active, else to every active supervisor (for a high-risk approval waiting for its
  sign-off: every active supervisor but the approver).

Each (kind, object, stage, recipient) goes once: the reminder is claimed by inserting its
`SentReminder` row with ON CONFLICT DO NOTHING, and the notification is written only when the
insert made a row, in the same transaction. A second run finds the rows; a concurrent run
waits on the first one's uncommitted rows and then skips them. Candidates are found by one
query per kind and recipient rule, leaving out what was already sent; the messages carry
references, dates and a link, never the order's requirement, a breach's description or a
complainant's name.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import format_date as babel_format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from register.database import utcnow
from register.extensions import db
from register.i18n import agency_timezone
from register.models import (
    AWAITING_HOLDER_STATUSES,
    OPEN_BREACH_STATUSES,
    OPEN_COMPLAINT_STATUSES,
    BreachReport,
    Complaint,
    Declaration,
    DeclarationStatus,
    Inspection,
    InspectionOrder,
    Membership,
    ReminderKind,
    ReminderStage,
    Role,
    SentReminder,
    User,
)
from register.services import working_days
from register.services.notifications import local_link, notify

# Declarations whose review clock runs: the agency has them.
REVIEW_STATUSES = (
    DeclarationStatus.SUBMITTED,
    DeclarationStatus.IN_REVIEW,
    DeclarationStatus.AWAITING_SIGN_OFF,
)


@dataclass(frozen=True)
class Reminder:
    """One reminder to one user about one deadline (what the message says, nothing more)."""

    kind: ReminderKind
    stage: ReminderStage
    object_id: uuid.UUID
    recipient: User
    due_on: date  # the deadline's last day, in the agency's time zone
    since: date | None = None  # when the object was filed, submitted or received
    reference: str | None = None  # an inspection's or a complaint's reference
    number: int | None = None  # an order's number within its inspection
    organisation_id: uuid.UUID | None = None  # the holder (orders only)


@dataclass
class Outcome:
    """What a run sent (or, in a dry run, would send)."""

    reminders: list[Reminder]
    counts: Counter[tuple[ReminderKind, ReminderStage]]


def send(now: datetime | None = None, *, dry_run: bool = False) -> Outcome:
    """Send every reminder due at `now` and not sent before; flushed, the caller commits.

    A dry run finds the same reminders and writes nothing.
    """
    now = now or utcnow()
    found = candidates(now)
    if dry_run:
        return Outcome(found, Counter((item.kind, item.stage) for item in found))
    sent = [item for item in found if _claim(item, now)]
    for item in sent:
        _notify(item)
    return Outcome(sent, Counter((item.kind, item.stage) for item in sent))


def candidates(now: datetime) -> list[Reminder]:
    """The reminders due at `now` that have not been sent yet, in a stable order (two runs at
    once claim in the same order, so on PostgreSQL one waits for the other, never deadlocks)."""
    found = [
        *_order_reminders(now),
        *_review_reminders(now),
        *_breach_reminders(now),
        *_complaint_reminders(now),
    ]
    return sorted(
        found,
        key=lambda item: (item.kind, item.due_on, str(item.object_id), str(item.recipient.id)),
    )


# -- finding what is due -------------------------------------------------------------------


def _stage(overdue: sa.ColumnElement[bool]) -> sa.ColumnElement[str]:
    return sa.case(
        (overdue, sa.literal(ReminderStage.OVERDUE.value)),
        else_=sa.literal(ReminderStage.DUE_SOON.value),
    )


def _not_sent(
    kind: ReminderKind, object_id: Any, stage: sa.ColumnElement[str], recipient_id: Any
) -> sa.ColumnElement[bool]:
    """Leave out what was sent before (read through the claim's unique index)."""
    return ~sa.exists().where(
        SentReminder.kind == kind,
        SentReminder.object_id == object_id,
        SentReminder.stage == stage,
        SentReminder.recipient_id == recipient_id,
    )


def _order_reminders(now: datetime) -> list[Reminder]:
    """Orders waiting for the holder, due within REMINDER_ORDER_DAYS or overdue: its users."""
    today = now.astimezone(agency_timezone()).date()
    horizon = today + timedelta(days=int(current_app.config["REMINDER_ORDER_DAYS"]))
    stage = _stage(InspectionOrder.due_on < today).label("stage")
    rows = db.session.execute(
        sa.select(
            User,
            stage,
            InspectionOrder.id,
            InspectionOrder.number,
            InspectionOrder.due_on,
            InspectionOrder.organisation_id,
            Inspection.reference,
        )
        .select_from(InspectionOrder)
        .join(Inspection, Inspection.id == InspectionOrder.inspection_id)
        .join(Membership, Membership.organisation_id == InspectionOrder.organisation_id)
        .join(User, User.id == Membership.user_id)
        .where(
            InspectionOrder.status.in_(AWAITING_HOLDER_STATUSES),
            InspectionOrder.due_on <= horizon,
            User.is_active_account.is_(True),
            _not_sent(ReminderKind.ORDER, InspectionOrder.id, stage, User.id),
        )
    ).all()
    return [
        Reminder(
            kind=ReminderKind.ORDER,
            stage=ReminderStage(row.stage),
            object_id=row.id,
            recipient=row.User,
            due_on=row.due_on,
            reference=row.reference,
            number=row.number,
            organisation_id=row.organisation_id,
        )
        for row in rows
    ]


def _staff_cutoff(now: datetime) -> datetime:
    """The end of the REMINDER_STAFF_WORKING_DAYS-th working day after today: deadlines up to
    it are near."""
    return working_days.deadline(now, int(current_app.config["REMINDER_STAFF_WORKING_DAYS"]))


@dataclass(frozen=True)
class _Deadlines:
    """How to find one kind of staff deadline: the table, its columns and conditions."""

    kind: ReminderKind
    model: Any
    due: Any  # the deadline column (UTC)
    since: Any  # when it came in
    assignee: Any  # who has it
    waiting: sa.ColumnElement[bool]  # still the agency's to act on
    reference: Any = None
    # When the assignee is not the one to act (a high-risk approval waits for a supervisor).
    not_assignees_turn: sa.ColumnElement[bool] | None = None
    # Who among the supervisors may not act (the approver cannot sign off).
    barred: Any = None


def _staff_reminders(spec: _Deadlines, now: datetime) -> list[Reminder]:
    """Two queries: to active assignees, and to active supervisors for the rest."""
    cutoff = _staff_cutoff(now)
    stage = _stage(spec.due <= now).label("stage")
    columns = [spec.model.id, spec.due.label("due"), spec.since.label("since")]
    if spec.reference is not None:
        columns.append(spec.reference.label("reference"))
    due = [spec.waiting, spec.due.is_not(None), spec.due <= cutoff]

    assignee = aliased(User, name="assignee")
    assignees_turn = [] if spec.not_assignees_turn is None else [~spec.not_assignees_turn]
    to_assignees = (
        sa.select(assignee, stage, *columns)
        .select_from(spec.model)
        .join(assignee, assignee.id == spec.assignee)
        .where(
            *due,
            *assignees_turn,
            assignee.is_active_account.is_(True),
            _not_sent(spec.kind, spec.model.id, stage, assignee.id),
        )
    )
    supervisor = aliased(User, name="supervisor")
    active_assignee = aliased(User, name="active_assignee")
    nobody_acts: sa.ColumnElement[bool] = active_assignee.id.is_(None)
    if spec.not_assignees_turn is not None:
        nobody_acts = sa.or_(nobody_acts, spec.not_assignees_turn)
    barred = (
        [] if spec.barred is None else [sa.or_(spec.barred.is_(None), spec.barred != supervisor.id)]
    )
    to_supervisors = (
        sa.select(supervisor, stage, *columns)
        .select_from(spec.model)
        .outerjoin(
            active_assignee,
            sa.and_(
                active_assignee.id == spec.assignee, active_assignee.is_active_account.is_(True)
            ),
        )
        .join(
            supervisor,
            sa.and_(supervisor.role == Role.SUPERVISOR, supervisor.is_active_account.is_(True)),
        )
        .where(
            *due,
            nobody_acts,
            *barred,
            _not_sent(spec.kind, spec.model.id, stage, supervisor.id),
        )
    )
    reminders = []
    for statement in (to_assignees, to_supervisors):
        for row in db.session.execute(statement):
            reminders.append(
                Reminder(
                    kind=spec.kind,
                    stage=ReminderStage(row.stage),
                    object_id=row.id,
                    recipient=row[0],
                    due_on=working_days.last_day(row.due),
                    since=_local_date(row.since),
                    reference=row.reference if spec.reference is not None else None,
                )
            )
    return reminders


def _local_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(agency_timezone()).date()


def _review_reminders(now: datetime) -> list[Reminder]:
    """Declarations waiting on the agency with the clock running (not while changes are
    requested: `due_at` is None then)."""
    return _staff_reminders(
        _Deadlines(
            kind=ReminderKind.REVIEW,
            model=Declaration,
            due=Declaration.due_at,
            since=Declaration.submitted_at,
            assignee=Declaration.assignee_id,
            waiting=Declaration.status.in_(REVIEW_STATUSES),
            not_assignees_turn=Declaration.status == DeclarationStatus.AWAITING_SIGN_OFF,
            barred=Declaration.approved_by_id,
        ),
        now,
    )


def _breach_reminders(now: datetime) -> list[Reminder]:
    """Breach reports not triaged yet, near or past their triage deadline."""
    return _staff_reminders(
        _Deadlines(
            kind=ReminderKind.BREACH_TRIAGE,
            model=BreachReport,
            due=BreachReport.triage_due_at,
            since=BreachReport.filed_at,
            assignee=BreachReport.assignee_id,
            waiting=BreachReport.status.in_(OPEN_BREACH_STATUSES),
        ),
        now,
    )


def _complaint_reminders(now: datetime) -> list[Reminder]:
    """Complaints not decided yet, near or past their triage deadline."""
    return _staff_reminders(
        _Deadlines(
            kind=ReminderKind.COMPLAINT_TRIAGE,
            model=Complaint,
            due=Complaint.due_at,
            since=Complaint.received_at,
            assignee=Complaint.assignee_id,
            waiting=Complaint.status.in_(OPEN_COMPLAINT_STATUSES),
            reference=Complaint.receipt_number,
        ),
        now,
    )


# -- sending -------------------------------------------------------------------------------


def _claim(item: Reminder, now: datetime) -> bool:
    """Insert the reminder's row; False when it exists (sent before, or by a concurrent run)."""
    insert: Any = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    result = db.session.execute(
        insert(SentReminder)
        .values(
            id=uuid.uuid4(),
            kind=item.kind,
            object_id=item.object_id,
            stage=item.stage,
            recipient_id=item.recipient.id,
            sent_at=now,
        )
        .on_conflict_do_nothing(index_elements=["kind", "object_id", "stage", "recipient_id"])
        # RETURNING, not rowcount: on psycopg, SQLAlchemy reports -1 for this statement.
        .returning(SentReminder.id)
    )
    return result.first() is not None


def _notify(item: Reminder) -> None:
    """Write the message in the recipient's language (dates too) to the outbox."""
    with force_locale(item.recipient.locale):
        subject, body = MESSAGES[(item.kind, item.stage)](item)
        link = _link(item)
        notify(
            item.recipient,
            f"reminder.{item.kind.value}.{item.stage.value}",
            str(subject),
            str(body),
            link=link,
        )


def _day(day: date | None) -> str:
    return "" if day is None else str(babel_format_date(day, "long"))


def _link(item: Reminder) -> str:
    if item.kind is ReminderKind.ORDER and item.organisation_id is not None:
        return local_link(
            "holder.inspection_order",
            organisation_id=str(item.organisation_id),
            order_id=str(item.object_id),
        )
    if item.kind is ReminderKind.ORDER:
        return local_link("holder.index")
    if item.kind is ReminderKind.REVIEW:
        return local_link("agency.review_declaration", declaration_id=str(item.object_id))
    if item.kind is ReminderKind.BREACH_TRIAGE:
        return local_link("agency.breach", report_id=str(item.object_id))
    return local_link("agency.complaint", complaint_id=str(item.object_id))


def _order_due_soon(item: Reminder) -> tuple[Any, Any]:
    values = {"number": item.number, "reference": item.reference, "due": _day(item.due_on)}
    return (
        _l("Order %(number)s of inspection %(reference)s is due on %(due)s", **values),
        _l(
            "Order %(number)s of inspection %(reference)s is due on %(due)s. Answer it online "
            "before then; what the order requires is on its page.",
            **values,
        ),
    )


def _order_overdue(item: Reminder) -> tuple[Any, Any]:
    values = {"number": item.number, "reference": item.reference, "due": _day(item.due_on)}
    return (
        _l("Order %(number)s of inspection %(reference)s is overdue", **values),
        _l(
            "Order %(number)s of inspection %(reference)s was due on %(due)s and still waits "
            "for your answer. Answer it online as soon as you can; what the order requires is "
            "on its page.",
            **values,
        ),
    )


def _review_due_soon(item: Reminder) -> tuple[Any, Any]:
    values = {"submitted": _day(item.since), "due": _day(item.due_on)}
    return (
        _l("Review due by %(due)s: declaration submitted on %(submitted)s", **values),
        _l(
            "The agency's decision on the declaration submitted on %(submitted)s is due by "
            "the end of %(due)s.",
            **values,
        ),
    )


def _review_overdue(item: Reminder) -> tuple[Any, Any]:
    values = {"submitted": _day(item.since), "due": _day(item.due_on)}
    return (
        _l("Review overdue: declaration submitted on %(submitted)s", **values),
        _l(
            "The agency's decision on the declaration submitted on %(submitted)s was due by "
            "the end of %(due)s and has not been taken yet.",
            **values,
        ),
    )


def _breach_due_soon(item: Reminder) -> tuple[Any, Any]:
    values = {"filed": _day(item.since), "due": _day(item.due_on)}
    return (
        _l("Breach triage due by %(due)s: report filed on %(filed)s", **values),
        _l(
            "The triage of the breach report filed on %(filed)s is due by the end of %(due)s.",
            **values,
        ),
    )


def _breach_overdue(item: Reminder) -> tuple[Any, Any]:
    values = {"filed": _day(item.since), "due": _day(item.due_on)}
    return (
        _l("Breach triage overdue: report filed on %(filed)s", **values),
        _l(
            "The triage of the breach report filed on %(filed)s was due by the end of %(due)s "
            "and is not finished yet.",
            **values,
        ),
    )


def _complaint_due_soon(item: Reminder) -> tuple[Any, Any]:
    values = {"receipt": item.reference, "received": _day(item.since), "due": _day(item.due_on)}
    return (
        _l("Complaint %(receipt)s: triage due by %(due)s", **values),
        _l(
            "The triage of complaint %(receipt)s, received on %(received)s, is due by the end "
            "of %(due)s.",
            **values,
        ),
    )


def _complaint_overdue(item: Reminder) -> tuple[Any, Any]:
    values = {"receipt": item.reference, "received": _day(item.since), "due": _day(item.due_on)}
    return (
        _l("Complaint %(receipt)s: triage overdue", **values),
        _l(
            "The triage of complaint %(receipt)s, received on %(received)s, was due by the end "
            "of %(due)s and is not finished yet.",
            **values,
        ),
    )


MESSAGES: dict[tuple[ReminderKind, ReminderStage], Callable[[Reminder], tuple[Any, Any]]] = {
    (ReminderKind.ORDER, ReminderStage.DUE_SOON): _order_due_soon,
    (ReminderKind.ORDER, ReminderStage.OVERDUE): _order_overdue,
    (ReminderKind.REVIEW, ReminderStage.DUE_SOON): _review_due_soon,
    (ReminderKind.REVIEW, ReminderStage.OVERDUE): _review_overdue,
    (ReminderKind.BREACH_TRIAGE, ReminderStage.DUE_SOON): _breach_due_soon,
    (ReminderKind.BREACH_TRIAGE, ReminderStage.OVERDUE): _breach_overdue,
    (ReminderKind.COMPLAINT_TRIAGE, ReminderStage.DUE_SOON): _complaint_due_soon,
    (ReminderKind.COMPLAINT_TRIAGE, ReminderStage.OVERDUE): _complaint_overdue,
}


def describe(items: Iterable[Reminder]) -> list[str]:
    """One line per reminder for the operator: kind, stage, due date, object and recipient ids
    (no names or addresses: the output may end up in a log)."""
    return [
        f"{item.kind.value} {item.stage.value} due {item.due_on.isoformat()} "
        f"object {item.object_id} to user {item.recipient.id}"
        for item in items
    ]
