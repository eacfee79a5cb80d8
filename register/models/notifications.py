"""Notifications: one row is both the user's inbox item and the e-mail outbox entry.

A service writes the row in the same transaction as the change that causes it, so a rolled-back
change leaves no message. `mail send` later delivers the e-mail part exactly once.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from register.crypto.fields import Encrypted
from register.database import string_enum, utcnow
from register.extensions import Model
from register.models.users import User


class DeliveryStatus(enum.StrEnum):
    """Where the e-mail copy of a notification stands."""

    PENDING = "pending"  # waiting to be sent (again, after next_attempt_at)
    SENDING = "sending"  # claimed by a sender; never picked up again automatically
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS
    NOT_EMAILED = "not_emailed"  # inbox only


class Notification(Model):
    """A message to one user: shown in the inbox, and e-mailed unless inbox-only."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
        sa.Index("ix_notifications_delivery_due", "delivery_status", "next_attempt_at"),
    )

    # A user, or (for an invitation to someone without an account yet) only an address.
    recipient_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    recipient_address = Encrypted()
    locale: Mapped[str | None] = mapped_column(sa.String(5), default=None)
    kind: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    # E-mail only, carrying a one-time link: kept out of the inbox, body erased once sent.
    sensitive: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    delivery_status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus),
        default=DeliveryStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(sa.String(500), default=None)

    recipient: Mapped[User | None] = relationship(lazy="joined")

    @property
    def email_address(self) -> str | None:
        """Where the e-mail copy goes: the user's address, or the one it was sent to."""
        if self.recipient is not None:
            return self.recipient.email
        return self.recipient_address

    @property
    def language(self) -> str:
        """The language the message was written in."""
        if self.recipient is not None:
            return self.recipient.locale
        return self.locale or "ru"

    @property
    def is_read(self) -> bool:
        """Whether the recipient has opened or dismissed it."""
        return self.read_at is not None

    @property
    def message_id(self) -> str:
        """A stable Message-ID, so that a receiving server can spot a duplicate."""
        return f"<{self.id}@register.notifications>"
