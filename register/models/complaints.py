"""Complaints: filed by anyone, without an account, about a holder; triaged by the agency.

The complainant chooses the holder from the register (`organisation_id` and its registration
number), or names an unregistered processor (its name and, if known, TIN, encrypted). The
complainant's name and contact, and what happened, are encrypted. The complainant gets a
receipt number and a secret link: the link's token is random (256 bits) and only its SHA-256
is stored, so the database cannot give the link back and a guessed one finds nothing. The page
behind the link reads the status, dates and the outcome's grounds, which are written for the
complainant and stored in clear so that the page never decrypts anything:

    received ──start assessing──> assessing ──> upheld | not_upheld | inspection_requested
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from register.crypto.fields import Encrypted
from register.database import TimestampMixin, string_enum, utcnow
from register.extensions import Model
from register.models.organisations import Organisation


class ComplaintStatus(enum.StrEnum):
    """The agency's triage of a complaint."""

    RECEIVED = "received"
    ASSESSING = "assessing"
    UPHELD = "upheld"
    NOT_UPHELD = "not_upheld"
    INSPECTION_REQUESTED = "inspection_requested"


OPEN_COMPLAINT_STATUSES = frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.ASSESSING})


class Complaint(TimestampMixin, Model):
    """A complaint of a member of the public about a holder of personal data."""

    __tablename__ = "complaints"
    __table_args__ = (
        sa.Index("ix_complaints_received_at", "received_at"),
        sa.Index("ix_complaints_status_received_at", "status", "received_at"),
    )

    receipt_number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[ComplaintStatus] = mapped_column(
        string_enum(ComplaintStatus, 24), default=ComplaintStatus.RECEIVED
    )
    lock_version: Mapped[int] = mapped_column(default=1, server_default="1")

    # The holder: from the register, or an unregistered processor named in free text.
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), default=None, index=True
    )
    registration_number: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    processor_name = Encrypted()
    processor_tin = Encrypted()

    what_happened = Encrypted(nullable=False)
    complainant_name = Encrypted(nullable=False)
    complainant_email = Encrypted()
    complainant_phone = Encrypted()
    consents_to_contact: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    locale: Mapped[str] = mapped_column(sa.String(5), default="ru")

    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    assessing_since: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Written for the complainant and shown behind the secret link: not encrypted.
    grounds: Mapped[str | None] = mapped_column(sa.Text, default=None)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")

    @property
    def is_open(self) -> bool:
        """The agency has not decided yet."""
        return self.status in OPEN_COMPLAINT_STATUSES
