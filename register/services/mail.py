"""Deliver the e-mail copies of notifications: .eml files in development, SMTP when configured.

Each message is claimed (status `sending`) and committed before it is handed to the transport,
then marked `sent`: a message is never sent twice, even by two senders running at once. A
message whose sender died between claim and send stays `sending` and is reported; it is put
back in the queue only on request (`--requeue-stuck`), because it may have gone out.
Failures are retried with exponential back-off up to MAIL_MAX_ATTEMPTS.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from register.database import utcnow
from register.extensions import db
from register.models import DeliveryStatus, Notification

log = logging.getLogger("register.mail")

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
STUCK_AFTER = timedelta(hours=1)
ERASED_BODY = "(erased after sending: this message carried a one-time link)"


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx): retrying will not help."""


class TransportUnavailable(Exception):
    """The mail server cannot be reached: stop this run, the rest waits for the next one."""


class Transport(Protocol):
    """Something that delivers one e-mail message."""

    def send(self, message: EmailMessage) -> None:
        """Deliver `message` or raise."""

    def close(self) -> None:
        """Release any connection."""


class EmlTransport:
    """Development: write each message as an .eml file under instance/outbox/."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def send(self, message: EmailMessage) -> None:
        """Write the message; a file that already exists means it was written before."""
        name = str(message["X-Register-Notification"]) + ".eml"
        path = self.directory / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            log.warning("message %s already written, not writing it twice", name)
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())

    def close(self) -> None:
        """Nothing to release."""


class SmtpTransport:
    """Production: one SMTP connection per run, STARTTLS or implicit TLS as configured."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            return self._open()
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportUnavailable(
                f"cannot reach the mail server: {type(exc).__name__}"
            ) from exc

    def _open(self) -> smtplib.SMTP:
        config = self.config
        timeout = config["MAIL_TIMEOUT_SECONDS"]
        connection: smtplib.SMTP
        if config["MAIL_USE_SSL"]:
            connection = smtplib.SMTP_SSL(
                config["MAIL_SERVER"],
                config["MAIL_PORT"],
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
            if config["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        return connection

    def send(self, message: EmailMessage) -> None:
        """Send through the open connection, opening it on first use."""
        if self.connection is None:
            self.connection = self._connect()
        try:
            self.connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentDeliveryError(f"recipient refused ({codes[0]})") from exc
            raise
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentDeliveryError(f"refused ({exc.smtp_code})") from exc
            self.close()  # a transient failure may leave the session in a bad state
            raise
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()  # the next message opens a new connection
            raise

    def close(self) -> None:
        """Say QUIT, ignoring a connection that is already gone."""
        if self.connection is not None:
            try:
                self.connection.quit()
            except smtplib.SMTPException:
                pass
            except OSError:
                pass
            self.connection = None


def make_transport() -> Transport:
    """SMTP when MAIL_SERVER is set, else .eml files under MAIL_OUTBOX_DIR."""
    config = current_app.config
    if config["MAIL_SERVER"]:
        return SmtpTransport(dict(config))
    return EmlTransport(config["MAIL_OUTBOX_DIR"])


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1, 2, 4, … minutes, at most 6 hours."""
    delay = BACKOFF_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, BACKOFF_CAP)


def build_message(notification: Notification) -> EmailMessage:
    """The e-mail for a notification, in the language it was written in."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = notification.email_address or ""
    message["Subject"] = notification.subject
    message["Message-ID"] = notification.message_id
    message["Date"] = format_datetime(notification.created_at)
    message["X-Register-Notification"] = str(notification.id)
    message["Auto-Submitted"] = "auto-generated"
    link = config["SERVICE_URL"].rstrip("/") + notification.link if notification.link else None
    with force_locale(notification.language):
        message.set_content(
            render_template("mail/notification.txt", notification=notification, link=link)
        )
    return message


@dataclass
class SendReport:
    """What one run of `mail send` did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    stuck: int = 0
    requeued: int = 0
    errors: list[str] = field(default_factory=list)


def _claim_next(now: datetime) -> Notification | None:
    """Claim the next due message in its own committed transaction (skip those others hold)."""
    notification = db.session.scalars(
        sa.select(Notification)
        .where(
            Notification.delivery_status == DeliveryStatus.PENDING,
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Notification)
    ).first()
    if notification is None:
        db.session.rollback()
        return None
    notification.delivery_status = DeliveryStatus.SENDING
    notification.claimed_at = now
    notification.attempts += 1
    db.session.commit()
    return notification


def send_pending(
    now: datetime | None = None,
    limit: int = 500,
    transport: Transport | None = None,
    requeue_stuck: bool = False,
) -> SendReport:
    """Send every message that is due (at most `limit`); commits after each message."""
    now = now or utcnow()
    report = SendReport()
    stuck_before = now - STUCK_AFTER
    stuck_filter = sa.and_(
        Notification.delivery_status == DeliveryStatus.SENDING,
        Notification.claimed_at < stuck_before,
    )
    if requeue_stuck:
        result = db.session.execute(
            sa.update(Notification)
            .where(stuck_filter)
            .values(delivery_status=DeliveryStatus.PENDING, next_attempt_at=now)
        )
        report.requeued = int(result.rowcount or 0)  # type: ignore[attr-defined]
        db.session.commit()
    transport = transport or make_transport()
    try:
        for _ in range(limit):
            notification = _claim_next(now)
            if notification is None:
                break
            if not _deliver(notification, transport, now, report):
                log.warning("mail server unreachable; the rest waits for the next run")
                break
    finally:
        transport.close()
    report.stuck = int(
        db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(stuck_filter))
        or 0
    )
    db.session.commit()
    if report.stuck:
        log.warning("%d message(s) claimed over an hour ago and not confirmed sent", report.stuck)
    return report


def _deliver(
    notification: Notification, transport: Transport, now: datetime, report: SendReport
) -> bool:
    """Send one claimed message and record the outcome; False when the server is unreachable."""
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    reachable = True
    try:
        message = build_message(notification)
    except Exception as exc:  # a message that cannot be built will never be: fail it, go on
        notification.delivery_status = DeliveryStatus.FAILED
        notification.last_error = f"cannot build the message: {type(exc).__name__}"
        report.failed += 1
        report.errors.append(f"{notification.id}: {notification.last_error}")
        log.exception("message %s cannot be built", notification.id)
        db.session.commit()
        return True
    try:
        transport.send(message)
    except PermanentDeliveryError as exc:
        notification.delivery_status = DeliveryStatus.FAILED
        notification.last_error = str(exc)[:500]
        report.failed += 1
        report.errors.append(f"{notification.id}: {exc}")
        log.warning("message %s refused for good: %s", notification.id, exc)
    except (smtplib.SMTPException, OSError, TransportUnavailable) as exc:
        reachable = not isinstance(exc, TransportUnavailable)
        error = f"{type(exc).__name__}: {getattr(exc, 'smtp_code', '')}".rstrip(": ")
        notification.last_error = error[:500]
        if notification.attempts >= max_attempts:
            notification.delivery_status = DeliveryStatus.FAILED
            report.failed += 1
            log.warning(
                "message %s gave up after %d attempts", notification.id, notification.attempts
            )
        else:
            notification.delivery_status = DeliveryStatus.PENDING
            notification.next_attempt_at = now + backoff(notification.attempts)
            report.retrying += 1
            log.info(
                "message %s will be retried at %s", notification.id, notification.next_attempt_at
            )
        report.errors.append(f"{notification.id}: {error}")
    else:
        notification.delivery_status = DeliveryStatus.SENT
        notification.sent_at = utcnow()
        notification.last_error = None
        if notification.sensitive:
            # The one-time link has left; the database need not keep a usable copy of it.
            notification.body = ERASED_BODY
            notification.link = None
        report.sent += 1
    db.session.commit()
    return reachable
