"""Error pages in the site's layout and RFC 9457 problem details for JSON clients.

A database that cannot be reached gives a clear 503 page, never a stack trace; an unexpected
error gives a 500 page with an incident id that is also in the log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from register.crypto.errors import DecryptionError
from register.extensions import db, login_manager

log = logging.getLogger("register.errors")

TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    409: _l("Someone else changed this first"),
    413: _l("The file or form is too large"),
    429: _l("Too many requests"),
    500: _l("Sorry, something went wrong on our side"),
    503: _l("The service is temporarily unavailable"),
}

EXPLANATIONS = {
    400: _l("Check what you entered and try again."),
    401: _l("You need to sign in to see this page."),
    403: _l("If you think you should have access, contact the agency."),
    404: _l(
        "If you typed the address, check it is correct. "
        "If you followed a link, it may be out of date."
    ),
    405: _l("Go back and use the buttons on the page."),
    409: _l("Reload the page to see the latest version, then make your change again."),
    413: _l("Files may be at most 10 MB. Try a smaller file."),
    429: _l("You have made too many requests. Wait a few minutes and try again."),
    500: _l(
        "Your data has not been lost. Try again later; "
        "if it happens again, tell us the incident number."
    ),
    503: _l(
        "The register cannot reach its database right now. "
        "Your data is safe; please try again in a few minutes."
    ),
}

CSRF_EXPLANATION = _l(
    "The form has expired or was sent from another site. Go back, reload the page and try again."
)


def wants_json() -> bool:
    """API paths and clients that prefer JSON get problem details instead of a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(
    status: int, *, detail: str | None = None, incident_id: str | None = None
) -> tuple[Any, int]:
    """Render the error page (or problem+json) for `status`."""
    title = str(TITLES.get(status, TITLES[500]))
    detail = detail or str(EXPLANATIONS.get(status, ""))
    if wants_json():
        body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
        if detail:
            body["detail"] = detail
        if incident_id:
            body["incident_id"] = incident_id
        response = jsonify(body)
        response.mimetype = "application/problem+json"
        return response, status
    # 500 and 503 pages must render without touching the database (it may be the cause):
    # if the user was not loaded yet, the page treats the visitor as anonymous.
    minimal = status >= 500
    if minimal and "_login_user" not in g:
        g._login_user = login_manager.anonymous_user()
    html = render_template(
        "errors/error.html",
        status=status,
        title=title,
        detail=detail,
        incident_id=incident_id,
        minimal_chrome=minimal,
    )
    return html, status


def _rollback_quietly() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; the pool will replace it
        log.warning("rollback after an error failed", exc_info=True)


def _record_refusal() -> None:
    """Write a refused request to the activity log; it survives the request's rollback."""
    from register.services import activity

    try:
        activity.record_security_event(
            "access.refused",
            details={"endpoint": request.endpoint or "", "method": request.method},
        )
    except Exception:  # the refusal must still be answered even if logging fails
        log.exception("could not record a refused request")


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Any:
        status = error.code or 500
        if status == 503 and isinstance(error, ServiceUnavailable):
            _rollback_quietly()
        if isinstance(error, CSRFError):
            log.warning("CSRF check failed: %s", error.description)
            return error_response(400, detail=str(CSRF_EXPLANATION))
        if status == 500 and isinstance(error, InternalServerError):
            return handle_unexpected(error.original_exception or error)
        if status not in TITLES:
            return error.get_response()
        if status == 403:
            _record_refusal()
        response_detail = None
        if (
            status in (400, 409)
            and error.description
            and error.description != type(error).description
        ):
            response_detail = str(error.description)
        result = error_response(status, detail=response_detail)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            return result[0], status, {"Allow": ", ".join(error.valid_methods)}
        return result

    @app.errorhandler(OperationalError)
    def handle_database_unavailable(error: OperationalError) -> Any:
        _rollback_quietly()
        # The driver's message, not the statement or its parameters (hide_parameters is on).
        log.error("database unavailable: %s", str(error.orig).splitlines()[0] if error.orig else "")
        return error_response(503)

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> Any:
        if error.connection_invalidated:
            return handle_database_unavailable(error)  # type: ignore[arg-type]
        return handle_unexpected(error)

    @app.errorhandler(DecryptionError)
    def handle_undecryptable(error: DecryptionError) -> Any:
        # The page gets the ordinary 500 with an incident number; the log and the activity
        # log name the value's place and key, never its content.
        from register.services import activity

        try:
            activity.record_security_event(
                "crypto.decryption_failed",
                object_type=error.table,
                object_id=error.row_id,
                details={"column": error.column, "key_id": error.key_id or ""},
            )
        except Exception:
            log.exception("could not record a decryption failure")
        return handle_unexpected(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: BaseException) -> Any:
        _rollback_quietly()
        incident_id = uuid.uuid4().hex[:12].upper()
        g.incident_id = incident_id
        log.error(
            "unhandled error, incident %s",
            incident_id,
            exc_info=(type(error), error, error.__traceback__),
            extra={"incident_id": incident_id},
        )
        return error_response(500, incident_id=incident_id)


def problem(status: int, detail: str, **extensions: Any) -> Response:
    """A problem+json response for API views that refuse a request themselves.

    `extensions` are RFC 9457 extension members (e.g. `invalid-params` given as a dict key).
    """
    response = jsonify(
        {
            "type": "about:blank",
            "title": str(TITLES.get(status, "")),
            "status": status,
            "detail": detail,
            **extensions,
        }
    )
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response
