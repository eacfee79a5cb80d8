"""Validation of identifiers and contacts: TIN, PIN, phone numbers, e-mail addresses.

Each check returns the normalised value or raises ValueError with a message for the person
typing; `register.forms_fields` wraps them as WTForms validators.
"""

from __future__ import annotations

from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

DEFAULT_PHONE_REGION = "KG"
# The shape of an e-mail address for sign-in forms (email-validator checks addresses entered
# for organisations and people).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def digits_only(value: str) -> str:
    """The value without spaces, dashes or other separators people type."""
    return "".join(character for character in value if character.isdigit())


def check_tin(value: str) -> str:
    """A taxpayer identification number: exactly 14 digits."""
    digits = digits_only(value)
    if len(digits) != 14 or digits != "".join(value.split()).replace("-", ""):
        raise ValueError(_("Enter the TIN as 14 digits, for example 01234567890123"))
    return digits


def check_pin(value: str) -> str:
    """A personal identification number: 14 digits, 1 or 2 first, then a real birth date."""
    digits = digits_only(value)
    if len(digits) != 14 or digits != "".join(value.split()).replace("-", ""):
        raise ValueError(_("Enter the PIN as 14 digits, for example 21505199012345"))
    if digits[0] not in "12":
        raise ValueError(_("A PIN starts with 1 or 2"))
    day, month, year = int(digits[1:3]), int(digits[3:5]), int(digits[5:9])
    try:
        birth = date(year, month, day)
    except ValueError:
        raise ValueError(
            _("Digits 2 to 9 of a PIN are the birth date (DDMMYYYY); this one is not a real date")
        ) from None
    if birth > date.today() or year < 1900:
        raise ValueError(_("Digits 2 to 9 of a PIN are the birth date (DDMMYYYY); check the year"))
    return digits


def check_phone(value: str) -> str:
    """A phone number, Kyrgyz by default, returned in international form (+996 …)."""
    try:
        number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(
            _("Enter a phone number, for example 0312 123 456 or +996 555 123 456")
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("This phone number is not valid; check the number of digits"))
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def check_email(value: str) -> str:
    """An e-mail address in a valid form (no DNS look-up), normalised."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(
            _("Enter an e-mail address in the correct format, like name@example.kg")
        ) from None
    return str(result.normalized)
