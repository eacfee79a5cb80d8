"""Forms of sign-up, sign-in, two-factor and passwords."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from register.services.passwords import password_problems
from register.validation import EMAIL_PATTERN


def email_field(label: Any = None) -> EmailField:
    """An e-mail address field with the checks every form shares."""
    return EmailField(
        label or _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address")),
            Length(max=254, message=_l("An e-mail address has at most 254 characters")),
            Regexp(
                EMAIL_PATTERN,
                message=_l("Enter an e-mail address in the correct format, like name@example.kg"),
            ),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    """A new password typed twice (made in each form's body, so fields keep the page's order)."""
    return (
        PasswordField(_l("Password"), validators=[DataRequired(_l("Enter a password"))]),
        PasswordField(
            _l("Confirm password"),
            validators=[
                DataRequired(_l("Enter the password again")),
                EqualTo("password", message=_l("The passwords do not match")),
            ],
        ),
    )


class NewPasswordMixin:
    """Checks a new password against the policy and the account's e-mail address."""

    def email_for_password_check(self) -> str:
        """The address the password must not contain."""
        return ""

    def validate_password(self, field: PasswordField) -> None:
        """Apply the password policy."""
        problems = password_problems(field.data or "", self.email_for_password_check())
        if problems:
            raise ValidationError(" ".join(problems))


class SignUpForm(NewPasswordMixin, FlaskForm):
    """Create a holder's account."""

    full_name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter your full name")),
            Length(max=200, message=_l("A name has at most 200 characters")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    email = email_field()
    password, password_confirm = new_password_fields()

    def email_for_password_check(self) -> str:
        """The address typed in this form."""
        return str(self.email.data or "")


class SignInForm(FlaskForm):
    """E-mail address and password."""

    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password"))])
    next = HiddenField()


class TwoFactorForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter the code")),
            Length(max=20, message=_l("Enter the 6-digit code or a recovery code")),
        ],
    )


class EmailForm(FlaskForm):
    """Only an e-mail address (password reset, resending the confirmation)."""

    email = email_field()


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    """Choose a new password from an e-mailed link."""

    password, password_confirm = new_password_fields()
    account_email = ""

    def email_for_password_check(self) -> str:
        """The address of the account whose password is being set."""
        return self.account_email


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    """Change the password while signed in."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password"))]
    )
    password, password_confirm = new_password_fields()
    account_email = ""

    def email_for_password_check(self) -> str:
        """The signed-in user's address."""
        return self.account_email
