"""One file per holder for agency staff: everything that happened to it, on one timeline.

Declarations and their steps, published versions and changes of status of the register entry,
breach reports (follow-ups, questions, answers, decisions), complaints about the holder, and
inspections (violations, orders, answers and their settlement) become `Event`s: when, what
(a stable `kind` code and a label), a short summary, who acted and a link to the record's own
agency page. The summary holds only what is not confidential — statuses, reference and receipt
numbers, numbers and dates — and never decrypts anything: each source is read column by column
(no encrypted column is selected), one query per source whatever the number of events, plus
one for the actors' names. Date-only fields (an inspection's start) count from the start of
that day in the agency's time zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from register.extensions import db
from register.i18n import medium_date
from register.models import (
    BreachFollowUp,
    BreachQuestion,
    BreachReport,
    BreachStatus,
    Complaint,
    ComplaintStatus,
    Declaration,
    DeclarationEvent,
    DeclarationKind,
    DeclarationVersion,
    EntryStatus,
    RegisterEntry,
    RegisterEntryEvent,
    RegisterEntryVersion,
)
from register.services import breaches, complaints, register_entries
from register.services.holder_file_events import (
    GROUP_LABELS,
    KINDS,
    Event,
    EventCollector,
    Group,
    join,
    local_date,
)
from register.services.holder_file_inspections import INSPECTION_SOURCES
from register.services.registration import KIND_LABELS

__all__ = ["GROUP_LABELS", "Event", "Group", "timeline"]

_ENTRY_KINDS = {
    EntryStatus.SUSPENDED.value: "entry.suspended",
    EntryStatus.REGISTERED.value: "entry.reinstated",
    EntryStatus.STRUCK_OFF.value: "entry.struck_off",
}


# -- the sources, one query each -------------------------------------------------------------


def _declarations(organisation_id: uuid.UUID, out: EventCollector) -> None:
    versions: dict[uuid.UUID, list[int]] = {}
    for declaration_id, number in db.session.execute(
        sa.select(DeclarationVersion.declaration_id, DeclarationVersion.number)
        .where(DeclarationVersion.organisation_id == organisation_id)
        .order_by(DeclarationVersion.number)
    ):
        versions.setdefault(declaration_id, []).append(number)
    rows = db.session.execute(
        sa.select(
            DeclarationEvent.id,
            DeclarationEvent.declaration_id,
            DeclarationEvent.from_status,
            DeclarationEvent.to_status,
            DeclarationEvent.occurred_at,
            DeclarationEvent.actor_id,
            Declaration.kind,
            Declaration.filed_on_paper,
        )
        .join(Declaration, Declaration.id == DeclarationEvent.declaration_id)
        .where(Declaration.organisation_id == organisation_id)
        .order_by(DeclarationEvent.occurred_at, DeclarationEvent.id)
    )
    submissions: dict[uuid.UUID, int] = {}
    for row in rows:
        kind = f"declaration.{row.to_status}"
        if kind not in KINDS:
            continue
        version = None
        label = None
        if row.to_status == "submitted":
            # The n-th submission of a declaration froze its n-th version.
            count = submissions[row.declaration_id] = submissions.get(row.declaration_id, 0) + 1
            numbers = versions.get(row.declaration_id, [])
            if count <= len(numbers):
                version = _("version %(number)s", number=numbers[count - 1])
            if row.from_status == "changes_requested":
                label = _("Declaration resubmitted")
        out.add(
            row.occurred_at,
            kind,
            join(
                KIND_LABELS.get(DeclarationKind(row.kind), row.kind),
                version,
                _("filed on paper") if row.filed_on_paper and version else None,
            ),
            actor_id=row.actor_id,
            record_id=row.id,
            link=("agency.review_declaration", {"declaration_id": row.declaration_id}),
            label=label,
        )


def _entry_versions(organisation_id: uuid.UUID, out: EventCollector) -> None:
    link = ("agency.organisation", {"organisation_id": organisation_id})
    for row in db.session.execute(
        sa.select(
            RegisterEntryVersion.id,
            RegisterEntryVersion.number,
            RegisterEntryVersion.published_at,
            RegisterEntry.registration_number,
        )
        .join(RegisterEntry, RegisterEntry.id == RegisterEntryVersion.entry_id)
        .where(RegisterEntry.organisation_id == organisation_id)
    ):
        out.add(
            row.published_at,
            "entry.published",
            join(row.registration_number, _("version %(number)s", number=row.number)),
            record_id=row.id,
            link=link,
        )


def _entry_events(organisation_id: uuid.UUID, out: EventCollector) -> None:
    link = ("agency.organisation", {"organisation_id": organisation_id})
    for row in db.session.execute(
        sa.select(
            RegisterEntryEvent.id,
            RegisterEntryEvent.from_status,
            RegisterEntryEvent.to_status,
            RegisterEntryEvent.occurred_at,
            RegisterEntryEvent.actor_id,
            RegisterEntryEvent.article,
            RegisterEntry.registration_number,
        )
        .join(RegisterEntry, RegisterEntry.id == RegisterEntryEvent.entry_id)
        .where(RegisterEntry.organisation_id == organisation_id)
    ):
        kind = _ENTRY_KINDS.get(row.to_status)
        if kind is None:
            continue
        out.add(
            row.occurred_at,
            kind,
            join(
                row.registration_number,
                f"{_entry_label(row.from_status)} → {_entry_label(row.to_status)}",
                row.article,
            ),
            actor_id=row.actor_id,
            record_id=row.id,
            link=link,
        )


def _entry_label(status: str) -> str:
    try:
        return str(register_entries.STATUS_LABELS[EntryStatus(status)])
    except ValueError:
        return status


def _numbers(subjects: int | None, records: int | None) -> list[str]:
    parts = []
    if subjects is not None:
        parts.append(_("subjects affected: %(number)s", number=f"{subjects:,}".replace(",", " ")))
    if records is not None:
        parts.append(_("records affected: %(number)s", number=f"{records:,}".replace(",", " ")))
    return parts


def _breach_link(report_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    return ("agency.breach", {"report_id": report_id})


def _detected(detected_at: datetime) -> str:
    return _("breach detected %(date)s", date=medium_date(local_date(detected_at)))


def _breach_reports(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            BreachReport.id,
            BreachReport.status,
            BreachReport.filed_at,
            BreachReport.filed_by_id,
            BreachReport.filed_late,
            BreachReport.detected_at,
            BreachReport.subjects_affected,
            BreachReport.records_affected,
            BreachReport.assessing_since,
            BreachReport.assignee_id,
            BreachReport.decided_at,
            BreachReport.decided_by_id,
        ).where(BreachReport.organisation_id == organisation_id)
    ):
        detected = _detected(row.detected_at)
        out.add(
            row.filed_at,
            "breach.filed",
            join(
                detected,
                _("filed late") if row.filed_late else None,
                *_numbers(row.subjects_affected, row.records_affected),
            ),
            actor_id=row.filed_by_id,
            record_id=row.id,
            link=_breach_link(row.id),
        )
        out.add(
            row.assessing_since,
            "breach.assessing",
            detected,
            actor_id=row.assignee_id,
            record_id=row.id,
            link=_breach_link(row.id),
        )
        if row.status in (BreachStatus.CLOSED, BreachStatus.INSPECTION_REQUESTED):
            out.add(
                row.decided_at,
                "breach.decided",
                join(breaches.STATUS_LABELS[BreachStatus(row.status)], detected),
                actor_id=row.decided_by_id,
                record_id=row.id,
                link=_breach_link(row.id),
            )


def _breach_follow_ups(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            BreachFollowUp.id,
            BreachFollowUp.report_id,
            BreachFollowUp.filed_at,
            BreachFollowUp.filed_by_id,
            BreachFollowUp.subjects_affected,
            BreachFollowUp.records_affected,
            BreachReport.detected_at,
        )
        .join(BreachReport, BreachReport.id == BreachFollowUp.report_id)
        .where(BreachReport.organisation_id == organisation_id)
    ):
        out.add(
            row.filed_at,
            "breach.follow_up",
            join(
                _detected(row.detected_at),
                *_numbers(row.subjects_affected, row.records_affected),
            ),
            actor_id=row.filed_by_id,
            record_id=row.id,
            link=_breach_link(row.report_id),
        )


def _breach_questions(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            BreachQuestion.id,
            BreachQuestion.report_id,
            BreachQuestion.asked_at,
            BreachQuestion.asked_by_id,
            BreachQuestion.answered_at,
            BreachQuestion.answered_by_id,
            BreachReport.detected_at,
        )
        .join(BreachReport, BreachReport.id == BreachQuestion.report_id)
        .where(BreachReport.organisation_id == organisation_id)
    ):
        about = _detected(row.detected_at)
        out.add(
            row.asked_at,
            "breach.question",
            about,
            actor_id=row.asked_by_id,
            record_id=row.id,
            link=_breach_link(row.report_id),
        )
        out.add(
            row.answered_at,
            "breach.answered",
            about,
            actor_id=row.answered_by_id,
            record_id=row.id,
            link=_breach_link(row.report_id),
        )


def _complaints(organisation_id: uuid.UUID, out: EventCollector) -> None:
    decided = {ComplaintStatus.UPHELD, ComplaintStatus.NOT_UPHELD}
    decided |= {ComplaintStatus.INSPECTION_REQUESTED}
    for row in db.session.execute(
        sa.select(
            Complaint.id,
            Complaint.receipt_number,
            Complaint.status,
            Complaint.received_at,
            Complaint.assessing_since,
            Complaint.assignee_id,
            Complaint.decided_at,
            Complaint.decided_by_id,
        ).where(Complaint.organisation_id == organisation_id)
    ):
        link = ("agency.complaint", {"complaint_id": row.id})
        # The complainant is confidential: the received event names nobody.
        out.add(
            row.received_at, "complaint.received", row.receipt_number, record_id=row.id, link=link
        )
        out.add(
            row.assessing_since,
            "complaint.assessing",
            row.receipt_number,
            actor_id=row.assignee_id,
            record_id=row.id,
            link=link,
        )
        if ComplaintStatus(row.status) in decided:
            out.add(
                row.decided_at,
                "complaint.decided",
                join(row.receipt_number, complaints.STATUS_LABELS[ComplaintStatus(row.status)]),
                actor_id=row.decided_by_id,
                record_id=row.id,
                link=link,
            )


SOURCES: dict[Group, tuple[Callable[[uuid.UUID, EventCollector], None], ...]] = {
    Group.REGISTRATION: (_declarations, _entry_versions, _entry_events),
    Group.BREACHES: (_breach_reports, _breach_follow_ups, _breach_questions),
    Group.COMPLAINTS: (_complaints,),
    Group.INSPECTIONS: INSPECTION_SOURCES,
}


def timeline(
    organisation_id: uuid.UUID,
    *,
    groups: Iterable[Group] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[Event]:
    """The holder's events, oldest first: of the given groups (all by default), from `since`
    to `until` inclusive (local dates)."""
    out = EventCollector()
    wanted = set(groups) if groups is not None else set(Group)
    for group, sources in SOURCES.items():
        if group in wanted:
            for source in sources:
                source(organisation_id, out)
    events = out.build()
    if since is not None:
        events = [event for event in events if local_date(event.at) >= since]
    if until is not None:
        events = [event for event in events if local_date(event.at) <= until]
    return sorted(events, key=Event.sort_key)
