"""Forms of the holder's pages: organisation details, the two people, documents.

Field names are the model's attribute names, so a form is filled from its object with `obj=`.
Every rule has a message in plain words; a failed rule keeps what the user typed.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, Field, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Optional, StopValidation, ValidationError

from register import forms_fields, validation
from register.models import INDIVIDUAL_ENTREPRENEUR, ReferenceList
from register.services import documents, reference
from register.services.organisations import OrganisationDetails, PersonDetails


def clean_text(value: Any) -> Any:
    """Filter: trim, and drop control characters (a NUL would make PostgreSQL refuse the row)."""
    if not isinstance(value, str):
        return value
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc").strip()


class MaxLength:
    """At most `limit` characters; stops the field's other checks so one message is shown.

    No `maxlength` attribute: a browser would cut the text silently instead of saying so.
    """

    def __init__(self, limit: int, message: Any) -> None:
        self.limit = limit
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        """Refuse text longer than the limit."""
        if field.data and len(str(field.data)) > self.limit:
            raise StopValidation(str(self.message))


class OneOfChoices:
    """The value must be one of the field's current choices (reference-list codes)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        """Refuse a code the list does not offer."""
        if field.data not in {value for value, _label in field.choices if value}:
            raise StopValidation(str(self.message))


def text(label: Any, limit: int, too_long: Any, *, required: Any = None) -> StringField:
    """A line of at most `limit` characters; required when `required` (its message) is given."""
    first = DataRequired(required) if required else Optional()
    return StringField(label, validators=[first, MaxLength(limit, too_long)], filters=[clean_text])


def reference_select(label: Any, required: Any) -> SelectField:
    """A choice from a reference list (its choices are set when the form is made)."""
    return SelectField(
        label,
        validators=[DataRequired(required), OneOfChoices(required)],
        validate_choice=False,
        filters=[clean_text],
    )


def phone_field(label: Any, required: Any) -> TelField:
    """A phone number, Kyrgyz unless it starts with +."""
    return TelField(
        label,
        validators=[
            DataRequired(required),
            MaxLength(40, _l("A phone number must be 40 characters or fewer")),
            forms_fields.phone(),
        ],
        filters=[clean_text],
    )


def email_field(label: Any, required: Any) -> EmailField:
    """An e-mail address (checked for its form, not by asking its domain)."""
    return EmailField(
        label,
        validators=[
            DataRequired(required),
            MaxLength(254, _l("An e-mail address must be 254 characters or fewer")),
            forms_fields.email(),
        ],
        filters=[clean_text],
    )


def check_website(form: Any, field: Field) -> None:
    """An http or https address with a host name."""
    message = _l("Enter the website address starting with http:// or https://")
    try:
        parsed = urlsplit(field.data or "")
        host = parsed.hostname
    except ValueError:
        raise ValidationError(str(message)) from None
    if parsed.scheme.lower() not in ("http", "https") or not host or " " in field.data:
        raise ValidationError(str(message))


NOT_AN_ENTREPRENEUR_ANY_MORE = _l(
    "An individual entrepreneur's TIN is his or her PIN and is never published. If the business "
    "is now a legal entity, register it as a new organisation with the entity's own TIN"
)
TIN_IS_NOT_A_PIN = _l(
    "This organisation's TIN is not a PIN, so its legal form cannot be individual entrepreneur"
)


