"""The form of one personal data array: every part optional but the name, every rule checked.

An incomplete array may be saved; what is entered must be valid and consistent. The field rules
(lengths, codes of the lists, numbers, dates) are here; the consistency rules shared with the
submit check come from `services.arrays.rule_errors`. Field names are the model's attributes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.utils import unset_value
from wtforms.validators import Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from register.holder.forms import MaxLength, clean_text, text
from register.i18n import local_today
from register.models import ProcessingMode, ReferenceList, RetentionUnit
from register.services import arrays, reference

TEXTAREA_LIMIT = 4000
LINE_LIMIT = 500


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a list of codes (rendered by the `choices` macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ChosenFromList:
    """Every chosen value must be one of the field's choices (the list's current items)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        """Refuse a value the form did not offer."""
        offered = {value for value, _label in field.choices or [] if value}
        chosen = field.data if isinstance(field.data, list) else [field.data]
        if any(value and value not in offered for value in chosen):
            raise StopValidation(str(self.message))


def long_text(label: Any, too_long: Any) -> TextAreaField:
    """A free text of at most TEXTAREA_LIMIT characters."""
    return TextAreaField(
        label, validators=[Optional(), MaxLength(TEXTAREA_LIMIT, too_long)], filters=[clean_text]
    )


def codes(label: Any) -> MultiCheckboxField:
    """Checkboxes of a reference list (choices set when the form is made)."""
    return MultiCheckboxField(
        label,
        validators=[ChosenFromList(arrays.UNKNOWN_CODE)],
        validate_choice=False,
        filters=[lambda values: [clean_text(value) for value in values or []]],
    )


def one_of(label: Any, message: Any = arrays.UNKNOWN_CODE) -> RadioField:
    """Radios of a reference list or a fixed set (choices set when the form is made)."""
    return RadioField(label, validators=[ChosenFromList(message)], validate_choice=False)


class DatePartsField(Field):
    """A date as day, month and year inputs (the GOV.UK date pattern); empty is allowed.

    The inputs are named `<name>-day`, `<name>-month`, `<name>-year`; what was typed is kept in
    `parts` so a wrong date is shown as it was entered.
    """

    PARTS = ("day", "month", "year")

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        """Read the three inputs, or the object's date."""
        self.process_errors: list[Any] = []
        self.object_data = None if data is unset_value else data
        self.data = self.object_data
        self.raw_data = None
        value = self.object_data
        self.parts: dict[str, str] = {
            "day": str(value.day) if value else "",
            "month": str(value.month) if value else "",
            "year": str(value.year) if value else "",
        }
        if formdata is not None:
            self.parts = {
                part: str(clean_text(formdata.get(f"{self.name}-{part}", "")))[:10]
                for part in self.PARTS
            }
            self.raw_data = list(self.parts.values())
            self.data = None

    def pre_validate(self, form: Any) -> None:
        """A real date, not in the future; all three parts or none."""
        if self.raw_data is None:
            return
        if not any(self.parts.values()):
            self.data = None
            return
        if not all(self.parts.values()):
            raise StopValidation(
                _("The processing start date must include a day, a month and a year")
            )
        if not all(self.parts[part].isdigit() for part in self.PARTS):
            raise StopValidation(_("The processing start date must be a real date"))
        try:
            day, month, year = (int(self.parts[part]) for part in self.PARTS)
            if year < 1900:
                raise ValueError("year")
            self.data = date(year, month, day)
        except ValueError:
            raise StopValidation(_("The processing start date must be a real date")) from None
        if self.data > local_today():
            raise StopValidation(str(arrays.DATE_IN_FUTURE))


def check_retention_value(form: Any, field: Field) -> None:
    """A whole number greater than 0 (leading zeros and spaces forgiven)."""
    value = (field.data or "").replace(" ", "")
    if not value:
        return
    if not value.isdigit() or int(value) <= 0 or len(value) > 6:
        raise ValidationError(str(arrays.RETENTION_POSITIVE))


