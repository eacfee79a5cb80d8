"""The agency's view of organisations: search, an organisation's file, its entry, its certificate.

Search finds any organisation by name, TIN, registration number or a person's PIN (each PIN
search is logged). The organisation's page shows its details, its entry with the grounds of
every change of status (confidential: the opening is logged) and its declarations; supervisors
suspend, reinstate or strike off the entry there, with grounds. Inspectors and supervisors
only; admins keep the system, not the register.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from register.agency import blueprint
from register.agency.review_forms import EntryStatusForm, StaffSearchForm
from register.database import writes_on_get
from register.downloads import attachment, certificate_download
from register.extensions import db
from register.models import Organisation, ReferenceList, RegisterEntry, Role, User
from register.permissions import roles_required
from register.services import (
    activity,
    breaches,
    complaints,
    reference,
    register_entries,
    staff_search,
)
from register.services import documents as document_service
from register.services.declarations import KIND_LABELS, STATUS_LABELS, declarations_of

REVIEWERS = (Role.INSPECTOR, Role.SUPERVISOR)
ENTRY_ACTIONS = {
    "suspend": _l("Suspend the entry"),
    "reinstate": _l("Reinstate the entry"),
    "strike_off": _l("Strike the entry off the register"),
}


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    return organisation


@blueprint.get("/organisations")
@roles_required(*REVIEWERS)
@writes_on_get
def organisations() -> str:
    """Find an organisation by name, TIN, registration number or a person's PIN."""
    form = StaffSearchForm(request.args)
    result = None
    if form.q.data and form.validate():
        result = staff_search.search(form.q.data)
    return render_template(
        "agency/organisations.html",
        form=form,
        result=result,
        entry_labels=register_entries.STATUS_LABELS,
        regions=dict(reference.choices(ReferenceList.REGION)),
    )


def _entry_form(
    entry: RegisterEntry | None, form: EntryStatusForm | None = None
) -> EntryStatusForm:
    form = form or EntryStatusForm(formdata=None)
    if entry is not None:
        form.action.choices = [
            (action, str(label))
            for action, label in ENTRY_ACTIONS.items()
            if entry.status in register_entries.TRANSITIONS[action][0]
        ]
    return form


def _organisation_page(
    organisation: Organisation,
    form: EntryStatusForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    entry = register_entries.entry_of(organisation.id)
    events = register_entries.entry_events(entry) if entry is not None else []
    actor_ids = {event.actor_id for event in events if event.actor_id}
    actors = (
        {
            user.id: user.full_name or user.email
            for user in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))
        }
        if actor_ids
        else {}
    )
    return render_template(
        "agency/organisation.html",
        organisation=organisation,
        entry=entry,
        events=events,
        actors=actors,
        declarations=declarations_of(organisation),
        breach_reports=breaches.reports_of(organisation),
        breach_labels=breaches.STATUS_LABELS,
        complaints=complaints.about(organisation),
        complaint_labels=complaints.STATUS_LABELS,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        entry_labels=register_entries.STATUS_LABELS,
        form=_entry_form(entry, form),
        can_change_status=entry is not None and current_user.role is Role.SUPERVISOR,
        error=error,
        regions=dict(reference.choices(ReferenceList.REGION)),
        sectors=dict(reference.choices(ReferenceList.SECTOR)),
    ), status


@blueprint.get("/organisations/<uuid:organisation_id>")
@roles_required(*REVIEWERS)
@writes_on_get
def organisation(organisation_id: uuid.UUID) -> tuple[str, int]:
    """An organisation's file: details, entry and the grounds of its changes, declarations,
    breach reports and complaints."""
    found = _organisation(organisation_id)
    activity.record("organisation.opened", object_type="organisation", object_id=str(found.id))
    return _organisation_page(found)


@blueprint.post("/organisations/<uuid:organisation_id>/entry-status")
@roles_required(Role.SUPERVISOR)
def entry_status(organisation_id: uuid.UUID) -> BaseResponse | tuple[str, int]:
    """Suspend, reinstate or strike off the organisation's entry, with grounds."""
    found = _organisation(organisation_id)
    entry = register_entries.entry_of(found.id)
    if entry is None:
        abort(404)
    form = _entry_form(entry, EntryStatusForm())
    if not form.validate():
        return _organisation_page(found, form, status=422)
    try:
        register_entries.change_status(
            entry, form.action.data, current_user, form.grounds.data or "", form.article.data
        )
    except register_entries.EntryError as error:
        return _organisation_page(found, form, error=str(error), status=409)
    label = register_entries.STATUS_LABELS[entry.status]
    flash(_("The entry's status is now: %(status)s.", status=label), "success")
    return redirect(url_for("agency.organisation", organisation_id=found.id))


@blueprint.get("/organisations/<uuid:organisation_id>/certificate")
@roles_required(*REVIEWERS)
def certificate(organisation_id: uuid.UUID) -> Response:
    """The certificate of the entry's published version, as a PDF."""
    found = _organisation(organisation_id)
    return certificate_download(found)


@blueprint.get("/organisations/<uuid:organisation_id>/documents/<uuid:document_id>")
@roles_required(*REVIEWERS)
@writes_on_get
def organisation_document(organisation_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """An organisation's proof of authority for the agency: the opening is logged."""
    found = _organisation(organisation_id)
    document = document_service.find_document(found, document_id)
    if document is None:
        abort(404)
    activity.record(
        "document.opened",
        object_type="document",
        object_id=str(document.id),
        details={"organisation": str(found.id)},
    )
    return attachment(document)
