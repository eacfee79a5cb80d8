"""Colleagues of an organisation: invitations by e-mail, roles, removal, leaving.

An invitation is e-mailed as a signed link carrying only the invitation's id; the row decides
whether it still works (expiry, single use, revocation), so a link dies the moment its row says
so. Someone without an account yet gets the e-mail at the bare address (`notify_address`): the
link asks them to sign in, and the sign-in page leads to sign-up. Accepting needs the signed-in
account's e-mail address to be the invited one.

An organisation always keeps an owner: the last owner can be neither demoted, removed nor
leave. The owners' rows are locked while this is checked, so two owners demoting each other at
once cannot both succeed (PostgreSQL; SQLite admits one writer at a time anyway).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from register.database import utcnow
from register.extensions import db
from register.models import Invitation, MemberRole, Membership, Organisation, User
from register.services import activity, tokens
from register.services.accounts import find_by_email, normalise_email
from register.services.notifications import local_link, notify, notify_address
from register.services.organisations import membership_of

ORGANISATION_INVITATION = "organisation-invitation"
INVITATION_DAYS = 7

ROLE_NAMES = {MemberRole.OWNER: _l("owner"), MemberRole.MEMBER: _l("member")}


class MembershipError(ValueError):
    """A rule about colleagues was broken; `str(error)` says which, in the current language."""


LAST_OWNER = _l(
    "An organisation must keep at least one owner. Make a colleague an owner first, then try again."
)


# -- reading -------------------------------------------------------------------------------


def members_of(organisation: Organisation) -> list[Membership]:
    """The organisation's members, owners first, then by name."""
    memberships = db.session.scalars(
        sa.select(Membership).where(Membership.organisation_id == organisation.id)
    ).all()
    return sorted(
        memberships,
        key=lambda item: (
            item.role is not MemberRole.OWNER,
            (item.user.full_name or "").casefold(),
        ),
    )


def open_invitations(organisation: Organisation) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired, newest first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.organisation_id == organisation.id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id)
        ).all()
    )


def get_membership(organisation: Organisation, membership_id: uuid.UUID) -> Membership | None:
    """The membership if it belongs to this organisation (never another's)."""
    found = db.session.get(Membership, membership_id)
    if found is None or found.organisation_id != organisation.id:
        return None
    return found


def get_invitation(organisation: Organisation, invitation_id: uuid.UUID) -> Invitation | None:
    """The invitation if it belongs to this organisation (never another's)."""
    found = db.session.get(Invitation, invitation_id)
    if found is None or found.organisation_id != organisation.id:
        return None
    return found


def owners_of(organisation: Organisation, *, lock: bool = False) -> list[Membership]:
    """The owners' memberships, their rows locked for the transaction when `lock`."""
    query = sa.select(Membership).where(
        Membership.organisation_id == organisation.id, Membership.role == MemberRole.OWNER
    )
    if lock:
        query = query.with_for_update(of=Membership)
    return list(db.session.scalars(query).all())


def add_member(organisation: Organisation, user: User, role: MemberRole) -> tuple[Membership, bool]:
    """Make `user` a member with `role` unless already one; True when a membership was created.

    The unique (organisation, user) constraint settles a race with another path that adds the
    same person at the same moment: the loser keeps the winner's membership.
    """
    existing = membership_of(user, organisation)
    if existing is not None:
        return existing, False
    membership = Membership(organisation_id=organisation.id, user_id=user.id, role=role)
    try:
        with db.session.begin_nested():
            db.session.add(membership)
    except IntegrityError:
        found = membership_of(user, organisation)
        if found is None:
            raise
        return found, False
    return membership, True


# -- invitations ---------------------------------------------------------------------------


def _details(organisation: Organisation, **extra: object) -> dict[str, object]:
    return {"organisation_id": str(organisation.id), **extra}


def invitation_days() -> int:
    """How many days an invitation link works (ORGANISATION_INVITATION_DAYS, default 7)."""
    return int(current_app.config.get("ORGANISATION_INVITATION_DAYS", INVITATION_DAYS))


def invitation_token(invitation: Invitation) -> str:
    """The signed token of an invitation link (it names the invitation, nothing else)."""
    return tokens.make_token(ORGANISATION_INVITATION, {"iid": str(invitation.id)})


