"""The events of a holder's file (`services.holder_file`): their kinds, groups and order.

An `Event` says when (aware, UTC), what (a stable `kind` code and its label), a summary that is
never confidential text, who acted, and the record's agency page. `EventCollector` gathers them
from the file's sources and names every actor in one query.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from register.i18n import agency_timezone
from register.services import accounts


class Group(enum.StrEnum):
    """The page's filter: which part of the file to show."""

    REGISTRATION = "registration"
    BREACHES = "breaches"
    COMPLAINTS = "complaints"
    INSPECTIONS = "inspections"


GROUP_LABELS = {
    Group.REGISTRATION: _l("Registration"),
    Group.BREACHES: _l("Breach reports"),
    Group.COMPLAINTS: _l("Complaints"),
    Group.INSPECTIONS: _l("Inspections"),
}

# Every kind, in the order of the steps of one record: events at the same moment are shown in
# this order (then by record), so the order never depends on the database.
KINDS: dict[str, tuple[Group, Any]] = {
    "declaration.submitted": (Group.REGISTRATION, _l("Declaration submitted")),
    "declaration.in_review": (Group.REGISTRATION, _l("Declaration taken into review")),
    "declaration.changes_requested": (Group.REGISTRATION, _l("Changes requested")),
    "declaration.awaiting_sign_off": (
        Group.REGISTRATION,
        _l("Approval awaiting a supervisor's sign-off"),
    ),
    "declaration.approved": (Group.REGISTRATION, _l("Declaration approved")),
    "declaration.rejected": (Group.REGISTRATION, _l("Declaration rejected")),
    "declaration.withdrawn": (Group.REGISTRATION, _l("Declaration withdrawn")),
    "declaration.draft": (Group.REGISTRATION, _l("Declaration back to draft")),
    "entry.published": (Group.REGISTRATION, _l("Version published in the register")),
    "entry.suspended": (Group.REGISTRATION, _l("Entry suspended")),
    "entry.reinstated": (Group.REGISTRATION, _l("Entry reinstated")),
    "entry.struck_off": (Group.REGISTRATION, _l("Entry struck off the register")),
    "breach.filed": (Group.BREACHES, _l("Breach report filed")),
    "breach.follow_up": (Group.BREACHES, _l("Breach report completed (follow-up)")),
    "breach.assessing": (Group.BREACHES, _l("Breach report taken for assessment")),
    "breach.question": (Group.BREACHES, _l("Question to the holder about a breach report")),
    "breach.answered": (Group.BREACHES, _l("The holder answered a question")),
    "breach.decided": (Group.BREACHES, _l("Breach report decided")),
    "complaint.received": (Group.COMPLAINTS, _l("Complaint received")),
    "complaint.assessing": (Group.COMPLAINTS, _l("Complaint taken for assessment")),
    "complaint.decided": (Group.COMPLAINTS, _l("Complaint decided")),
    "inspection.planned": (Group.INSPECTIONS, _l("Inspection planned")),
    "inspection.started": (Group.INSPECTIONS, _l("Inspection started")),
    "violation.recorded": (Group.INSPECTIONS, _l("Violation recorded")),
    "order.issued": (Group.INSPECTIONS, _l("Order issued")),
    "order.answered": (Group.INSPECTIONS, _l("The holder answered an order")),
    "order.accepted": (Group.INSPECTIONS, _l("Answer to an order accepted")),
    "order.returned": (Group.INSPECTIONS, _l("Answer to an order returned")),
    "order.withdrawn": (Group.INSPECTIONS, _l("Order withdrawn")),
    "inspection.report": (Group.INSPECTIONS, _l("Inspection report written")),
    "inspection.closed": (Group.INSPECTIONS, _l("Inspection closed")),
}
_KIND_ORDER = {kind: position for position, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Event:
    """One thing that happened to the holder: when, what, a summary, who, and where to read it."""

    at: datetime  # aware, UTC
    kind: str  # a stable code, e.g. "breach.filed"
    label: str
    summary: str  # never confidential text: statuses, numbers, dates
    actor: str | None = None
    endpoint: str | None = None  # the record's agency page
    values: dict[str, Any] = field(default_factory=dict)
    record_id: str = ""  # the source row, for a stable order among events of one moment
    date_only: bool = False  # the source knows the day, not the time (`at`: its first moment)

    @property
    def group(self) -> Group:
        """Registration, breaches, complaints or inspections."""
        return KINDS[self.kind][0]

    @property
    def url(self) -> str | None:
        """The link to the record's agency page, when it has one."""
        return url_for(self.endpoint, **self.values) if self.endpoint else None

    def sort_key(self) -> tuple[datetime, int, datetime, str]:
        """The second, then the step's place in a record's life, then the exact time and the
        record. One action's steps are stamped microseconds apart, not always in the order they
        mean (an approval publishes its version, stamped first): within a second, that order
        wins."""
        second = self.at.replace(microsecond=0)
        return (second, _KIND_ORDER[self.kind], self.at, self.record_id)


def start_of_day(day: date) -> datetime:
    """The first moment of `day` in the agency's time zone, in UTC."""
    return datetime.combine(day, time.min, tzinfo=agency_timezone()).astimezone(UTC)


def join(*parts: Any) -> str:
    """The non-empty parts of a summary, separated by a middle dot."""
    return " · ".join(str(part) for part in parts if part not in (None, ""))


@dataclass
class EventCollector:
    """Collects events and the ids of their actors (named afterwards in one query)."""

    events: list[tuple[dict[str, Any], uuid.UUID | None]] = field(default_factory=list)

    def add(
        self,
        at: datetime | None,
        kind: str,
        summary: str,
        *,
        actor_id: uuid.UUID | None = None,
        record_id: uuid.UUID,
        link: tuple[str, dict[str, Any]] | None = None,
        label: str | None = None,
        date_only: bool = False,
    ) -> None:
        if at is None:
            return
        endpoint, values = link if link is not None else (None, {})
        self.events.append(
            (
                {
                    "at": at,
                    "kind": kind,
                    "label": label or str(KINDS[kind][1]),
                    "summary": summary,
                    "endpoint": endpoint,
                    "values": values,
                    "record_id": str(record_id),
                    "date_only": date_only,
                },
                actor_id,
            )
        )

    def build(self) -> list[Event]:
        actor_ids = {actor_id for _values, actor_id in self.events if actor_id}
        names = actor_names(actor_ids)
        return [
            Event(**values, actor=names.get(actor_id) if actor_id else None)
            for values, actor_id in self.events
        ]


def actor_names(actor_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The actors' names (one query)."""
    return accounts.user_names(actor_ids)


def local_date(moment: datetime) -> date:
    """The date of `moment` in the agency's time zone."""
    return moment.astimezone(agency_timezone()).date()
