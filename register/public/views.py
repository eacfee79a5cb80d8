"""Public views: home page, certificate check, liveness and readiness (the register, open data
and complaints add theirs)."""

from __future__ import annotations

import contextlib
import logging

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError

from register.extensions import db
from register.services import register_entries

blueprint = Blueprint("public", __name__)
log = logging.getLogger("register.health")


@blueprint.get("/")
def index() -> str:
    """The home page: what the register is and where to start."""
    return render_template("public/index.html")


@blueprint.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers (touches nothing else)."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Readiness: the database answers a trivial query; 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.error("readiness check failed: %s", type(exc).__name__)
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@blueprint.get("/verify/<string:code>")
def verify(code: str) -> tuple[str, int]:
    """Check a certificate: valid, superseded, suspended, struck off; unknown codes are 404."""
    found = register_entries.verify(code)
    if found is None:
        return render_template("public/verify.html", found=None, code=code[:64]), 404
    return render_template(
        "public/verify.html",
        found=found,
        code=code,
        entry_labels=register_entries.STATUS_LABELS,
    ), 200


import register.public.open_data_views  # noqa: E402, F401 - adds the open-data pages
from register.public import (  # noqa: E402, F401 - add the register's and complaint pages
    complaints,
    registry,
)
