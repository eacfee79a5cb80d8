"""Inspections (audits) of holders, their violations and orders, and the holder's answers.

An inspection is planned by a supervisor — from the risk-ranked plan, or from a breach report
or a complaint that requested one — and carried out by the inspectors assigned to it:

    planned ──start──> in_progress ──write the report──> report ──close──> closed
                                                            (only when every order is settled)

Findings and notes are the agency's own and confidential: encrypted, never shown to the holder.
Violations name an article of the law (reference list `law_article`) and describe what was
found (encrypted). Orders tell the holder what to do by a due date; the holder answers each one
(text and documents), and an inspector accepts the answer or returns it with grounds:

    open ──holder answers──> answered ──accept──> accepted
      ^                          └──return (grounds)──> returned ──holder answers──> answered
      └── (an order issued by mistake can be withdrawn, with grounds, until accepted) ──> withdrawn

An order is settled when accepted or withdrawn; it is overdue when it waits for the holder
(open or returned) after its due date.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from register.crypto.fields import Encrypted
from register.database import TimestampMixin, string_enum, utcnow
from register.extensions import Model
from register.models.organisations import Organisation
from register.models.users import User


class InspectionKind(enum.StrEnum):
    """Why the inspection takes place."""

    PLANNED = "planned"
    UNPLANNED = "unplanned"
    COMPLAINT = "complaint_triggered"
    BREACH = "breach_triggered"


class InspectionStatus(enum.StrEnum):
    """Where the inspection stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    REPORT = "report"
    CLOSED = "closed"


OPEN_INSPECTION_STATUSES = frozenset(
    {InspectionStatus.PLANNED, InspectionStatus.IN_PROGRESS, InspectionStatus.REPORT}
)


class OrderStatus(enum.StrEnum):
    """Where an order stands between the holder and the inspector."""

    OPEN = "open"
    ANSWERED = "answered"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


SETTLED_ORDER_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.WITHDRAWN})
# The holder's turn: an order in one of these states past its due date is overdue.
AWAITING_HOLDER_STATUSES = frozenset({OrderStatus.OPEN, OrderStatus.RETURNED})


inspection_inspectors = sa.Table(
    "inspection_inspectors",
    Model.metadata,
    sa.Column(
        "inspection_id",
        sa.Uuid(),
        sa.ForeignKey("inspections.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "user_id",
        sa.Uuid(),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Inspection(TimestampMixin, Model):
    """One inspection of one holder."""

    __tablename__ = "inspections"
    __table_args__ = (
        sa.Index("ix_inspections_status_planned_start", "status", "planned_start"),
        sa.Index("ix_inspections_organisation_created", "organisation_id", "created_at"),
    )

    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)  # I-7KQ4-M2XD
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    kind: Mapped[InspectionKind] = mapped_column(string_enum(InspectionKind, 24))
    status: Mapped[InspectionStatus] = mapped_column(
        string_enum(InspectionStatus, 24), default=InspectionStatus.PLANNED
    )
    lock_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The legal ground for the inspection (the plan's approval, the complaint, the breach, …):
    # procedural, shown to the holder, not encrypted.
    legal_ground: Mapped[str] = mapped_column(sa.String(500))
    planned_start: Mapped[date] = mapped_column(sa.Date)
    planned_end: Mapped[date] = mapped_column(sa.Date)
    started_on: Mapped[date | None] = mapped_column(sa.Date, default=None)
    report_on: Mapped[date | None] = mapped_column(sa.Date, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    # What triggered it, when a breach report or a complaint requested it.
    breach_report_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("breach_reports.id", ondelete="SET NULL"), default=None, index=True
    )
    complaint_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("complaints.id", ondelete="SET NULL"), default=None, index=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # The risk score when the inspection was planned (the plan's ranking at that moment).
    risk_score: Mapped[int | None] = mapped_column(default=None)
    findings = Encrypted()
    notes = Encrypted()

    organisation: Mapped[Organisation] = relationship(lazy="raise")
    inspectors: Mapped[list[User]] = relationship(secondary=inspection_inspectors, lazy="raise")
    violations: Mapped[list[InspectionViolation]] = relationship(
        back_populates="inspection", order_by="InspectionViolation.recorded_at", lazy="raise"
    )
    orders: Mapped[list[InspectionOrder]] = relationship(
        back_populates="inspection", order_by="InspectionOrder.number", lazy="raise"
    )

    @property
    def is_open(self) -> bool:
        """Not closed yet."""
        return self.status in OPEN_INSPECTION_STATUSES


class InspectionViolation(Model):
    """A violation found: the article of law (a reference-list code) and what was found."""

    __tablename__ = "inspection_violations"

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), index=True
    )
    article_code: Mapped[str] = mapped_column(sa.String(40))
    description = Encrypted(nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    inspection: Mapped[Inspection] = relationship(back_populates="violations")


class InspectionOrder(TimestampMixin, Model):
    """An order to the holder: what to do by when; the holder answers, the agency settles it."""

    __tablename__ = "inspection_orders"
    __table_args__ = (
        sa.UniqueConstraint("inspection_id", "number", name="uq_inspection_orders_number"),
        sa.Index("ix_inspection_orders_status_due_on", "status", "due_on"),
        sa.Index("ix_inspection_orders_organisation_due_on", "organisation_id", "due_on"),
    )

    inspection_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE")
    )
    # The holder it is addressed to (the inspection's), kept here for the holder's own list.
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column()  # 1, 2, … within the inspection
    violation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("inspection_violations.id", ondelete="SET NULL"), default=None
    )
    requirement = Encrypted(nullable=False)  # what the holder must do
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[OrderStatus] = mapped_column(
        string_enum(OrderStatus, 20), default=OrderStatus.OPEN
    )
    lock_version: Mapped[int] = mapped_column(default=1, server_default="1")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    last_answered_at: Mapped[datetime | None] = mapped_column(default=None)
    settled_at: Mapped[datetime | None] = mapped_column(default=None)
    settled_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    withdrawal_grounds = Encrypted()

    # Many-to-one by primary key: read from the identity map when the inspection is loaded.
    inspection: Mapped[Inspection] = relationship(back_populates="orders")
    violation: Mapped[InspectionViolation | None] = relationship(lazy="raise")
    answers: Mapped[list[OrderAnswer]] = relationship(
        back_populates="order", order_by="OrderAnswer.answered_at", lazy="raise"
    )

    @property
    def is_settled(self) -> bool:
        """Accepted or withdrawn: nothing more to do."""
        return self.status in SETTLED_ORDER_STATUSES

    def is_overdue(self, today: date) -> bool:
        """Waiting for the holder after its due date (`today` in the agency's time zone)."""
        return self.status in AWAITING_HOLDER_STATUSES and self.due_on < today


class AnswerDecision(enum.StrEnum):
    """The inspector's decision on an answer."""

    ACCEPTED = "accepted"
    RETURNED = "returned"


class OrderAnswer(Model):
    """The holder's answer to an order (text and documents), and the inspector's decision on it."""

    __tablename__ = "inspection_order_answers"

    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("inspection_orders.id", ondelete="CASCADE"), index=True
    )
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    text = Encrypted(nullable=False)
    decision: Mapped[AnswerDecision | None] = mapped_column(
        string_enum(AnswerDecision, 20), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    return_grounds = Encrypted()  # why the answer was returned; the holder reads them

    order: Mapped[InspectionOrder] = relationship(back_populates="answers")
