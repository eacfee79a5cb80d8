"""Forms of the agency's review: the queue's filters, claiming, assigning and deciding.

Every form that changes a declaration carries the `lock_version` its page was read at, so a
decision on a page that someone else changed meanwhile is refused (and what was typed is kept).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from register.holder.forms import MaxLength, clean_text

GROUNDS_LIMIT = 4000
ARTICLE_LIMIT = 100
COMMENT_LIMIT = 2000
COMMENT_ROWS = 6

DECISIONS = {
    "approve": _l("Approve"),
    "request_changes": _l("Ask the holder for changes"),
    "reject": _l("Refuse"),
    "sign_off": _l("Sign off the approval (second pair of eyes)"),
    "return": _l("Send back to review"),
}


class RequiredMark:
    """Marks a field required on the page; the form's `validate` says when it is missing."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        """Nothing to check here."""


def grounds_field(label: Any) -> TextAreaField:
    """The grounds of a decision: required (checked by the form, which knows when), bounded."""
    return TextAreaField(
        label,
        validators=[
            RequiredMark(),
            Optional(),
            MaxLength(GROUNDS_LIMIT, _l("The grounds must be 4,000 characters or fewer")),
        ],
        filters=[clean_text],
    )


def article_field() -> StringField:
    """The article of the law a decision rests on."""
    return StringField(
        _l("Article of the law"),
        validators=[
            Optional(),
            MaxLength(ARTICLE_LIMIT, _l("The article must be 100 characters or fewer")),
        ],
        filters=[clean_text],
    )


class LockedForm(FlaskForm):
    """A form that says which version of the declaration its page showed."""

    lock_version = HiddenField()

    def expected_lock_version(self) -> int:
        """The version the page was read at (0, never current, when the form lost it)."""
        try:
            return int(self.lock_version.data)
        except (TypeError, ValueError):
            return 0


class ClaimForm(LockedForm):
    """Take the declaration for review."""


class AssignForm(LockedForm):
    """A supervisor gives the declaration to a reviewer."""

    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assignee.flags.required = True

    def validate_assignee(self, field: SelectField) -> None:
        """One of the offered reviewers."""
        if field.data not in {str(value) for value, _label in field.choices or []}:
            raise ValidationError(_l("Choose a reviewer from the list"))


class CommentForm(Form):
    """One comment of a request for changes: the field or array, and what to change."""

    path = SelectField(_l("Field or array"), choices=[], validate_choice=False)
    body = TextAreaField(
        _l("Comment"),
        validators=[
            Optional(),
            MaxLength(COMMENT_LIMIT, _l("A comment must be 2,000 characters or fewer")),
        ],
        filters=[clean_text],
    )


class DecisionForm(LockedForm):
    """A reasoned decision: approve, ask for changes (comments per field), refuse, sign off."""

    decision = RadioField(_l("What do you decide?"), choices=[], validate_choice=False)
    grounds = grounds_field(_l("Grounds for the decision"))
    article = article_field()
    comments = FieldList(FormField(CommentForm), min_entries=COMMENT_ROWS, max_entries=20)

    def set_choices(self, decisions: list[str], paths: list[tuple[str, str]]) -> None:
        """The decisions open to this user now, and the fields a comment can be attached to."""
        self.decision.choices = [(code, str(DECISIONS[code])) for code in decisions]
        for number, entry in enumerate(self.comments, start=1):
            row = entry.form
            row.path.choices = [("", str(_l("Choose a field or an array"))), *paths]
            row.path.label.text = str(_l("Comment %(number)s: field or array", number=number))
            row.body.label.text = str(_l("Comment %(number)s: what to change", number=number))

    def filled_comments(self) -> list[tuple[str, str]]:
        """The comments written, as (path, text)."""
        return [
            (entry.form.path.data or "", entry.form.body.data or "")
            for entry in self.comments
            if (entry.form.body.data or "").strip()
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        """Each decision's own requirements, with the message beside the field concerned."""
        valid = bool(super().validate(extra_validators))
        decision = self.decision.data
        offered = {code for code, _label in self.decision.choices or []}
        if decision not in offered:
            self.decision.errors = [*self.decision.errors, _l("Choose a decision")]
            return False
        if not self.grounds.data:
            self.grounds.errors = [*self.grounds.errors, _l("State the grounds for the decision")]
            valid = False
        if decision in {"request_changes", "reject"} and not self.article.data:
            self.article.errors = [
                *self.article.errors,
                _l("Name the article of the law the decision rests on"),
            ]
            valid = False
        if decision == "request_changes":
            allowed = {value for value, _label in self.comments[0].form.path.choices or []} - {""}
            written = 0
            for entry in self.comments:
                body, path = (entry.form.body.data or "").strip(), entry.form.path.data or ""
                if body and path not in allowed:
                    entry.form.path.errors = [
                        *entry.form.path.errors,
                        _l("Choose the field or array this comment is about"),
                    ]
                    valid = False
                written += bool(body)
            if not written:
                self.comments[0].form.body.errors = [
                    *self.comments[0].form.body.errors,
                    _l("Write at least one comment on a field or an array"),
                ]
                valid = False
        return valid


class QueueFilterForm(FlaskForm):
    """The queue's filters (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False)
    region = SelectField(_l("Region"), choices=[], validate_choice=False)
    sector = SelectField(_l("Sector"), choices=[], validate_choice=False)
    high_risk = SelectField(_l("High risk"), choices=[], validate_choice=False)
    assignee = SelectField(_l("Reviewer"), choices=[], validate_choice=False)
    overdue = BooleanField(_l("Overdue only"))
    sort = SelectField(_l("Order"), choices=[], validate_choice=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.high_risk.choices = [
            ("", _l("Any")),
            ("yes", _l("High risk only")),
            ("no", _l("Not high risk")),
        ]
        self.assignee.choices = [
            ("anyone", _l("Anyone")),
            ("me", _l("Me")),
            ("nobody", _l("Nobody yet")),
        ]
        self.sort.choices = [("oldest", _l("Oldest first")), ("newest", _l("Newest first"))]


class EntryStatusForm(FlaskForm):
    """A supervisor suspends, reinstates or strikes off an entry, with grounds."""

    action = RadioField(_l("Action"), choices=[], validate_choice=False)
    grounds = grounds_field(_l("Grounds"))
    article = article_field()

    def validate(self, extra_validators: Any = None) -> bool:
        """An offered action, with grounds."""
        valid = bool(super().validate(extra_validators))
        if self.action.data not in {code for code, _label in self.action.choices or []}:
            self.action.errors = [*self.action.errors, _l("Choose what to do with the entry")]
            valid = False
        if not self.grounds.data:
            self.grounds.errors = [*self.grounds.errors, _l("State the grounds for the decision")]
            valid = False
        return valid


class StaffSearchForm(FlaskForm):
    """Find an organisation by name, TIN, registration number or a person's PIN."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name, TIN, registration number or a person's PIN"),
        validators=[Optional(), MaxLength(200, _l("Search for 200 characters or fewer"))],
        filters=[clean_text],
    )
