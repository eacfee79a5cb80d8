"""WTForms pieces shared by the holder's forms: validators around register.validation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wtforms import Field
from wtforms.validators import ValidationError

from register import validation


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
