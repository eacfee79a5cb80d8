"""The holder's file for agency staff: everything that happened to it on one timeline, newest
first and grouped by month, with its risk score.

Inspectors and supervisors, as for the organisation's page (admins keep the system, not the
register: 403). The file gathers confidential records, so each opening is written to the
activity log; it shows only statuses, numbers, dates and who acted, never their text. Filters:
a part of the file (registration, breaches, complaints, inspections) and a date range; a bad
date is answered 422 with the message beside the field and what was typed kept.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template, request
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from register.agency import blueprint
from register.agency.organisations import REVIEWERS, _organisation
from register.database import writes_on_get
from register.forms_fields import LocalDateField
from register.i18n import agency_timezone
from register.permissions import roles_required
from register.services import activity, register_entries
from register.services.holder_file import GROUP_LABELS, Event, Group, timeline
from register.services.inspection_plan import risk_for

log = logging.getLogger("register.holder_file")


class FileFilterForm(FlaskForm):
    """The file's filters (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    group = SelectField(_l("Show"), choices=[], validate_choice=False)
    since = LocalDateField(_l("From"), validators=[Optional()])
    until = LocalDateField(_l("To"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group.choices = [
            ("", _l("Everything")),
            *[(group.value, label) for group, label in GROUP_LABELS.items()],
        ]

    def validate_until(self, field: LocalDateField) -> None:
        """The range ends on or after its start."""
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(str(_l("The end of the range must not be before its start")))

    def groups(self) -> list[Group] | None:
        """The chosen part of the file (an unknown value shows everything)."""
        value = self.group.data or ""
        return [Group(value)] if value in {group.value for group in Group} else None


@dataclass(frozen=True)
class Month:
    """The events of one month (agency time zone), newest first."""

    first_day: date
    events: list[Event]

    @property
    def label(self) -> str:
        """E.g. "November 2026", in the page's language."""
        return str(format_date(self.first_day, "LLLL y"))


def by_month(events: list[Event]) -> list[Month]:
    """Newest first, grouped by month in the agency's time zone."""
    zone = agency_timezone()
    months: list[Month] = []
    for event in reversed(events):
        local = event.at.astimezone(zone)
        first_day = date(local.year, local.month, 1)
        if not months or months[-1].first_day != first_day:
            months.append(Month(first_day, []))
        months[-1].events.append(event)
    return months


@blueprint.get("/organisations/<uuid:organisation_id>/file")
@roles_required(*REVIEWERS)
@writes_on_get
def holder_file(organisation_id: uuid.UUID) -> tuple[str, int]:
    """The holder's file: registration, breaches, complaints and inspections on one timeline."""
    organisation = _organisation(organisation_id)
    entry = register_entries.entry_of(organisation.id)
    form = FileFilterForm(request.args)
    filtered = any(request.args.get(name) for name in ("group", "since", "until"))
    if filtered and not form.validate():
        log.info("holder file filters refused: %s", ",".join(sorted(form.errors)))
        return render_template(
            "agency/holder_file.html",
            organisation=organisation,
            entry=entry,
            entry_labels=register_entries.STATUS_LABELS,
            form=form,
            months=None,
            risk=None,
        ), 422
    activity.record(
        "organisation.file_opened", object_type="organisation", object_id=str(organisation.id)
    )
    events = timeline(
        organisation.id, groups=form.groups(), since=form.since.data, until=form.until.data
    )
    return render_template(
        "agency/holder_file.html",
        organisation=organisation,
        entry=entry,
        entry_labels=register_entries.STATUS_LABELS,
        form=form,
        months=by_month(events),
        count=len(events),
        risk=risk_for(organisation.id),
    ), 200
