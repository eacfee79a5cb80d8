"""Complaints from the public: filed without an account, followed through a secret link,
triaged by the agency.

    received ──start assessing──> assessing ──> upheld | not_upheld | inspection_requested

Filing gives a receipt number and a secret link. The link's token is 32 random bytes; only its
SHA-256 is stored, so a token is found by hashing what is presented (a guess finds nothing, and
the database cannot give a link back). What the link shows — status, dates, the grounds of the
outcome — is plain, so that page never decrypts anything. The complainant's name and contact
are encrypted, and the contact is kept only with the consent to be contacted; the outcome is
e-mailed (through the outbox) when an address was given with that consent.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from register.database import utcnow
from register.extensions import db
from register.models import (
    OPEN_COMPLAINT_STATUSES,
    Complaint,
    ComplaintStatus,
    Organisation,
    RegisterEntry,
    User,
)
from register.services import activity, registry, tokens, triage, working_days
from register.services.notifications import notify_address
from register.services.triage import StaleRecord, TriageError

OBJECT_TYPE = "complaint"
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 200

STATUS_LABELS: dict[ComplaintStatus, Any] = {
    ComplaintStatus.RECEIVED: _l("Received"),
    ComplaintStatus.ASSESSING: _l("Being assessed"),
    ComplaintStatus.UPHELD: _l("Upheld"),
    ComplaintStatus.NOT_UPHELD: _l("Not upheld"),
    ComplaintStatus.INSPECTION_REQUESTED: _l("Inspection requested"),
}
DECISIONS = {
    "upheld": ComplaintStatus.UPHELD,
    "not_upheld": ComplaintStatus.NOT_UPHELD,
    "inspection_requested": ComplaintStatus.INSPECTION_REQUESTED,
}
DECISION_LABELS = {
    "upheld": _l("Uphold the complaint"),
    "not_upheld": _l("Do not uphold the complaint"),
    "inspection_requested": _l("Request an inspection of the holder"),
}


class ComplaintError(TriageError):
    """The complaint cannot be filed or moved like this; `field` names the answer concerned."""


class StaleComplaint(StaleRecord, ComplaintError):
    """The complaint changed since its page was read."""


def token_hash(token: str) -> str:
    """What is stored of a secret link's token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A secret link's token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_receipt_number() -> str:
    """A receipt number like C-7KQ4-M2XD: random, so it tells nobody how many were filed."""
    return tokens.readable_reference("C")


# -- filing --------------------------------------------------------------------------------


@dataclass
class ComplaintDetails:
    """What the public form gives, already checked field by field."""

    what_happened: str
    complainant_name: str
    registration_number: str | None = None  # a holder from the register …
    processor_name: str | None = None  # … or an unregistered processor
    processor_tin: str | None = None
    complainant_email: str | None = None
    complainant_phone: str | None = None
    consents_to_contact: bool = False
    locale: str = "ru"


def registered_holder(number: str | None) -> RegisterEntry | None:
    """The register entry the complaint is about, read from the public register."""
    return registry.entry(number) if number else None


def problems(details: ComplaintDetails) -> list[tuple[str, str]]:
    """The rules across answers, as (field, message); empty when the complaint may be filed."""
    found: list[tuple[str, str]] = []
    if details.registration_number:
        if registered_holder(details.registration_number) is None:
            found.append(("holder", str(_l("Choose the holder from the search results"))))
    elif not (details.processor_name or "").strip():
        found.append(
            (
                "processor_name",
                str(_l("Enter the name of the organisation, or find it in the register")),
            )
        )
    if not (details.what_happened or "").strip():
        found.append(("what_happened", str(_l("Describe what happened"))))
    if not (details.complainant_name or "").strip():
        found.append(("complainant_name", str(_l("Enter your name"))))
    if details.consents_to_contact and not (details.complainant_email or details.complainant_phone):
        found.append(
            (
                "complainant_email",
                str(_l("Give an e-mail address or a phone number so that we can contact you")),
            )
        )
    return found


