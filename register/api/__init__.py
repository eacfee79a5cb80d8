"""The public JSON API, versioned under /api/v1 (DESIGN.md §5).

It reads only the public register tables, never decrypts, answers errors as
`application/problem+json` (see register.errors) and lets any origin read it.
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.after_request
def _cors(response: Response) -> Response:
    """Any web page may read the public API (GET only; there is nothing else)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


from register.api import holders, openapi, verify  # noqa: E402, F401
