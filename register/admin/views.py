"""Admins manage agency staff: list, create, change role, deactivate, reset two-factor."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.admin.forms import ROLE_LABELS, ActionForm, ChangeRoleForm, CreateStaffForm
from register.extensions import db
from register.models import STAFF_ROLES, Role, User
from register.permissions import roles_required
from register.services import accounts, staff
from register.services.accounts import AccountError

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

ACCOUNT_ERRORS = {
    "an account with this e-mail address already exists": lambda: _(
        "An account with this e-mail address already exists."
    ),
    "you cannot change your own role": lambda: _("You cannot change your own role."),
    "you cannot deactivate your own account": lambda: _("You cannot deactivate your own account."),
    "the last active admin cannot be deactivated": lambda: _(
        "The register must keep at least one active administrator."
    ),
    "another admin must reset your two-factor sign-in": lambda: _(
        "Another administrator must reset your two-factor sign-in."
    ),
}


def _message(error: AccountError) -> str:
    translate = ACCOUNT_ERRORS.get(str(error))
    return translate() if translate else str(error)


def _staff_member(user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        abort(404)
    return user


@blueprint.get("/staff")
@roles_required(Role.ADMIN)
def staff_list() -> str:
    """Every agency account with its role, state and two-factor status."""
    return render_template(
        "admin/staff_list.html", users=staff.staff_list(), role_labels=ROLE_LABELS
    )


@blueprint.route("/staff/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_staff() -> str | Response:
    """Create an agency account and e-mail its invitation link."""
    form = CreateStaffForm()
    if form.validate_on_submit():
        try:
            user = staff.create_staff(
                form.email.data or "",
                form.full_name.data or "",
                Role(form.role.data),
                actor=current_user._get_current_object(),
            )
        except AccountError as error:
            form.email.errors = [_message(error)]
        else:
            flash(
                _(
                    "Account created. An invitation link was e-mailed to %(email)s.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(url_for("admin.staff_member", user_id=user.id))
    return render_template("admin/staff_new.html", form=form)


@blueprint.get("/staff/<uuid:user_id>")
@roles_required(Role.ADMIN)
def staff_member(user_id: uuid.UUID) -> str:
    """One staff account and what can be done to it."""
    user = _staff_member(user_id)
    role_form = ChangeRoleForm(role=user.role.value)
    return render_template(
        "admin/staff_member.html",
        user=user,
        role_form=role_form,
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
    )


@blueprint.post("/staff/<uuid:user_id>/role")
@roles_required(Role.ADMIN)
def change_role(user_id: uuid.UUID) -> str | Response:
    """Give the staff member another role (their sessions end)."""
    user = _staff_member(user_id)
    form = ChangeRoleForm()
    if form.validate_on_submit():
        try:
            staff.change_role(user, Role(form.role.data), current_user._get_current_object())
        except AccountError as error:
            flash(_message(error), "error")
        else:
            flash(_("Role changed."), "success")
    else:
        flash(_("Choose one of the listed roles."), "error")
    return redirect(url_for("admin.staff_member", user_id=user.id))


def _action(user_id: uuid.UUID, action: str) -> Response:
    user = _staff_member(user_id)
    actor = current_user._get_current_object()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "deactivate":
            staff.set_active(user, False, actor)
            flash(_("Account deactivated and signed out everywhere."), "success")
        elif action == "reactivate":
            staff.set_active(user, True, actor)
            flash(_("Account reactivated."), "success")
        elif action == "reset-two-factor":
            staff.reset_two_factor(user, actor)
            flash(
                _("Two-factor sign-in reset: they will enrol again at their next sign-in."),
                "success",
            )
        elif action == "sign-out-everywhere":
            if user.id == actor.id:
                raise AccountError("use your account page to sign yourself out everywhere")
            accounts.sign_out_everywhere(user, actor=actor)
            flash(_("Every session of this account was ended."), "success")
    except AccountError as error:
        flash(_message(error), "error")
    return redirect(url_for("admin.staff_member", user_id=user.id))


@blueprint.post("/staff/<uuid:user_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(user_id: uuid.UUID) -> Response:
    """Deactivate an account (it can no longer sign in)."""
    return _action(user_id, "deactivate")


@blueprint.post("/staff/<uuid:user_id>/reactivate")
@roles_required(Role.ADMIN)
def reactivate(user_id: uuid.UUID) -> Response:
    """Let a deactivated account sign in again."""
    return _action(user_id, "reactivate")


@blueprint.post("/staff/<uuid:user_id>/reset-two-factor")
@roles_required(Role.ADMIN)
def reset_two_factor(user_id: uuid.UUID) -> Response:
    """Make the staff member enrol two-factor again."""
    return _action(user_id, "reset-two-factor")


@blueprint.post("/staff/<uuid:user_id>/sign-out-everywhere")
@roles_required(Role.ADMIN)
def sign_out_everywhere(user_id: uuid.UUID) -> Response:
    """End every session of the account."""
    return _action(user_id, "sign-out-everywhere")
