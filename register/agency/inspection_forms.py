"""Forms of inspections: the plan's and the list's filters, planning one, and the moves.

Every form that moves an inspection or an order carries the `lock_version` its page was read at
(`LockedForm`), so a move on a page someone else changed meanwhile is refused with who acted,
and what was typed is kept.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Optional, StopValidation

from register import forms_fields
from register.agency.review_forms import LockedForm
from register.agency.triage_forms import HolderFilterForm
from register.holder.array_forms import MultiCheckboxField
from register.holder.forms import MaxLength, clean_text

TEXT_LIMIT = 20_000
GROUND_LIMIT = 500


def long_text(label: Any, *, required: Any = None, limit: int = TEXT_LIMIT) -> TextAreaField:
    """A text area, required when `required` (its message) is given."""
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators.append(
        MaxLength(limit, _l("Keep this to %(limit)s characters or fewer", limit=f"{limit:,}"))
    )
    return TextAreaField(label, validators=validators, filters=[clean_text])


class ListFilterForm(HolderFilterForm):
    """The agency's list of inspections."""

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    kind = SelectField(_l("Type"), choices=[], validate_choice=False)
    mine = BooleanField(_l("Only inspections I am assigned to"))
    overdue_orders = BooleanField(_l("Only those with overdue orders"))


class PlanFilterForm(HolderFilterForm):
    """The inspection plan's filters."""

    include_open = BooleanField(_l("Include holders with an inspection under way"))


class PlanInspectionForm(FlaskForm):
    """A supervisor plans an inspection of one holder."""

    kind = RadioField(_l("Type of inspection"), choices=[], validate_choice=False)
    legal_ground = long_text(
        _l("Legal ground"), required=_l("Enter the legal ground for the inspection"), limit=500
    )
    planned_start = forms_fields.LocalDateField(
        _l("Planned start"), validators=[DataRequired(_l("Enter the planned start date"))]
    )
    planned_end = forms_fields.LocalDateField(
        _l("Planned end"), validators=[DataRequired(_l("Enter the planned end date"))]
    )
    inspectors = MultiCheckboxField(_l("Inspectors"), choices=[], validate_choice=False)
    breach_report_id = HiddenField()
    complaint_id = HiddenField()

    def validate_kind(self, field: RadioField) -> None:
        """One of the types offered."""
        if field.data not in {value for value, _label in field.choices or []}:
            raise StopValidation(str(_l("Choose the type of inspection")))

    def validate_inspectors(self, field: SelectMultipleField) -> None:
        """At least one, each from the list."""
        offered = {value for value, _label in field.choices or []}
        if not field.data:
            raise StopValidation(str(_l("Assign at least one inspector")))
        if not set(field.data) <= offered:
            raise StopValidation(str(_l("Choose inspectors from the list")))

    def inspector_ids(self) -> list[uuid.UUID]:
        """The chosen inspectors' ids."""
        return [uuid.UUID(value) for value in self.inspectors.data or []]

    @staticmethod
    def uuid_or_none(value: str | None) -> uuid.UUID | None:
        """A hidden id, or None when absent or garbled."""
        try:
            return uuid.UUID(str(value)) if value else None
        except ValueError:
            return None


class MoveForm(LockedForm):
    """Start, or close, an inspection (nothing to type)."""


class RecordForm(LockedForm):
    """The inspectors' findings and notes (kept encrypted; never shown to the holder)."""

    findings = long_text(_l("Findings"))
    notes = long_text(_l("Notes"))


class ReportForm(LockedForm):
    """Write the report: the findings are required."""

    findings = long_text(_l("Findings"), required=_l("Write the findings before the report"))


class ViolationForm(FlaskForm):
    """A violation found, with the article of law."""

    article_code = SelectField(_l("Article of law"), choices=[], validate_choice=False)
    description = long_text(_l("What was found"), required=_l("Describe the violation"))

    def validate_article_code(self, field: SelectField) -> None:
        """One of the articles offered."""
        if field.data not in {value for value, _label in field.choices or []}:
            raise StopValidation(str(_l("Choose the article of law from the list")))


class OrderForm(FlaskForm):
    """An order to the holder."""

    requirement = long_text(
        _l("What the holder must do"), required=_l("Say what the holder must do"), limit=4000
    )
    due_on = forms_fields.LocalDateField(
        _l("Due on"), validators=[DataRequired(_l("Enter the date the order is due"))]
    )
    violation_id = SelectField(_l("For the violation"), choices=[], validate_choice=False)

    def validate_violation_id(self, field: SelectField) -> None:
        """None, or one of the inspection's violations."""
        if field.data and field.data not in {value for value, _label in field.choices or []}:
            raise StopValidation(str(_l("Choose a violation of this inspection")))


class OrderMoveForm(LockedForm):
    """Accept an answer (nothing to type)."""


class OrderGroundsForm(LockedForm):
    """Return an answer, or withdraw an order, with grounds the holder reads."""

    grounds = long_text(_l("Grounds"), required=_l("Give the grounds"), limit=4000)
