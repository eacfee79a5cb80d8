"""Forms of the colleagues pages, invitations and access requests (the agency's queue too)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from register.auth.forms import email_field
from register.forms_fields import strip
from register.models import MemberRole
from register.services.access_requests import MESSAGE_MAX_LENGTH

MEMBER_ROLE_LABELS = {
    MemberRole.OWNER.value: _l("Owner"),
    MemberRole.MEMBER.value: _l("Member"),
}
REASON_MAX_LENGTH = 2000


def member_role_choices() -> list[tuple[str, str]]:
    """The roles of a colleague, with their labels in the current language."""
    return [(role.value, str(MEMBER_ROLE_LABELS[role.value])) for role in MemberRole]


def decision_choices() -> list[tuple[str, str]]:
    """Approve or refuse, in the current language."""
    return [("approve", str(_l("Approve"))), ("refuse", str(_l("Refuse")))]


class InviteForm(FlaskForm):
    """Invite a colleague by e-mail to act for the organisation."""

    email = email_field(_l("Colleague's e-mail address"))
    role = SelectField(
        _l("Role"),
        choices=member_role_choices,
        default=MemberRole.MEMBER.value,
        validators=[DataRequired(_l("Choose a role"))],
        validate_choice=True,
    )


class MemberRoleForm(FlaskForm):
    """Give a colleague another role."""

    role = SelectField(
        _l("Role"),
        choices=member_role_choices,
        validators=[DataRequired(_l("Choose a role"))],
        validate_choice=True,
    )


class ActionForm(FlaskForm):
    """A button that changes something (CSRF token only)."""


class AccessRequestForm(FlaskForm):
    """Ask to act for an organisation already in the register."""

    message = TextAreaField(
        _l("Message to those who decide"),
        validators=[
            Optional(),
            Length(
                max=MESSAGE_MAX_LENGTH,
                message=_l("A message has at most %(max)d characters", max=MESSAGE_MAX_LENGTH),
            ),
        ],
        filters=[strip],
    )


class DecisionForm(FlaskForm):
    """Approve or refuse an access request; a refusal gives its reason."""

    decision = RadioField(
        _l("Decision"),
        choices=decision_choices,
        validate_choice=False,  # checked below, with a clearer message than WTForms' own
    )
    reason = TextAreaField(
        _l("Grounds for the decision"),
        validators=[
            Optional(),
            Length(
                max=REASON_MAX_LENGTH,
                message=_l("The grounds have at most %(max)d characters", max=REASON_MAX_LENGTH),
            ),
        ],
        filters=[strip],
    )

    def validate_decision(self, field: RadioField) -> None:
        """A decision must be chosen."""
        if field.data not in {"approve", "refuse"}:
            raise ValidationError(_l("Choose whether to approve or refuse the request"))

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields; a refusal must state its grounds (Optional would skip an empty one)."""
        valid = bool(super().validate(extra_validators))
        if self.decision.data == "refuse" and not self.reason.data:
            self.reason.errors = [*self.reason.errors, _l("Give the reason for refusing")]
            return False
        return valid


def decision_prefix(request_id: object) -> str:
    """The field prefix of one request's decision form (several share a page)."""
    return f"r{getattr(request_id, 'hex', request_id)}"
