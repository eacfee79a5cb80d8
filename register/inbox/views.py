"""The inbox: a signed-in user's notifications, newest first."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.database import writes_on_get
from register.inbox.forms import MarkAllReadForm
from register.services import notifications as notification_service

blueprint = Blueprint("inbox", __name__, url_prefix="/inbox")


@blueprint.get("/")
def index() -> str:
    """List the user's notifications, a page at a time."""
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    items, total = notification_service.inbox_page(current_user, page)
    pages = max((total + notification_service.PAGE_SIZE - 1) // notification_service.PAGE_SIZE, 1)
    return render_template(
        "inbox/index.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        form=MarkAllReadForm(),
    )


@blueprint.get("/<uuid:notification_id>")
@writes_on_get
def show(notification_id: uuid.UUID) -> str:
    """Show one notification and mark it read."""
    notification = notification_service.get_for_recipient(current_user, notification_id)
    if notification is None:
        abort(404)  # another user's message is indistinguishable from a missing one
    notification_service.mark_read(notification)
    return render_template("inbox/show.html", notification=notification)


@blueprint.post("/read-all")
def mark_all_read() -> Response:
    """Mark every message read."""
    form = MarkAllReadForm()
    if form.validate_on_submit():
        count = notification_service.mark_all_read(current_user)
        flash(_("%(count)d message(s) marked as read.", count=count), "success")
    return redirect(url_for("inbox.index"))


@blueprint.app_context_processor
def inject_unread_count() -> dict[str, object]:
    """Templates call `inbox_unread_count()` for the header; it queries only when called."""

    def inbox_unread_count() -> int:
        if not current_user.is_authenticated:
            return 0
        return notification_service.unread_count(current_user)

    return {"inbox_unread_count": inbox_unread_count}
