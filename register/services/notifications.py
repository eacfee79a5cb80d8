"""Notify users: write the inbox item and the e-mail to send in the caller's transaction."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale

from register.database import utcnow
from register.extensions import db
from register.models import DeliveryStatus, Notification, User

PAGE_SIZE = 20


def local_link(endpoint: str, **values: str) -> str:
    """A local path for a notification's link (the mailer adds SERVICE_URL); works in CLI too."""
    if has_request_context():
        return str(url_for(endpoint, **values))  # type: ignore[arg-type]
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return str(adapter.build(endpoint, values))


def notify(
    recipient: User,
    kind: str,
    subject: object,
    body: object,
    *,
    link: str | None = None,
    email: bool = True,
    sensitive: bool = False,
) -> Notification:
    """Queue a message to `recipient`, in the recipient's language, in the current transaction.

    `subject` and `body` may be lazy translations: they are rendered in the recipient's locale.
    Nothing is committed here; if the surrounding change rolls back, so does the message.
    A `sensitive` message (one carrying a one-time link) is e-mailed only: it never shows in the
    inbox and its body is erased once it has been sent.
    """
    return _queue(
        recipient.locale,
        kind,
        subject,
        body,
        link=link,
        email=email,
        sensitive=sensitive,
        recipient_id=recipient.id,
        recipient=recipient,
    )


def notify_address(
    address: str,
    locale: str,
    kind: str,
    subject: object,
    body: object,
    *,
    link: str | None = None,
) -> Notification:
    """E-mail someone who has no account yet (an invitation); no inbox, body erased once sent."""
    return _queue(
        locale,
        kind,
        subject,
        body,
        link=link,
        email=True,
        sensitive=True,
        recipient_address=address.strip(),
        locale=locale,
    )


def _queue(
    language: str,
    kind: str,
    subject: object,
    body: object,
    *,
    link: str | None,
    email: bool,
    sensitive: bool,
    **recipient: Any,
) -> Notification:
    """Render the message in `language` and add it to the session (flushed, not committed)."""
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("a notification links only to a local path")
    with force_locale(language):
        # A subject is one line (it becomes an e-mail header).
        subject_text = " ".join(str(subject).split())
        body_text = str(body).strip()
    notification = Notification(
        kind=kind,
        subject=subject_text[:300],
        body=body_text,
        link=link,
        sensitive=sensitive,
        read_at=utcnow() if sensitive else None,
        delivery_status=DeliveryStatus.PENDING if email else DeliveryStatus.NOT_EMAILED,
        next_attempt_at=utcnow() if email else None,
        **recipient,
    )
    db.session.add(notification)
    db.session.flush()
    return notification


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(
                Notification.recipient_id == user.id,
                Notification.read_at.is_(None),
                Notification.sensitive.is_(False),
            )
        )
        or 0
    )


def inbox_page(user: User, page: int) -> tuple[list[Notification], int]:
    """One page of the user's notifications, newest first, and the total count."""
    total = int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.recipient_id == user.id, Notification.sensitive.is_(False))
        )
        or 0
    )
    items = db.session.scalars(
        sa.select(Notification)
        .where(Notification.recipient_id == user.id, Notification.sensitive.is_(False))
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return list(items), total


def get_for_recipient(user: User, notification_id: uuid.UUID) -> Notification | None:
    """The notification if it exists and belongs to `user`, else None (never another's)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != user.id or notification.sensitive:
        return None
    return notification


def mark_read(notification: Notification) -> None:
    """Mark one notification read (idempotent)."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of `user` read; return how many changed."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
