"""Colleagues: who acts for an organisation, invitations by e-mail, roles, removal, leaving.

Every member sees the page; only owners change anything (a member asking gets 404, as a holder
of another organisation does). Agency staff get 403: these are a holder's pages.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.extensions import db
from register.holder import blueprint
from register.holder.member_forms import (
    MEMBER_ROLE_LABELS,
    ActionForm,
    InviteForm,
    MemberRoleForm,
)
from register.models import Invitation, MemberRole, Organisation, Role, User
from register.permissions import member_organisation, membership, roles_required
from register.services import members as member_service
from register.services.members import MembershipError


def _home() -> str:
    """Where a holder goes after leaving an organisation: the list of their organisations."""
    return str(url_for("holder.index"))


def _members_url(organisation: Organisation) -> str:
    return str(url_for("holder.members", organisation_id=organisation.id))


def _render_members(organisation: Organisation, invite_form: InviteForm | None = None) -> str:
    own = membership(current_user, organisation.id)
    if own is None:  # member_organisation let the user in, so this is a race with a removal
        abort(404)
    is_owner = own.role is MemberRole.OWNER
    people = member_service.members_of(organisation)
    owner_count = sum(1 for item in people if item.role is MemberRole.OWNER)
    return render_template(
        "holder/members.html",
        organisation=organisation,
        own=own,
        is_owner=is_owner,
        members=people,
        owner_count=owner_count,
        invitations=member_service.open_invitations(organisation),
        invite_form=invite_form or (InviteForm() if is_owner else None),
        role_form=MemberRoleForm(formdata=None),
        role_labels=MEMBER_ROLE_LABELS,
        invitation_days=member_service.invitation_days(),
    )


@blueprint.get("/<uuid:organisation_id>/members")
@roles_required(Role.HOLDER)
def members(organisation_id: uuid.UUID) -> str:
    """The organisation's members and open invitations; owners also get the forms."""
    return _render_members(member_organisation(organisation_id))


@blueprint.post("/<uuid:organisation_id>/members/invite")
@roles_required(Role.HOLDER)
def invite(organisation_id: uuid.UUID) -> str | Response:
    """Invite a colleague by e-mail (owners only)."""
    organisation = member_organisation(organisation_id, owner=True)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            member_service.invite(
                organisation,
                form.email.data or "",
                MemberRole(form.role.data),
                current_user._get_current_object(),
            )
        except MembershipError as error:
            form.email.errors = [str(error)]
        else:
            flash(
                _(
                    "Invitation sent to %(email)s. The link works for %(days)d days.",
                    email=form.email.data,
                    days=member_service.invitation_days(),
                ),
                "success",
            )
            return redirect(_members_url(organisation))
    return _render_members(organisation, invite_form=form)


@blueprint.post("/<uuid:organisation_id>/members/<uuid:membership_id>/role")
@roles_required(Role.HOLDER)
def change_member_role(organisation_id: uuid.UUID, membership_id: uuid.UUID) -> Response:
    """Make a colleague an owner or a member (owners only; never demote the last owner)."""
    organisation = member_organisation(organisation_id, owner=True)
    target = member_service.get_membership(organisation, membership_id)
    if target is None:
        abort(404)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
        return redirect(_members_url(organisation))
    try:
        changed = member_service.change_role(
            organisation, target, MemberRole(form.role.data), current_user._get_current_object()
        )
    except MembershipError as error:
        flash(str(error), "error")
    else:
        if changed:
            flash(_("Role changed."), "success")
        else:
            flash(_("The role was already that one; nothing changed."), "info")
    return redirect(_members_url(organisation))


@blueprint.post("/<uuid:organisation_id>/members/<uuid:membership_id>/remove")
@roles_required(Role.HOLDER)
def remove_member(organisation_id: uuid.UUID, membership_id: uuid.UUID) -> Response:
    """Take a colleague off the organisation (owners only; never the last owner)."""
    organisation = member_organisation(organisation_id, owner=True)
    target = member_service.get_membership(organisation, membership_id)
    if target is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    removing_self = target.user_id == current_user.id
    try:
        member_service.remove_member(organisation, target, current_user._get_current_object())
    except MembershipError as error:
        flash(str(error), "error")
        return redirect(_members_url(organisation))
    if removing_self:
        flash(_("You no longer act for %(name)s.", name=organisation.legal_name), "success")
        return redirect(_home())
    flash(_("The colleague was removed."), "success")
    return redirect(_members_url(organisation))


@blueprint.post("/<uuid:organisation_id>/invitations/<uuid:invitation_id>/revoke")
@roles_required(Role.HOLDER)
def revoke_invitation(organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> Response:
    """Revoke an open invitation: its link stops working (owners only)."""
    organisation = member_organisation(organisation_id, owner=True)
    invitation = member_service.get_invitation(organisation, invitation_id)
    if invitation is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        member_service.revoke_invitation(
            organisation, invitation, current_user._get_current_object()
        )
    except MembershipError as error:
        flash(str(error), "error")
    else:
        flash(_("The invitation was revoked; its link no longer works."), "success")
    return redirect(_members_url(organisation))


@blueprint.post("/<uuid:organisation_id>/leave")
@roles_required(Role.HOLDER)
def leave(organisation_id: uuid.UUID) -> Response:
    """Stop acting for the organisation (any member; never its last owner)."""
    organisation = member_organisation(organisation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        member_service.leave(organisation, current_user._get_current_object())
    except MembershipError as error:
        flash(str(error), "error")
        return redirect(_members_url(organisation))
    flash(_("You no longer act for %(name)s.", name=organisation.legal_name), "success")
    return redirect(_home())


def _invitation_invalid(reason: str | None = None, status: int = 400) -> tuple[str, int]:
    return render_template("holder/invitation_invalid.html", reason=reason), status


@blueprint.route("/invitations/accept", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def accept_invitation() -> str | Response | tuple[str, int]:
    """Open an e-mailed invitation: see who invites you, then accept (signed in, same address)."""
    token = request.values.get("token", "")
    invitation = member_service.invitation_from_token(token)
    if invitation is None:
        return _invitation_invalid()
    user = current_user._get_current_object()
    if not member_service.invited_address_matches(invitation, user):
        return _invitation_invalid(
            _(
                "This invitation was sent to another e-mail address. Sign out, then sign in "
                "with the account of the address that received it (or create one)."
            ),
            403,
        )
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        result = member_service.accept_invitation(invitation, user)
        if result is None:
            return _invitation_invalid()
        flash(
            _("You now act for %(name)s.", name=invitation.organisation.legal_name),
            "success",
        )
        return redirect(url_for("holder.members", organisation_id=invitation.organisation_id))
    return render_template(
        "holder/invitation_accept.html",
        invitation=invitation,
        organisation=invitation.organisation,
        already_member=membership(user, invitation.organisation_id) is not None,
        inviter=_inviter_name(invitation),
        role_labels=MEMBER_ROLE_LABELS,
        form=form,
        token=token,
    )


def _inviter_name(invitation: Invitation) -> str | None:
    if invitation.invited_by_id is None:
        return None
    inviter = db.session.get(User, invitation.invited_by_id)
    return inviter.full_name if inviter is not None else None
