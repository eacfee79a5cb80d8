"""Personal data arrays (the working copy) and declarations (frozen, numbered versions).

The holder edits a normalised working copy: the organisation, its people and its arrays. An
array's id stays the same across versions, so paths like `arrays/<array id>/retention` name the
same thing in every version. Submitting freezes a DeclarationVersion holding two snapshots:
`public_snapshot` (plain JSON, only DESIGN.md §3's public fields) and `confidential_snapshot`
(one encrypted JSON document bound to the version's id). A Declaration is the application that
moves through the workflow (draft → submitted → … → approved); each submission or resubmission
adds a version to it, and a version never changes once written.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from register.crypto.fields import Encrypted
from register.database import TimestampMixin, string_enum, utcnow
from register.extensions import Model
from register.models.organisations import Organisation
from register.models.users import User


class ProcessingMode(enum.StrEnum):
    """How the array is processed."""

    AUTOMATED = "automated"
    MANUAL = "manual"
    MIXED = "mixed"


class RetentionUnit(enum.StrEnum):
    """The unit of a retention period given as a duration."""

    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


class PersonalDataArray(TimestampMixin, Model):
    """One database, card index, archive or information system of personal data (working copy).

    Code lists are stored as JSON lists of reference codes. Public fields are plain columns;
    security descriptions, storage location details, information systems, named recipients and
    the grounds of cross-border transfers are encrypted.
    """

    __tablename__ = "personal_data_arrays"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(300))
    purpose_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    purpose_other: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    legal_basis_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    collection_methods: Mapped[str | None] = mapped_column(sa.Text, default=None)
    processing_mode: Mapped[ProcessingMode | None] = mapped_column(
        string_enum(ProcessingMode, 24), default=None
    )
    data_item_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    data_item_other: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    subject_category_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    subject_bucket_code: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    source_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    informing_subjects: Mapped[str | None] = mapped_column(sa.Text, default=None)
    storage_form_code: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    # Retention: a positive duration (value + unit) or a named condition, not both.
    retention_value: Mapped[int | None] = mapped_column(default=None)
    retention_unit: Mapped[RetentionUnit | None] = mapped_column(
        string_enum(RetentionUnit, 24), default=None
    )
    retention_condition: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    storage_country: Mapped[str | None] = mapped_column(sa.String(2), default=None)
    storage_location_details = Encrypted()
    information_systems = Encrypted()
    recipient_category_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    named_recipients = Encrypted()
    cross_border: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    cross_border_countries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    cross_border_grounds = Encrypted()
    security_measure_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    security_description = Encrypted()
    processing_start_date: Mapped[date | None] = mapped_column(sa.Date, default=None)

    organisation: Mapped[Organisation] = relationship()


class DeclarationKind(enum.StrEnum):
    """What a declaration asks for."""

    INITIAL = "initial"
    AMENDMENT = "amendment"
    TERMINATION = "termination"


class DeclarationStatus(enum.StrEnum):
    """The workflow of DESIGN.md §2."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    AWAITING_SIGN_OFF = "awaiting_sign_off"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


PENDING_STATUSES = frozenset(
    {
        DeclarationStatus.SUBMITTED,
        DeclarationStatus.IN_REVIEW,
        DeclarationStatus.CHANGES_REQUESTED,
        DeclarationStatus.AWAITING_SIGN_OFF,
    }
)


class Declaration(TimestampMixin, Model):
    """An application to register, amend or end an organisation's entry."""

    __tablename__ = "declarations"
    __table_args__ = (
        sa.Index("ix_declarations_org_status", "organisation_id", "status"),
        sa.Index("ix_declarations_status_created", "status", "created_at"),
        # The review queue lists three statuses oldest first: walking this index finds the
        # first page at once, where the one above needs every waiting row sorted.
        sa.Index("ix_declarations_created_at", "created_at"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    kind: Mapped[DeclarationKind] = mapped_column(string_enum(DeclarationKind, 24))
    status: Mapped[DeclarationStatus] = mapped_column(
        string_enum(DeclarationStatus, 24), default=DeclarationStatus.DRAFT
    )
    # Optimistic concurrency: every change of state raises it; a stale form is refused.
    lock_version: Mapped[int] = mapped_column(default=1, server_default="1")
    filed_on_paper: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    # The published version an amendment or termination starts from (versions are never
    # deleted; no foreign key, which would make the two tables refer to each other).
    base_version_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # The agency's side: who has it, who approved it (four eyes: the sign-off is someone
    # else's), whether it is high risk, and the review clock. The clock runs while the agency
    # has the file: `due_at` is its deadline then, None while the holder has it (changes
    # requested); `review_seconds_used` is the time already counted.
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    high_risk: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    due_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    review_seconds_used: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="raise")
    versions: Mapped[list[DeclarationVersion]] = relationship(
        back_populates="declaration",
        foreign_keys="DeclarationVersion.declaration_id",
        order_by="DeclarationVersion.number",
        lazy="selectin",
    )
    events: Mapped[list[DeclarationEvent]] = relationship(
        back_populates="declaration", order_by="DeclarationEvent.occurred_at", lazy="selectin"
    )
    comments: Mapped[list[ReviewComment]] = relationship(
        back_populates="declaration", lazy="selectin"
    )

    @property
    def is_pending(self) -> bool:
        """Waiting on the agency or on the holder's changes."""
        return self.status in PENDING_STATUSES

    @property
    def latest_version(self) -> DeclarationVersion | None:
        """The most recently frozen version of this declaration."""
        return self.versions[-1] if self.versions else None


class DeclarationVersion(Model):
    """A frozen, numbered snapshot of an organisation's whole entry. Never changes."""

    __tablename__ = "declaration_versions"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "number", name="uq_declaration_versions_number"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    declaration_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()  # 1, 2, 3 … per organisation
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    public_snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    confidential_snapshot = Encrypted(nullable=False)  # JSON text, bound to this version's id
    published_at: Mapped[datetime | None] = mapped_column(default=None)

    declaration: Mapped[Declaration] = relationship(
        back_populates="versions", foreign_keys=[declaration_id]
    )


class DeclarationEvent(Model):
    """One step of a declaration's timeline: who moved it from which state to which, when."""

    __tablename__ = "declaration_events"

    declaration_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(sa.String(24), default=None)
    to_status: Mapped[str] = mapped_column(sa.String(24))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    note = Encrypted()  # grounds of a decision, reason of a withdrawal

    declaration: Mapped[Declaration] = relationship(back_populates="events")


class ReviewComment(Model):
    """An agency comment on one field or array of a declaration, anchored to its path."""

    __tablename__ = "review_comments"

    declaration_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("declaration_versions.id", ondelete="SET NULL"), default=None
    )
    path: Mapped[str] = mapped_column(sa.String(200))  # e.g. arrays/<id>/retention
    body = Encrypted(nullable=False)
    article: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)

    declaration: Mapped[Declaration] = relationship(back_populates="comments")
