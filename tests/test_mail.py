"""E-mail delivery of notifications: .eml files in development, a real SMTP server otherwise."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from register.database import utcnow
from register.models import DeliveryStatus, Notification
from register.services.mail import BACKOFF_BASE, SendReport, send_pending
from tests.factories import NotificationFactory, UserFactory


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse(raw: bytes) -> EmailMessage:
    """Parse an e-mail with the modern policy (headers and content as strings)."""
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def reload(db: Any, notification: Notification) -> Notification:
    """The notification as the database has it now (other sessions may have changed it)."""
    db.session.expire_all()
    fresh = db.session.get(Notification, notification.id)
    assert fresh is not None
    return fresh


def assert_is_message_for(message: EmailMessage, notification: Notification) -> None:
    """The e-mail carries the notification's recipient, subject, Message-ID and body."""
    assert message["To"] == notification.recipient.email
    assert message["Subject"] == notification.subject
    assert message["Message-ID"] == f"<{notification.id}@register.notifications>"
    assert notification.body in message.get_content()


# -- development: .eml files ------------------------------------------------------------


def outbox_files(app: Flask) -> set[Path]:
    """The .eml files in the app's outbox folder (shared by the session's tests)."""
    return set(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))


def written_name(notification: Notification) -> str:
    """The file name the development transport gives a notification's message."""
    return f"{notification.id}.eml"


def test_without_mail_server_a_message_is_written_once_as_an_eml_file(app, db):
    assert not app.config["MAIL_SERVER"]
    notification = NotificationFactory()
    before = outbox_files(app)

    report = send_pending(now=utcnow())

    path = Path(app.config["MAIL_OUTBOX_DIR"]) / written_name(notification)
    assert report.sent == 1
    assert outbox_files(app) - before == {path}
    message = parse(path.read_bytes())
    notification = reload(db, notification)
    assert_is_message_for(message, notification)
    assert app.config["SERVICE_URL"].rstrip("/") + "/inbox/" in message.get_content()
    assert notification.delivery_status is DeliveryStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1

    again = send_pending(now=utcnow() + timedelta(days=1))

    assert again.sent == 0
    assert outbox_files(app) - before == {path}


def test_eml_transport_does_not_overwrite_a_message_put_back_in_the_queue(app, db):
    notification = NotificationFactory()
    before = outbox_files(app)
    send_pending(now=utcnow())
    path = Path(app.config["MAIL_OUTBOX_DIR"]) / written_name(notification)
    first_copy = path.read_bytes()

    notification = reload(db, notification)
    notification.delivery_status = DeliveryStatus.PENDING
    db.session.commit()
    report = send_pending(now=utcnow())

    assert report.sent == 1
    assert outbox_files(app) - before == {path}
    assert path.read_bytes() == first_copy
    assert reload(db, notification).delivery_status is DeliveryStatus.SENT


def test_mail_send_command_reports_and_respects_the_limit(app, db, runner):
    recipient = UserFactory()
    notifications = NotificationFactory.create_batch(3, recipient=recipient)
    before = outbox_files(app)

    first = runner.invoke(args=["mail", "send", "--limit", "2"])
    second = runner.invoke(args=["mail", "send"])
    third = runner.invoke(args=["mail", "send"])

    assert first.exit_code == 0, first.output
    assert "sent 2, retrying later 0, failed 0, stuck 0, requeued 0" in first.output
    assert "sent 1," in second.output
    assert "sent 0," in third.output
    directory = Path(app.config["MAIL_OUTBOX_DIR"])
    assert outbox_files(app) - before == {directory / written_name(n) for n in notifications}
    assert {reload(db, n).delivery_status for n in notifications} == {DeliveryStatus.SENT}


def test_mail_send_command_reports_stuck_messages_and_requeues_them_on_request(app, db, runner):
    notification = NotificationFactory(
        delivery_status=DeliveryStatus.SENDING,
        claimed_at=utcnow() - timedelta(hours=2),
        attempts=1,
    )
    before = outbox_files(app)

    reported = runner.invoke(args=["mail", "send"])

    assert reported.exit_code == 0, reported.output
    assert "sent 0, retrying later 0, failed 0, stuck 1, requeued 0" in reported.output
    assert outbox_files(app) == before
    assert reload(db, notification).delivery_status is DeliveryStatus.SENDING

    requeued = runner.invoke(args=["mail", "send", "--requeue-stuck"])

    assert requeued.exit_code == 0, requeued.output
    assert "sent 1, retrying later 0, failed 0, stuck 0, requeued 1" in requeued.output
    assert len(outbox_files(app) - before) == 1
    assert reload(db, notification).delivery_status is DeliveryStatus.SENT


# -- SMTP against a real local server ----------------------------------------------------


