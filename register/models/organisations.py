"""Organisations (holders), their people, members, invitations, access requests and documents.

Public fields (DESIGN.md §3) are plain columns; everything confidential is `Encrypted`. The TIN
is always stored encrypted with a unique full-length blind index (one organisation per TIN, and
claims are found by it); `public_tin` repeats it in clear only for legal entities, because an
individual entrepreneur's TIN is his or her PIN and is never published.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from register.crypto.fields import BlindIndex, Encrypted, EncryptedBytes
from register.database import TimestampMixin, string_enum, utcnow
from register.extensions import Model
from register.models.users import User
from register.search_text import search_text

INDIVIDUAL_ENTREPRENEUR = "individual_entrepreneur"  # the legal-form code whose TIN is a PIN


class OrganisationStatus(enum.StrEnum):
    """Unverified until the agency approves its first declaration."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"


class OrganisationOrigin(enum.StrEnum):
    """How the organisation came into the register."""

    ONLINE = "online"  # created by a holder's user
    PAPER = "paper"  # filed by agency staff from a paper submission
    IMPORTED = "imported"  # loaded from the legacy register


class Organisation(TimestampMixin, Model):
    """A holder (owner) of personal data arrays."""

    __tablename__ = "organisations"

    status: Mapped[OrganisationStatus] = mapped_column(
        string_enum(OrganisationStatus), default=OrganisationStatus.UNVERIFIED
    )
    origin: Mapped[OrganisationOrigin] = mapped_column(
        string_enum(OrganisationOrigin), default=OrganisationOrigin.ONLINE
    )
    legal_name: Mapped[str] = mapped_column(sa.String(500))
    short_name: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    # Both names normalised (register.search_text), for the agency's search by name;
    # kept in step by `_names_changed` whenever either name is set.
    search_name: Mapped[str] = mapped_column(sa.String(800), default="", server_default="")
    # Full-length unique index: one organisation per TIN, and a claim finds it. Uniqueness
    # needs the full length (no collisions); it tells a reader of the database only what the
    # uniqueness already tells, that two rows never share a TIN.
    tin = Encrypted(nullable=False, blind_index=BlindIndex("digits", length_bytes=32, unique=True))
    public_tin: Mapped[str | None] = mapped_column(sa.String(14), default=None, index=True)
    legal_form_code: Mapped[str] = mapped_column(sa.String(40))
    ownership_form_code: Mapped[str] = mapped_column(sa.String(40))
    subordination: Mapped[str | None] = mapped_column(sa.String(500), default=None)
    sector_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    region_code: Mapped[str] = mapped_column(sa.String(10), index=True)
    legal_address: Mapped[str] = mapped_column(sa.String(500))
    actual_address = Encrypted()  # not listed as public in DESIGN.md §3
    phone: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    email: Mapped[str | None] = mapped_column(sa.String(254), default=None)
    website: Mapped[str | None] = mapped_column(sa.String(300), default=None)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    people: Mapped[list[Person]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="selectin"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def is_individual_entrepreneur(self) -> bool:
        """An individual entrepreneur's TIN is a PIN: personal data, never published."""
        return self.legal_form_code == INDIVIDUAL_ENTREPRENEUR

    @validates("legal_name", "short_name")
    def _names_changed(self, key: str, value: str | None) -> str | None:
        names = {"legal_name": self.legal_name, "short_name": self.short_name, key: value}
        self.search_name = search_text(names["legal_name"], names["short_name"])[:800]
        return value

    def set_tin(self, tin: str) -> None:
        """Store the TIN encrypted, and in clear only when it may be published."""
        self.tin = tin
        self.public_tin = None if self.is_individual_entrepreneur else tin

    def person(self, kind: PersonKind) -> Person | None:
        """The head or the responsible person, if entered."""
        return next((person for person in self.people if person.kind is kind), None)


class PersonKind(enum.StrEnum):
    """The two people every organisation names."""

    HEAD = "head"
    RESPONSIBLE = "responsible"


class Person(TimestampMixin, Model):
    """The head of the organisation or the person responsible for personal data."""

    __tablename__ = "organisation_people"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "kind", name="uq_organisation_people_kind"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    kind: Mapped[PersonKind] = mapped_column(string_enum(PersonKind))
    full_name = Encrypted(nullable=False)
    position = Encrypted()
    # PIN (responsible person only), blind index of 2 bytes = 16 bits. CipherSweet's rule asks
    # 2 ≤ rows / 2^bits ≤ √rows. At the benchmark size, 1.2 million holders with one
    # responsible person each: 1.2e6 / 2^16 ≈ 18, between 2 and √1.2e6 ≈ 1,095; at 100,000
    # rows it is 1.5, just under 2 (a few more coincidences, still several per index value
    # once the register fills). A lookup decrypts the few candidates and compares.
    pin = Encrypted(blind_index=BlindIndex("digits", length_bytes=2))
    phone = Encrypted()
    email = Encrypted()
    # The responsible person's name, work phone and e-mail are public only while this is ticked.
    consents_to_publication: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organisation: Mapped[Organisation] = relationship(back_populates="people")


class MemberRole(enum.StrEnum):
    """What a user may do for an organisation."""

    OWNER = "owner"  # manages colleagues, and everything a member does
    MEMBER = "member"


class Membership(Model):
    """A user who acts for an organisation."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "user_id", name="uq_memberships_org_user"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MemberRole] = mapped_column(string_enum(MemberRole), default=MemberRole.MEMBER)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(lazy="joined")


class Invitation(Model):
    """An owner's invitation of a colleague by e-mail: signed, expiring, single use."""

    __tablename__ = "invitations"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email = Encrypted(nullable=False)
    role: Mapped[MemberRole] = mapped_column(string_enum(MemberRole), default=MemberRole.MEMBER)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    organisation: Mapped[Organisation] = relationship()

    def is_open(self, now: datetime | None = None) -> bool:
        """Not yet used, revoked or expired."""
        now = now or utcnow()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class AccessRequestStatus(enum.StrEnum):
    """Where a request to act for an organisation stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class AccessRequestAddressee(enum.StrEnum):
    """Who decides: the organisation's owners, or the agency (unverified or imported entry)."""

    OWNERS = "owners"
    AGENCY = "agency"


class AccessRequest(Model):
    """Someone who entered a TIN already in the register asks to act for that organisation."""

    __tablename__ = "access_requests"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    addressed_to: Mapped[AccessRequestAddressee] = mapped_column(
        string_enum(AccessRequestAddressee)
    )
    status: Mapped[AccessRequestStatus] = mapped_column(
        string_enum(AccessRequestStatus), default=AccessRequestStatus.PENDING, index=True
    )
    message = Encrypted()  # free text from the requester: may hold personal data
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decision_reason = Encrypted()

    organisation: Mapped[Organisation] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])


class DocumentKind(enum.StrEnum):
    """What a document proves."""

    AUTHORITY = "authority"  # the right to act for the organisation
    DECLARATION = "declaration"  # attached to a declaration (policies, contracts, …)
    ORDER_ANSWER = "order_answer"  # attached to the answer to an inspection's order


class Document(Model):
    """An uploaded file (PDF, PNG or JPEG, ≤ 10 MB), its content encrypted in the database."""

    __tablename__ = "documents"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DocumentKind] = mapped_column(
        string_enum(DocumentKind), default=DocumentKind.AUTHORITY
    )
    # Set for documents attached to a declaration; None for the organisation's own.
    declaration_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("declarations.id", ondelete="CASCADE"), default=None, index=True
    )
    # Set for documents attached to the answer to an inspection's order.
    order_answer_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("inspection_order_answers.id", ondelete="CASCADE"), default=None, index=True
    )
    filename = Encrypted(nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column()
    content = EncryptedBytes(nullable=False)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship()
