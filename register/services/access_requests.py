"""Requests to act for an organisation already in the register (a second claim of its TIN).

A request never changes who acts for the organisation by itself. It goes to the organisation's
owners when the entry is verified, came online and has an owner; otherwise (unverified, paper or
imported, or without owners) to the agency. A decision is single-shot: it is taken by a
conditional UPDATE on a pending row, so a second decision, by the same person or another,
finds the request decided and changes nothing.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from register.database import utcnow
from register.extensions import db
from register.models import (
    AccessRequest,
    AccessRequestAddressee,
    AccessRequestStatus,
    MemberRole,
    Membership,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    User,
)
from register.services import activity
from register.services.members import add_member, owners_of
from register.services.notifications import local_link, notify

AGENCY_PAGE_SIZE = 50
MESSAGE_MAX_LENGTH = 1000


class AlreadyMember(ValueError):
    """The requester already acts for the organisation."""


class AlreadyDecided(ValueError):
    """The request was decided (or withdrawn) before this decision."""


def find_organisation(tin: str) -> Organisation | None:
    """The organisation with this TIN (14 digits), if any."""
    from register.services.organisations import find_by_tin

    return find_by_tin(tin)


def addressee_for(organisation: Organisation) -> AccessRequestAddressee:
    """Who decides: the owners of a verified online entry that has one, else the agency."""
    if (
        organisation.status is OrganisationStatus.VERIFIED
        and organisation.origin is OrganisationOrigin.ONLINE
        and owners_of(organisation)
    ):
        return AccessRequestAddressee.OWNERS
    return AccessRequestAddressee.AGENCY


def pending_request(organisation: Organisation, user: User) -> AccessRequest | None:
    """The user's pending request for this organisation, if any."""
    return db.session.scalars(
        sa.select(AccessRequest)
        .where(
            AccessRequest.organisation_id == organisation.id,
            AccessRequest.requester_id == user.id,
            AccessRequest.status == AccessRequestStatus.PENDING,
        )
        .order_by(AccessRequest.created_at)
    ).first()


def _is_member(organisation: Organisation, user: User) -> bool:
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.organisation_id == organisation.id, Membership.user_id == user.id
            )
        )
        is not None
    )


def request_access(
    organisation: Organisation, user: User, message: str | None
) -> tuple[AccessRequest, bool]:
    """Ask to act for the organisation; an existing pending request is returned instead.

    The second value is True when a request was created. Owners are told at once; the agency
    sees its requests in its queue.
    """
    if _is_member(organisation, user):
        raise AlreadyMember(str(organisation.id))
    # Serialise claims on one organisation (PostgreSQL), so one person's double click makes
    # one request.
    db.session.execute(
        sa.select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
    )
    existing = pending_request(organisation, user)
    if existing is not None:
        return existing, False
    addressee = addressee_for(organisation)
    access_request = AccessRequest(
        organisation_id=organisation.id,
        requester_id=user.id,
        addressed_to=addressee,
        status=AccessRequestStatus.PENDING,
        message=(message or "").strip()[:MESSAGE_MAX_LENGTH] or None,
    )
    db.session.add(access_request)
    db.session.flush()
    activity.record(
        "access_request.created",
        actor=user,
        object_type="access_request",
        object_id=str(access_request.id),
        details={"organisation_id": str(organisation.id), "addressed_to": addressee.value},
    )
    if addressee is AccessRequestAddressee.OWNERS:
        link = local_link("holder.access_requests", organisation_id=str(organisation.id))
        for owner in owners_of(organisation):
            notify(
                owner.user,
                "organisation.access_requested",
                _l(
                    "Someone asks to act for %(organisation)s",
                    organisation=organisation.legal_name,
                ),
                _l(
                    "A user of the Register of Personal Data Holders asks to act for "
                    "%(organisation)s. As an owner, you decide: open the link below to approve "
                    "or refuse the request.",
                    organisation=organisation.legal_name,
                ),
                link=link,
            )
    return access_request, True


# -- reading for those who decide ----------------------------------------------------------


def _pending(addressee: AccessRequestAddressee) -> sa.Select[AccessRequest]:
    return (
        sa.select(AccessRequest)
        .where(
            AccessRequest.addressed_to == addressee,
            AccessRequest.status == AccessRequestStatus.PENDING,
        )
        .options(selectinload(AccessRequest.organisation), selectinload(AccessRequest.requester))
        .order_by(AccessRequest.created_at, AccessRequest.id)
    )


def pending_for_owners(organisation: Organisation) -> list[AccessRequest]:
    """Pending requests the organisation's owners decide, oldest first."""
    query = _pending(AccessRequestAddressee.OWNERS).where(
        AccessRequest.organisation_id == organisation.id
    )
    return list(db.session.scalars(query).all())


