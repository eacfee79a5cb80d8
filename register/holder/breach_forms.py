"""Forms of a holder's breach reports: the report, a follow-up, an answer to the agency.

Dates and times are typed in the agency's time zone. The rules across answers (detection not in
the future, the reason for a late report, a way to contact) come from
`services.breaches.problems`, so the form and the service never disagree; each message is put
beside the answer it is about.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, RadioField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from register import forms_fields
from register.holder.array_forms import codes
from register.holder.forms import MaxLength, clean_text
from register.models import ReferenceList
from register.services import breaches, reference

TEXT_LIMIT = 4000


def long_text(label: Any, *, required: Any = None) -> TextAreaField:
    """A free text of at most TEXT_LIMIT characters; required when `required` is its message."""
    first = DataRequired(required) if required else Optional()
    return TextAreaField(
        label,
        validators=[
            first,
            MaxLength(TEXT_LIMIT, _l("Write 4,000 characters or fewer")),
        ],
        filters=[clean_text],
    )


def line(label: Any, limit: int, *, required: Any = None) -> StringField:
    """One line of at most `limit` characters."""
    first = DataRequired(required) if required else Optional()
    return StringField(
        label,
        validators=[
            first,
            MaxLength(limit, _l("Write %(num)d characters or fewer", num=limit)),
        ],
        filters=[clean_text],
    )


def number(label: Any) -> StringField:
    """An approximate number (optional, 0 or more)."""
    return StringField(
        label,
        validators=[
            Optional(),
            forms_fields.WholeNumber(_l("Enter a whole number, for example 1500")),
        ],
        filters=[clean_text],
    )


def day(label: Any) -> forms_fields.LocalDateField:
    """A date (a date input; typed as 2026-11-23 or 23.11.2026 without one)."""
    return forms_fields.LocalDateField(label, validators=[Optional()])


def moment(label: Any, required: Any) -> forms_fields.LocalDateTimeField:
    """A date and time, Bishkek time."""
    # InputRequired, not DataRequired: an unreadable time keeps its own message.
    return forms_fields.LocalDateTimeField(label, validators=[InputRequired(required)])


class CrossFieldForm(FlaskForm):
    """A form whose answers are also checked together by a service rule."""

    def place(self, found: list[tuple[str, str]]) -> bool:
        """Put each (field, message) beside its field; False when there was any."""
        for name, message in found:
            target: Field | None = getattr(self, name, None)
            if target is None:
                self.form_errors.append(message)
            elif message not in target.errors:
                target.errors = [*target.errors, message]
        return not found


class BreachReportForm(CrossFieldForm):
    """The initial report of a breach (DESIGN.md §2)."""

    occurred_at = moment(_l("When did the breach happen?"), _l("Enter when the breach happened"))
    detected_at = moment(_l("When was it detected?"), _l("Enter when the breach was detected"))
    nature_codes = codes(_l("What did the breach compromise?"))
    description = long_text(_l("What happened"), required=_l("Describe what happened"))
    data_item_codes = codes(_l("Personal data affected"))
    data_details = long_text(_l("Details of the data affected"))
    subject_category_codes = codes(_l("Data subjects affected"))
    subjects_affected = number(_l("Approximate number of data subjects affected"))
    records_affected = number(_l("Approximate number of records affected"))
    consequences = long_text(_l("Likely consequences for the data subjects"))
    measures_taken = long_text(_l("Measures taken or planned"))
    subjects_told = RadioField(
        _l("Have the data subjects been told?"),
        choices=[("no", _l("Not yet")), ("yes", _l("Yes"))],
        default="no",
        validate_choice=False,
    )
    subjects_told_on = day(_l("When were they told?"))
    subjects_notice = long_text(_l("How they were told, or why not"))
    contact_name = line(
        _l("Contact person"), 300, required=_l("Enter the name of the person to contact")
    )
    contact_phone = TelField(
        _l("Contact phone"),
        validators=[
            Optional(),
            MaxLength(40, _l("Write 40 characters or fewer")),
            forms_fields.phone(),
        ],
        filters=[clean_text],
    )
    contact_email = EmailField(
        _l("Contact e-mail address"),
        validators=[
            Optional(),
            MaxLength(254, _l("Write 254 characters or fewer")),
            forms_fields.email(),
        ],
        filters=[clean_text],
    )
    late_reason = long_text(_l("Why is the report late?"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nature_codes.choices = [
            (nature.value, str(label)) for nature, label in breaches.NATURE_LABELS.items()
        ]
        self.data_item_codes.choices = reference.choices(ReferenceList.DATA_ITEM)
        self.subject_category_codes.choices = reference.choices(ReferenceList.SUBJECT_CATEGORY)
        self.nature_codes.flags.required = True

    def details(self) -> breaches.BreachDetails:
        """The answers, for the service (call after the fields validated)."""
        told = self.subjects_told.data == "yes"
        return breaches.BreachDetails(
            occurred_at=self.occurred_at.data,
            detected_at=self.detected_at.data,
            nature_codes=[code for code in self.nature_codes.data or [] if code],
            description=self.description.data or "",
            data_item_codes=list(self.data_item_codes.data or []),
            data_details=self.data_details.data,
            subject_category_codes=list(self.subject_category_codes.data or []),
            subjects_affected=self.subjects_affected.data,
            records_affected=self.records_affected.data,
            consequences=self.consequences.data,
            measures_taken=self.measures_taken.data,
            subjects_told=told,
            subjects_told_on=self.subjects_told_on.data if told else None,
            subjects_notice=self.subjects_notice.data,
            contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data,
            contact_email=self.contact_email.data,
            late_reason=self.late_reason.data,
        )

    def validate_all(self) -> bool:
        """Every field, then the rules across answers; messages beside the fields."""
        valid = bool(self.validate())
        if self.subjects_told.data not in {"yes", "no"}:
            self.subjects_told.errors = [str(_l("Say whether the data subjects have been told"))]
            valid = False
        # A field that already has its message keeps only that one.
        found = [
            (name, message)
            for name, message in breaches.problems(self.details())
            if not getattr(self, name).errors
        ]
        return self.place(found) and valid

    def clock(self) -> breaches.Clock | None:
        """The clock for the detection time typed so far, if it can be read."""
        if self.detected_at.data is None or self.detected_at.errors:
            return None
        return breaches.clock(self.detected_at.data)


class FollowUpForm(CrossFieldForm):
    """New information completing a report."""

    information = long_text(
        _l("What have you learned since the report?"),
        required=_l("Say what you have learned since the report"),
    )
    measures_taken = long_text(_l("Further measures taken"))
    subjects_affected = number(_l("Revised number of data subjects affected"))
    records_affected = number(_l("Revised number of records affected"))
    subjects_told_on = day(_l("Data subjects told on"))

    def details(self) -> breaches.FollowUpDetails:
        """The answers, for the service."""
        return breaches.FollowUpDetails(
            information=self.information.data or "",
            measures_taken=self.measures_taken.data,
            subjects_affected=self.subjects_affected.data,
            records_affected=self.records_affected.data,
            subjects_told_on=self.subjects_told_on.data,
        )


class AnswerForm(FlaskForm):
    """The holder's answer to one of the agency's questions."""

    answer = long_text(_l("Your answer"), required=_l("Write your answer"))
