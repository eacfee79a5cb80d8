"""The application for gunicorn in the SQLite concurrency test, plus a route that writes.

`gunicorn tests.support.concurrency_app:app` builds the app from the environment
(REGISTER_CONFIG, DATABASE_URL, REGISTER_INSTANCE_PATH) and adds POST /_test/write, which reads
and then writes in one request, relying on the app's normal end-of-request commit.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from register import create_app
from register.extensions import csrf, db
from register.models import Notification
from register.services.accounts import find_by_email
from register.services.notifications import notify

blueprint = Blueprint("concurrency_test", __name__, url_prefix="/_test")


@blueprint.post("/write")
def write() -> tuple[Response, int]:
    """Count the user's notifications, then add one: a read followed by a write."""
    user = find_by_email(request.form["email"])
    assert user is not None
    before = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id)
    )
    notify(
        user, "concurrency-test", f"Write {before}", "Written by the concurrency test.", email=False
    )
    return jsonify(before=before, pid=os.getpid()), 201


csrf.exempt(blueprint)
app = create_app()
app.register_blueprint(blueprint)
app.config["PUBLIC_ENDPOINTS"].add("concurrency_test.write")
