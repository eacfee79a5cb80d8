"""Accounts: sign-up, e-mail confirmation, sign-in with lock-out, passwords, staff accounts.

Every failed sign-in reads the same to the visitor and costs the same time; what happened is
written to the activity log as a security event (committed on its own).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from register.crypto import blind
from register.database import utcnow
from register.extensions import db
from register.models import Role, User
from register.services import activity, tokens
from register.services.notifications import local_link, notify
from register.services.passwords import hash_password, needs_rehash, verify_password


class AccountError(ValueError):
    """A rule of accounts was broken; the message says which, for the person acting."""


def normalise_email(email: str) -> str:
    """The form in which e-mail addresses are stored and compared (as the blind index has it)."""
    return blind.normalise_email(email)


def find_by_email(email: str) -> User | None:
    """The user with this e-mail address, if any."""
    candidates = db.session.scalars(sa.select(User).where(User.email.matches(email))).all()
    # The index is full length, so there is at most one; comparing the plaintext is the rule.
    return next((user for user in candidates if User.email.equal(user, email)), None)


# -- sign-up and confirmation -----------------------------------------------------------------


def sign_up(full_name: str, email: str, password: str, locale: str) -> User | None:
    """Create a holder's account and send the confirmation link.

    If the address is already registered, nothing is created and its owner is told by e-mail;
    the visitor sees the same page either way, so sign-up does not reveal who has an account.
    """
    existing = find_by_email(email)
    if existing is not None:
        notify(
            existing,
            "account.sign_up_attempt",
            _l("Someone tried to create an account with your e-mail address"),
            _l(
                "Someone tried to create a new account in the Register of Personal Data Holders "
                "with this e-mail address, which already has an account. If it was you, sign in "
                "or reset your password. If not, you can ignore this message."
            ),
            link=local_link("auth.sign_in"),
            sensitive=False,
        )
        return None
    user = User(
        email=normalise_email(email),
        full_name=full_name.strip(),
        role=Role.HOLDER,
        locale=locale,
        password_hash=hash_password(password),
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    activity.record("account.signed_up", actor=user, object_type="user", object_id=str(user.id))
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """E-mail the link that confirms the address (valid 48 hours)."""
    token = confirmation_token(user)
    notify(
        user,
        "account.confirm_email",
        _l("Confirm your e-mail address"),
        _l(
            "Open the link below to confirm your e-mail address and finish creating your account "
            "in the Register of Personal Data Holders. The link works for 48 hours."
        ),
        link=local_link("auth.confirm_email", token=token),
        sensitive=True,
    )


def confirmation_token(user: User) -> str:
    """The signed token of the confirmation link (signed, not encrypted: no address in it)."""
    return tokens.make_token(
        tokens.EMAIL_CONFIRMATION, {"uid": str(user.id), "em": _email_fingerprint(user)}
    )


def confirm_email(token: str) -> User | None:
    """Confirm the address named in a valid token; None when the token is bad or expired."""
    max_age = current_app.config["EMAIL_CONFIRMATION_HOURS"] * 3600
    payload = tokens.read_token(tokens.EMAIL_CONFIRMATION, token, max_age)
    if payload is None:
        return None
    user = _user_from_payload(payload)
    if user is None or payload.get("em") != _email_fingerprint(user):
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        activity.record(
            "account.email_confirmed", actor=user, object_type="user", object_id=str(user.id)
        )
        db.session.flush()
    return user


def _email_fingerprint(user: User) -> str:
    """A short digest of the address (its blind index): a token dies if the address changes."""
    return tokens.fingerprint(bytes(user.email_index or b"").hex())


def _user_from_payload(payload: dict[str, object]) -> User | None:
    import uuid

    try:
        user_id = uuid.UUID(str(payload.get("uid")))
    except ValueError:
        return None
    return db.session.get(User, user_id)


# -- sign-in ----------------------------------------------------------------------------------


class SignIn(enum.Enum):
    """The outcome of checking an e-mail address and password."""

    OK = "ok"
    FAILED = "failed"  # unknown address, wrong password, locked or deactivated: all look alike
    UNCONFIRMED = "unconfirmed"  # right password, but the e-mail address is not confirmed yet


@dataclass
class SignInResult:
    """What `authenticate` found, and the user when the password was right."""

    outcome: SignIn
    user: User | None = None


def authenticate(email: str, password: str) -> SignInResult:
    """Check a password, counting failures and locking the account after too many."""
    user = find_by_email(email)
    if user is None:
        verify_password(None, password)  # same cost as a real check
        activity.record_security_event("auth.sign_in_failed", details={"reason": "unknown"})
        return SignInResult(SignIn.FAILED)

    now = utcnow()
    password_ok = verify_password(user.password_hash, password)
    reason = None
    if not user.is_active:
        reason = "deactivated"
    elif user.is_locked(now):
        reason = "locked"
    elif not password_ok:
        reason = "wrong_password"
        user.failed_sign_ins += 1
        if user.failed_sign_ins >= current_app.config["SIGN_IN_MAX_FAILURES"]:
            _lock(user, now)
    if reason is not None:
        activity.record_security_event(
            "auth.sign_in_failed",
            actor=None,
            object_type="user",
            object_id=str(user.id),
            details={"reason": reason},
        )
        db.session.flush()
        return SignInResult(SignIn.FAILED)

    user.failed_sign_ins = 0
    user.locked_until = None
    if user.password_hash is not None and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    if user.role is Role.HOLDER and not user.email_confirmed:
        return SignInResult(SignIn.UNCONFIRMED, user)
    return SignInResult(SignIn.OK, user)


def _lock(user: User, now: object) -> None:
    minutes = current_app.config["SIGN_IN_LOCKOUT_MINUTES"]
    user.locked_until = utcnow() + timedelta(minutes=minutes)
    user.failed_sign_ins = 0
    activity.record_security_event(
        "auth.locked_out",
        object_type="user",
        object_id=str(user.id),
        details={"minutes": minutes},
    )
    notify(
        user,
        "account.locked",
        _l("Your account was locked for %(minutes)d minutes", minutes=minutes),
        _l(
            "There were too many failed attempts to sign in to your account, so it is locked "
            "for %(minutes)d minutes. If it was not you, reset your password after that time.",
            minutes=minutes,
        ),
        link=local_link("auth.forgot_password"),
    )


def record_sign_in(user: User) -> None:
    """Note a completed sign-in (after the second factor, for staff)."""
    user.last_sign_in_at = utcnow()
    activity.record("auth.signed_in", actor=user, object_type="user", object_id=str(user.id))
    db.session.flush()


# -- passwords --------------------------------------------------------------------------------


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.session_version += 1  # ends every other session
    user.failed_sign_ins = 0
    user.locked_until = None


def change_password(user: User, current_password: str, new_password: str) -> bool:
    """Change the password if the current one is right; other sessions end."""
    if not verify_password(user.password_hash, current_password):
        return False
    _set_password(user, new_password)
    activity.record("auth.password_changed", actor=user, object_type="user", object_id=str(user.id))
    notify(
        user,
        "account.password_changed",
        _l("Your password was changed"),
        _l(
            "The password of your account was changed and every other session was signed out. "
            "If you did not do this, reset your password now and tell the agency."
        ),
        link=local_link("auth.forgot_password"),
    )
    db.session.flush()
    return True


def request_password_reset(email: str) -> None:
    """E-mail a single-use reset link (1 hour) if the account exists; say nothing either way."""
    user = find_by_email(email)
    if user is None or not user.is_active:
        return
    send_password_link(user, tokens.PASSWORD_RESET)


def send_password_link(user: User, purpose: str) -> None:
    """E-mail a link to set a password: a reset, or a new staff member's invitation."""
    token = tokens.make_token(
        purpose, {"uid": str(user.id), "pw": tokens.fingerprint(user.password_hash)}
    )
    if purpose == tokens.STAFF_INVITATION:
        subject = _l("Your account in the Register of Personal Data Holders")
        body = _l(
            "An account was created for you. Open the link below to choose your password; "
            "it works for 72 hours. You will then set up two-factor sign-in."
        )
    else:
        subject = _l("Reset your password")
        body = _l(
            "Open the link below to choose a new password. It works once, for one hour. "
            "If you did not ask for this, ignore this message: your password stays the same."
        )
    notify(
        user,
        f"account.{purpose}",
        subject,
        body,
        link=local_link("auth.reset_password", token=token, purpose=purpose),
        sensitive=True,
    )


