"""Downloads: an uploaded document (decrypted, never cached nor sniffed) and a certificate."""

from __future__ import annotations

import io

from flask import Response, abort, send_file, url_for

from register.models import Document, Organisation
from register.services import register_entries


def attachment(document: Document) -> Response:
    """The document's content as a download with its stored type and cleaned name."""
    response = send_file(
        io.BytesIO(document.content),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        conditional=False,
        etag=False,
        last_modified=None,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def certificate_download(organisation: Organisation) -> Response:
    """The organisation's current certificate as a PDF download; 404 when it has none."""
    entry = register_entries.entry_of(organisation.id)
    certificate = register_entries.current_certificate(entry) if entry is not None else None
    if entry is None or certificate is None:
        abort(404)
    url = url_for("public.verify", code=certificate.code, _external=True)
    pdf = register_entries.certificate_pdf(certificate, organisation, url)
    response = Response(pdf, mimetype="application/pdf")
    name = f"{entry.registration_number}-v{certificate.version_number}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
