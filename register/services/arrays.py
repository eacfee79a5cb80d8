"""Personal data arrays of the working copy: create, change, remove, and how complete they are.

"Each part saves on its own": an array may be saved while fields are still empty (the task
list shows it in progress), but what IS entered must be consistent. `rule_errors` holds those
consistency rules, so the form enforces them at save and the submit step re-checks a working
copy with the same code. Fields are named by the model's attribute names ("retention" stands
for the three retention columns), so `arrays/<array id>/<name>` is the path of a field.
Services flush; the request commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from babel import Locale
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.i18n import local_today
from register.models import (
    Organisation,
    PersonalDataArray,
    ProcessingMode,
    ReferenceItem,
    ReferenceList,
    RetentionUnit,
)
from register.services import activity
from register.services.reference import NOT_COUNTRIES

OBJECT_TYPE = "personal_data_array"

# The code-list attributes of an array and the reference list each one draws from.
CODE_LISTS: dict[str, ReferenceList] = {
    "purpose_codes": ReferenceList.PURPOSE,
    "legal_basis_codes": ReferenceList.LEGAL_BASIS,
    "data_item_codes": ReferenceList.DATA_ITEM,
    "subject_category_codes": ReferenceList.SUBJECT_CATEGORY,
    "source_codes": ReferenceList.SOURCE,
    "recipient_category_codes": ReferenceList.RECIPIENT_CATEGORY,
    "security_measure_codes": ReferenceList.SECURITY_MEASURE,
}
SINGLE_CODES: dict[str, ReferenceList] = {
    "subject_bucket_code": ReferenceList.SUBJECT_BUCKET,
    "storage_form_code": ReferenceList.STORAGE_FORM,
}
ARRAY_LISTS = frozenset({*CODE_LISTS.values(), *SINGLE_CODES.values()})

# What a complete array has; "retention" is a duration (value + unit) or a condition.
REQUIRED_FIELDS: tuple[str, ...] = (
    "name",
    "purpose_codes",
    "legal_basis_codes",
    "collection_methods",
    "processing_mode",
    "data_item_codes",
    "subject_category_codes",
    "subject_bucket_code",
    "source_codes",
    "informing_subjects",
    "storage_form_code",
    "retention",
    "storage_country",
    "security_measure_codes",
    "processing_start_date",
)
# A list counts as filled by its "other" text too.
OTHER_TEXT = {"purpose_codes": "purpose_other", "data_item_codes": "data_item_other"}

ArrayState = Literal["not_started", "in_progress", "completed"]


@dataclass
class ArrayDetails:
    """An array's fields as a holder enters them (the model's attribute names)."""

    name: str
    purpose_codes: list[str] = field(default_factory=list)
    purpose_other: str | None = None
    legal_basis_codes: list[str] = field(default_factory=list)
    collection_methods: str | None = None
    processing_mode: ProcessingMode | None = None
    data_item_codes: list[str] = field(default_factory=list)
    data_item_other: str | None = None
    subject_category_codes: list[str] = field(default_factory=list)
    subject_bucket_code: str | None = None
    source_codes: list[str] = field(default_factory=list)
    informing_subjects: str | None = None
    storage_form_code: str | None = None
    retention_value: int | None = None
    retention_unit: RetentionUnit | None = None
    retention_condition: str | None = None
    storage_country: str | None = "KG"
    storage_location_details: str | None = None
    information_systems: str | None = None
    recipient_category_codes: list[str] = field(default_factory=list)
    named_recipients: str | None = None
    cross_border: bool = False
    cross_border_countries: list[str] = field(default_factory=list)
    cross_border_grounds: str | None = None
    security_measure_codes: list[str] = field(default_factory=list)
    security_description: str | None = None
    processing_start_date: date | None = None


class ArrayLike(Protocol):
    """What the rules read: a saved array or the details of a form."""

    name: str
    purpose_codes: list[str]
    legal_basis_codes: list[str]
    data_item_codes: list[str]
    retention_value: int | None
    retention_unit: RetentionUnit | None
    retention_condition: str | None
    storage_country: str | None
    cross_border: bool
    cross_border_countries: list[str]
    processing_start_date: date | None


@dataclass(frozen=True)
class Catalogue:
    """The reference items of the array lists, loaded in one query (retired ones too)."""

    items: dict[str, list[ReferenceItem]]

    def codes(self, list_code: str) -> set[str]:
        """Every code of the list, retired or not."""
        return {item.code for item in self.items.get(str(list_code), [])}

    def offered(self, list_code: str) -> list[ReferenceItem]:
        """The items a form offers (not retired), in order."""
        return [item for item in self.items.get(str(list_code), []) if not item.is_retired]

    @property
    def special_items(self) -> set[str]:
        """Data items that are special categories of personal data."""
        data_items = self.items.get(ReferenceList.DATA_ITEM, [])
        return {item.code for item in data_items if item.is_special_category}

    @property
    def special_bases(self) -> set[str]:
        """Legal bases that allow processing special categories."""
        bases = self.items.get(ReferenceList.LEGAL_BASIS, [])
        return {item.code for item in bases if item.valid_for_special_categories}


def catalogue() -> Catalogue:
    """Load the array lists' reference items in one query."""
    rows = db.session.scalars(
        sa.select(ReferenceItem)
        .where(ReferenceItem.list_code.in_([str(code) for code in ARRAY_LISTS]))
        .order_by(ReferenceItem.list_code, ReferenceItem.sort_order, ReferenceItem.code)
    )
    items: dict[str, list[ReferenceItem]] = {}
    for item in rows:
        items.setdefault(item.list_code, []).append(item)
    return Catalogue(items)


