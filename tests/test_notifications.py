"""The outbox is written with the change that causes it; the inbox shows each user their own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint
from flask_babel import lazy_gettext

from register.extensions import db as _db
from register.models import DeliveryStatus, Notification
from register.services.notifications import PAGE_SIZE, notify
from tests.factories import NotificationFactory, UserFactory


def count_notifications(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification))


def test_notify_is_part_of_the_callers_transaction(db):
    user = UserFactory()
    notify(user, "test", "Subject", "Body")
    user.full_name = "Changed in the same transaction"
    db.session.rollback()
    assert count_notifications(db) == 0
    db.session.refresh(user)
    assert user.full_name != "Changed in the same transaction"

    notify(user, "test", "Subject", "Body")
    db.session.commit()
    assert count_notifications(db) == 1


def test_a_failed_request_leaves_no_message(make_app, db):
    app = make_app()
    user = UserFactory()
    actions = Blueprint("actions", __name__)

    @actions.post("/act/<mode>")
    def act(mode):
        notify(_db.session.get(type(user), user.id), "test", "Done", "It happened")
        if mode == "fail":
            raise RuntimeError("the change failed after the message was queued")
        return "ok"

    app.register_blueprint(actions)
    app.config["PUBLIC_ENDPOINTS"].add("actions.act")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()

    assert client.post("/act/fail").status_code == 500
    assert count_notifications(db) == 0
    assert client.post("/act/ok").status_code == 200
    assert count_notifications(db) == 1


def test_notify_refuses_links_off_the_site(db):
    user = UserFactory()
    for link in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            notify(user, "test", "s", "b", link=link)


def test_notify_renders_lazy_text_and_can_be_inbox_only(db):
    user = UserFactory(locale="en")
    notification = notify(
        user, "test", lazy_gettext("Inbox"), lazy_gettext("Body %(n)s", n=5), email=False
    )
    assert notification.subject == "Inbox"
    assert notification.body == "Body 5"
    assert notification.delivery_status == DeliveryStatus.NOT_EMAILED
    assert notification.next_attempt_at is None


def test_inbox_lists_only_the_users_own_messages_newest_first(client, auth):
    me, other = UserFactory(), UserFactory()
    NotificationFactory(recipient=me, subject="Older message")
    NotificationFactory(recipient=me, subject="Newer message")
    NotificationFactory(recipient=other, subject="Someone else's message")
    auth.login(me)
    page = client.get("/inbox/").get_data(as_text=True)
    assert "Someone else" not in page
    assert page.index("Newer message") < page.index("Older message")
    assert 'class="badge"' in page and ">2</span>" in page  # unread count in the header


def test_opening_a_message_marks_it_read_and_others_are_404(client, auth, db):
    me, other = UserFactory(), UserFactory()
    mine = NotificationFactory(recipient=me, body="Line one\n<b>not bold</b>")
    theirs = NotificationFactory(recipient=other)
    auth.login(me)

    response = client.get(f"/inbox/{mine.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Line one<br>&lt;b&gt;not bold&lt;/b&gt;" in page  # escaped, line breaks kept
    db.session.expire_all()
    assert db.session.get(Notification, mine.id).read_at is not None

    assert client.get(f"/inbox/{theirs.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_mark_all_read_touches_only_my_messages(client, auth, db):
    me, other = UserFactory(), UserFactory()
    for _ in range(3):
        NotificationFactory(recipient=me)
    theirs = NotificationFactory(recipient=other)
    auth.login(me)
    response = client.post_form("/inbox/read-all", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "3 message(s) marked as read." in page
    assert 'class="badge"' not in page
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_inbox_pages_without_n_plus_one(client, auth, query_counter):
    me = UserFactory()
    for _ in range(PAGE_SIZE + 5):
        NotificationFactory(recipient=me)
    auth.login(me)
    with query_counter() as statements:
        first = client.get("/inbox/")
    page = first.get_data(as_text=True)
    assert page.count('href="/inbox/') - page.count('href="/inbox/"') >= PAGE_SIZE
    assert "Page 1 of 2" in page
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 5, selects
    second = client.get("/inbox/?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert client.get("/inbox/?page=-3").status_code == 200
    assert client.get("/inbox/?page=abc").status_code == 200
