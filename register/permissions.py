"""Access control, deny by default: public endpoints are listed, everything else needs a user.

Roles are checked by `roles_required`; object-level checks (`can_view_…(user, obj)`) live here
too, so that views ask one place whether a user may see a thing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request
from flask_login import current_user

from register.extensions import db, login_manager
from register.models import Notification, Role, User

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

    @app.before_request
    def deny_by_default() -> Any:
        if is_public(request.endpoint):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None