def special_item_codes() -> set[str]:
    """The codes of the data items that are special categories (one query)."""
    return set(
        db.session.scalars(
            sa.select(ReferenceItem.code).where(
                ReferenceItem.list_code == str(ReferenceList.DATA_ITEM),
                ReferenceItem.is_special_category.is_(True),
            )
        )
    )


def has_special_categories(array: ArrayLike, special: set[str] | None = None) -> bool:
    """Whether any chosen data item is a special category (pass `special` to save the query)."""
    special = special_item_codes() if special is None else special
    return any(code in special for code in array.data_item_codes or [])


def country_codes() -> frozenset[str]:
    """The ISO 3166 country codes that forms offer (Babel's territories, groupings left out)."""
    territories = [str(code) for code in Locale.parse("en").territories]
    return frozenset(
        code
        for code in territories
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


# -- the rules -------------------------------------------------------------------------------

UNKNOWN_CODE = _l("Choose only from the options shown")
UNKNOWN_COUNTRY = _l("Choose a country from the list")
COUNTRIES_NEEDED = _l("Select the countries the data is transferred to")
GROUNDS_NEEDED = _l("Enter the grounds for the cross-border transfer")
SPECIAL_BASIS_NEEDED = _l(
    "Special categories of personal data are selected: select at least one legal basis that "
    "allows processing them"
)
RETENTION_POSITIVE = _l("Enter the retention period as a whole number greater than 0")
RETENTION_UNIT_NEEDED = _l("Select whether the retention period is in days, months or years")
RETENTION_VALUE_NEEDED = _l("Enter the retention period as a number of days, months or years")
RETENTION_EITHER = _l("Enter either a retention period or a condition, not both")
DATE_IN_FUTURE = _l("The processing start date must be today or in the past")


def rule_errors(
    array: ArrayLike | PersonalDataArray, catalogue_: Catalogue | None = None
) -> dict[str, str]:
    """The consistency rules broken by what is entered (field → message); empty fields pass.

    Pass a preloaded `catalogue_` when checking several arrays; otherwise one query is made.
    """
    found = catalogue_ if catalogue_ is not None else catalogue()
    errors: dict[str, str] = {}
    for name, list_code in CODE_LISTS.items():
        if set(getattr(array, name) or []) - found.codes(list_code):
            errors[name] = str(UNKNOWN_CODE)
    for name, list_code in SINGLE_CODES.items():
        value = getattr(array, name)
        if value and value not in found.codes(list_code):
            errors[name] = str(UNKNOWN_CODE)
    countries = country_codes()
    if array.storage_country and array.storage_country not in countries:
        errors["storage_country"] = str(UNKNOWN_COUNTRY)
    if array.cross_border:
        chosen = array.cross_border_countries or []
        if not chosen:
            errors["cross_border_countries"] = str(COUNTRIES_NEEDED)
        elif set(chosen) - countries:
            errors["cross_border_countries"] = str(UNKNOWN_COUNTRY)
        if not getattr(array, "cross_border_grounds", None):
            errors["cross_border_grounds"] = str(GROUNDS_NEEDED)
    if (
        "legal_basis_codes" not in errors
        and has_special_categories(array, found.special_items)
        and not set(array.legal_basis_codes or []) & found.special_bases
    ):
        errors["legal_basis_codes"] = str(SPECIAL_BASIS_NEEDED)
    retention = _retention_error(array)
    if retention is not None:
        errors["retention"] = retention
    start = array.processing_start_date
    if start is not None and start > local_today():
        errors["processing_start_date"] = str(DATE_IN_FUTURE)
    return errors


def _retention_error(array: ArrayLike) -> str | None:
    value, unit, condition = array.retention_value, array.retention_unit, array.retention_condition
    if value is not None and condition:
        return str(RETENTION_EITHER)
    if value is not None and value <= 0:
        return str(RETENTION_POSITIVE)
    if value is not None and unit is None:
        return str(RETENTION_UNIT_NEEDED)
    if value is None and unit is not None and not condition:
        return str(RETENTION_VALUE_NEEDED)
    return None


def _is_empty(array: ArrayLike | PersonalDataArray, name: str) -> bool:
    if name == "retention":
        duration = array.retention_value is not None and array.retention_unit is not None
        return not duration and not array.retention_condition
    value = getattr(array, name)
    if name in OTHER_TEXT and getattr(array, OTHER_TEXT[name]):
        return False
    return value is None or value == "" or value == []


def missing_fields(array: ArrayLike | PersonalDataArray) -> list[str]:
    """The REQUIRED_FIELDS still empty, in the order of the form."""
    return [name for name in REQUIRED_FIELDS if _is_empty(array, name)]


def state(array: PersonalDataArray | None, catalogue_: Catalogue | None = None) -> ArrayState:
    """not_started (no array yet), in_progress, or completed (nothing missing, no rule broken)."""
    if array is None:
        return "not_started"
    if missing_fields(array) or rule_errors(array, catalogue_):
        return "in_progress"
    return "completed"


# -- reading and changing --------------------------------------------------------------------


def arrays_of(organisation_id: uuid.UUID) -> list[PersonalDataArray]:
    """The organisation's arrays by name, in one query."""
    return list(
        db.session.scalars(
            sa.select(PersonalDataArray)
            .where(PersonalDataArray.organisation_id == organisation_id)
            .order_by(PersonalDataArray.name, PersonalDataArray.id)
        )
    )


def find_array(organisation: Organisation, array_id: uuid.UUID) -> PersonalDataArray | None:
    """The organisation's array with this id; None for another organisation's or a missing one."""
    return db.session.scalar(
        sa.select(PersonalDataArray).where(
            PersonalDataArray.id == array_id,
            PersonalDataArray.organisation_id == organisation.id,
        )
    )


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _apply(array: PersonalDataArray, data: ArrayDetails) -> None:
    for item in fields(data):
        value = getattr(data, item.name)
        if isinstance(value, list):
            value = list(dict.fromkeys(value))  # keep the order, drop repeats
        setattr(array, item.name, _blank_to_none(value))
    array.name = (data.name or "").strip()
    if not array.cross_border:
        # No transfer: countries or grounds left in a hidden answer are not kept.
        array.cross_border_countries = []
        array.cross_border_grounds = None


def create_array(organisation: Organisation, data: ArrayDetails) -> PersonalDataArray:
    """Add an array to the organisation's working copy (it may still be incomplete)."""
    array = PersonalDataArray(organisation_id=organisation.id)
    _apply(array, data)
    db.session.add(array)
    db.session.flush()
    activity.record(
        "array.created",
        object_type=OBJECT_TYPE,
        object_id=str(array.id),
        details={"organisation": str(organisation.id)},
    )
    return array


def update_array(array: PersonalDataArray, data: ArrayDetails) -> None:
    """Change an array of the working copy."""
    _apply(array, data)
    db.session.flush()
    activity.record(
        "array.updated",
        object_type=OBJECT_TYPE,
        object_id=str(array.id),
        details={"organisation": str(array.organisation_id)},
    )


def remove_array(array: PersonalDataArray) -> None:
    """Delete an array from the working copy (frozen versions keep their snapshots)."""
    array_id, organisation_id = array.id, array.organisation_id
    db.session.delete(array)
    db.session.flush()
    activity.record(
        "array.removed",
        object_type=OBJECT_TYPE,
        object_id=str(array_id),
        details={"organisation": str(organisation_id)},
    )
