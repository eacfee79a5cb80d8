"""Agency staff open the documents attached to a holder's declaration (each opening logged)."""

from __future__ import annotations

import uuid

from flask import Response, abort

from register.agency import blueprint
from register.database import writes_on_get
from register.downloads import attachment
from register.extensions import db
from register.models import STAFF_ROLES, Declaration
from register.permissions import roles_required
from register.services import activity
from register.services import documents as document_service


@blueprint.get("/declarations/<uuid:declaration_id>/documents/<uuid:document_id>")
@roles_required(*STAFF_ROLES)
@writes_on_get
def declaration_document(declaration_id: uuid.UUID, document_id: uuid.UUID) -> Response:
    """A declaration's file for the agency: confidential, so the opening is logged."""
    declaration = db.session.get(Declaration, declaration_id)
    if declaration is None:
        abort(404)
    document = document_service.find_document(
        declaration.organisation, document_id, declaration_id=declaration.id
    )
    if document is None:
        abort(404)
    activity.record(
        "document.opened",
        object_type="document",
        object_id=str(document.id),
        details={"declaration": str(declaration.id)},
    )
    return attachment(document)
