"""The agency's search across all organisations: name, TIN, registration number, a person's PIN.

A name is matched against the organisations' normalised names (any word, any case, with or
without the Kyrgyz letters). Fourteen digits are looked up as a TIN and as a person's PIN, both
through their blind indexes (candidates are decrypted and compared); a PIN search reaches
personal data, so each one is written to the activity log (never the PIN itself). A
registration number finds its entry. Results are organisations, at most `LIMIT`, by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from register.crypto.blind import normalise_digits
from register.extensions import db
from register.models import Organisation, Person, PersonKind, RegisterEntry
from register.search_text import normalise
from register.services import activity
from register.services.organisations import find_by_tin

LIMIT = 100
_NUMBER = re.compile(r"^[A-Za-z]{1,20}-\d{4}-\d{6}$")


@dataclass(frozen=True)
class Hit:
    """An organisation found, and why."""

    organisation: Organisation
    entry: RegisterEntry | None
    reason: str  # name, tin, pin or number


@dataclass(frozen=True)
class Result:
    """What a search found; `truncated` when there were more than LIMIT."""

    hits: list[Hit]
    truncated: bool
    searched_pin: bool


def name_matches(words: list[str]) -> list[sa.ColumnElement[bool]]:
    """Each word anywhere in an organisation's normalised names (LIKE wildcards escaped)."""
    escaped = [word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for word in words]
    return [Organisation.search_name.like(f"%{word}%", escape="\\") for word in escaped]


def search(query: str) -> Result:
    """Organisations matching the query (see the module's description)."""
    query = (query or "").strip()
    if not query:
        return Result([], False, False)
    found: dict[object, tuple[Organisation, str]] = {}
    searched_pin = False
    digits = normalise_digits(query)
    if len(digits) == 14 and not re.search(r"[^\d\s-]", query):
        organisation = find_by_tin(digits)
        if organisation is not None:
            found[organisation.id] = (organisation, "tin")
        searched_pin = True
        people = db.session.scalars(
            sa.select(Person).where(
                Person.pin.matches(digits), Person.kind == PersonKind.RESPONSIBLE
            )
        ).all()
        for person in people:
            if Person.pin.equal(person, digits) and person.organisation_id not in found:
                found[person.organisation_id] = (person.organisation, "pin")
        activity.record(
            "staff.pin_searched",
            object_type="search",
            details={"organisations_found": sum(1 for _o, why in found.values() if why == "pin")},
        )
    elif _NUMBER.match(query):
        entry = db.session.scalar(
            sa.select(RegisterEntry).where(RegisterEntry.registration_number == query.upper())
        )
        if entry is not None:
            organisation = db.session.get(Organisation, entry.organisation_id)
            if organisation is not None:
                found[organisation.id] = (organisation, "number")
    else:
        words = normalise(query).split()
        if words:
            rows = db.session.scalars(
                sa.select(Organisation)
                .where(*name_matches(words[:10]))
                .order_by(Organisation.search_name, Organisation.id)
                .limit(LIMIT + 1)
            ).all()
            for organisation in rows:
                found[organisation.id] = (organisation, "name")
    truncated = len(found) > LIMIT
    pairs = list(found.values())[:LIMIT]
    entries = (
        {
            entry.organisation_id: entry
            for entry in db.session.scalars(
                sa.select(RegisterEntry).where(
                    RegisterEntry.organisation_id.in_(
                        [organisation.id for organisation, _ in pairs]
                    )
                )
            )
        }
        if pairs
        else {}
    )
    current_app.logger.info("staff search: %d organisations found", len(pairs))
    return Result(
        [Hit(organisation, entries.get(organisation.id), why) for organisation, why in pairs],
        truncated,
        searched_pin,
    )
