"""Agency staff accounts: created by admins (or the CLI), roles, deactivation, two-factor reset."""

from __future__ import annotations

import re

import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import STAFF_ROLES, Role, User
from register.services import activity, tokens, two_factor
from register.services.accounts import (
    AccountError,
    find_by_email,
    normalise_email,
    send_password_link,
)
from register.services.passwords import hash_password
from register.validation import EMAIL_PATTERN


def create_staff(
    email: str,
    full_name: str,
    role: Role,
    *,
    password: str | None = None,
    actor: User | None = None,
    locale: str = "ru",
) -> User:
    """Create an agency account; without a password an invitation link is e-mailed."""
    if role not in STAFF_ROLES:
        raise AccountError("staff role must be inspector, supervisor or admin")
    if not re.match(EMAIL_PATTERN, email.strip()) or len(email.strip()) > 254:
        raise AccountError("the e-mail address is not valid")
    if find_by_email(email) is not None:
        raise AccountError("an account with this e-mail address already exists")
    user = User(
        email=normalise_email(email),
        full_name=full_name.strip(),
        role=role,
        locale=locale,
        email_confirmed_at=utcnow(),
    )
    if password is not None:
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    db.session.add(user)
    db.session.flush()
    activity.record(
        "user.created",
        actor=actor,
        object_type="user",
        object_id=str(user.id),
        details={"role": role.value},
    )
    if password is None:
        send_password_link(user, tokens.STAFF_INVITATION)
    return user


def _other_active_admins(user: User) -> int:
    """Active admins besides `user`, with their rows locked (two admins acting on each other
    at once cannot both pass the check on PostgreSQL; SQLite serialises writers anyway)."""
    rows = db.session.scalars(
        sa.select(User.id)
        .where(User.role == Role.ADMIN, User.is_active_account.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    return len(rows)


def change_role(user: User, role: Role, actor: User) -> None:
    """Give a staff member another staff role (never to or from holder)."""
    if role not in STAFF_ROLES or user.role not in STAFF_ROLES:
        raise AccountError("only agency staff roles can be changed here")
    if user.id == actor.id:
        raise AccountError("you cannot change your own role")
    if user.role is role:
        return
    if user.role is Role.ADMIN and user.is_active_account and _other_active_admins(user) == 0:
        raise AccountError("the last active admin cannot be deactivated")
    old = user.role
    user.role = role
    user.session_version += 1  # new rights start with a new session
    activity.record(
        "user.role_changed",
        actor=actor,
        object_type="user",
        object_id=str(user.id),
        details={"from": old.value, "to": role.value},
    )
    db.session.flush()


def set_active(user: User, active: bool, actor: User) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    if user.id == actor.id:
        raise AccountError("you cannot deactivate your own account")
    if user.is_active_account == active:
        return
    if not active and user.role is Role.ADMIN and _other_active_admins(user) == 0:
        raise AccountError("the last active admin cannot be deactivated")
    user.is_active_account = active
    user.session_version += 1
    activity.record(
        "user.reactivated" if active else "user.deactivated",
        actor=actor,
        object_type="user",
        object_id=str(user.id),
    )
    db.session.flush()


def reset_two_factor(user: User, actor: User) -> None:
    """Make a staff member enrol two-factor again (lost phone); ends their sessions."""
    if user.id == actor.id:
        raise AccountError("another admin must reset your two-factor sign-in")
    two_factor.reset(user)
    user.session_version += 1
    activity.record(
        "user.two_factor_reset", actor=actor, object_type="user", object_id=str(user.id)
    )
    db.session.flush()


def staff_list() -> list[User]:
    """Every agency account, by role then name."""
    users = db.session.scalars(sa.select(User).where(User.role.in_(STAFF_ROLES))).all()
    # Names are encrypted, so they are sorted here, after decryption, not in SQL.
    order = {role: position for position, role in enumerate(STAFF_ROLES)}
    return sorted(users, key=lambda user: (order[user.role], (user.full_name or "").casefold()))