class OrganisationForm(FlaskForm):
    """Organisation details (DESIGN.md §2); the TIN only when the organisation is created."""

    legal_name = text(
        _l("Legal name"),
        500,
        _l("The legal name must be 500 characters or fewer"),
        required=_l("Enter the organisation's legal name"),
    )
    short_name = text(_l("Short name"), 200, _l("The short name must be 200 characters or fewer"))
    tin = StringField(
        _l("Taxpayer identification number (TIN)"),
        validators=[DataRequired(_l("Enter the TIN")), forms_fields.tin()],
        filters=[clean_text],
    )
    legal_form_code = reference_select(_l("Legal form"), _l("Select the legal form"))
    ownership_form_code = reference_select(
        _l("Form of ownership"), _l("Select the form of ownership")
    )
    subordination = text(
        _l("Subordination (parent body)"),
        500,
        _l("The parent body must be 500 characters or fewer"),
    )
    sector_code = reference_select(_l("Sector"), _l("Select the sector"))
    region_code = reference_select(_l("Region"), _l("Select the region"))
    legal_address = text(
        _l("Legal address"),
        500,
        _l("The legal address must be 500 characters or fewer"),
        required=_l("Enter the legal address"),
    )
    actual_address = text(
        _l("Actual address"),
        500,
        _l("The actual address must be 500 characters or fewer"),
        required=_l("Enter the actual address"),
    )
    phone = phone_field(_l("Organisation phone"), _l("Enter the organisation's phone number"))
    email = email_field(
        _l("Organisation e-mail address"), _l("Enter the organisation's e-mail address")
    )
    website = StringField(
        _l("Website"),
        validators=[
            Optional(),
            MaxLength(300, _l("The website address must be 300 characters or fewer")),
            check_website,
        ],
        filters=[clean_text],
    )

    def __init__(
        self, *args: Any, with_tin: bool = True, existing_tin: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.existing_tin = existing_tin
        if not with_tin:
            del self.tin
        lists = {
            self.legal_form_code: ReferenceList.LEGAL_FORM,
            self.ownership_form_code: ReferenceList.OWNERSHIP_FORM,
            self.sector_code: ReferenceList.SECTOR,
            self.region_code: ReferenceList.REGION,
        }
        for field, list_code in lists.items():
            offered = reference.choices(list_code)
            current = field.object_data
            # A retired code stays selectable for the organisation that already has it.
            if current and current not in {code for code, _label in offered}:
                offered.append((current, reference.label(list_code, current)))
            field.choices = [("", str(_l("Select…"))), *offered]

    def validate_tin(self, field: Field) -> None:
        """An individual entrepreneur's TIN is his or her PIN, so it must be a valid PIN."""
        if self.legal_form_code.data == INDIVIDUAL_ENTREPRENEUR and field.data:
            try:
                validation.check_pin(str(field.data))
            except ValueError as error:
                lead = _l("An individual entrepreneur's TIN is his or her PIN.")
                raise ValidationError(f"{lead} {error}") from None

    def validate_legal_form_code(self, field: Field) -> None:
        """A change of legal form must not publish a PIN, nor call a legal entity's TIN a PIN."""
        if not self.existing_tin:
            return
        if field.object_data == INDIVIDUAL_ENTREPRENEUR and field.data != INDIVIDUAL_ENTREPRENEUR:
            # The TIN would become public, and an entrepreneur's TIN is his or her PIN.
            raise ValidationError(str(NOT_AN_ENTREPRENEUR_ANY_MORE))
        if field.data == INDIVIDUAL_ENTREPRENEUR:
            try:
                validation.check_pin(self.existing_tin)
            except ValueError:
                raise ValidationError(str(TIN_IS_NOT_A_PIN)) from None

    def details(self) -> OrganisationDetails:
        """What was entered, for the service."""
        return OrganisationDetails(
            legal_name=self.legal_name.data or "",
            short_name=self.short_name.data,
            legal_form_code=self.legal_form_code.data or "",
            ownership_form_code=self.ownership_form_code.data or "",
            subordination=self.subordination.data,
            sector_code=self.sector_code.data or "",
            region_code=self.region_code.data or "",
            legal_address=self.legal_address.data or "",
            actual_address=self.actual_address.data or "",
            phone=self.phone.data,
            email=self.email.data,
            website=self.website.data,
        )


class HeadForm(FlaskForm):
    """The head of the organisation."""

    full_name = text(
        _l("Full name"),
        200,
        _l("The full name must be 200 characters or fewer"),
        required=_l("Enter the head's full name"),
    )
    position = text(
        _l("Position"),
        200,
        _l("The position must be 200 characters or fewer"),
        required=_l("Enter the head's position"),
    )

    def person(self) -> PersonDetails:
        """What was entered, for the service."""
        return PersonDetails(full_name=self.full_name.data or "", position=self.position.data or "")


class ResponsibleForm(FlaskForm):
    """The person responsible for personal data, with the consent to publish their contact."""

    full_name = text(
        _l("Full name"),
        200,
        _l("The full name must be 200 characters or fewer"),
        required=_l("Enter the full name of the responsible person"),
    )
    position = text(
        _l("Position"),
        200,
        _l("The position must be 200 characters or fewer"),
        required=_l("Enter the responsible person's position"),
    )
    pin = StringField(
        _l("Personal identification number (PIN)"),
        validators=[DataRequired(_l("Enter the PIN")), forms_fields.pin()],
        filters=[clean_text],
    )
    phone = phone_field(_l("Work phone"), _l("Enter the work phone number"))
    email = email_field(_l("Work e-mail address"), _l("Enter the work e-mail address"))
    consents_to_publication = BooleanField(
        _l("I agree that my name, work phone and work e-mail are published in the register")
    )

    def person(self) -> PersonDetails:
        """What was entered, for the service."""
        return PersonDetails(
            full_name=self.full_name.data or "",
            position=self.position.data or "",
            pin=self.pin.data,
            phone=self.phone.data,
            email=self.email.data,
            consents_to_publication=bool(self.consents_to_publication.data),
        )


class DocumentForm(FlaskForm):
    """Upload a PDF, PNG or JPEG of at most 10 MB; its type is read from its content."""

    file = FileField(
        _l("Upload a file"),
        validators=[FileRequired(_l("Select a file"))],
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"},
    )
    content = b""

    def validate_file(self, field: Field) -> None:
        """Read at most one byte past the limit, then check size and type by content."""
        content = field.data.stream.read(documents.MAX_BYTES + 1)
        try:
            documents.check_content(content)
        except documents.DocumentError as error:
            raise ValidationError(str(error)) from None
        self.content = content

    @property
    def filename(self) -> str:
        """The name the file had on the user's computer."""
        return str(self.file.data.filename or "")


class ConfirmForm(FlaskForm):
    """A button that changes something (CSRF only)."""