class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; scripted replies refuse before that."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.data_replies: list[str] = []  # answers to the next DATA commands, then 250
        self.always_refuse_data: str | None = None
        self.rcpt_reply: str | None = None
        self.data_commands = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        """Accept the recipient unless told to refuse it."""
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Answer with the next scripted reply, else keep the message."""
        self.data_commands += 1
        if self.always_refuse_data:
            return self.always_refuse_data
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(parse(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1, and its port."""
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    server_log = logging.getLogger("mail.log")  # aiosmtpd's: a line per connection and command
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
        server_log.setLevel(level)


@pytest.fixture
def smtp_app(make_app, mailbox) -> Callable[..., Flask]:
    """Build an app that sends through the `mailbox` server (extra settings as keywords)."""
    _, port = mailbox
    return lambda **settings: make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port), **settings)


def send(app: Flask, now: datetime, **options: Any) -> SendReport:
    """Run `send_pending` at `now` as the given app (its config picks the transport)."""
    with app.app_context():
        return send_pending(now=now, **options)


def test_smtp_delivers_a_message_once_with_its_content(db, mailbox, smtp_app):
    server, _ = mailbox
    app = smtp_app()
    notification = NotificationFactory()
    now = utcnow()

    first = send(app, now)
    second = send(app, now + timedelta(days=1))

    assert (first.sent, second.sent) == (1, 0)
    assert len(server.received) == 1
    notification = reload(db, notification)
    assert_is_message_for(server.received[0], notification)
    assert server.received[0]["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert server.received[0]["Auto-Submitted"] == "auto-generated"
    assert notification.delivery_status is DeliveryStatus.SENT
    assert notification.last_error is None


def test_smtp_transient_refusal_is_retried_after_backoff_and_sent_once(db, mailbox, smtp_app):
    server, _ = mailbox
    server.data_replies = ["451 4.3.0 try later"]
    app = smtp_app()
    notification = NotificationFactory()
    now = utcnow()

    first = send(app, now)

    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    retrying = reload(db, notification)
    assert retrying.delivery_status is DeliveryStatus.PENDING
    assert retrying.attempts == 1
    assert abs(retrying.next_attempt_at - (now + BACKOFF_BASE)) < timedelta(seconds=1)
    assert retrying.last_error and "451" in retrying.last_error

    too_early = send(app, now)
    assert too_early.sent == 0
    assert server.data_commands == 1

    later = send(app, now + timedelta(minutes=2))
    assert later.sent == 1

    after = send(app, now + timedelta(minutes=4))
    assert after.sent == 0

    sent = reload(db, notification)
    assert sent.delivery_status is DeliveryStatus.SENT
    assert sent.attempts == 2
    assert sent.last_error is None
    assert len(server.received) == 1
    assert_is_message_for(server.received[0], sent)


@pytest.mark.parametrize("refusal", ["rcpt", "data"], ids=["recipient-refused", "message-refused"])
def test_smtp_permanent_refusal_fails_without_retry(db, mailbox, smtp_app, refusal):
    server, _ = mailbox
    if refusal == "rcpt":
        server.rcpt_reply = "550 5.1.1 no such mailbox"
    else:
        server.always_refuse_data = "550 5.7.1 message refused"
    app = smtp_app()
    notification = NotificationFactory()
    now = utcnow()

    report = send(app, now)

    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    failed = reload(db, notification)
    assert failed.delivery_status is DeliveryStatus.FAILED
    assert failed.last_error and "550" in failed.last_error
    assert send(app, now + timedelta(days=1)).failed == 0
    assert reload(db, notification).attempts == 1
    assert server.received == []


def test_smtp_gives_up_after_max_attempts(db, mailbox, smtp_app):
    server, _ = mailbox
    server.always_refuse_data = "451 4.3.0 try later"
    app = smtp_app(MAIL_MAX_ATTEMPTS="2")
    notification = NotificationFactory()
    now = utcnow()

    first = send(app, now)
    assert reload(db, notification).delivery_status is DeliveryStatus.PENDING
    second = send(app, now + timedelta(minutes=2))
    third = send(app, now + timedelta(days=1))

    assert (first.retrying, second.failed, third.failed, third.retrying) == (1, 1, 0, 0)
    failed = reload(db, notification)
    assert failed.delivery_status is DeliveryStatus.FAILED
    assert failed.attempts == 2
    assert failed.last_error and "451" in failed.last_error
    assert server.data_commands == 2
    assert server.received == []


def test_smtp_message_left_sending_is_reported_not_resent_unless_requeued(db, mailbox, smtp_app):
    server, _ = mailbox
    app = smtp_app()
    now = utcnow()
    notification = NotificationFactory(
        delivery_status=DeliveryStatus.SENDING, claimed_at=now - timedelta(hours=2), attempts=1
    )

    reported = send(app, now)

    assert (reported.sent, reported.stuck, reported.requeued) == (0, 1, 0)
    assert reload(db, notification).delivery_status is DeliveryStatus.SENDING
    assert server.received == []

    requeued = send(app, now, requeue_stuck=True)

    assert (requeued.sent, requeued.stuck, requeued.requeued) == (1, 0, 1)
    sent = reload(db, notification)
    assert sent.delivery_status is DeliveryStatus.SENT
    assert len(server.received) == 1
    assert_is_message_for(server.received[0], sent)


def test_smtp_recently_claimed_message_is_neither_stuck_nor_requeued(db, mailbox, smtp_app):
    server, _ = mailbox
    app = smtp_app()
    now = utcnow()
    notification = NotificationFactory(
        delivery_status=DeliveryStatus.SENDING, claimed_at=now - timedelta(minutes=5), attempts=1
    )

    report = send(app, now, requeue_stuck=True)

    assert (report.sent, report.stuck, report.requeued) == (0, 0, 0)
    assert reload(db, notification).delivery_status is DeliveryStatus.SENDING
    assert server.received == []


def test_smtp_inbox_only_notification_is_never_sent(db, mailbox, smtp_app):
    server, _ = mailbox
    app = smtp_app()
    now = utcnow()
    notification = NotificationFactory(
        delivery_status=DeliveryStatus.NOT_EMAILED, next_attempt_at=now - timedelta(hours=1)
    )

    report = send(app, now + timedelta(days=1), requeue_stuck=True)

    assert (report.sent, report.retrying, report.failed, report.requeued) == (0, 0, 0, 0)
    unchanged = reload(db, notification)
    assert unchanged.delivery_status is DeliveryStatus.NOT_EMAILED
    assert unchanged.attempts == 0
    assert server.data_commands == 0


def test_smtp_server_down_puts_the_message_back_for_a_retry(db, make_app):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(free_port()), MAIL_TIMEOUT_SECONDS="5")
    notification = NotificationFactory()
    now = utcnow()

    report = send(app, now)

    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    retrying = reload(db, notification)
    assert retrying.delivery_status is DeliveryStatus.PENDING
    assert retrying.attempts == 1
    assert retrying.next_attempt_at > now
    assert retrying.last_error


