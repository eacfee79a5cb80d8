"""The public register: publishing a version, registration numbers, status changes, certificates.

`publish(version, …)` writes the denormalised entry from the version's public snapshot (search
text, sort name and filter flags included) and adds the version to the entry's history; the
first publication gives the registration number. Supervisors suspend, reinstate or strike off
an entry, always with grounds. Each published version gets a certificate whose random code is
checked at `/verify/<code>`: valid, superseded, suspended or struck off. Nothing here reads a
confidential value: the public side never decrypts (DESIGN.md §2).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from register.database import utcnow
from register.extensions import db
from register.models import (
    Certificate,
    Declaration,
    DeclarationVersion,
    EntryStatus,
    Organisation,
    RegisterEntry,
    RegisterEntryEvent,
    RegisterEntryVersion,
    RegistrationSequence,
    User,
)
from register.search_text import normalise, search_text
from register.services import activity, reference

STATUS_LABELS = {
    EntryStatus.REGISTERED: _l("Registered"),
    EntryStatus.SUSPENDED: _l("Suspended"),
    EntryStatus.STRUCK_OFF: _l("Struck off"),
}
# Which supervisor action moves an entry from which status to which.
TRANSITIONS = {
    "suspend": ({EntryStatus.REGISTERED}, EntryStatus.SUSPENDED),
    "reinstate": ({EntryStatus.SUSPENDED}, EntryStatus.REGISTERED),
    "strike_off": ({EntryStatus.REGISTERED, EntryStatus.SUSPENDED}, EntryStatus.STRUCK_OFF),
}


class EntryError(Exception):
    """The change of an entry's status cannot be made; the message says why."""


