"""Access requests on a holder's side: asking to act for an organisation, and owners deciding.

Someone who enters a TIN already in the register is sent to `request_access`: the page says
the organisation is there and who decides (its owners, or the agency), and a request changes
nothing until a decision. An individual entrepreneur is never named to the claimant, and the
TIN is never shown back: it is a PIN.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from register.extensions import db, limiter
from register.holder import blueprint
from register.holder.member_forms import AccessRequestForm, DecisionForm
from register.models import AccessRequest, AccessRequestAddressee, Organisation, Role
from register.permissions import (
    can_decide_access_request,
    member_organisation,
    membership,
    roles_required,
)
from register.services import access_requests as access_service

DEFAULT_REQUEST_ACCESS_LIMIT = "30 per hour"


def request_access_limit() -> str:
    return str(current_app.config.get("RATE_LIMIT_REQUEST_ACCESS", DEFAULT_REQUEST_ACCESS_LIMIT))


def user_rate_key() -> str:
    """Rate-limit key: the signed-in user (trying TINs one after another is throttled)."""
    user_id = getattr(current_user, "id", None)
    return f"request-access:{user_id}" if user_id else get_remote_address()


CLAIMED_ORGANISATION = "claimed_organisation"


def claimed_organisation() -> Organisation | None:
    """The organisation whose TIN the user entered, remembered by id in the session."""
    try:
        organisation_id = uuid.UUID(str(session.get(CLAIMED_ORGANISATION, "")))
    except ValueError:
        return None
    return db.session.get(Organisation, organisation_id)


@blueprint.route("/request-access", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
@limiter.limit(request_access_limit, key_func=user_rate_key)
def request_access() -> str | Response | tuple[str, int]:
    """Ask to act for the organisation whose TIN was entered on "Register an organisation".

    Only the organisation's id travels, in the session: never the TIN, which for an individual
    entrepreneur is a PIN and must not reach a URL, browser history or a readable cookie.
    """
    organisation = claimed_organisation()
    if organisation is None:
        return render_template("holder/access_request_missing.html"), 404
    if membership(current_user, organisation.id) is not None:
        flash(_("You already act for this organisation."), "info")
        return redirect(url_for("holder.members", organisation_id=organisation.id))
    user = current_user._get_current_object()
    pending = access_service.pending_request(organisation, user)
    form = AccessRequestForm()
    if request.method == "POST" and form.validate_on_submit():
        access_request, created = access_service.request_access(
            organisation, user, form.message.data
        )
        session.pop(CLAIMED_ORGANISATION, None)
        if created:
            flash(_("Your request was sent."), "success")
        else:
            flash(_("You have already asked; your request is waiting for a decision."), "info")
        return redirect(url_for("holder.access_request_status", request_id=access_request.id))
    return render_template(
        "holder/access_request.html",
        organisation=organisation,
        name=access_service.requester_facing_name(organisation),
        addressee=access_service.addressee_for(organisation),
        addressees=AccessRequestAddressee,
        pending=pending,
        form=form,
    )


@blueprint.get("/request-access/<uuid:request_id>")
@roles_required(Role.HOLDER)
def access_request_status(request_id: uuid.UUID) -> str:
    """Where the signed-in user's own request stands (another's is a 404)."""
    access_request = access_service.for_requester(current_user, request_id)
    if access_request is None:
        abort(404)
    return render_template(
        "holder/access_request_status.html",
        access_request=access_request,
        name=access_service.requester_facing_name(access_request.organisation),
        is_member=membership(current_user, access_request.organisation_id) is not None,
    )


def _render_requests(
    organisation: Organisation, failed: tuple[uuid.UUID, DecisionForm] | None = None
) -> str:
    return render_template(
        "holder/access_requests.html",
        organisation=organisation,
        requests=access_service.pending_for_owners(organisation),
        blank_form=DecisionForm(formdata=None),
        failed=failed,
    )


@blueprint.get("/<uuid:organisation_id>/access-requests")
@roles_required(Role.HOLDER)
def access_requests(organisation_id: uuid.UUID) -> str:
    """Pending requests to act for the organisation that its owners decide (owners only)."""
    return _render_requests(member_organisation(organisation_id, owner=True))


@blueprint.post("/<uuid:organisation_id>/access-requests/<uuid:request_id>/decide")
@roles_required(Role.HOLDER)
def decide_access_request(organisation_id: uuid.UUID, request_id: uuid.UUID) -> str | Response:
    """Approve (the requester becomes a member) or refuse with a reason (owners only)."""
    organisation = member_organisation(organisation_id, owner=True)
    access_request = access_service.for_owners(organisation, request_id)
    if access_request is None or not can_decide_access_request(current_user, access_request):
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_requests(organisation, failed=(access_request.id, form))
    apply_decision(access_request, form)
    return redirect(url_for("holder.access_requests", organisation_id=organisation.id))


def apply_decision(access_request: AccessRequest, form: DecisionForm) -> bool:
    """Take a validated decision and say how it went; False when it was already decided."""
    approve = form.decision.data == "approve"
    try:
        access_service.decide(
            access_request,
            current_user._get_current_object(),
            approve=approve,
            reason=form.reason.data,
        )
    except access_service.AlreadyDecided:
        flash(already_decided_message(access_request), "warning")
        return False
    if approve:
        flash(_("Request approved: the requester now acts for the organisation."), "success")
    else:
        flash(_("Request refused. The requester was told the reason."), "success")
    return True


def already_decided_message(access_request: AccessRequest) -> str:
    """Why a second decision changed nothing."""
    labels = {
        "approved": _("approved"),
        "refused": _("refused"),
        "withdrawn": _("withdrawn"),
        "pending": _("pending"),
    }
    return _(
        "This request was already decided (%(status)s); nothing was changed.",
        status=labels.get(access_request.status.value, access_request.status.value),
    )
