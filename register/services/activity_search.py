"""Searching the activity log for the agency's page: by actor, action and object, newest first.

Pages are keyset-paginated on `seq` (`before`), so the thousandth page costs what the first
does; the actors of a page are loaded in one query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from register.extensions import db
from register.models import ActivityEntry, User
from register.services.activity import AnySession

PAGE_SIZE = 50


@dataclass(frozen=True)
class ActivityFilters:
    """What to narrow the log to; empty strings mean "any"."""

    actor: str = ""  # a user's id or e-mail address
    action: str = ""  # exact ("auth.sign_in_failed") or a prefix ("auth" or "auth.")
    object_type: str = ""
    object_id: str = ""


@dataclass(frozen=True)
class ActivityPage:
    """One page of entries, newest first, with their actors and the key of the next page."""

    entries: list[ActivityEntry]
    actors: dict[uuid.UUID, User] = field(default_factory=dict)
    next_before: int | None = None  # pass as `before` for older entries; None on the last page
    unknown_actor: bool = False  # the actor filter named nobody


def _actor_id(session: AnySession, actor: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(actor)
    except ValueError:
        pass
    from register.services.accounts import find_by_email

    user = find_by_email(actor)
    return user.id if user is not None else None


def search(
    filters: ActivityFilters, *, before: int | None = None, session: AnySession | None = None
) -> ActivityPage:
    """A page of entries matching `filters`, newest first, older than `before` when given."""
    if session is None:
        session = db.session
    statement = sa.select(ActivityEntry)
    actor = filters.actor.strip()
    if actor:
        actor_id = _actor_id(session, actor)
        if actor_id is None:
            return ActivityPage(entries=[], unknown_actor=True)
        statement = statement.where(ActivityEntry.actor_id == actor_id)
    action = filters.action.strip()
    if action.endswith((".", "*")):
        statement = statement.where(
            ActivityEntry.action.startswith(action.rstrip("*"), autoescape=True)
        )
    elif action:
        statement = statement.where(
            sa.or_(
                ActivityEntry.action == action,
                ActivityEntry.action.startswith(action + ".", autoescape=True),
            )
        )
    if filters.object_type.strip():
        statement = statement.where(ActivityEntry.object_type == filters.object_type.strip())
    if filters.object_id.strip():
        statement = statement.where(ActivityEntry.object_id == filters.object_id.strip())
    if before is not None:
        statement = statement.where(ActivityEntry.seq < before)
    # One more than a page tells whether an older page exists.
    rows = list(session.scalars(statement.order_by(ActivityEntry.seq.desc()).limit(PAGE_SIZE + 1)))
    entries = rows[:PAGE_SIZE]
    next_before = entries[-1].seq if len(rows) > PAGE_SIZE else None
    actor_ids = {entry.actor_id for entry in entries if entry.actor_id is not None}
    actors: dict[uuid.UUID, User] = {}
    if actor_ids:
        actors = {
            user.id: user for user in session.scalars(sa.select(User).where(User.id.in_(actor_ids)))
        }
    return ActivityPage(entries=entries, actors=actors, next_before=next_before)
