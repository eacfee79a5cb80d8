"""Breach reports: a holder's report of a personal data breach, its follow-ups and questions.

A holder files a report within BREACH_REPORT_HOURS (72) of detecting the breach; a report filed
later is flagged (`filed_late`) and carries the reason. Follow-ups complete the report later
(each one a row of its own, attached to the report); the agency's questions and the holder's
answers are rows too. The agency triages the report within BREACH_TRIAGE_WORKING_DAYS:

    received ──start assessing──> assessing ──close (grounds)──> closed
                                      └──request an inspection (grounds)──> inspection_requested

Everything a reader could learn the breach from is encrypted: the description, the details
(data affected, consequences, measures, how subjects were told), the contact, the reason for
lateness, the questions, answers and grounds. Dates, status, codes and approximate numbers are
plain, so that the agency's lists filter and sort on them.
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


class BreachNature(enum.StrEnum):
    """What the breach compromised (one or more)."""

    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


class BreachStatus(enum.StrEnum):
    """The agency's triage of a report."""

    RECEIVED = "received"
    ASSESSING = "assessing"
    CLOSED = "closed"
    INSPECTION_REQUESTED = "inspection_requested"


OPEN_BREACH_STATUSES = frozenset({BreachStatus.RECEIVED, BreachStatus.ASSESSING})


class BreachReport(TimestampMixin, Model):
    """The initial report of a breach; follow-ups and questions attach to it."""

    __tablename__ = "breach_reports"
    __table_args__ = (
        sa.Index("ix_breach_reports_filed_at", "filed_at"),
        sa.Index("ix_breach_reports_status_filed_at", "status", "filed_at"),
        sa.Index("ix_breach_reports_organisation_filed_at", "organisation_id", "filed_at"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    filed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[BreachStatus] = mapped_column(
        string_enum(BreachStatus, 24), default=BreachStatus.RECEIVED
    )
    # Optimistic concurrency: every change of state raises it; a stale form is refused.
    lock_version: Mapped[int] = mapped_column(default=1, server_default="1")

    # The 72-hour clock: from detection to filing.
    occurred_at: Mapped[datetime] = mapped_column()
    detected_at: Mapped[datetime] = mapped_column()
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_due_at: Mapped[datetime] = mapped_column()
    filed_late: Mapped[bool] = mapped_column(default=False, server_default=sa.false(), index=True)
    late_reason = Encrypted()

    nature_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    description = Encrypted(nullable=False)
    data_item_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    data_details = Encrypted()
    subject_category_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    subjects_affected: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    records_affected: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    consequences = Encrypted()
    measures_taken = Encrypted()
    subjects_told: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    subjects_told_on: Mapped[date | None] = mapped_column(sa.Date, default=None)
    subjects_notice = Encrypted()  # how the subjects were told, or why not
    contact_name = Encrypted(nullable=False)
    contact_phone = Encrypted()
    contact_email = Encrypted()

    # The agency's triage: its deadline in working days, who assesses, the decision.
    triage_due_at: Mapped[datetime] = mapped_column(index=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    assessing_since: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decision_grounds = Encrypted()

    organisation: Mapped[Organisation] = relationship()
    follow_ups: Mapped[list[BreachFollowUp]] = relationship(
        back_populates="report", order_by="BreachFollowUp.filed_at", lazy="raise"
    )
    questions: Mapped[list[BreachQuestion]] = relationship(
        back_populates="report", order_by="BreachQuestion.asked_at", lazy="raise"
    )

    @property
    def is_open(self) -> bool:
        """The agency has not finished its triage."""
        return self.status in OPEN_BREACH_STATUSES


class BreachFollowUp(Model):
    """Information the holder adds to a report later (the report may be completed in phases)."""

    __tablename__ = "breach_follow_ups"

    report_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("breach_reports.id", ondelete="CASCADE"), index=True
    )
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    filed_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    information = Encrypted(nullable=False)
    measures_taken = Encrypted()
    subjects_affected: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    records_affected: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    subjects_told_on: Mapped[date | None] = mapped_column(sa.Date, default=None)

    report: Mapped[BreachReport] = relationship(back_populates="follow_ups")


class BreachQuestion(Model):
    """The agency's question about a report, and the holder's answer."""

    __tablename__ = "breach_questions"

    report_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("breach_reports.id", ondelete="CASCADE"), index=True
    )
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    asked_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    question = Encrypted(nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    answer = Encrypted()

    report: Mapped[BreachReport] = relationship(back_populates="questions")

    @property
    def is_answered(self) -> bool:
        """The holder has answered."""
        return self.answered_at is not None
