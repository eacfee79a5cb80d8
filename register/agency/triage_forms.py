"""Forms of the agency's triage of breach reports and complaints: list filters and moves.

Every form that moves a record carries the `lock_version` its page was read at (`LockedForm`),
so a move on a page someone else changed meanwhile is refused and what was typed is kept.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, StopValidation

from register.agency.review_forms import GROUNDS_LIMIT, LockedForm
from register.holder.forms import MaxLength, clean_text

QUESTION_LIMIT = 4000


def _grounds(label: Any, hint_required: Any) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            DataRequired(hint_required),
            MaxLength(GROUNDS_LIMIT, _l("The grounds must be 4,000 characters or fewer")),
        ],
        filters=[clean_text],
    )


class StartForm(LockedForm):
    """Take a received record and start assessing it."""


class QuestionForm(LockedForm):
    """Ask the holder a question about its breach report."""

    question = TextAreaField(
        _l("Question for the holder"),
        validators=[
            DataRequired(_l("Write the question")),
            MaxLength(QUESTION_LIMIT, _l("A question must be 4,000 characters or fewer")),
        ],
        filters=[clean_text],
    )


class DecisionForm(LockedForm):
    """A reasoned decision: the choices are set by the view, for the record's kind."""

    decision = RadioField(_l("What do you decide?"), choices=[], validate_choice=False)
    grounds = _grounds(_l("Grounds for the decision"), _l("State the grounds for the decision"))

    def validate_decision(self, field: RadioField) -> None:
        """One of the decisions offered."""
        if field.data not in {value for value, _label in field.choices or []}:
            raise StopValidation(str(_l("Choose a decision")))


class HolderFilterForm(FlaskForm):
    """The holder filters of the agency's lists (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    sector = SelectField(_l("Sector"), choices=[], validate_choice=False)
    holder = StringField(
        _l("Holder: name, TIN or registration number"),
        validators=[Optional(), MaxLength(200, _l("Search for 200 characters or fewer"))],
        filters=[clean_text],
    )


class TriageFilterForm(HolderFilterForm):
    """The filters of the breach and complaint lists."""

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    late = SelectField(_l("Filed late"), choices=[], validate_choice=False)
    overdue = BooleanField(_l("Past the agency's deadline only"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.late.choices = [("", _l("Any")), ("yes", _l("Late only")), ("no", _l("In time only"))]
