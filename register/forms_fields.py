"""WTForms pieces shared by the forms: validators around register.validation, local times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, Field
from wtforms.validators import ValidationError

from register import validation
from register.i18n import agency_timezone


class Normalised:
    """Check a field with one of register.validation's functions and keep the normal form.

    Empty optional fields are left alone (pair with Optional() or DataRequired()).
    """

    def __init__(self, check: Callable[[str], str]) -> None:
        self.check = check

    def __call__(self, form: Any, field: Field) -> None:
        """Validate, then replace the data with the normalised value."""
        if field.data is None or not str(field.data).strip():
            return
        try:
            field.data = self.check(str(field.data))
        except ValueError as error:
            raise ValidationError(str(error)) from None


def tin() -> Normalised:
    """14 digits."""
    return Normalised(validation.check_tin)


def pin() -> Normalised:
    """14 digits, 1 or 2, then a real birth date."""
    return Normalised(validation.check_pin)


def phone() -> Normalised:
    """A phone number (KG by default)."""
    return Normalised(validation.check_phone)


def email() -> Normalised:
    """An e-mail address (no DNS)."""
    return Normalised(validation.check_email)


def strip(value: Any) -> Any:
    """Filter: trim surrounding spaces of text input."""
    return value.strip() if isinstance(value, str) else value


# Dates beyond this are typing mistakes (and a year 9999 would overflow the date arithmetic).
MAX_YEAR = 2200


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed in the agency's time zone (Asia/Bishkek), read as UTC.

    Accepts what a datetime-local input sends (`2026-11-23T14:30`) and what someone types in a
    plain text box (`2026-11-23 14:30`); what was typed is kept when it cannot be read.
    """

    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format=list(self.FORMATS), **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse in the agency's time zone; a clear message when it is not a date and time."""
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = " ".join(str(value) for value in valuelist).strip()
        for pattern in self.FORMATS:
            try:
                naive = datetime.strptime(text, pattern)  # local time: zoned below
            except ValueError:
                continue
            if not 1900 <= naive.year <= MAX_YEAR:
                break
            self.data = naive.replace(tzinfo=agency_timezone()).astimezone(UTC)
            return
        self.data = None
        raise ValueError(str(_l("Enter a date and time, for example 2026-11-23 14:30")))

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(str(value) for value in self.raw_data)
        if self.data is None:
            return ""
        return self.data.astimezone(agency_timezone()).strftime("%Y-%m-%dT%H:%M")


class WholeNumber:
    """An optional whole number of 0 or more (spaces between thousands allowed); sets an int."""

    def __init__(self, message: Any, maximum: int = 10**12) -> None:
        self.message = message
        self.maximum = maximum

    def __call__(self, form: Any, field: Field) -> None:
        """Refuse anything that is not a whole number in range."""
        if field.data is None or isinstance(field.data, int):
            return
        text = "".join(str(field.data).split())
        if not text:
            field.data = None
            return
        if not (text.isascii() and text.isdigit()) or int(text) > self.maximum:
            raise ValidationError(str(self.message))
        field.data = int(text)


class LocalDateField(DateField):
    """A date as a date input sends it (`2026-11-23`) or as people type it (`23.11.2026`)."""

    FORMATS = ("%Y-%m-%d", "%d.%m.%Y")

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, format=list(self.FORMATS), **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse the date; a clear message when it is not one."""
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).strip()
        for pattern in self.FORMATS:
            try:
                parsed = datetime.strptime(text, pattern).date()  # a calendar date: no zone
            except ValueError:
                continue
            if 1900 <= parsed.year <= MAX_YEAR:
                self.data = parsed
                return
        self.data = None
        raise ValueError(str(_l("Enter a date, for example 2026-11-23")))