def test_smtp_server_down_stops_the_run_after_the_first_message(db, make_app):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=str(free_port()), MAIL_TIMEOUT_SECONDS="5")
    recipient = UserFactory()
    notifications = NotificationFactory.create_batch(3, recipient=recipient)

    report = send(app, utcnow())

    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    attempts = sorted(reload(db, item).attempts for item in notifications)
    assert attempts == [0, 0, 1]  # the other two waited for the next run without an attempt


def test_smtp_reconnects_after_the_server_drops_the_connection(db, mailbox, smtp_app):
    server, _ = mailbox
    app = smtp_app()
    recipient = UserFactory()
    notifications = NotificationFactory.create_batch(3, recipient=recipient)
    server.data_replies = ["421 4.3.2 Service shutting down, closing connection"]

    report = send(app, utcnow())

    # The first message meets the dropped connection and waits; the others go on a new one.
    assert (report.sent, report.retrying, report.failed) == (2, 1, 0)
    assert len(server.received) == 2
    statuses = sorted(reload(db, item).delivery_status.value for item in notifications)
    assert statuses == ["pending", "sent", "sent"]


def test_a_message_that_cannot_be_built_fails_and_the_run_goes_on(db, app, monkeypatch):
    from register.services import mail

    broken, fine = NotificationFactory(subject="broken"), NotificationFactory(subject="fine")
    real_build = mail.build_message

    def build(notification):
        if notification.subject == "broken":
            raise ValueError("cannot encode this")
        return real_build(notification)

    monkeypatch.setattr(mail, "build_message", build)
    report = send_pending(now=utcnow())

    assert (report.sent, report.failed) == (1, 1)
    assert reload(db, broken).delivery_status is DeliveryStatus.FAILED
    assert "cannot build" in reload(db, broken).last_error
    assert reload(db, fine).delivery_status is DeliveryStatus.SENT


def test_a_subject_with_line_breaks_becomes_one_header_line(db, app):
    from register.services.notifications import notify

    notification = notify(UserFactory(), "test", "First line\r\nBcc: someone@evil.example", "Body")
    db.session.commit()
    assert notification.subject == "First line Bcc: someone@evil.example"
    report = send_pending(now=utcnow())
    assert report.sent == 1
    path = Path(app.config["MAIL_OUTBOX_DIR"]) / written_name(notification)
    message = parse(path.read_bytes())
    assert message["Bcc"] is None


def test_a_message_to_an_address_without_an_account_is_sent_once_and_erased(app, db):
    from register.services.notifications import notify_address

    notification = notify_address(
        "new.colleague@example.kg",
        "en",
        "test.invitation",
        "Join us",
        "Open the link",
        link="/organisation/invitations/accept?token=abc",
    )
    db.session.commit()
    report = send_pending(now=utcnow())
    assert report.sent == 1
    path = Path(app.config["MAIL_OUTBOX_DIR"]) / written_name(notification)
    message = parse(path.read_bytes())
    assert message["To"] == "new.colleague@example.kg"
    assert "token=abc" in message.get_content()
    sent = reload(db, notification)
    assert sent.recipient_id is None
    assert "token=abc" not in sent.body and sent.link is None  # erased once sent
    assert b"new.colleague" not in bytes(sent.recipient_address_encrypted)
