"""Serving an uploaded document: decrypted, as an attachment never cached nor sniffed."""

from __future__ import annotations

import io

from flask import Response, send_file

from register.models import Document


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