class ArrayForm(FlaskForm):
    """One personal data array (DESIGN.md §2), in the order of the page's fieldsets."""

    # About the array
    name = text(
        _l("Name of the array"),
        300,
        _l("The name must be 300 characters or fewer"),
        required=_l("Enter the name of the array"),
    )
    purpose_codes = codes(_l("Purposes of processing"))
    purpose_other = text(
        _l("Other purposes"), LINE_LIMIT, _l("Other purposes must be 500 characters or fewer")
    )
    legal_basis_codes = codes(_l("Legal basis"))
    collection_methods = long_text(
        _l("Methods of collection and use"),
        _l("The methods of collection and use must be 4000 characters or fewer"),
    )
    processing_mode = one_of(_l("Processing mode"))
    # Personal data
    data_item_codes = codes(_l("Personal data collected"))
    data_item_other = text(
        _l("Other personal data"),
        LINE_LIMIT,
        _l("Other personal data must be 500 characters or fewer"),
    )
    subject_category_codes = codes(_l("Categories of data subjects"))
    subject_bucket_code = one_of(_l("Approximate number of data subjects"))
    source_codes = codes(_l("Sources of collection"))
    informing_subjects = long_text(
        _l("How data subjects are informed"),
        _l("How data subjects are informed must be 4000 characters or fewer"),
    )
    # Storage
    storage_form_code = one_of(_l("Storage form"))
    retention_value = StringField(
        _l("Retention period"), validators=[check_retention_value], filters=[clean_text]
    )
    retention_unit = SelectField(
        _l("Unit"), validators=[ChosenFromList(arrays.UNKNOWN_CODE)], validate_choice=False
    )
    retention_condition = text(
        _l("Or: kept until"),
        LINE_LIMIT,
        _l("The retention condition must be 500 characters or fewer"),
    )
    storage_country = SelectField(
        _l("Country where the data is stored"),
        validators=[ChosenFromList(arrays.UNKNOWN_COUNTRY)],
        validate_choice=False,
        default="KG",
    )
    storage_location_details = long_text(
        _l("Storage location details"),
        _l("The storage location details must be 4000 characters or fewer"),
    )
    information_systems = long_text(
        _l("Information systems"),
        _l("The information systems must be 4000 characters or fewer"),
    )
    # Recipients and transfers
    recipient_category_codes = codes(_l("Categories of recipients"))
    named_recipients = long_text(
        _l("Named third parties"),
        _l("The named third parties must be 4000 characters or fewer"),
    )
    cross_border = one_of(_l("Is the data transferred to other countries?"))
    cross_border_countries = SelectMultipleField(
        _l("Countries the data is transferred to"),
        validators=[ChosenFromList(arrays.UNKNOWN_COUNTRY)],
        validate_choice=False,
    )
    cross_border_grounds = long_text(
        _l("Grounds for the cross-border transfer"),
        _l("The grounds for the transfer must be 4000 characters or fewer"),
    )
    # Security
    security_measure_codes = codes(_l("Security measures"))
    security_description = long_text(
        _l("Description of the security measures"),
        _l("The description of the security measures must be 4000 characters or fewer"),
    )
    processing_start_date = DatePartsField(_l("Processing start date"))

    def __init__(self, *args: Any, catalogue: arrays.Catalogue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        obj = kwargs.get("obj")
        if obj is not None and not self.is_submitted():
            # The yes/no radios stand for a boolean column.
            self.cross_border.data = "yes" if obj.cross_border else "no"
        self.catalogue = catalogue
        # Needed before the declaration is submitted, though the page saves without them:
        # the label then does not say "optional".
        for name in arrays.REQUIRED_FIELDS:
            if name in self._fields:
                self._fields[name].flags.required = True
        special = catalogue.special_items
        for name, list_code in {**arrays.CODE_LISTS, **arrays.SINGLE_CODES}.items():
            field = getattr(self, name)
            field.choices = self._reference_choices(list_code, field.object_data, special)
        self.processing_mode.choices = [
            (ProcessingMode.AUTOMATED.value, _("Automated")),
            (ProcessingMode.MANUAL.value, _("Manual")),
            (ProcessingMode.MIXED.value, _("Mixed (automated and manual)")),
        ]
        self.retention_unit.choices = [
            ("", _("Select…")),
            (RetentionUnit.DAYS.value, _("days")),
            (RetentionUnit.MONTHS.value, _("months")),
            (RetentionUnit.YEARS.value, _("years")),
        ]
        countries = reference.countries()
        self.storage_country.choices = [("", _("Select…")), *countries]
        self.cross_border_countries.choices = countries
        self.cross_border.choices = [("yes", _("Yes")), ("no", _("No"))]

    def _reference_choices(
        self, list_code: ReferenceList, held: Any, special: set[str]
    ) -> list[tuple[str, str]]:
        language = reference.current_language()
        items = self.catalogue.offered(list_code)
        offered = {item.code for item in items}
        # A retired code stays selectable for the array that already has it.
        held_codes = held if isinstance(held, list) else [held] if held else []
        retired = [
            item
            for item in self.catalogue.items.get(str(list_code), [])
            if item.code in held_codes and item.code not in offered
        ]
        suffix = " (" + _("special category") + ")"
        return [
            (item.code, item.label(language) + (suffix if item.code in special else ""))
            for item in [*items, *retired]
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        """Check each field, then the consistency rules shared with the submit step."""
        valid = bool(super().validate(extra_validators))
        if not valid:
            return False
        broken = arrays.rule_errors(self.details(), self.catalogue)
        for name, message in broken.items():
            field = self.retention_value if name == "retention" else getattr(self, name)
            field.errors = [*field.errors, message]
        return not broken

    def details(self) -> arrays.ArrayDetails:
        """What was entered, for the service (call after the fields validated)."""
        value = (self.retention_value.data or "").replace(" ", "")
        return arrays.ArrayDetails(
            name=self.name.data or "",
            purpose_codes=list(self.purpose_codes.data or []),
            purpose_other=self.purpose_other.data,
            legal_basis_codes=list(self.legal_basis_codes.data or []),
            collection_methods=self.collection_methods.data,
            processing_mode=ProcessingMode(self.processing_mode.data)
            if self.processing_mode.data
            else None,
            data_item_codes=list(self.data_item_codes.data or []),
            data_item_other=self.data_item_other.data,
            subject_category_codes=list(self.subject_category_codes.data or []),
            subject_bucket_code=self.subject_bucket_code.data or None,
            source_codes=list(self.source_codes.data or []),
            informing_subjects=self.informing_subjects.data,
            storage_form_code=self.storage_form_code.data or None,
            retention_value=int(value) if value.isdigit() else None,
            retention_unit=RetentionUnit(self.retention_unit.data)
            if self.retention_unit.data
            else None,
            retention_condition=self.retention_condition.data,
            storage_country=self.storage_country.data or None,
            storage_location_details=self.storage_location_details.data,
            information_systems=self.information_systems.data,
            recipient_category_codes=list(self.recipient_category_codes.data or []),
            named_recipients=self.named_recipients.data,
            cross_border=self.cross_border.data == "yes",
            cross_border_countries=list(self.cross_border_countries.data or []),
            cross_border_grounds=self.cross_border_grounds.data,
            security_measure_codes=list(self.security_measure_codes.data or []),
            security_description=self.security_description.data,
            processing_start_date=self.processing_start_date.data,
        )
