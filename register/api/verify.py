"""`GET /api/v1/verify/{code}`: what a certificate's code says about the entry."""

from __future__ import annotations

from flask import Response, jsonify, url_for
from flask_babel import gettext as _

from register.api import blueprint
from register.errors import problem
from register.services import register_entries


@blueprint.get("/verify/<string:code>")
def verify(code: str) -> Response:
    """valid, superseded, suspended or struck_off, with the entry's name and number; else 404."""
    found = register_entries.verify(code)
    if found is None:
        return problem(404, _("No certificate has this code."))
    entry, certificate = found.entry, found.certificate
    response = jsonify(
        code=certificate.code,
        status=found.status,
        status_label=found.label,
        registration_number=entry.registration_number,
        legal_name=entry.legal_name,
        entry_status=entry.status.value,
        certificate_version=certificate.version_number,
        current_version=entry.version_number,
        registered_on=entry.registered_on.isoformat(),
        issued_at=certificate.issued_at.isoformat(),
        verification_url=url_for("public.verify", code=certificate.code, _external=True),
    )
    response.headers["Cache-Control"] = "no-cache"
    return response
