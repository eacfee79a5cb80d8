"""The agency's queue of access requests: claims on unverified, paper or imported entries.

Inspectors, supervisors and admins see the pending requests addressed to the agency and decide
each once: approval makes the requester the owner of an organisation that has none (else a
member); a refusal states its reason. Both tell the requester.
"""

from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from register.agency import blueprint
from register.database import writes_on_get
from register.holder.access import apply_decision
from register.holder.member_forms import DecisionForm
from register.models import STAFF_ROLES
from register.permissions import can_decide_access_request, roles_required
from register.services import access_requests as access_service
from register.services import activity


def _render_queue(page: int, failed: tuple[uuid.UUID, DecisionForm] | None = None) -> str:
    items, total = access_service.pending_for_agency(page)
    page_size = access_service.AGENCY_PAGE_SIZE
    return render_template(
        "agency/access_requests.html",
        requests=items,
        total=total,
        page=page,
        pages=max((total + page_size - 1) // page_size, 1),
        owner_counts=access_service.owner_counts([item.organisation_id for item in items]),
        blank_form=DecisionForm(formdata=None),
        failed=failed,
    )


@blueprint.get("/access-requests")
@roles_required(*STAFF_ROLES)
@writes_on_get
def access_requests() -> str:
    """Pending requests to act for an organisation that the agency decides, oldest first.

    The queue shows requesters' addresses and messages (confidential): opening it is logged.
    """
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    activity.record("agency.access_requests_viewed", details={"page": page})
    return _render_queue(page)


@blueprint.post("/access-requests/<uuid:request_id>/decide")
@roles_required(*STAFF_ROLES)
def decide_access_request(request_id: uuid.UUID) -> str | Response:
    """Approve or refuse (with its reason) one request addressed to the agency."""
    access_request = access_service.for_agency(request_id)
    if access_request is None or not can_decide_access_request(current_user, access_request):
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        return _render_queue(page, failed=(access_request.id, form))
    apply_decision(access_request, form)
    return redirect(url_for("agency.access_requests"))
