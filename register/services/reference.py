"""Reading the reference lists: choices for forms and labels for pages, in the user's language."""

from __future__ import annotations

import sqlalchemy as sa
from babel import Locale
from flask_babel import get_locale

from register.extensions import db
from register.models import ReferenceItem, ReferenceList

LANGUAGES = ("ky", "ru", "en")
# CLDR territories that are not ISO 3166-1 countries: groupings, pseudo-regions for testing,
# and codes reserved for islands and territories that ISO does not list.
NOT_COUNTRIES = frozenset(
    {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)


def current_language() -> str:
    """ky, ru or en: the language of the current request (Russian outside one)."""
    locale = get_locale()
    language = locale.language if locale is not None else "ru"
    return language if language in LANGUAGES else "ru"


def items(list_code: ReferenceList | str, *, include_retired: bool = False) -> list[ReferenceItem]:
    """The items of one list in their order."""
    statement = sa.select(ReferenceItem).where(ReferenceItem.list_code == str(list_code))
    if not include_retired:
        statement = statement.where(ReferenceItem.retired_at.is_(None))
    return list(
        db.session.scalars(statement.order_by(ReferenceItem.sort_order, ReferenceItem.code))
    )


def choices(list_code: ReferenceList | str) -> list[tuple[str, str]]:
    """(code, label) pairs of the items still offered, in the current language."""
    language = current_language()
    return [(item.code, item.label(language)) for item in items(list_code)]


def label(list_code: ReferenceList | str, code: str | None) -> str:
    """The label of a code in the current language (retired items too); the code if unknown."""
    if not code:
        return ""
    item = db.session.scalar(
        sa.select(ReferenceItem).where(
            ReferenceItem.list_code == str(list_code), ReferenceItem.code == code
        )
    )
    return item.label(current_language()) if item is not None else code


def is_offered(list_code: ReferenceList | str, code: str) -> bool:
    """Whether `code` is a current (not retired) item of the list."""
    return code in {item.code for item in items(list_code)}


def countries() -> list[tuple[str, str]]:
    """ISO 3166 country codes with their names in the current language (from Babel's data)."""
    territories = Locale.parse(current_language()).territories
    return sorted(
        (
            (code, name)
            for code, name in territories.items()
            if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
        ),
        key=lambda pair: pair[1],
    )
