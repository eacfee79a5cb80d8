"""The public complaint form: the holder (found in the register, or named), what happened, who
complains and how to reach them.

The holder is found by a server-side search of the public register: the form is posted with
"Find" and comes back with the matches as choices, everything typed kept, so it works without
JavaScript. Field rules are here; the rules across answers come from `services.complaints`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Optional

from register import forms_fields
from register.holder.forms import MaxLength, clean_text
from register.models import RegisterEntry
from register.services import complaints

UNREGISTERED = "unregistered"
WHAT_HAPPENED_LIMIT = 8000


class ComplaintForm(FlaskForm):
    """A complaint about a holder of personal data, by anyone, without an account."""

    holder_query = StringField(
        _l("Find the organisation in the register"),
        validators=[Optional(), MaxLength(200, _l("Search for 200 characters or fewer"))],
        filters=[clean_text],
    )
    holder = RadioField(_l("The organisation"), choices=[], validate_choice=False)
    processor_name = StringField(
        _l("Name of the organisation"),
        validators=[Optional(), MaxLength(500, _l("Write 500 characters or fewer"))],
        filters=[clean_text],
    )
    processor_tin = StringField(
        _l("Its TIN, if you know it"),
        validators=[Optional(), forms_fields.tin()],
        filters=[clean_text],
    )
    what_happened = TextAreaField(
        _l("What happened"),
        validators=[
            DataRequired(_l("Describe what happened")),
            MaxLength(WHAT_HAPPENED_LIMIT, _l("Write 8,000 characters or fewer")),
        ],
        filters=[clean_text],
    )
    complainant_name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Enter your name")),
            MaxLength(300, _l("Write 300 characters or fewer")),
        ],
        filters=[clean_text],
    )
    complainant_email = EmailField(
        _l("Your e-mail address"),
        validators=[
            Optional(),
            MaxLength(254, _l("Write 254 characters or fewer")),
            forms_fields.email(),
        ],
        filters=[clean_text],
    )
    complainant_phone = TelField(
        _l("Your phone number"),
        validators=[
            Optional(),
            MaxLength(40, _l("Write 40 characters or fewer")),
            forms_fields.phone(),
        ],
        filters=[clean_text],
    )
    consents_to_contact = BooleanField(
        _l("I agree that the agency contacts me about this complaint")
    )

    def set_holders(self, entries: list[RegisterEntry], labels: dict[Any, Any]) -> None:
        """The search results as choices, and naming an unregistered processor."""
        self.holder.choices = [
            (
                entry.registration_number,
                f"{entry.legal_name} — {entry.registration_number} ({labels[entry.status]})",
            )
            for entry in entries
        ]
        self.holder.choices.append(
            (UNREGISTERED, str(_l("The organisation is not in the register: I name it below")))
        )

    def details(self, locale: str) -> complaints.ComplaintDetails:
        """The answers, for the service."""
        chosen = self.holder.data or ""
        registered = chosen if chosen and chosen != UNREGISTERED else None
        return complaints.ComplaintDetails(
            registration_number=registered,
            processor_name=None if registered else self.processor_name.data,
            processor_tin=None if registered else self.processor_tin.data,
            what_happened=self.what_happened.data or "",
            complainant_name=self.complainant_name.data or "",
            complainant_email=self.complainant_email.data,
            complainant_phone=self.complainant_phone.data,
            consents_to_contact=bool(self.consents_to_contact.data),
            locale=locale,
        )

    def validate_all(self, locale: str) -> bool:
        """Every field, then the rules across answers; messages beside the fields."""
        valid = bool(self.validate())
        if not self.holder.data:
            self.holder.errors = [
                *self.holder.errors,
                str(_l("Find the organisation and choose it, or say it is not in the register")),
            ]
            valid = False
        for name, message in complaints.problems(self.details(locale)):
            field = getattr(self, name)
            if name in ("holder", "processor_name") and not self.holder.data:
                continue  # already told to choose the organisation
            if not field.errors:
                field.errors = [*field.errors, message]
            valid = False
        return valid
