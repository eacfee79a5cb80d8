"""The agency's triage of complaints: the list, a complaint (its opening logged), the moves.

Inspectors and supervisors only. The complaint's page shows the complainant's name and contact
(encrypted, confidential), so each opening is written to the activity log. The grounds of a
decision are written for the complainant: the secret link shows them, and they are e-mailed
when the complainant gave an address and agreed to be contacted.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.agency import blueprint
from register.agency.breaches import filter_choices, pick
from register.agency.triage_forms import DecisionForm, StartForm, TriageFilterForm
from register.database import writes_on_get
from register.extensions import db
from register.models import Complaint, ComplaintStatus, Organisation, ReferenceList, Role, User
from register.permissions import roles_required
from register.services import activity, complaints, reference
from register.services.complaints import ComplaintError
from register.services.register_entries import STATUS_LABELS as ENTRY_LABELS

REVIEWERS = (Role.INSPECTOR, Role.SUPERVISOR)
log = logging.getLogger("register.complaints")


@blueprint.get("/complaints")
@roles_required(*REVIEWERS)
def complaints_list() -> str:
    """Complaints, newest first: filters, the deadline, the assessor."""
    form = TriageFilterForm(request.args)
    filter_choices(form, complaints.STATUS_LABELS)
    status = pick(form.status.data, form.status.choices)
    filters = complaints.ComplaintFilters(
        status=ComplaintStatus(status) if status else None,
        late=bool(form.overdue.data),
        region=pick(form.region.data, form.region.choices),
        sector=pick(form.sector.data, form.sector.choices),
        holder=(form.holder.data or "")[:200] if form.validate() else "",
    )
    found = complaints.agency_list(filters, max(request.args.get("page", 1, type=int) or 1, 1))
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "agency/complaints.html",
        form=form,
        found=found,
        query=query,
        status_labels=complaints.STATUS_LABELS,
        regions=dict(reference.choices(ReferenceList.REGION)),
        sectors=dict(reference.choices(ReferenceList.SECTOR)),
    )


def _complaint(complaint_id: uuid.UUID) -> Complaint:
    complaint = complaints.find(complaint_id)
    if complaint is None:
        abort(404)
    return complaint


def _decisions() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in complaints.DECISION_LABELS.items()]


def _page(
    complaint: Complaint,
    *,
    decision_form: DecisionForm | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    decision_form = decision_form or DecisionForm(formdata=None)
    decision_form.decision.choices = _decisions()
    if conflict is not None or decision_form.lock_version.data is None:
        decision_form.lock_version.data = str(complaint.lock_version)
    staff = {
        user.id: user
        for user in (
            db.session.get(User, user_id)
            for user_id in {complaint.assignee_id, complaint.decided_by_id}
            if user_id
        )
        if user is not None
    }
    organisation = (
        db.session.get(Organisation, complaint.organisation_id)
        if complaint.organisation_id
        else None
    )
    return render_template(
        "agency/complaint.html",
        complaint=complaint,
        organisation=organisation,
        staff=staff,
        start_form=StartForm(formdata=None, lock_version=complaint.lock_version),
        decision_form=decision_form,
        can_start=complaints.can_start(current_user, complaint),
        can_decide=complaints.can_decide(current_user, complaint),
        conflict=conflict,
        status_labels=complaints.STATUS_LABELS,
        entry_labels=ENTRY_LABELS,
        days_left=complaints.days_left(complaint),
    ), status


@blueprint.get("/complaints/<uuid:complaint_id>")
@roles_required(*REVIEWERS)
@writes_on_get
def complaint(complaint_id: uuid.UUID) -> tuple[str, int]:
    """The whole complaint, with the complainant's name and contact: the opening is logged."""
    found = _complaint(complaint_id)
    activity.record(
        "complaint.opened",
        object_type=complaints.OBJECT_TYPE,
        object_id=str(found.id),
        details={"receipt": found.receipt_number},
    )
    return _page(found)


def _back(found: Complaint) -> Response:
    return redirect(url_for("agency.complaint", complaint_id=found.id))


def _refused(found: Complaint, error: ComplaintError, **forms: Any) -> tuple[str, int]:
    """The page again with the reason on top and the input kept (nothing saved: 409)."""
    db.session.expire_all()
    return _page(_complaint(found.id), conflict=str(error), status=409, **forms)


@blueprint.post("/complaints/<uuid:complaint_id>/assess")
@roles_required(*REVIEWERS)
def assess_complaint(complaint_id: uuid.UUID) -> Response | tuple[str, int]:
    """Start assessing a received complaint (the user becomes its assessor)."""
    found = _complaint(complaint_id)
    try:
        complaints.start_assessment(found, current_user, StartForm().expected_lock_version())
    except ComplaintError as error:
        return _refused(found, error)
    flash(_("You are assessing this complaint."), "success")
    return _back(found)


@blueprint.post("/complaints/<uuid:complaint_id>/decide")
@roles_required(*REVIEWERS)
def decide_complaint(complaint_id: uuid.UUID) -> Response | tuple[str, int]:
    """Uphold, not uphold or request an inspection, with grounds for the complainant."""
    found = _complaint(complaint_id)
    form = DecisionForm()
    form.decision.choices = _decisions()
    if not form.validate():
        log.info("complaint decision refused: %s", ",".join(sorted(form.errors)))
        return _page(found, decision_form=form, status=422)
    try:
        complaints.decide(
            found,
            current_user,
            form.decision.data or "",
            form.grounds.data or "",
            form.expected_lock_version(),
        )
    except ComplaintError as error:
        return _refused(found, error, decision_form=form)
    flash(
        _("Decision recorded: %(status)s.", status=str(complaints.STATUS_LABELS[found.status])),
        "success",
    )
    return _back(found)