def invite(organisation: Organisation, email: str, role: MemberRole, actor: User) -> Invitation:
    """Invite a colleague by e-mail; an open invitation to the same address is replaced."""
    address = normalise_email(email)
    invitee = find_by_email(address)
    if invitee is not None and membership_of(invitee, organisation) is not None:
        raise MembershipError(_l("This person is already a member of the organisation."))
    now = utcnow()
    replaced = 0
    for previous in open_invitations(organisation):
        if Invitation.email.equal(previous, address):
            previous.revoked_at = now
            replaced += 1
    days = invitation_days()
    invitation = Invitation(
        organisation_id=organisation.id,
        email=address,
        role=role,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(invitation, organisation, actor, days, invitee)
    activity.record(
        "organisation.member_invited",
        actor=actor,
        object_type="invitation",
        object_id=str(invitation.id),
        details=_details(organisation, role=role.value, replaced=replaced),
    )
    return invitation


def _send_invitation(
    invitation: Invitation, organisation: Organisation, actor: User, days: int, invitee: User | None
) -> None:
    """E-mail the link: to the account if the address has one, else to the bare address."""
    values = {
        "inviter": actor.full_name or "",
        "organisation": organisation.legal_name,
        "role": ROLE_NAMES[invitation.role],
        "days": days,
    }
    subject = _l("Invitation to act for %(organisation)s", organisation=organisation.legal_name)
    body = _l(
        "%(inviter)s invited you to act for %(organisation)s in the Register of Personal Data "
        "Holders, as %(role)s. Open the link below within %(days)d days to accept; it works "
        "once. If you have no account yet, create one with this e-mail address first, then "
        "open the link again. If you did not expect this, ignore this message.",
        **values,
    )
    link = local_link("holder.accept_invitation", token=invitation_token(invitation))
    kind = "organisation.invitation"
    if invitee is not None:
        notify(invitee, kind, subject, body, link=link, sensitive=True)
    else:
        notify_address(invitation.email or "", actor.locale, kind, subject, body, link=link)


def invitation_from_token(token: str) -> Invitation | None:
    """The open invitation a token names; None when the token or the invitation is dead."""
    # The row's expires_at decides; the token's own age limit only bounds what is looked up.
    max_age = (invitation_days() + 1) * 86400
    payload = tokens.read_token(ORGANISATION_INVITATION, token, max_age)
    if payload is None:
        return None
    try:
        invitation_id = uuid.UUID(str(payload.get("iid")))
    except ValueError:
        return None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not invitation.is_open():
        return None
    return invitation


def invited_address_matches(invitation: Invitation, user: User) -> bool:
    """Whether the signed-in account's address is the one the invitation was sent to."""
    return User.email.equal(user, invitation.email or "")


def accept_invitation(invitation: Invitation, user: User) -> Membership | None:
    """Accept an open invitation as `user`; None when it stopped working meanwhile.

    The invitation is closed by a conditional UPDATE, so two clicks on one link give one
    membership: the second finds it already used.
    """
    if not invited_address_matches(invitation, user):
        raise MembershipError(_l("This invitation was sent to another e-mail address."))
    now = utcnow()
    result = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now, accepted_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    db.session.refresh(invitation)
    organisation = invitation.organisation
    membership, created = add_member(organisation, user, invitation.role)
    activity.record(
        "organisation.invitation_accepted",
        actor=user,
        object_type="invitation",
        object_id=str(invitation.id),
        details=_details(
            organisation,
            role=membership.role.value,
            membership_id=str(membership.id),
            already_member=not created,
        ),
    )
    return membership


def revoke_invitation(organisation: Organisation, invitation: Invitation, actor: User) -> None:
    """Revoke an open invitation: its link stops working."""
    # Conditional, like accepting: a revocation racing an acceptance never overwrites it.
    result = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(invitation)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise MembershipError(_l("This invitation was already used, revoked or has expired."))
    activity.record(
        "organisation.invitation_revoked",
        actor=actor,
        object_type="invitation",
        object_id=str(invitation.id),
        details=_details(organisation, role=invitation.role.value),
    )


# -- roles, removal, leaving -----------------------------------------------------------------


def _refuse_if_last_owner(organisation: Organisation, membership: Membership) -> None:
    """Raise when `membership` is the organisation's only owner (owners' rows locked)."""
    if membership.role is not MemberRole.OWNER:
        return
    owners = owners_of(organisation, lock=True)
    if not any(owner.id != membership.id for owner in owners):
        raise MembershipError(LAST_OWNER)


def change_role(
    organisation: Organisation, membership: Membership, role: MemberRole, actor: User
) -> bool:
    """Give a member another role; False when it already was that role."""
    if membership.role is role:
        return False
    if role is not MemberRole.OWNER:
        _refuse_if_last_owner(organisation, membership)
    previous = membership.role
    membership.role = role
    db.session.flush()
    activity.record(
        "organisation.member_role_changed",
        actor=actor,
        object_type="membership",
        object_id=str(membership.id),
        details=_details(
            organisation, user_id=str(membership.user_id), previous=previous.value, role=role.value
        ),
    )
    if membership.user_id != actor.id:
        notify(
            membership.user,
            "organisation.member_role_changed",
            _l("Your role for %(organisation)s changed", organisation=organisation.legal_name),
            _l(
                "You now act for %(organisation)s as %(role)s.",
                organisation=organisation.legal_name,
                role=ROLE_NAMES[role],
            ),
            link=local_link("holder.members", organisation_id=str(organisation.id)),
        )
    return True


def _end_membership(
    organisation: Organisation, membership: Membership, actor: User, action: str
) -> None:
    """Delete a membership (never the last owner's) and log who ended it."""
    _refuse_if_last_owner(organisation, membership)
    details = _details(organisation, user_id=str(membership.user_id), role=membership.role.value)
    db.session.delete(membership)
    db.session.flush()
    activity.record(
        action,
        actor=actor,
        object_type="membership",
        object_id=str(membership.id),
        details=details,
    )


def remove_member(organisation: Organisation, membership: Membership, actor: User) -> None:
    """Take a member off the organisation (never its last owner)."""
    user = membership.user
    _end_membership(organisation, membership, actor, "organisation.member_removed")
    if user.id != actor.id:
        notify(
            user,
            "organisation.member_removed",
            _l("You no longer act for %(organisation)s", organisation=organisation.legal_name),
            _l(
                "An owner of %(organisation)s removed you from its colleagues in the Register "
                "of Personal Data Holders. If you think this is a mistake, contact them.",
                organisation=organisation.legal_name,
            ),
        )


def leave(organisation: Organisation, user: User) -> None:
    """The signed-in member stops acting for the organisation (never its last owner)."""
    membership = membership_of(user, organisation)
    if membership is None:
        raise MembershipError(_l("You are not a member of this organisation."))
    _end_membership(organisation, membership, user, "organisation.member_left")
