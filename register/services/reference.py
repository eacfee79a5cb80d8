"""Reading the reference lists: choices for forms and labels for pages, in the user's language."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from babel import Locale
from flask import has_request_context, request
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


@dataclass(frozen=True)
class Item:
    """A reference item as pages read it (a copy: shared between requests, never changed)."""

    id: uuid.UUID
    list_code: str
    code: str
    label_ky: str
    label_ru: str
    label_en: str
    sort_order: int
    is_special_category: bool
    valid_for_special_categories: bool
    lower_bound: int | None
    upper_bound: int | None
    retired_at: datetime | None

    @property
    def is_retired(self) -> bool:
        """Retired items are kept for old records but not offered in forms."""
        return self.retired_at is not None

    def label(self, language: str) -> str:
        """The label in `language` (ky, ru or en), falling back to Russian, then the code."""
        value = getattr(self, f"label_{language}", None) or self.label_ru or self.code
        return str(value)


_CACHE: dict[str, Any] = {}
_MEMO = "register.reference_items"
_FIELDS = tuple(field.name for field in fields(Item))


def all_items() -> list[Item]:
    """Every item of every list, in list order; read once and kept until the lists change.

    Public pages label codes on every request; loading some 300 rows each time cost more than
    the search itself. One aggregate query (how many rows, when last changed) tells whether
    the copy is still current, so an edit by an admin is seen at once.
    """
    # Checked once per request (a page labels many codes); kept in the request's own environ,
    # not in `g`, which an app context shared by several requests would carry over.
    memo = request.environ if has_request_context() else {}
    if _MEMO in memo:
        return list(memo[_MEMO])
    stamp = tuple(
        db.session.execute(
            sa.select(sa.func.count(), sa.func.max(ReferenceItem.updated_at)).select_from(
                ReferenceItem
            )
        ).one()
    )
    if _CACHE.get("stamp") != stamp:
        rows = db.session.execute(
            sa.select(*(getattr(ReferenceItem, name) for name in _FIELDS)).order_by(
                ReferenceItem.list_code, ReferenceItem.sort_order, ReferenceItem.code
            )
        ).all()
        _CACHE["items"] = [Item(*row) for row in rows]
        _CACHE["stamp"] = stamp
    memo[_MEMO] = _CACHE["items"]
    return list(_CACHE["items"])


def items(list_code: ReferenceList | str, *, include_retired: bool = False) -> list[Item]:
    """The items of one list in their order."""
    wanted = str(list_code)
    return [
        item
        for item in all_items()
        if item.list_code == wanted and (include_retired or item.retired_at is None)
    ]


def choices(list_code: ReferenceList | str) -> list[tuple[str, str]]:
    """(code, label) pairs of the items still offered, in the current language."""
    language = current_language()
    return [(item.code, item.label(language)) for item in items(list_code)]


def label(list_code: ReferenceList | str, code: str | None) -> str:
    """The label of a code in the current language (retired items too); the code if unknown."""
    if not code:
        return ""
    wanted = str(list_code)
    item = next((i for i in all_items() if i.list_code == wanted and i.code == code), None)
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
