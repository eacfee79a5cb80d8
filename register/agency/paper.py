"""Agency staff file a declaration on a holder's behalf from a paper submission.

The clerk enters the organisation (origin "paper", owned by nobody until the holder claims it
through an access request), its two people, its arrays and a scan of the paper forms, with the
same forms and checks as a holder online; submitting marks the declaration as filed on paper.
Inspectors and supervisors only; only an organisation filed on paper that nobody acts for
online can be edited here (any other is a 404).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.agency import blueprint
from register.extensions import db
from register.holder.array_forms import ArrayForm
from register.holder.forms import DocumentForm, HeadForm, OrganisationForm, ResponsibleForm
from register.models import (
    Membership,
    Organisation,
    OrganisationOrigin,
    PersonKind,
    ReferenceList,
    Role,
)
from register.permissions import roles_required
from register.services import arrays, declarations, organisations, reference
from register.services import documents as document_service

CLERKS = (Role.INSPECTOR, Role.SUPERVISOR)


def _paper_organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.origin is not OrganisationOrigin.PAPER:
        abort(404)
    owned = db.session.scalar(
        sa.select(Membership.id).where(Membership.organisation_id == organisation.id).limit(1)
    )
    if owned is not None:  # the holder acts for it online now: staff no longer edit it
        abort(404)
    return organisation


def _filing_url(organisation: Organisation) -> str:
    return url_for("agency.paper_filing", organisation_id=organisation.id)


@blueprint.route("/paper/new", methods=["GET", "POST"])
@roles_required(*CLERKS)
def paper_new() -> str | Response:
    """Enter the organisation of a paper submission (a TIN already registered is refused)."""
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = organisations.create_organisation(
                current_user, form.tin.data or "", form.details(), OrganisationOrigin.PAPER
            )
        except organisations.TinTaken as taken:
            form.tin.errors = [
                *form.tin.errors,
                _(
                    "An organisation with this TIN is already in the register: file the paper "
                    "submission on its page, or ask the holder to act online."
                ),
            ]
            existing = taken.organisation
            return render_template(
                "holder/details.html",
                form=form,
                organisation=None,
                form_action=url_for("agency.paper_new"),
                back_url=url_for("agency.organisations"),
                existing=existing,
            )
        flash(
            _("The organisation has been entered. Now enter the rest of the submission."), "success"
        )
        return redirect(_filing_url(organisation))
    return render_template(
        "holder/details.html",
        form=form,
        organisation=None,
        form_action=url_for("agency.paper_new"),
        back_url=url_for("agency.organisations"),
    )


@blueprint.get("/paper/<uuid:organisation_id>")
@roles_required(*CLERKS)
def paper_filing(organisation_id: uuid.UUID) -> str:
    """The paper submission's parts, their states, and the button that files it."""
    organisation = _paper_organisation(organisation_id)
    tasks = declarations.task_list(organisation)
    return render_template(
        "agency/paper.html",
        organisation=organisation,
        tasks=tasks,
        problems=declarations.can_submit(organisation, tasks),
        document_form=DocumentForm(formdata=None),
        documents=document_service.documents_of(organisation),
        region=reference.label(ReferenceList.REGION, organisation.region_code),
    )


@blueprint.route("/paper/<uuid:organisation_id>/details", methods=["GET", "POST"])
@roles_required(*CLERKS)
def paper_details(organisation_id: uuid.UUID) -> str | Response:
    """Correct the organisation's details as the paper gives them."""
    organisation = _paper_organisation(organisation_id)
    form = OrganisationForm(obj=organisation, with_tin=False, existing_tin=organisation.tin)
    if form.validate_on_submit():
        organisations.update_details(organisation, form.details())
        return redirect(_filing_url(organisation))
    return render_template(
        "holder/details.html",
        form=form,
        organisation=organisation,
        form_action=url_for("agency.paper_details", organisation_id=organisation.id),
        back_url=_filing_url(organisation),
    )


@blueprint.route(
    "/paper/<uuid:organisation_id>/people/<any(head, responsible):kind>", methods=["GET", "POST"]
)
@roles_required(*CLERKS)
def paper_person(organisation_id: uuid.UUID, kind: str) -> str | Response:
    """The head of the organisation or the responsible person, as the paper names them."""
    organisation = _paper_organisation(organisation_id)
    person_kind = PersonKind(kind)
    form_class = HeadForm if person_kind is PersonKind.HEAD else ResponsibleForm
    form = form_class(obj=organisation.person(person_kind))
    if form.validate_on_submit():
        organisations.save_person(organisation, person_kind, form.person())
        return redirect(_filing_url(organisation))
    return render_template(
        f"holder/{kind}.html",
        form=form,
        organisation=organisation,
        form_action=url_for("agency.paper_person", organisation_id=organisation.id, kind=kind),
        back_url=_filing_url(organisation),
    )


@blueprint.route("/paper/<uuid:organisation_id>/arrays/new", methods=["GET", "POST"])
@blueprint.route(
    "/paper/<uuid:organisation_id>/arrays/<uuid:array_id>",
    methods=["GET", "POST"],
    endpoint="paper_array",
)
@roles_required(*CLERKS)
def paper_new_array(
    organisation_id: uuid.UUID, array_id: uuid.UUID | None = None
) -> str | Response:
    """Enter or correct one personal data array of the paper submission."""
    organisation = _paper_organisation(organisation_id)
    array = arrays.find_array(organisation, array_id) if array_id is not None else None
    if array_id is not None and array is None:
        abort(404)
    form = ArrayForm(obj=array, catalogue=arrays.catalogue())
    if form.validate_on_submit():
        if array is None:
            arrays.create_array(organisation, form.details())
        else:
            arrays.update_array(array, form.details())
        return redirect(_filing_url(organisation))
    action = (
        url_for("agency.paper_array", organisation_id=organisation.id, array_id=array.id)
        if array is not None
        else url_for("agency.paper_new_array", organisation_id=organisation.id)
    )
    return render_template(
        "holder/array.html",
        form=form,
        organisation=organisation,
        array=array,
        task_list=_filing_url(organisation),
        form_action=action,
    )


@blueprint.post("/paper/<uuid:organisation_id>/documents")
@roles_required(*CLERKS)
def paper_document(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """Attach the scan of the paper submission (it stands as the proof of authority)."""
    organisation = _paper_organisation(organisation_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        tasks = declarations.task_list(organisation)
        return render_template(
            "agency/paper.html",
            organisation=organisation,
            tasks=tasks,
            problems=declarations.can_submit(organisation, tasks),
            document_form=form,
            documents=document_service.documents_of(organisation),
            region=reference.label(ReferenceList.REGION, organisation.region_code),
        ), 422
    document_service.add_document(organisation, current_user, form.filename, form.content)
    flash(_("The scan has been attached."), "success")
    return redirect(_filing_url(organisation))


@blueprint.post("/paper/<uuid:organisation_id>/submit")
@roles_required(*CLERKS)
def paper_submit(organisation_id: uuid.UUID) -> Response:
    """File the declaration, marked as filed on paper; it joins the review queue."""
    organisation = _paper_organisation(organisation_id)
    try:
        declaration = declarations.submit(organisation, current_user, on_paper=True)
    except declarations.DeclarationError as error:
        flash(str(error), "error")
        return redirect(_filing_url(organisation))
    flash(_("The paper submission has been filed as a declaration."), "success")
    return redirect(url_for("agency.review_declaration", declaration_id=declaration.id))
