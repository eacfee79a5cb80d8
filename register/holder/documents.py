"""A holder's documents: the list, uploading, downloading and deleting.

A document is reached only through its organisation, and only by users who act for it; one
that belongs to another organisation is a 404.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.downloads import attachment
from register.holder import blueprint
from register.holder.forms import DocumentForm
from register.models import Document, Organisation, Role
from register.permissions import member_organisation, roles_required
from register.services import documents as document_service


def _document_of(organisation: Organisation, document_id: uuid.UUID) -> Document:
    document = document_service.find_document(organisation, document_id)
    if document is None:
        abort(404)
    return document


@blueprint.route("/<uuid:organisation_id>/documents", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def documents(organisation_id: uuid.UUID) -> str | Response:
    """The organisation's documents and a form to upload one."""
    organisation = member_organisation(organisation_id)
    form = DocumentForm()
    if form.validate_on_submit():
        document = document_service.add_document(
            organisation, current_user._get_current_object(), form.filename, form.content
        )
        flash(_("%(filename)s has been uploaded.", filename=document.filename), "success")
        return redirect(url_for("holder.documents", organisation_id=organisation.id))
    listed = document_service.documents_of(organisation)
    return render_template(
        "holder/documents.html",
        form=form,
        organisation=organisation,
        documents=listed,
        uploaders=document_service.uploader_names(listed),
        type_labels=document_service.TYPE_LABELS,
    )


@blueprint.get("/<uuid:organisation_id>/documents/<uuid:document_id>")
@roles_required(Role.HOLDER)
def download_document(organisation_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """The document's file, decrypted, as an attachment that is never cached or sniffed."""
    organisation = member_organisation(organisation_id)
    return attachment(_document_of(organisation, document_id))


@blueprint.post("/<uuid:organisation_id>/documents/<uuid:document_id>/delete")
@roles_required(Role.HOLDER)
def delete_document(organisation_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """Delete one of the organisation's documents (the form's CSRF token is checked globally)."""
    organisation = member_organisation(organisation_id)
    document = _document_of(organisation, document_id)
    filename = document.filename
    document_service.delete_document(document)
    flash(_("%(filename)s has been deleted.", filename=filename), "success")
    return redirect(url_for("holder.documents", organisation_id=organisation.id))