def file_complaint(
    details: ComplaintDetails, now: datetime | None = None, token: str | None = None
) -> tuple[Complaint, str]:
    """File a complaint; returns it and the secret link's token (shown once, never stored).

    `token` is for the demo data only (stable links on a development machine).
    """
    found = problems(details)
    if found:
        field_name, message = found[0]
        raise ComplaintError(message, field_name)
    now = now or utcnow()
    token = token or new_token()
    if len(token) < 32:
        raise ValueError("a secret link's token must be long enough not to be guessed")
    entry = registered_holder(details.registration_number)
    due_at = working_days.deadline(now, int(current_app.config["COMPLAINT_TRIAGE_WORKING_DAYS"]))
    for _attempt in range(5):
        complaint = Complaint(
            receipt_number=new_receipt_number(),
            access_token_hash=token_hash(token),
            status=ComplaintStatus.RECEIVED,
            organisation_id=entry.organisation_id if entry is not None else None,
            registration_number=entry.registration_number if entry is not None else None,
            consents_to_contact=details.consents_to_contact,
            locale=details.locale,
            received_at=now,
            due_at=due_at,
            created_at=now,
            updated_at=now,
        )
        if entry is None:
            complaint.processor_name = (details.processor_name or "").strip()
            complaint.processor_tin = (details.processor_tin or "").strip() or None
        complaint.what_happened = details.what_happened.strip()
        complaint.complainant_name = details.complainant_name.strip()
        # A contact is kept only with the consent to be contacted: otherwise it has no use.
        if details.consents_to_contact:
            complaint.complainant_email = (details.complainant_email or "").strip() or None
            complaint.complainant_phone = (details.complainant_phone or "").strip() or None
        try:
            with db.session.begin_nested():
                db.session.add(complaint)
                db.session.flush()
        except IntegrityError:
            continue  # the receipt number was taken (or, impossibly, the token): draw again
        break
    else:  # pragma: no cover - five collisions in a space of 30^8
        raise ComplaintError(_l("The complaint could not be saved. Try again."))
    activity.record(
        "complaint.filed",
        object_type=OBJECT_TYPE,
        object_id=str(complaint.id),
        details={
            "receipt": complaint.receipt_number,
            "registered_holder": entry is not None,
            "organisation": str(entry.organisation_id) if entry is not None else None,
        },
    )
    return complaint, token


