"""Forms of the registration pages: submit, withdraw, a termination notice, declaration files."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Optional

from register.holder.forms import DocumentForm, MaxLength, clean_text

REASON_LIMIT = 2000


class SubmitForm(FlaskForm):
    """The button that submits the registration (CSRF only)."""


class WithdrawForm(FlaskForm):
    """Withdraw a declaration before the agency decides; the reason is optional."""

    reason = TextAreaField(
        _l("Why are you withdrawing it?"),
        validators=[
            Optional(),
            MaxLength(REASON_LIMIT, _l("The reason must be 2,000 characters or fewer")),
        ],
        filters=[clean_text],
    )
    # The declaration's lock_version when the page was read: a stale form is refused.
    lock_version = HiddenField()

    def expected_lock_version(self) -> int | None:
        """The version the page was read at, if the form carried a valid one."""
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return None


class TerminationForm(FlaskForm):
    """Ask the agency to strike the entry off: the holder stops processing personal data."""

    reason = TextAreaField(
        _l("Why does the organisation stop processing personal data?"),
        validators=[
            DataRequired(_l("Say why the organisation stops processing personal data")),
            MaxLength(REASON_LIMIT, _l("The reason must be 2,000 characters or fewer")),
        ],
        filters=[clean_text],
    )


class DeclarationDocumentForm(DocumentForm):
    """Attach a PDF, PNG or JPEG of at most 10 MB to a declaration (type read from content)."""
