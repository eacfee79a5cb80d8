"""The open-data pages: `/open-data` documents the files, `/open-data/<file>` serves them.

The files are made by `flask --app register open-data export` (`register/open_data.py`) into
OPEN_DATA_DIR; these views only read that folder, never the database, so they cost nothing
however large the register. Only the three data files and manifest.json are served (any other
name is a 404, so nothing else that lands in the folder leaks), as static files with `ETag`,
`Last-Modified`, conditional and range answers, a five-minute `Cache-Control`, and
`Access-Control-Allow-Origin: *` so that anyone's web page may fetch them.
"""

from __future__ import annotations

from flask import abort, render_template, send_from_directory
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from register import open_data
from register.public.views import blueprint

MAX_AGE = 300


def readable_size(size: int) -> str:
    """A file size as people read it (bytes, KB, MB, GB), in the current language."""
    if size < 1024:
        return _("%(num)s bytes", num=format_decimal(size))
    if size < 1024**2:
        return _("%(num)s KB", num=format_decimal(round(size / 1024, 1)))
    if size < 1024**3:
        return _("%(num)s MB", num=format_decimal(round(size / 1024**2, 1)))
    return _("%(num)s GB", num=format_decimal(round(size / 1024**3, 1)))


@blueprint.get("/open-data", endpoint="open_data")
def open_data_page() -> str:
    """What the files hold, column by column, their licence, when they were made, their sizes."""
    manifest = open_data.read_manifest(open_data.export_dir())
    return render_template(
        "public/open_data.html",
        manifest=manifest,
        files=open_data.DATA_FILES,
        columns=open_data.COLUMNS,
        manifest_name=open_data.MANIFEST,
        readable_size=readable_size,
        format_number=format_decimal,
        separator=open_data.LIST_SEPARATOR,
    )


@blueprint.get("/open-data/<string:filename>", endpoint="open_data_file")
def open_data_file(filename: str) -> Response:
    """One of the exported files (or manifest.json), as a static file; anything else is 404."""
    mimetype = open_data.MIMETYPES.get(filename)
    if mimetype is None:
        abort(404)
    response = send_from_directory(
        open_data.export_dir(),
        filename,
        mimetype=mimetype,
        conditional=True,
        etag=True,
        max_age=MAX_AGE,
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