def user_for_password_token(token: str, purpose: str) -> User | None:
    """The user of a valid, unused, unexpired password token."""
    config = current_app.config
    if purpose == tokens.STAFF_INVITATION:
        max_age = config["STAFF_INVITATION_HOURS"] * 3600
    elif purpose == tokens.PASSWORD_RESET:
        max_age = config["PASSWORD_RESET_MINUTES"] * 60
    else:
        return None
    payload = tokens.read_token(purpose, token, max_age)
    if payload is None:
        return None
    user = _user_from_payload(payload)
    # The token carries a fingerprint of the password it replaces: once used, it is dead.
    if user is None or not user.is_active:
        return None
    if payload.get("pw") != tokens.fingerprint(user.password_hash):
        return None
    return user


def reset_password(user: User, new_password: str) -> None:
    """Set a new password from an e-mailed link; the link proved the address too."""
    _set_password(user, new_password)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    activity.record("auth.password_reset", actor=user, object_type="user", object_id=str(user.id))
    db.session.flush()


def sign_out_everywhere(user: User, actor: User | None = None) -> None:
    """End every session of `user`."""
    user.session_version += 1
    activity.record(
        "account.signed_out_everywhere",
        actor=actor or user,
        object_type="user",
        object_id=str(user.id),
    )
    db.session.flush()


def user_names(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The names of the users with these ids (the e-mail address when a name is missing), in
    one query; None and unknown ids are left out."""
    wanted = {value for value in ids if value is not None}
    if not wanted:
        return {}
    return {
        user.id: str(user.full_name or user.email or "")
        for user in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))
    }
