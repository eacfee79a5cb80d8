"""Access control, deny by default: public endpoints are listed, everything else needs a user.

Roles are checked by `roles_required`; object-level checks (`can_view_…(user, obj)`) live here
too, so that views ask one place whether a user may see a thing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from register.extensions import db, login_manager
from register.models import (
    AccessRequest,
    AccessRequestAddressee,
    MemberRole,
    Membership,
    Notification,
    Organisation,
    Role,
    User,
)

F = TypeVar("F", bound=Callable[..., Any])


def public_endpoint(app: Flask, *endpoints: str) -> None:
    """Add endpoints to the allowlist of those reachable without signing in."""
    app.config["PUBLIC_ENDPOINTS"].update(endpoints)


def is_public(endpoint: str | None) -> bool:
    """Whether `endpoint` is on the allowlist (unknown endpoints fall through to a 404)."""
    if endpoint is None:
        return True
    return endpoint in current_app.config["PUBLIC_ENDPOINTS"]


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let only signed-in users with one of `roles` through; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def membership(user: User, organisation_id: uuid.UUID) -> Membership | None:
    """The user's membership of the organisation, if any (holders only)."""
    if not user.is_authenticated or user.role is not Role.HOLDER:
        return None
    return db.session.scalar(
        sa.select(Membership).where(
            Membership.organisation_id == organisation_id, Membership.user_id == user.id
        )
    )


def member_organisation(organisation_id: uuid.UUID, *, owner: bool = False) -> Organisation:
    """The organisation if the signed-in holder acts for it (as an owner when asked), else 404.

    A holder of another organisation cannot tell this organisation's objects from missing ones.
    """
    found = membership(current_user, organisation_id)
    if found is None or (owner and found.role is not MemberRole.OWNER):
        abort(404)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


def can_view_notification(user: User, notification: Notification) -> bool:
    """A notification is its recipient's alone."""
    return user.is_authenticated and notification.recipient_id == user.id


def init_app(app: Flask) -> None:
    """Install the deny-by-default gate and the user loader."""

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # The session holds "<user id>:<session counter>": raising the counter in the database
        # (password change, "sign out everywhere") ends every session that holds the old one.
        user_id, _, version = session_id.partition(":")
        try:
            key = uuid.UUID(user_id)
            session_version = int(version)
        except ValueError:
            return None
        user = db.session.get(User, key)
        if user is None or not user.is_active or user.session_version != session_version:
            return None
        return user

    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        # API clients get problem details; browsers go to sign-in and come back afterwards.
        from register.errors import error_response, wants_json

        if wants_json():
            return error_response(401)
        flash(_l("Please sign in to continue."), "info")
        target = request.full_path if request.method == "GET" else None
        if target and target.endswith("?"):
            target = target[:-1]
        return redirect(url_for("auth.sign_in", next=target))

    @app.before_request
    def deny_by_default() -> Any:
        if is_public(request.endpoint):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.is_staff and idle_too_long():
            from register.auth import sessions
            from register.services import activity

            activity.record_security_event(
                "auth.idle_timeout", object_type="user", object_id=str(current_user.id)
            )
            sessions.end()
            flash(
                _l(
                    "You were signed out after %(minutes)d minutes without activity.",
                    minutes=app.config["STAFF_IDLE_MINUTES"],
                ),
                "info",
            )
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        session["last_active"] = int(time.time())
        return None


def idle_too_long() -> bool:
    """Whether the signed-in staff member's session has been idle past STAFF_IDLE_MINUTES."""
    last_active = session.get("last_active")
    limit = current_app.config["STAFF_IDLE_MINUTES"] * 60
    return last_active is None or int(time.time()) - int(last_active) > limit


def can_decide_access_request(user: User, access_request: AccessRequest) -> bool:
    """The agency decides requests addressed to it; an organisation's owners decide theirs."""
    if not user.is_authenticated:
        return False
    if access_request.addressed_to is AccessRequestAddressee.AGENCY:
        return bool(user.role.is_staff)
    found = membership(user, access_request.organisation_id)
    return found is not None and found.role is MemberRole.OWNER
