"""User accounts: holders' clerks and agency staff, their sign-in state and two-factor codes."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from register.crypto.fields import BlindIndex, Encrypted
from register.database import TimestampMixin, utcnow
from register.extensions import Model


class Role(enum.StrEnum):
    """What a user is: a holder's staff member or one of the agency's roles."""

    HOLDER = "holder"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        """Agency staff (inspector, supervisor, admin) as opposed to a holder's users."""
        return self is not Role.HOLDER


STAFF_ROLES = (Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN)


class User(UserMixin, TimestampMixin, Model):
    """A person who signs in: a holder's clerk or a member of the agency's staff."""

    __tablename__ = "users"

    # Personal data, encrypted at rest. The e-mail's blind index is full length (32 bytes) and
    # unique: it finds the account at sign-in and refuses a second account for one address.
    # Full length gives up nothing a shorter index would hide, since uniqueness already tells
    # an attacker with the database whether two rows share an address; it only makes
    # collisions impossible. Names have no index: nobody looks a user up by name.
    email = Encrypted(nullable=False, blind_index=BlindIndex("email", length_bytes=32, unique=True))
    full_name = Encrypted(nullable=False)
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    locale: Mapped[str] = mapped_column(sa.String(5), default="ky")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    password_hash: Mapped[str | None] = mapped_column(sa.String(255), default=None)
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(default=None)
    # Raised to end every session of the user (password change, "sign out everywhere").
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    # Two-factor (TOTP) for agency staff: the shared secret is encrypted like personal data.
    totp_secret = Encrypted()
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_timestep: Mapped[int | None] = mapped_column(sa.BigInteger, default=None)

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def is_active(self) -> bool:
        """Flask-Login: deactivated accounts cannot sign in."""
        return self.is_active_account

    @property
    def is_staff(self) -> bool:
        """True for inspectors, supervisors and admins."""
        return self.role.is_staff

    @property
    def email_confirmed(self) -> bool:
        """Whether the user proved the e-mail address is theirs."""
        return self.email_confirmed_at is not None

    @property
    def two_factor_enrolled(self) -> bool:
        """Whether the user has a confirmed TOTP secret."""
        return self.totp_enrolled_at is not None and self.totp_secret is not None

    def is_locked(self, now: datetime | None = None) -> bool:
        """Whether sign-in is refused because of too many failures."""
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def get_id(self) -> str:
        """Flask-Login's session id: the user's id and session counter (see load_user)."""
        return f"{self.id}:{self.session_version}"


class RecoveryCode(Model):
    """A single-use two-factor recovery code, stored as a SHA-256 hash (the code is random)."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="recovery_codes")
