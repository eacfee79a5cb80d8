"""The inspection part of a holder's file (`services.holder_file`): inspections, violations,
orders and the holder's answers, one query each; never their findings, descriptions,
requirements or answers' text (encrypted columns are not read)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.i18n import medium_date
from register.models import (
    AnswerDecision,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionViolation,
    OrderAnswer,
    OrderStatus,
    ReferenceList,
)
from register.services import reference
from register.services.holder_file_events import EventCollector, join, start_of_day

INSPECTION_KIND_LABELS = {
    InspectionKind.PLANNED: _l("Planned inspection"),
    InspectionKind.UNPLANNED: _l("Unplanned inspection"),
    InspectionKind.COMPLAINT: _l("Complaint-triggered inspection"),
    InspectionKind.BREACH: _l("Breach-triggered inspection"),
}


def _inspection_link(inspection_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    return ("agency.inspection", {"inspection_id": inspection_id})


def _inspections(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            Inspection.id,
            Inspection.reference,
            Inspection.kind,
            Inspection.planned_start,
            Inspection.planned_end,
            Inspection.started_on,
            Inspection.report_on,
            Inspection.closed_at,
            Inspection.created_at,
            Inspection.created_by_id,
        ).where(Inspection.organisation_id == organisation_id)
    ):
        link = _inspection_link(row.id)
        out.add(
            row.created_at,
            "inspection.planned",
            join(
                row.reference,
                INSPECTION_KIND_LABELS.get(InspectionKind(row.kind), row.kind),
                _(
                    "planned from %(start)s to %(end)s",
                    start=medium_date(row.planned_start),
                    end=medium_date(row.planned_end),
                ),
            ),
            actor_id=row.created_by_id,
            record_id=row.id,
            link=link,
        )
        # A step known by its day counts from the day's start, but never before the step
        # before it (an inspection planned and started on one day: planned first).
        previous = row.created_at
        for day, kind in (
            (row.started_on, "inspection.started"),
            (row.report_on, "inspection.report"),
        ):
            if day is not None:
                previous = max(start_of_day(day), previous)
                out.add(
                    previous,
                    kind,
                    row.reference,
                    record_id=row.id,
                    link=link,
                    date_only=True,
                )
        out.add(row.closed_at, "inspection.closed", row.reference, record_id=row.id, link=link)


def _violations(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            InspectionViolation.id,
            InspectionViolation.inspection_id,
            InspectionViolation.article_code,
            InspectionViolation.recorded_at,
            InspectionViolation.recorded_by_id,
            Inspection.reference,
        )
        .join(Inspection, Inspection.id == InspectionViolation.inspection_id)
        .where(Inspection.organisation_id == organisation_id)
    ):
        out.add(
            row.recorded_at,
            "violation.recorded",
            join(row.reference, reference.label(ReferenceList.LAW_ARTICLE, row.article_code)),
            actor_id=row.recorded_by_id,
            record_id=row.id,
            link=_inspection_link(row.inspection_id),
        )


def _order_summary(reference_number: str, number: int, due_on: date) -> str:
    return join(
        reference_number,
        _("order %(number)s", number=number),
        _("due %(date)s", date=medium_date(due_on)),
    )


def _orders(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            InspectionOrder.id,
            InspectionOrder.inspection_id,
            InspectionOrder.number,
            InspectionOrder.due_on,
            InspectionOrder.status,
            InspectionOrder.issued_at,
            InspectionOrder.issued_by_id,
            InspectionOrder.settled_at,
            InspectionOrder.settled_by_id,
            Inspection.reference,
        )
        .join(Inspection, Inspection.id == InspectionOrder.inspection_id)
        .where(InspectionOrder.organisation_id == organisation_id)
    ):
        summary = _order_summary(row.reference, row.number, row.due_on)
        link = _inspection_link(row.inspection_id)
        out.add(
            row.issued_at,
            "order.issued",
            summary,
            actor_id=row.issued_by_id,
            record_id=row.id,
            link=link,
        )
        if OrderStatus(row.status) is OrderStatus.WITHDRAWN:
            out.add(
                row.settled_at,
                "order.withdrawn",
                summary,
                actor_id=row.settled_by_id,
                record_id=row.id,
                link=link,
            )


def _answers(organisation_id: uuid.UUID, out: EventCollector) -> None:
    for row in db.session.execute(
        sa.select(
            OrderAnswer.id,
            OrderAnswer.answered_at,
            OrderAnswer.answered_by_id,
            OrderAnswer.decision,
            OrderAnswer.decided_at,
            OrderAnswer.decided_by_id,
            InspectionOrder.inspection_id,
            InspectionOrder.number,
            InspectionOrder.due_on,
            Inspection.reference,
        )
        .join(InspectionOrder, InspectionOrder.id == OrderAnswer.order_id)
        .join(Inspection, Inspection.id == InspectionOrder.inspection_id)
        .where(InspectionOrder.organisation_id == organisation_id)
    ):
        summary = _order_summary(row.reference, row.number, row.due_on)
        link = _inspection_link(row.inspection_id)
        out.add(
            row.answered_at,
            "order.answered",
            summary,
            actor_id=row.answered_by_id,
            record_id=row.id,
            link=link,
        )
        if row.decision is not None:
            decision = AnswerDecision(row.decision)
            out.add(
                row.decided_at,
                "order.accepted" if decision is AnswerDecision.ACCEPTED else "order.returned",
                summary,
                actor_id=row.decided_by_id,
                record_id=row.id,
                link=link,
            )


INSPECTION_SOURCES: tuple[Callable[[uuid.UUID, EventCollector], None], ...] = (
    _inspections,
    _violations,
    _orders,
    _answers,
)