def find_by_token(token: str | None) -> Complaint | None:
    """The complaint behind a secret link, or None for a missing, malformed or guessed one."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    return db.session.scalar(
        sa.select(Complaint).where(Complaint.access_token_hash == token_hash(token))
    )


# -- the agency's triage -------------------------------------------------------------------


def can_start(user: User, complaint: Complaint) -> bool:
    """Any inspector or supervisor takes a received complaint and assesses it."""
    return triage.is_reviewer(user) and complaint.status is ComplaintStatus.RECEIVED


def can_decide(user: User, complaint: Complaint) -> bool:
    """The assessor, or any supervisor, decides while the complaint is assessed."""
    return complaint.status is ComplaintStatus.ASSESSING and triage.may_decide(
        user, complaint.assignee_id
    )


def _guard(
    complaint: Complaint, user: User, expected: int, allowed: bool, needs: ComplaintStatus
) -> None:
    """Refuse a move the user may not make now, saying why; a stale form (read at another
    version) is left to the conditional update, which names who acted meanwhile."""
    if complaint.lock_version != expected:
        return
    if not triage.is_reviewer(user):
        raise ComplaintError(_l("Only inspectors and supervisors triage complaints."))
    if allowed:
        return
    if complaint.status is not needs:
        if complaint.status is ComplaintStatus.RECEIVED:
            raise ComplaintError(_l("Start assessing the complaint first."))
        raise ComplaintError(
            _l(
                "That cannot be done now: the complaint is %(status)s.",
                status=str(STATUS_LABELS[complaint.status]).lower(),
            )
        )
    raise ComplaintError(
        _l("Only the staff member assessing this complaint, or a supervisor, can do that.")
    )


def _move(
    complaint: Complaint, expected: int, allowed_from: list[ComplaintStatus], values: dict[str, Any]
) -> None:
    try:
        triage.conditional_update(
            complaint,
            expected,
            allowed_from,
            values,
            object_type=OBJECT_TYPE,
            status_labels=STATUS_LABELS,
        )
    except StaleRecord as stale:
        raise StaleComplaint(str(stale)) from None


def start_assessment(complaint: Complaint, user: User, expected_lock_version: int) -> None:
    """received → assessing: the user takes the complaint."""
    _guard(
        complaint,
        user,
        expected_lock_version,
        can_start(user, complaint),
        ComplaintStatus.RECEIVED,
    )
    _move(
        complaint,
        expected_lock_version,
        [ComplaintStatus.RECEIVED],
        {"status": ComplaintStatus.ASSESSING, "assignee_id": user.id, "assessing_since": utcnow()},
    )
    _record(complaint, "complaint.assessing", user)


def decide(
    complaint: Complaint, user: User, decision: str, grounds: str, expected_lock_version: int
) -> None:
    """assessing → upheld, not upheld or inspection requested, with grounds for the complainant."""
    to = DECISIONS.get(decision)
    if to is None:
        raise ComplaintError(_l("Choose a decision"), "decision")
    _guard(
        complaint,
        user,
        expected_lock_version,
        can_decide(user, complaint),
        ComplaintStatus.ASSESSING,
    )
    grounds = (grounds or "").strip()
    if not grounds:
        raise ComplaintError(_l("State the grounds for the decision"), "grounds")
    now = utcnow()
    _move(
        complaint,
        expected_lock_version,
        [ComplaintStatus.ASSESSING],
        {"status": to, "decided_at": now, "decided_by_id": user.id, "grounds": grounds},
    )
    _record(complaint, f"complaint.{to.value}", user)
    _tell_complainant(complaint)


def _tell_complainant(complaint: Complaint) -> None:
    """E-mail the outcome, when the complainant gave an address and agreed to be contacted."""
    if not complaint.consents_to_contact:
        return
    address = complaint.complainant_email
    if not address:
        return
    notify_address(
        address,
        complaint.locale,
        "complaint.decided",
        _l("Your complaint %(receipt)s", receipt=complaint.receipt_number),
        _l(
            "The State Agency for Personal Data Protection has decided on your complaint "
            "%(receipt)s: %(outcome)s.\n\nGrounds: %(grounds)s\n\nThe page of your complaint "
            "(the link you were given when you filed it) shows the same.",
            receipt=complaint.receipt_number,
            outcome=str(STATUS_LABELS[complaint.status]).lower(),
            grounds=complaint.grounds or "",
        ),
    )


def _record(complaint: Complaint, action: str, user: User) -> None:
    activity.record(
        action,
        actor=user,
        object_type=OBJECT_TYPE,
        object_id=str(complaint.id),
        details={"receipt": complaint.receipt_number},
    )


# -- reading -------------------------------------------------------------------------------


def find(complaint_id: uuid.UUID) -> Complaint | None:
    """Any complaint (the agency's view)."""
    return db.session.get(Complaint, complaint_id)


def about(organisation: Organisation) -> list[Complaint]:
    """Complaints about a registered organisation, newest first (for its file)."""
    return list(
        db.session.scalars(
            sa.select(Complaint)
            .where(Complaint.organisation_id == organisation.id)
            .order_by(Complaint.received_at.desc(), Complaint.id)
        )
    )


def days_left(complaint: Complaint, now: datetime | None = None) -> int | None:
    """Working days to the deadline (negative: overdue); None once decided."""
    if complaint.status not in OPEN_COMPLAINT_STATUSES:
        return None
    return working_days.working_days_left(complaint.due_at, now or utcnow())


@dataclass(frozen=True)
class ComplaintFilters:
    """What the agency's list is narrowed to (already validated)."""

    status: ComplaintStatus | None = None
    late: bool = False  # still open past the agency's deadline
    region: str | None = None
    sector: str | None = None
    holder: str = ""


@dataclass(frozen=True)
class ComplaintRow:
    """One complaint in the agency's list."""

    complaint: Complaint
    organisation: Organisation | None
    assignee: User | None
    days_left: int | None

    @property
    def overdue(self) -> bool:
        """Still open past the agency's deadline."""
        return self.days_left is not None and self.days_left < 0


def agency_list(filters: ComplaintFilters, page: int = 1) -> triage.ListPage[ComplaintRow]:
    """Complaints, newest first, filtered and paginated, in a fixed number of queries.

    Region, sector and holder filter on the registered holder; a complaint about an
    unregistered processor (its name is encrypted) has none and is left out by them.
    """
    now = utcnow()
    conditions: list[Any] = []
    if filters.status is not None:
        conditions.append(Complaint.status == filters.status)
    if filters.late:
        conditions.append(Complaint.status.in_(list(OPEN_COMPLAINT_STATUSES)))
        conditions.append(Complaint.due_at < now)
    conditions += triage.organisation_conditions(filters.region, filters.sector, filters.holder)
    base = (
        sa.select(Complaint)
        .outerjoin(Organisation, Organisation.id == Complaint.organisation_id)
        .where(*conditions)
    )
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0)
    page, pages = triage.page_bounds(total, page)
    assignee = sa.orm.aliased(User)
    found = db.session.execute(
        base.outerjoin(assignee, Complaint.assignee_id == assignee.id)
        .add_columns(assignee)
        .options(contains_eager(Complaint.organisation))
        .order_by(Complaint.received_at.desc(), Complaint.id)
        .limit(triage.PAGE_SIZE)
        .offset((page - 1) * triage.PAGE_SIZE)
    ).all()
    holidays = working_days.configured_holidays()
    rows = [
        ComplaintRow(
            complaint=complaint,
            organisation=complaint.organisation,
            assignee=staff,
            days_left=working_days.working_days_left(complaint.due_at, now, holidays)
            if complaint.status in OPEN_COMPLAINT_STATUSES
            else None,
        )
        for complaint, staff in found
    ]
    return triage.ListPage(rows, total, page, pages)
