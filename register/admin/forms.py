"""Forms of the staff administration pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from register.auth.forms import email_field
from register.models import STAFF_ROLES

ROLE_LABELS = {
    "inspector": _l("Inspector"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
    "holder": _l("Holder"),
}


def role_choices() -> list[tuple[str, str]]:
    """The staff roles, with their labels in the current language."""
    return [(role.value, str(ROLE_LABELS[role.value])) for role in STAFF_ROLES]


class CreateStaffForm(FlaskForm):
    """A new agency account; the person gets an invitation link to set a password."""

    full_name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter the person's full name")),
            Length(max=200, message=_l("A name has at most 200 characters")),
        ],
    )
    email = email_field(_l("Work e-mail address"))
    role = SelectField(_l("Role"), choices=role_choices, validate_choice=True)


class ChangeRoleForm(FlaskForm):
    """Give a staff member another role."""

    role = SelectField(_l("Role"), choices=role_choices, validate_choice=True)


class ActionForm(FlaskForm):
    """A button that changes something (CSRF token only)."""
