"""One transaction per request: begun lazily, committed once at the end, or rolled back."""

from __future__ import annotations

import contextvars
import logging

from flask import Flask, Response, g, request

from register.database import reset_write_intent, set_write_intent
from register.extensions import db

log = logging.getLogger("register.requests")

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Install the hooks that frame each request's transaction."""

    @app.before_request
    def declare_write_intent() -> None:
        # Reads begin a deferred SQLite transaction; anything that may write begins IMMEDIATE.
        view = app.view_functions.get(request.endpoint or "")
        writes = request.method not in READ_ONLY_METHODS or bool(
            getattr(view, "writes_on_get", False)
        )
        g.write_intent_token = set_write_intent(writes)

    @app.after_request
    def finish_transaction(response: Response) -> Response:
        # Services only flush; the request's work becomes permanent here, all at once.
        if response.status_code < 400:
            db.session.commit()
        else:
            try:
                db.session.rollback()
            except Exception:  # the database may be the reason for the error response
                log.warning("rollback after an error response failed", exc_info=True)
        return response

    @app.teardown_request
    def forget_write_intent(exc: BaseException | None) -> None:
        token: contextvars.Token[bool] | None = g.pop("write_intent_token", None)
        if token is not None:
            try:
                reset_write_intent(token)
            except ValueError:  # token from another context (streamed responses)
                set_write_intent(True)