def agency_today(moment: datetime | None = None) -> date:
    """The date in the agency's time zone (Asia/Bishkek by default)."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return (moment or utcnow()).astimezone(zone).date()


# -- registration numbers ----------------------------------------------------------------------


def format_number(prefix: str, year: int, sequence: int) -> str:
    """`PDH-2026-000042`."""
    return f"{prefix}-{year}-{sequence:06d}"


def next_registration_number(moment: datetime | None = None) -> str:
    """The next number of the year (agency time zone): unique, never reused, concurrency-safe.

    The year's row is created if missing (INSERT … ON CONFLICT DO NOTHING), then incremented by
    one UPDATE … RETURNING, which holds the row's lock until the transaction ends: concurrent
    approvals on PostgreSQL queue there and get consecutive numbers; SQLite runs one writer at a
    time. A transaction that rolls back releases its number with it, so nothing is skipped and
    no number is ever given twice (the entries' unique index would refuse it anyway).
    """
    prefix = str(current_app.config["REGISTRATION_NUMBER_PREFIX"])
    year = agency_today(moment).year
    insert: Any = (
        postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    db.session.execute(
        insert(RegistrationSequence)
        .values(id=uuid.uuid4(), prefix=prefix, year=year, last_value=0)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )
    sequence = db.session.execute(
        sa.update(RegistrationSequence)
        .where(RegistrationSequence.prefix == prefix, RegistrationSequence.year == year)
        .values(last_value=RegistrationSequence.last_value + 1)
        .returning(RegistrationSequence.last_value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return format_number(prefix, year, int(sequence))


# -- publishing --------------------------------------------------------------------------------


def max_subjects(arrays: list[dict[str, Any]], bounds: dict[str, int | None]) -> int | None:
    """The lower bound of the largest subject-count bucket among the arrays (None: none given)."""
    found = [bounds.get(str(array.get("subject_bucket_code"))) for array in arrays]
    known = [bound for bound in found if bound is not None]
    return max(known) if known else None


def _bucket_bounds() -> dict[str, int | None]:
    return {
        item.code: item.lower_bound
        for item in reference.items("subject_bucket", include_retired=True)
    }


def _entry_values(public: dict[str, Any], number: str) -> dict[str, Any]:
    organisation = public.get("organisation") or {}
    arrays = list((public.get("arrays") or {}).values())
    legal_name = str(organisation.get("legal_name") or "")
    return {
        "legal_name": legal_name,
        "short_name": organisation.get("short_name"),
        "tin": organisation.get("tin"),  # absent for an individual entrepreneur
        "legal_form_code": organisation.get("legal_form_code"),
        "sector_code": organisation.get("sector_code"),
        "region_code": organisation.get("region_code"),
        "search_text": search_text(
            legal_name, organisation.get("short_name"), organisation.get("tin"), number
        ),
        "sort_name": normalise(legal_name)[:500],
        "cross_border": any(array.get("cross_border_countries") for array in arrays),
        "special_categories": any(array.get("special_categories") for array in arrays),
        "array_count": len(arrays),
        "max_subjects": max_subjects(arrays, _bucket_bounds()),
        "public_snapshot": public,
    }


def next_search_rowid() -> int | None:
    """On SQLite, the next id in the FTS5 index (writers take turns there); None elsewhere."""
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    last = db.session.scalar(sa.select(sa.func.max(RegisterEntry.search_rowid)))
    return int(last or 0) + 1


def entry_of(organisation_id: uuid.UUID) -> RegisterEntry | None:
    """The organisation's register entry, if it has been published."""
    return db.session.scalar(
        sa.select(RegisterEntry).where(RegisterEntry.organisation_id == organisation_id)
    )


def publish(
    version: DeclarationVersion,
    organisation: Organisation,
    user: User | None,
    now: datetime,
    *,
    number: str | None = None,
    record_activity: bool = True,
) -> RegisterEntry:
    """Make the version the entry's published one (a new entry gets its number) and certify it.

    The legacy import (`register.holders_import`) passes the former register's `number` for a
    new entry (it has already moved the sequence past it) and records one activity entry for
    its whole run instead of one per entry (`record_activity=False`).
    """
    version.published_at = now
    entry = entry_of(organisation.id)
    today = agency_today(now)
    public = dict(version.public_snapshot)
    if entry is None:
        number = number or next_registration_number(now)
        entry = RegisterEntry(
            organisation_id=organisation.id,
            search_rowid=next_search_rowid(),
            registration_number=number,
            status=EntryStatus.REGISTERED,
            registered_on=today,
            updated_on=today,
            version_number=version.number,
            declaration_version_id=version.id,
            **_entry_values(public, number),
        )
        db.session.add(entry)
    else:
        for name, value in _entry_values(public, entry.registration_number).items():
            setattr(entry, name, value)
        entry.version_number = version.number
        entry.declaration_version_id = version.id
        entry.updated_on = today
    history = RegisterEntryVersion(
        entry_id=entry.id,
        number=version.number,
        declaration_version_id=version.id,
        published_at=now,
        public_snapshot=public,
    )
    db.session.add(history)
    db.session.flush()
    issue_certificate(entry, history, now)
    if record_activity:
        activity.record(
            "register.published",
            actor=user,
            object_type="register_entry",
            object_id=str(entry.id),
            details={"number": entry.registration_number, "version": version.number},
        )
    return entry


def withdraw_responsible_contact(organisation_id: uuid.UUID) -> int:
    """Remove the responsible person's published contact from the entry and all its versions.

    The contact is public only while the person consents (DESIGN.md §3); the published
    snapshots are rewritten at once. Returns how many snapshots changed.
    """
    entry = entry_of(organisation_id)
    if entry is None:
        return 0
    changed = 0
    history = db.session.scalars(
        sa.select(RegisterEntryVersion).where(RegisterEntryVersion.entry_id == entry.id)
    ).all()
    holders: list[RegisterEntry | RegisterEntryVersion] = [entry, *history]
    for holder in holders:
        snapshot = dict(holder.public_snapshot or {})
        people = dict(snapshot.get("people") or {})
        if people.pop("responsible", None) is not None:
            snapshot["people"] = people
            holder.public_snapshot = snapshot  # a new dict: the JSON column sees the change
            changed += 1
    db.session.flush()
    if changed:
        activity.record(
            "register.contact_withdrawn",
            object_type="register_entry",
            object_id=str(entry.id),
            details={"snapshots": changed},
        )
    return changed


# -- status ------------------------------------------------------------------------------------


def change_status(
    entry: RegisterEntry,
    action: str,
    user: User,
    grounds: str,
    article: str | None = None,
    *,
    declaration: Declaration | None = None,
    tell_holder: bool = True,
) -> RegisterEntryEvent:
    """Suspend, reinstate or strike off (with grounds); refused from a status it cannot leave so.

    A conditional UPDATE on the status read: of two supervisors acting at once, one wins.
    """
    allowed, to = TRANSITIONS[action]
    grounds = (grounds or "").strip()
    if not grounds:
        raise EntryError(str(_l("State the grounds for the decision.")))
    if entry.status not in allowed:
        raise EntryError(
            str(
                _l(
                    "The entry is %(status)s: it cannot be changed that way.",
                    status=str(STATUS_LABELS[entry.status]).lower(),
                )
            )
        )
    now = utcnow()
    result = db.session.execute(
        sa.update(RegisterEntry)
        .where(RegisterEntry.id == entry.id, RegisterEntry.status == entry.status)
        .values(status=to, status_changed_on=agency_today(now), updated_on=agency_today(now))
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise EntryError(
            str(_l("Someone else changed the entry's status in the meantime. Reload the page."))
        )
    event = RegisterEntryEvent(
        entry_id=entry.id,
        from_status=entry.status.value,
        to_status=to.value,
        actor_id=user.id,
        occurred_at=now,
        article=(article or "").strip() or None,
        declaration_id=declaration.id if declaration is not None else None,
    )
    event.grounds = grounds
    db.session.add(event)
    db.session.flush()
    db.session.refresh(entry)
    if tell_holder:
        _tell_holder(entry, to, grounds, article)
    activity.record(
        f"register.{action}",
        actor=user,
        object_type="register_entry",
        object_id=str(entry.id),
        details={"number": entry.registration_number, "to": to.value},
    )
    return event


def _tell_holder(entry: RegisterEntry, to: EntryStatus, grounds: str, article: str | None) -> None:
    """Tell the organisation's users of the entry's new status, with the grounds."""
    from register.services.members import members_of
    from register.services.notifications import notify

    organisation = db.session.get(Organisation, entry.organisation_id)
    if organisation is None:
        return
    subjects = {
        EntryStatus.SUSPENDED: _l("Entry suspended: %(number)s", number=entry.registration_number),
        EntryStatus.REGISTERED: _l(
            "Entry reinstated: %(number)s", number=entry.registration_number
        ),
        EntryStatus.STRUCK_OFF: _l(
            "Entry struck off: %(number)s", number=entry.registration_number
        ),
    }
    body = _l(
        "The status of the entry %(number)s of %(organisation)s in the Register of Personal "
        "Data Holders is now: %(status)s.\n\nGrounds: %(grounds)s",
        number=entry.registration_number,
        organisation=organisation.legal_name,
        status=STATUS_LABELS[to],
        grounds=f"{grounds} ({article})" if article else grounds,
    )
    for membership in members_of(organisation):
        notify(membership.user, f"register.{to.value}", subjects[to], body, link="/organisation/")


def entry_events(entry: RegisterEntry) -> list[RegisterEntryEvent]:
    """The entry's changes of status, oldest first."""
    return list(
        db.session.scalars(
            sa.select(RegisterEntryEvent)
            .where(RegisterEntryEvent.entry_id == entry.id)
            .order_by(RegisterEntryEvent.occurred_at)
        )
    )


# -- certificates ------------------------------------------------------------------------------

_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
VALID = "valid"
SUPERSEDED = "superseded"
SUSPENDED = "suspended"
STRUCK_OFF = "struck_off"
VERIFICATION_LABELS = {
    VALID: _l("Valid"),
    SUPERSEDED: _l("Superseded: a newer version of the entry has been published"),
    SUSPENDED: _l("The entry is suspended"),
    STRUCK_OFF: _l("The entry has been struck off the register"),
}


def issue_certificate(
    entry: RegisterEntry, version: RegisterEntryVersion, now: datetime
) -> Certificate:
    """A certificate for a published version, with an unguessable code (144 random bits)."""
    certificate = Certificate(
        code=secrets.token_urlsafe(18),
        entry_id=entry.id,
        entry_version_id=version.id,
        version_number=version.number,
        issued_at=now,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def current_certificate(entry: RegisterEntry) -> Certificate | None:
    """The certificate of the entry's published version."""
    return db.session.scalar(
        sa.select(Certificate).where(
            Certificate.entry_id == entry.id, Certificate.version_number == entry.version_number
        )
    )


@dataclass(frozen=True)
class Verification:
    """What `/verify/<code>` says about a certificate."""

    certificate: Certificate
    entry: RegisterEntry
    status: str  # VALID, SUPERSEDED, SUSPENDED or STRUCK_OFF

    @property
    def label(self) -> str:
        """The status in the reader's language."""
        return str(VERIFICATION_LABELS[self.status])


def verify(code: str) -> Verification | None:
    """The certificate with this code and its standing; None when no certificate has it."""
    if not _CODE.fullmatch(code or ""):  # our codes are URL-safe base64; anything else: unknown
        return None
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == code))
    if certificate is None:
        return None
    entry = certificate.entry
    if entry.status is EntryStatus.STRUCK_OFF:
        status = STRUCK_OFF
    elif entry.status is EntryStatus.SUSPENDED:
        status = SUSPENDED
    elif certificate.version_number < entry.version_number:
        status = SUPERSEDED
    else:
        status = VALID
    return Verification(certificate, entry, status)


def mask_tin(tin: str | None) -> str:
    """An individual entrepreneur's TIN (a PIN) shown as its first digit and last two."""
    if not tin or len(tin) < 4:
        return "•" * len(tin or "")
    return tin[0] + "•" * (len(tin) - 3) + tin[-2:]


def certificate_pdf(certificate: Certificate, organisation: Organisation, verify_url: str) -> bytes:
    """The certificate as a PDF: number, name, TIN (masked for an entrepreneur), dates, QR code.

    The organisation's TIN is decrypted here (for the holder or the agency): an entrepreneur's
    is masked, a legal entity's is the published one.
    """
    from register.services.certificate_pdf import CertificateContent, render_pdf

    entry, version = certificate.entry, certificate.entry_version
    snapshot = version.public_snapshot.get("organisation") or {}
    tin = (
        mask_tin(organisation.tin)
        if organisation.is_individual_entrepreneur
        else str(snapshot.get("tin") or entry.tin or "")
    )
    return render_pdf(
        CertificateContent(
            registration_number=entry.registration_number,
            legal_name=str(snapshot.get("legal_name") or entry.legal_name),
            short_name=snapshot.get("short_name"),
            tin=tin,
            registered_on=entry.registered_on,
            version=certificate.version_number,
            version_published_on=agency_today(version.published_at),
            issued_at=certificate.issued_at,
            verify_url=verify_url,
            code=certificate.code,
        )
    )
