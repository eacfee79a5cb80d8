"""Starting and ending sessions: fixation-safe sign-in, the pending second factor, safe `next`."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from flask import current_app, session
from flask_login import login_user, logout_user

from register.extensions import db
from register.models import User
from register.services.accounts import record_sign_in

PENDING_USER = "pending_user"
PENDING_SINCE = "pending_since"
PENDING_NEXT = "pending_next"
LAST_ACTIVE = "last_active"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _fresh_session() -> None:
    # A new session at sign-in (no fixation): keep only the language choice.
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def start(user: User) -> None:
    """Sign `user` in with a new session."""
    _fresh_session()
    login_user(user)
    session[LAST_ACTIVE] = int(time.time())
    session.permanent = True
    record_sign_in(user)


def begin_second_factor(user: User, next_path: str | None) -> None:
    """Remember who passed the password step, until the second factor is given."""
    _fresh_session()
    session[PENDING_USER] = user.get_id()
    session[PENDING_SINCE] = int(time.time())
    if next_path:
        session[PENDING_NEXT] = next_path


def pending_user() -> User | None:
    """The staff member between password and code, if the step has not expired."""
    pending = session.get(PENDING_USER)
    since = session.get(PENDING_SINCE, 0)
    limit = current_app.config["TWO_FACTOR_PENDING_MINUTES"] * 60
    if not pending or int(time.time()) - int(since) > limit:
        return None
    user_id, _, version = str(pending).partition(":")
    try:
        user = db.session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


def finish_second_factor(user: User) -> str | None:
    """Complete the sign-in of a pending staff member; return where they were going."""
    next_path = session.get(PENDING_NEXT)
    start(user)
    return safe_next(next_path)


def end() -> None:
    """Sign out and forget the session."""
    logout_user()
    _fresh_session()
