"""Reminders already sent: one row per (kind, object, stage, recipient), so each goes once.

`reminders send` claims a reminder by inserting its row (ON CONFLICT DO NOTHING) before it
writes the notification, in the same transaction: a second run, or a run at the same moment,
finds the row (or waits for the other transaction and then finds it) and sends nothing.
The object is an inspection order, a declaration, a breach report or a complaint, named by
`kind`; no foreign key, since it points into one of four tables.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from register.database import string_enum, utcnow
from register.extensions import Model


class ReminderKind(enum.StrEnum):
    """What the reminder is about, and so whom it goes to."""

    ORDER = "order"  # an inspection order waiting for the holder: the holder's users
    REVIEW = "review"  # a declaration's review deadline: the reviewer or the supervisors
    BREACH_TRIAGE = "breach_triage"  # a breach report's triage deadline: the assessor or …
    COMPLAINT_TRIAGE = "complaint_triage"  # a complaint's triage deadline: the assessor or …


class ReminderStage(enum.StrEnum):
    """How close the deadline is: each stage is reminded once."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


class SentReminder(Model):
    """A reminder claimed and written to the outbox (the message itself is a notification)."""

    __tablename__ = "sent_reminders"
    __table_args__ = (
        # The claim: a second insert of the same reminder does nothing. Also the index the
        # reminder queries' NOT EXISTS reads.
        sa.UniqueConstraint(
            "kind", "object_id", "stage", "recipient_id", name="uq_sent_reminders_reminder"
        ),
    )

    kind: Mapped[ReminderKind] = mapped_column(string_enum(ReminderKind, 24))
    object_id: Mapped[uuid.UUID] = mapped_column()
    stage: Mapped[ReminderStage] = mapped_column(string_enum(ReminderStage, 16))
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
