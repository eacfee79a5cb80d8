"""What the triage of breach reports and of complaints share: guarded state changes, stale-form
messages, the holder filter of the agency's lists, and pages of a list.

A change of state is one conditional UPDATE on the row's id, its status (one of the states the
move starts from) and the `lock_version` the page was read at, raising the version: of two
staff acting at once exactly one wins, and the other is told who acted and when (read from the
activity log, which records every move).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from register.crypto.blind import normalise_digits
from register.database import utcnow
from register.extensions import db
from register.models import ActivityEntry, Organisation, RegisterEntry, Role, User
from register.search_text import normalise
from register.services.staff_search import name_matches

PAGE_SIZE = 50
REVIEWER_ROLES = (Role.INSPECTOR, Role.SUPERVISOR)
_NUMBER = re.compile(r"^[A-Za-z]{1,20}-\d{4}-\d{1,9}$")

RowT = TypeVar("RowT")


class TriageError(Exception):
    """The move is not allowed now; the message says why."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.field = field


class StaleRecord(TriageError):
    """The record changed since its page was read: someone else acted first."""


def is_reviewer(user: User) -> bool:
    """Inspectors and supervisors triage; admins keep the system, not the register."""
    return bool(user.is_authenticated) and user.role in REVIEWER_ROLES


def may_decide(user: User, assignee_id: object) -> bool:
    """The staff member assessing the record, or any supervisor."""
    return is_reviewer(user) and (user.role is Role.SUPERVISOR or assignee_id == user.id)


def stale_message(record: Any, object_type: str, status_labels: dict[Any, Any]) -> str:
    """Who changed the record last, and when, and where it stands now."""
    model = type(record)
    status = db.session.scalar(sa.select(model.status).where(model.id == record.id))
    label = str(status_labels.get(status, "")) if status is not None else ""
    last = db.session.scalar(
        sa.select(ActivityEntry)
        .where(
            ActivityEntry.object_type == object_type,
            ActivityEntry.object_id == str(record.id),
            ActivityEntry.action != f"{object_type}.opened",
        )
        .order_by(ActivityEntry.seq.desc())
        .limit(1)
    )
    actor = db.session.get(User, last.actor_id) if last is not None and last.actor_id else None
    if last is None or actor is None:
        return str(
            _l(
                "This was changed by someone else in the meantime (it is now: %(status)s). "
                "Nothing of yours was saved. Reload the page to see where it stands.",
                status=label,
            )
        )
    return str(
        _l(
            "This was changed by %(name)s on %(when)s (it is now: %(status)s). Nothing of yours "
            "was saved; what you typed is kept below. Reload the page to see where it stands.",
            name=actor.full_name or actor.email,
            when=format_datetime(last.occurred_at, "medium"),
            status=label,
        )
    )


def conditional_update(
    record: Any,
    expected_lock_version: int,
    allowed_from: Iterable[Any],
    values: dict[str, Any],
    *,
    object_type: str,
    status_labels: dict[Any, Any],
) -> None:
    """Set `values` if the record is still in `allowed_from` at `expected_lock_version`.

    Raises StaleRecord (naming who acted) when the page was read before someone else's change.
    """
    model = type(record)
    allowed = list(allowed_from)
    if record.status not in allowed or record.lock_version != expected_lock_version:
        raise StaleRecord(stale_message(record, object_type, status_labels))
    now = utcnow()
    values = {**values, "lock_version": expected_lock_version + 1, "updated_at": now}
    result = db.session.execute(
        sa.update(model)
        .where(
            model.id == record.id,
            model.lock_version == expected_lock_version,
            model.status.in_(allowed),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.expire(record)
        raise StaleRecord(stale_message(record, object_type, status_labels))
    for name, value in values.items():
        set_committed_value(record, name, value)


def holder_condition(text: str) -> sa.ColumnElement[bool] | None:
    """Organisations matching the agency's holder filter: a TIN, a registration number, or
    words of the name (each word anywhere in the normalised names). None: nothing to match."""
    query = (text or "").strip()
    if not query:
        return None
    digits = normalise_digits(query)
    if len(digits) == 14 and not re.search(r"[^\d\s-]", query):
        return Organisation.tin.matches(digits)
    if _NUMBER.match(query):
        return Organisation.id.in_(
            sa.select(RegisterEntry.organisation_id).where(
                RegisterEntry.registration_number == query.upper()
            )
        )
    words = normalise(query).split()[:10]
    if not words:
        return None
    return sa.and_(*name_matches(words))


def organisation_conditions(
    region: str | None, sector: str | None, holder: str
) -> list[sa.ColumnElement[bool]]:
    """The agency lists' filters on the holder: region, sector, and the holder filter."""
    conditions: list[sa.ColumnElement[bool]] = []
    if region:
        conditions.append(Organisation.region_code == region)
    if sector:
        conditions.append(Organisation.sector_code == sector)
    found = holder_condition(holder)
    if found is not None:
        conditions.append(found)
    return conditions


@dataclass(frozen=True)
class ListPage(Generic[RowT]):
    """One page of an agency list."""

    rows: list[RowT]
    total: int
    page: int
    pages: int


def page_bounds(total: int, page: int) -> tuple[int, int]:
    """The page actually shown (1 … pages) and the number of pages."""
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    return min(max(page, 1), pages), pages