def pending_for_agency(page: int = 1) -> tuple[list[AccessRequest], int]:
    """One page of the pending requests the agency decides, oldest first, and their count."""
    total = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AccessRequest)
            .where(
                AccessRequest.addressed_to == AccessRequestAddressee.AGENCY,
                AccessRequest.status == AccessRequestStatus.PENDING,
            )
        )
        or 0
    )
    query = (
        _pending(AccessRequestAddressee.AGENCY)
        .limit(AGENCY_PAGE_SIZE)
        .offset((max(page, 1) - 1) * AGENCY_PAGE_SIZE)
    )
    return list(db.session.scalars(query).all()), total


def owner_counts(organisation_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many owners each organisation has (one query for a page of requests)."""
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.organisation_id, sa.func.count())
        .where(
            Membership.organisation_id.in_(set(organisation_ids)),
            Membership.role == MemberRole.OWNER,
        )
        .group_by(Membership.organisation_id)
    ).all()
    counts = {organisation_id: int(count) for organisation_id, count in rows}
    return {organisation_id: counts.get(organisation_id, 0) for organisation_id in organisation_ids}


def for_owners(organisation: Organisation, request_id: uuid.UUID) -> AccessRequest | None:
    """A request the owners of this organisation decide (never another's, nor the agency's)."""
    found = db.session.get(AccessRequest, request_id)
    if (
        found is None
        or found.organisation_id != organisation.id
        or found.addressed_to is not AccessRequestAddressee.OWNERS
    ):
        return None
    return found


def for_agency(request_id: uuid.UUID) -> AccessRequest | None:
    """A request the agency decides."""
    found = db.session.get(AccessRequest, request_id)
    if found is None or found.addressed_to is not AccessRequestAddressee.AGENCY:
        return None
    return found


def for_requester(user: User, request_id: uuid.UUID) -> AccessRequest | None:
    """The user's own request (another's is indistinguishable from a missing one)."""
    found = db.session.get(AccessRequest, request_id)
    if found is None or found.requester_id != user.id:
        return None
    return found


# -- deciding ------------------------------------------------------------------------------


def decide(
    access_request: AccessRequest, actor: User, *, approve: bool, reason: str | None
) -> None:
    """Approve or refuse a pending request, once; a refusal must give its reason.

    Approval by the owners makes the requester a member; approval by the agency makes them an
    owner when the organisation has none, else a member. The requester is told either way.
    """
    reason = (reason or "").strip() or None
    if not approve and reason is None:
        raise ValueError("a refusal states its reason")
    status = AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REFUSED
    result = db.session.execute(
        sa.update(AccessRequest)
        .where(
            AccessRequest.id == access_request.id,
            AccessRequest.status == AccessRequestStatus.PENDING,
        )
        .values(status=status, decided_at=utcnow(), decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(access_request)
        raise AlreadyDecided(access_request.status.value)
    db.session.refresh(access_request)
    access_request.decision_reason = reason
    organisation = access_request.organisation
    details: dict[str, object] = {
        "organisation_id": str(organisation.id),
        "addressed_to": access_request.addressed_to.value,
    }
    if approve:
        role = MemberRole.MEMBER
        if access_request.addressed_to is AccessRequestAddressee.AGENCY and not owners_of(
            organisation, lock=True
        ):
            role = MemberRole.OWNER
        membership, created = add_member(organisation, access_request.requester, role)
        details.update(
            role=membership.role.value, membership_id=str(membership.id), already_member=not created
        )
    db.session.flush()
    activity.record(
        f"access_request.{status.value}",
        actor=actor,
        object_type="access_request",
        object_id=str(access_request.id),
        details=details,
    )
    _tell_requester(access_request, approve, reason)


def _tell_requester(access_request: AccessRequest, approve: bool, reason: str | None) -> None:
    organisation = access_request.organisation
    name = requester_facing_name(organisation)
    if approve:
        subject = _l("Your request to act for %(organisation)s was approved", organisation=name)
        body = _l(
            "Your request to act for %(organisation)s in the Register of Personal Data Holders "
            "was approved. You can now work on its entry.",
            organisation=name,
        )
        if reason:
            body = _l("%(body)s Grounds: %(reason)s", body=body, reason=reason)
        link = local_link("holder.members", organisation_id=str(organisation.id))
    else:
        subject = _l("Your request to act for %(organisation)s was refused", organisation=name)
        body = _l(
            "Your request to act for %(organisation)s in the Register of Personal Data Holders "
            "was refused. Reason: %(reason)s If you think this is wrong, you can contact the "
            "State Agency for Personal Data Protection.",
            organisation=name,
            reason=reason or "",
        )
        link = local_link("holder.access_request_status", request_id=str(access_request.id))
    notify(access_request.requester, "organisation.access_decided", subject, body, link=link)


def requester_facing_name(organisation: Organisation) -> str | LazyString:
    """How the organisation is named to someone who only typed its TIN.

    An individual entrepreneur's TIN is a PIN: naming the business would tell whoever types a
    person's PIN who that person is, so it stays unnamed.
    """
    if organisation.is_individual_entrepreneur:
        return _l("the individual entrepreneur with the TIN you entered")
    return organisation.legal_name
