"""Logging: one line per request with its id, JSON lines in production.

Log lines carry ids, never personal data: the user's id (not the e-mail), the path without its
query string (a search may hold a name or a PIN), and SQLAlchemy never logs bound parameters.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
request_logger = logging.getLogger("register.request")

# Attributes every LogRecord has; anything else was passed through `extra=` and is data.
_STANDARD_ATTRIBUTES = set(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "request_id"}


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests and servers may replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class RequestIdFilter(logging.Filter):
    """Stamp every record made during a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` (or '-') to the record."""
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, with the extra fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Render the record, then its extra fields."""
        line = super().format(record)
        if record.name == request_logger.name:
            return line  # its message already says everything, on one short line
        extras = [
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        ]
        return f"{line} {' '.join(extras)}" if extras else line


def init_app(app: Flask) -> None:
    """Configure the root logger once for this process."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if app.config["LOG_JSON"] else TextFormatter())
    handler.addFilter(RequestIdFilter())
    handler.set_name("register")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "register":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])
    # Statements are not logged at INFO, and bound parameters never are (hide_parameters).
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app.logger.handlers.clear()
    app.logger.propagate = True


def _loaded_user_id() -> str | None:
    """The signed-in user's id if this request loaded the user, read without any query
    (after the commit the object is expired; its identity is still known)."""
    user = g.get("_login_user")
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    if state is None or not state.identity:
        return None
    return str(state.identity[0])


def new_request_id() -> str:
    """A fresh, unguessable request id."""
    return uuid.uuid4().hex


def init_request_logging(app: Flask) -> None:
    """Give each request an id (sent back as X-Request-ID) and log one line when it ends."""

    @app.before_request
    def start_request() -> None:
        g.request_id = new_request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        request_id = g.get("request_id") or new_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        # Read the user only if the request already loaded it: never touch the database here.
        user = g.get("_login_user")
        user_id = (
            str(user.id) if user is not None and getattr(user, "is_authenticated", False) else None
        )
        request_logger.info(
            "%s %s %s %sms user=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            user_id or "-",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": user_id,
                "remote_addr": request.remote_addr,
            },
        )
        return response
