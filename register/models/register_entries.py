"""The public register: entries, their published versions, status changes, numbers, certificates.

Approving a declaration publishes its version: the denormalised `RegisterEntry` is written from
the version's public snapshot (with a normalised search text and filter flags), and the version
is added to `RegisterEntryVersion` as history. Public pages, the API and open data read only
these tables, so the public side never decrypts anything (DESIGN.md §2). Registration numbers
come from `RegistrationSequence`, one row per (prefix, year), incremented under the row's lock.
A `Certificate` is issued for each published version; its random code is what `/verify/<code>`
looks up.
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


class EntryStatus(enum.StrEnum):
    """What the public sees of an entry's standing."""

    REGISTERED = "registered"
    SUSPENDED = "suspended"
    STRUCK_OFF = "struck_off"


_status_type = string_enum(EntryStatus)
_C_STRING_500 = sa.String(500).with_variant(sa.String(500, collation="C"), "postgresql")
_C_STRING_40 = sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql")


class RegisterEntry(TimestampMixin, Model):
    """A holder's public entry: the published version's public fields, denormalised."""

    __tablename__ = "register_entries"
    __table_args__ = (
        sa.Index("ix_register_entries_sort", "sort_name", "registration_number"),
        sa.Index("ix_register_entries_status", "status"),
        # The inspection plan counts the holders it ranks, by region or sector, from here alone.
        sa.Index("ix_register_entries_status_place", "status", "region_code", "sector_code"),
        # The inspection plan reads holders without history in score order from here.
        sa.Index(
            "ix_register_entries_plan",
            "special_categories",
            "cross_border",
            "max_subjects",
            "sort_name",
            "registration_number",
        ),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), unique=True
    )
    registration_number: Mapped[str] = mapped_column(_C_STRING_40, unique=True)
    status: Mapped[EntryStatus] = mapped_column(_status_type, default=EntryStatus.REGISTERED)
    registered_on: Mapped[date] = mapped_column(sa.Date)
    updated_on: Mapped[date] = mapped_column(sa.Date)  # last publication or change of status
    status_changed_on: Mapped[date | None] = mapped_column(sa.Date, default=None)
    version_number: Mapped[int] = mapped_column()
    declaration_version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("declaration_versions.id", ondelete="RESTRICT")
    )
    legal_name: Mapped[str] = mapped_column(sa.String(500))
    short_name: Mapped[str | None] = mapped_column(sa.String(200), default=None)
    tin: Mapped[str | None] = mapped_column(sa.String(14), default=None, index=True)  # not an IE's
    legal_form_code: Mapped[str | None] = mapped_column(sa.String(40), default=None)
    sector_code: Mapped[str | None] = mapped_column(sa.String(40), default=None, index=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(10), default=None, index=True)
    # Search: names, TIN and number, normalised (see register.search_text).
    search_text: Mapped[str] = mapped_column(sa.Text, default="")
    # SQLite only: the row's id in the FTS5 index `register_entries_fts` (kept in step by
    # triggers). PostgreSQL searches a GIN index on the column itself and leaves this empty.
    search_rowid: Mapped[int | None] = mapped_column(sa.BigInteger, default=None, unique=True)
    # The normalised legal name. Code-point order on PostgreSQL whatever the database's
    # collation, as on SQLite and in Python: search merges ordered ranges in Python.
    sort_name: Mapped[str] = mapped_column(_C_STRING_500, default="")
    cross_border: Mapped[bool] = mapped_column(default=False, index=True)
    special_categories: Mapped[bool] = mapped_column(default=False, index=True)
    array_count: Mapped[int] = mapped_column(default=0)
    # The lower bound of the largest subject-count bucket among the arrays (None: no array says):
    # one of the inspection plan's risk terms.
    max_subjects: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)
    public_snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    versions: Mapped[list[RegisterEntryVersion]] = relationship(
        back_populates="entry", order_by="RegisterEntryVersion.number", lazy="raise"
    )


# Every word of an entry's search text, with the entry's place in the results' order
# (sort name, number) as the rest of the key, and the entry's filters: one index range per word
# gives its entries already in order, filtered as they are read, so a page of a common word is
# read, not sorted (`services.registry`). Kept in step
# with `register_entries` by triggers (revision 5c1e0d7a9b21), whatever writes the entries.
TERM_LENGTH = 100  # longer words are cut here, on both sides
search_terms = sa.Table(
    "register_search_terms",
    Model.metadata,
    sa.Column(
        "term",
        # Byte order on PostgreSQL, whatever the database's collation: prefix ranges rely on it.
        sa.String(TERM_LENGTH).with_variant(sa.String(TERM_LENGTH, collation="C"), "postgresql"),
        nullable=False,
    ),
    sa.Column("sort_name", _C_STRING_500, nullable=False),
    sa.Column("registration_number", _C_STRING_40, nullable=False),
    sa.Column(
        "entry_id",
        sa.Uuid(),
        sa.ForeignKey("register_entries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # The entry's filters, copied: a word's range is filtered as it is read, no entry looked up.
    sa.Column("region_code", sa.String(10), nullable=True),
    sa.Column("sector_code", sa.String(40), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("cross_border", sa.Boolean(), nullable=False),
    sa.Column("special_categories", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("term", "sort_name", "registration_number"),
    sqlite_with_rowid=False,
)


class RegisterEntryVersion(Model):
    """One published version of an entry, kept as history (public fields only)."""

    __tablename__ = "register_entry_versions"
    __table_args__ = (sa.UniqueConstraint("entry_id", "number", name="uq_entry_versions_number"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("register_entries.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column()
    declaration_version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("declaration_versions.id", ondelete="RESTRICT"), unique=True
    )
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    public_snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    entry: Mapped[RegisterEntry] = relationship(back_populates="versions")


class RegisterEntryEvent(Model):
    """A supervisor's suspension, reinstatement or striking off, with its grounds."""

    __tablename__ = "register_entry_events"

    entry_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("register_entries.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    article: Mapped[str | None] = mapped_column(sa.String(100), default=None)
    grounds = Encrypted(nullable=False)
    declaration_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("declarations.id", ondelete="SET NULL"), default=None
    )  # the termination notice that struck the entry off, if any


class RegistrationSequence(Model):
    """The last registration number given for a prefix and a year (agency time zone)."""

    __tablename__ = "registration_sequences"
    __table_args__ = (sa.UniqueConstraint("prefix", "year", name="uq_registration_sequences"),)

    prefix: Mapped[str] = mapped_column(sa.String(20))
    year: Mapped[int] = mapped_column()
    last_value: Mapped[int] = mapped_column(default=0)


class Certificate(Model):
    """A registration certificate for one published version; its code is random."""

    __tablename__ = "certificates"

    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("register_entries.id", ondelete="CASCADE"), index=True
    )
    entry_version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("register_entry_versions.id", ondelete="CASCADE"), unique=True
    )
    version_number: Mapped[int] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    entry: Mapped[RegisterEntry] = relationship(lazy="joined")
    entry_version: Mapped[RegisterEntryVersion] = relationship(lazy="joined")
