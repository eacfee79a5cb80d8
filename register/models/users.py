"""User accounts: a minimal model that the accounts issue extends (passwords, two-factor)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from register.database import TimestampMixin
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


class User(UserMixin, TimestampMixin, Model):
    """A person who signs in: a holder's clerk or a member of the agency's staff."""

    __tablename__ = "users"

    # The accounts/encryption issues replace the plain e-mail with ciphertext + blind index.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    locale: Mapped[str] = mapped_column(sa.String(5), default="ky")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_active(self) -> bool:
        """Flask-Login: deactivated accounts cannot sign in."""
        return self.is_active_account

    @property
    def is_staff(self) -> bool:
        """True for inspectors, supervisors and admins."""
        return self.role.is_staff
