"""Forms of the reference-list pages, and the lists' names in the three languages."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from register.forms_fields import strip
from register.models import ReferenceList

LIST_LABELS = {
    ReferenceList.LEGAL_FORM: _l("Legal forms"),
    ReferenceList.OWNERSHIP_FORM: _l("Forms of ownership"),
    ReferenceList.SECTOR: _l("Sectors"),
    ReferenceList.REGION: _l("Regions"),
    ReferenceList.PURPOSE: _l("Purposes of processing"),
    ReferenceList.LEGAL_BASIS: _l("Legal bases"),
    ReferenceList.DATA_ITEM: _l("Personal data items"),
    ReferenceList.SUBJECT_CATEGORY: _l("Categories of data subjects"),
    ReferenceList.SUBJECT_BUCKET: _l("Numbers of data subjects"),
    ReferenceList.SOURCE: _l("Sources of collection"),
    ReferenceList.RECIPIENT_CATEGORY: _l("Categories of recipients"),
    ReferenceList.SECURITY_MEASURE: _l("Security and confidentiality measures"),
    ReferenceList.STORAGE_FORM: _l("Storage forms"),
    ReferenceList.LAW_ARTICLE: _l("Articles of law (violations found by inspections)"),
}

# A code is what records store: lowercase snake_case, except regions (ISO 3166-2:KG).
CODE_PATTERN = re.compile(r"^[a-z0-9_]+$")
REGION_CODE_PATTERN = re.compile(r"^KG-[A-Z]{1,2}$")
# "new" would be shadowed by the page that adds an item.
RESERVED_CODES = frozenset({"new"})

# Which optional fields each list has; the other lists' forms leave them out.
LIST_FIELDS = {
    ReferenceList.DATA_ITEM: ("is_special_category",),
    ReferenceList.LEGAL_BASIS: ("valid_for_special_categories",),
    ReferenceList.SUBJECT_BUCKET: ("lower_bound", "upper_bound"),
}
OPTIONAL_FIELDS = (
    "is_special_category",
    "valid_for_special_categories",
    "lower_bound",
    "upper_bound",
)


def _label_field(label: Any, missing: Any) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(missing),
            Length(max=300, message=_l("A label has at most 300 characters")),
        ],
    )


class ReferenceItemForm(FlaskForm):
    """An item: its code (given once, when it is created), labels, flags and position."""

    code = StringField(
        _l("Code"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter the code")),
            Length(max=40, message=_l("A code has at most 40 characters")),
        ],
    )
    label_ky = _label_field(_l("Label in Kyrgyz"), _l("Enter the label in Kyrgyz"))
    label_ru = _label_field(_l("Label in Russian"), _l("Enter the label in Russian"))
    label_en = _label_field(_l("Label in English"), _l("Enter the label in English"))
    is_special_category = BooleanField(_l("A special category of personal data"))
    valid_for_special_categories = BooleanField(
        _l("Allows the processing of special categories of personal data")
    )
    lower_bound = IntegerField(
        _l("From (number of subjects)"),
        validators=[
            InputRequired(_l("Enter the smallest number of subjects in this range")),
            NumberRange(min=0, message=_l("Enter a number of 0 or more")),
        ],
        invalid_value_message=_l("Enter a whole number, without spaces or separators"),
    )
    upper_bound = IntegerField(
        _l("To (number of subjects)"),
        validators=[Optional(), NumberRange(min=0, message=_l("Enter a number of 0 or more"))],
        invalid_value_message=_l("Enter a whole number, without spaces or separators"),
    )
    sort_order = IntegerField(
        _l("Position in the list"),
        validators=[
            Optional(),
            NumberRange(min=0, max=1_000_000, message=_l("Enter a number from 0 to 1,000,000")),
        ],
        invalid_value_message=_l("Enter a whole number, without spaces or separators"),
    )

    def __init__(
        self, list_code: ReferenceList, *args: Any, new: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.list_code = list_code
        if not new:  # a code is never changed: the edit form has no such field at all
            delattr(self, "code")
        wanted = LIST_FIELDS.get(list_code, ())
        for name in OPTIONAL_FIELDS:
            if name not in wanted:
                delattr(self, name)

    def validate_code(self, field: StringField) -> None:
        """Lowercase letters, digits and underscores (regions: an ISO 3166-2:KG code)."""
        value = field.data or ""
        if self.list_code is ReferenceList.REGION:
            if not REGION_CODE_PATTERN.match(value):
                raise ValidationError(
                    _l("Enter the ISO 3166-2 code of the region, like KG-GB or KG-C")
                )
        elif not CODE_PATTERN.match(value):
            raise ValidationError(
                _l("Use only lowercase Latin letters, digits and underscores, like state_body")
            )
        if value in RESERVED_CODES:
            raise ValidationError(_l("This code is reserved: choose another"))

    def validate_upper_bound(self, field: IntegerField) -> None:
        """The range must not end before it starts."""
        lower = self.lower_bound.data
        if field.data is not None and lower is not None and field.data < lower:
            raise ValidationError(_l("The upper bound cannot be smaller than the lower bound"))


class ReferenceActionForm(FlaskForm):
    """A button that retires or reinstates an item (CSRF token only)."""
