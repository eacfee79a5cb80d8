"""Organisations (holders) and their two people: create, edit, find by TIN, task overview.

A TIN belongs to one organisation only. Whoever enters a TIN that is already in the register
is never given that organisation: `create_organisation` raises `TinTaken`, and the holder's
pages send them to ask for access instead. Services flush; the request commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from register.crypto.blind import normalise_digits
from register.extensions import db
from register.models import (
    Document,
    MemberRole,
    Membership,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    Person,
    PersonKind,
    RegisterEntry,
    User,
)
from register.services import activity


class TinTaken(Exception):
    """The TIN is already in the register: the user may ask for access, never take it over."""

    def __init__(self, organisation: Organisation | None) -> None:
        super().__init__("this TIN is already in the register")
        # None when a concurrent request inserted it first (its row is not visible yet).
        self.organisation = organisation


@dataclass
class OrganisationDetails:
    """The organisation's own fields (DESIGN.md §2), as a holder enters them; not the TIN."""

    legal_name: str
    short_name: str | None
    legal_form_code: str
    ownership_form_code: str
    subordination: str | None
    sector_code: str
    region_code: str
    legal_address: str
    actual_address: str
    phone: str | None
    email: str | None
    website: str | None


@dataclass
class PersonDetails:
    """The head's or the responsible person's fields (PIN, contact and consent: responsible)."""

    full_name: str
    position: str
    pin: str | None = None
    phone: str | None = None
    email: str | None = None
    consents_to_publication: bool = False


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def find_by_tin(tin: str) -> Organisation | None:
    """The organisation with this TIN, if any (found by blind index, confirmed decrypted)."""
    digits = normalise_digits(tin or "")
    if len(digits) != 14:
        return None
    candidates = db.session.scalars(
        sa.select(Organisation).where(Organisation.tin.matches(digits))
    ).all()
    return next((found for found in candidates if Organisation.tin.equal(found, digits)), None)


def membership_of(user: User, organisation: Organisation) -> Membership | None:
    """The user's membership of the organisation, if any."""
    return db.session.scalar(
        sa.select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user.id
        )
    )


def _apply_details(organisation: Organisation, details: OrganisationDetails) -> None:
    for field in fields(details):
        setattr(organisation, field.name, _blank_to_none(getattr(details, field.name)))


def create_organisation(
    user: User,
    tin: str,
    details: OrganisationDetails,
    origin: OrganisationOrigin = OrganisationOrigin.ONLINE,
) -> Organisation:
    """Create an unverified organisation entered online, with `user` as its owner.

    From a paper submission (`origin` PAPER) agency staff enter it and nobody owns it: the
    holder can later ask the agency for access to it.

    Raises TinTaken when the TIN is already in the register, also when another request
    inserts it between our look-up and our insert (the unique blind index refuses the second).
    """
    existing = find_by_tin(tin)
    if existing is not None:
        raise TinTaken(existing)
    organisation = Organisation(
        status=OrganisationStatus.UNVERIFIED,
        origin=origin,
        created_by_id=user.id,
    )
    _apply_details(organisation, details)
    organisation.set_tin(tin)  # after the legal form: it decides whether the TIN is public
    try:
        # A savepoint: a concurrent insert of the same TIN undoes only this, not the request.
        with db.session.begin_nested():
            db.session.add(organisation)
            if origin is OrganisationOrigin.ONLINE:
                db.session.add(
                    Membership(
                        organisation_id=organisation.id, user_id=user.id, role=MemberRole.OWNER
                    )
                )
    except IntegrityError:
        raise TinTaken(None) from None
    activity.record(
        "organisation.created",
        actor=user,
        object_type="organisation",
        object_id=str(organisation.id),
        details={"legal_form": organisation.legal_form_code, "origin": origin.value},
    )
    return organisation


def update_details(organisation: Organisation, details: OrganisationDetails) -> None:
    """Change the organisation's fields (not its TIN: a new TIN is a new organisation)."""
    _apply_details(organisation, details)
    # The legal form decides whether the TIN may be published (an entrepreneur's is a PIN).
    tin = organisation.tin or ""
    organisation.public_tin = None if organisation.is_individual_entrepreneur else tin
    db.session.flush()
    activity.record(
        "organisation.updated", object_type="organisation", object_id=str(organisation.id)
    )


def save_person(organisation: Organisation, kind: PersonKind, data: PersonDetails) -> Person:
    """Enter or change the head or the responsible person of the organisation."""
    person = organisation.person(kind)
    if person is None:
        person = Person(organisation_id=organisation.id, kind=kind)
        organisation.people.append(person)
    person.full_name = data.full_name.strip()
    person.position = _blank_to_none(data.position)
    consent_before = person.consents_to_publication
    if kind is PersonKind.RESPONSIBLE:
        person.pin = data.pin
        person.phone = _blank_to_none(data.phone)
        person.email = _blank_to_none(data.email)
        person.consents_to_publication = data.consents_to_publication
    db.session.flush()
    activity.record(
        "organisation.person_saved",
        object_type="organisation",
        object_id=str(organisation.id),
        details={"person": kind.value, "consents": person.consents_to_publication},
    )
    if kind is PersonKind.RESPONSIBLE and consent_before != person.consents_to_publication:
        action = "consent_given" if person.consents_to_publication else "consent_withdrawn"
        activity.record(
            f"organisation.{action}", object_type="organisation", object_id=str(organisation.id)
        )
        if not person.consents_to_publication:
            # DESIGN.md §3: withdrawing consent takes the contact out of every public version
            # now, not at the next approval.
            from register.services.register_entries import withdraw_responsible_contact

            withdraw_responsible_contact(organisation.id)
    return person


@dataclass(frozen=True)
class Overview:
    """One of the user's organisations with what is done of its registration."""

    organisation: Organisation
    role: MemberRole
    has_head: bool
    has_responsible: bool
    document_count: int
    entry: RegisterEntry | None = None

    @property
    def complete(self) -> bool:
        """Every task is completed."""
        return self.has_head and self.has_responsible and self.document_count > 0


def overviews(user: User) -> list[Overview]:
    """The organisations the user acts for, by name, each with its task list."""
    rows = db.session.execute(
        sa.select(Organisation, Membership.role)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id)
        .order_by(Organisation.legal_name, Organisation.id)
    ).all()
    ids = [organisation.id for organisation, _ in rows]
    counts = _document_counts(ids)
    entries = (
        {
            entry.organisation_id: entry
            for entry in db.session.scalars(
                sa.select(RegisterEntry).where(RegisterEntry.organisation_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return [
        Overview(
            organisation=organisation,
            role=role,
            has_head=organisation.person(PersonKind.HEAD) is not None,
            has_responsible=organisation.person(PersonKind.RESPONSIBLE) is not None,
            document_count=counts.get(organisation.id, 0),
            entry=entries.get(organisation.id),
        )
        for organisation, role in rows
    ]


def _document_counts(organisation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        sa.select(Document.organisation_id, sa.func.count())
        .where(
            Document.organisation_id.in_(organisation_ids),
            Document.declaration_id.is_(None),
            Document.order_answer_id.is_(None),
        )
        .group_by(Document.organisation_id)
    ).all()
    return {organisation_id: int(count) for organisation_id, count in rows}
