"""Holder accounts: sign-up, confirmation, sign-in hygiene, lock-out, passwords, sessions."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from register.database import utcnow
from register.models import Notification, User
from register.services import passwords
from register.services.accounts import find_by_email
from tests.factories import TEST_PASSWORD, HolderFactory, StaffFactory

GOOD_PASSWORD = "a long and unusual passphrase"


def user_by_email(db, email: str) -> User | None:
    """The account with this address (e-mails are encrypted: found by blind index)."""
    db.session.expire_all()
    return find_by_email(email)


def last_link(db, user_email: str, kind: str) -> str:
    """The link of the newest notification of `kind` to the user with this address."""
    user = user_by_email(db, user_email)
    assert user is not None, user_email
    notification = db.session.scalars(
        sa.select(Notification)
        .where(Notification.recipient_id == user.id, Notification.kind == kind)
        .order_by(Notification.created_at.desc())
    ).first()
    assert notification is not None, f"no {kind} notification for {user_email}"
    return notification.link


def sign_up(client, email="new.clerk@example.kg", password=GOOD_PASSWORD, name="New Clerk"):
    return client.post_form(
        "/auth/sign-up",
        {"full_name": name, "email": email, "password": password, "password_confirm": password},
    )


def test_sign_up_confirm_sign_in(client, db):
    response = sign_up(client, email="New.Clerk@Example.kg")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/check-email"
    user = user_by_email(db, "new.clerk@example.kg")
    assert user is not None and user.role.value == "holder"
    assert user.password_hash.startswith("$argon2id$")
    assert user.email_confirmed_at is None

    # Before confirming, the right password leads to "confirm first", not into the service.
    page = client.post_form(
        "/auth/sign-in", {"email": "new.clerk@example.kg", "password": GOOD_PASSWORD}
    )
    assert "Confirm your e-mail address first" in page.get_data(as_text=True)

    link = last_link(db, "new.clerk@example.kg", "account.confirm_email")
    assert link.startswith("/auth/confirm?token=")
    confirmed = client.get(link)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is not None

    signed_in = client.post_form(
        "/auth/sign-in", {"email": "new.clerk@example.kg", "password": GOOD_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/inbox/"
    assert "New Clerk" in client.get("/inbox/").get_data(as_text=True)


def test_confirmation_link_is_kept_out_of_the_inbox_and_logs(client, db, caplog):
    sign_up(client)
    user = user_by_email(db, "new.clerk@example.kg")
    notification = db.session.scalar(
        sa.select(Notification).where(Notification.recipient_id == user.id)
    )
    assert notification.sensitive
    token = parse_qs(urlsplit(notification.link).query)["token"][0]
    with caplog.at_level("INFO"):
        client.get(notification.link)
    assert all(token not in record.getMessage() for record in caplog.records)


def test_sign_up_with_a_known_address_reveals_nothing(client, db):
    existing = HolderFactory(email="taken@example.kg")
    response = sign_up(client, email="taken@example.kg")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/check-email"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    link = last_link(db, "taken@example.kg", "account.sign_up_attempt")
    assert link == "/auth/sign-in"
    db.session.refresh(existing)
    assert passwords.verify_password(existing.password_hash, TEST_PASSWORD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short pass", "at least 12 characters"),
        ("my new.clerk@example.kg pass", "must not contain your e-mail address"),
        ("xx new.clerk xx pass", "must not contain your e-mail address"),
    ],
)
def test_sign_up_password_policy_keeps_what_was_typed(client, db, password, message):
    response = sign_up(client, password=password, name="Keep Me")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Keep Me"' in page
    assert 'value="new.clerk@example.kg"' in page
    assert password not in page  # passwords are never echoed back
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_confirmation_link_tampered_or_expired(client, db, monkeypatch):
    sign_up(client)
    link = last_link(db, "new.clerk@example.kg", "account.confirm_email")
    assert client.get(link + "x").status_code == 400
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner,
        "get_timestamp",
        lambda self: real(self) + 48 * 3600 + 5,
    )
    assert client.get(link).status_code == 400


def failed_page(client, email: str, password: str) -> str:
    response = client.post_form("/auth/sign-in", {"email": email, "password": password})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page)


def test_unknown_address_and_wrong_password_read_the_same_and_both_hash(client, monkeypatch):
    HolderFactory(email="known@example.kg")
    calls = []
    real_verify = passwords.PasswordHasher.verify

    def counting_verify(self, hash_, password):
        calls.append(hash_)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(passwords.PasswordHasher, "verify", counting_verify)
    unknown = failed_page(client, "nobody@example.kg", "whatever password")
    unknown_calls = len(calls)
    wrong = failed_page(client, "known@example.kg", "whatever password")
    assert unknown_calls == 1 and len(calls) == 2  # the same argon2 work either way
    assert unknown.replace("nobody@example.kg", "EMAIL") == wrong.replace(
        "known@example.kg", "EMAIL"
    )
    assert "Enter a correct e-mail address and password" in wrong


def test_lock_out_after_five_failures_and_its_end(client, db):
    user = HolderFactory(email="target@example.kg")
    for _ in range(5):
        failed_page(client, "target@example.kg", "wrong password!")
    db.session.refresh(user)
    assert user.locked_until is not None
    assert user.locked_until > utcnow() + timedelta(minutes=14)
    # While locked, even the right password gets the same generic answer.
    page = failed_page(client, "target@example.kg", TEST_PASSWORD)
    assert "Enter a correct e-mail address and password" in page
    assert last_link(db, "target@example.kg", "account.locked") == "/auth/forgot-password"

    user.locked_until = utcnow() - timedelta(seconds=1)  # the 15 minutes are over
    db.session.commit()
    response = client.post_form(
        "/auth/sign-in", {"email": "target@example.kg", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.failed_sign_ins == 0


def test_next_goes_only_to_local_paths(client):
    HolderFactory(email="next@example.kg")
    form = {"email": "next@example.kg", "password": TEST_PASSWORD}
    assert client.get("/auth/sign-in?next=/inbox/?page=2").status_code == 200
    response = client.post_form("/auth/sign-in", {**form, "next": "/inbox/?page=2"})
    assert response.headers["Location"] == "/inbox/?page=2"
    client.post_form("/auth/sign-out")
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        response = client.post_form("/auth/sign-in", {**form, "next": hostile})
        assert response.headers["Location"] == "/inbox/", hostile
        client.post_form("/auth/sign-out")


def test_sign_out_needs_post_with_csrf(client, auth):
    user = HolderFactory()
    auth.login(user)
    assert client.get("/auth/sign-out").status_code == 405
    assert client.post("/auth/sign-out").status_code == 400
    assert client.get("/inbox/").status_code == 200
    client.post_form("/auth/sign-out")
    assert client.get("/inbox/").status_code == 302


def reset_link(client, db, email: str) -> str:
    response = client.post_form("/auth/forgot-password", {"email": email})
    assert "If an account uses that address" in response.get_data(as_text=True)
    return last_link(db, email, "account.password-reset")


def test_reset_link_works_once(client, db, app):
    user = HolderFactory(email="forgetful@example.kg")
    link = reset_link(client, db, "forgetful@example.kg")
    assert link.startswith("/auth/reset-password?")
    assert client.get(link).status_code == 200
    query = parse_qs(urlsplit(link).query)
    form = {
        "token": query["token"][0],
        "purpose": query["purpose"][0],
        "password": "my brand new passphrase",
        "password_confirm": "my brand new passphrase",
    }
    assert client.post_form("/auth/reset-password", form).status_code == 302
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "my brand new passphrase")
    # The same link again: refused, and the password stays.
    again = client.post_form("/auth/reset-password", {**form, "password": "another pass phrase"})
    assert again.status_code == 400
    assert client.get(link).status_code == 400
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "my brand new passphrase")


def test_reset_link_expires_after_an_hour(client, db, monkeypatch):
    HolderFactory(email="slow@example.kg")
    link = reset_link(client, db, "slow@example.kg")
    import itsdangerous.timed

    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) + 3601
    )
    assert client.get(link).status_code == 400


def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post_form("/auth/forgot-password", {"email": "ghost@example.kg"})
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_password_change_ends_other_sessions(app, db):
    HolderFactory(email="two.devices@example.kg")
    laptop, phone = app.test_client(), app.test_client()
    for device in (laptop, phone):
        response = device.post_form(
            "/auth/sign-in", {"email": "two.devices@example.kg", "password": TEST_PASSWORD}
        )
        assert response.status_code == 302
    assert phone.get("/inbox/").status_code == 200

    changed = laptop.post_form(
        "/account/password",
        {
            "current_password": TEST_PASSWORD,
            "password": "a fresh passphrase here",
            "password_confirm": "a fresh passphrase here",
        },
    )
    assert changed.status_code == 302
    assert laptop.get("/inbox/").status_code == 200  # this session continues
    ended = phone.get("/inbox/")
    assert ended.status_code == 302
    assert ended.headers["Location"].startswith("/auth/sign-in")


def test_password_change_with_a_wrong_current_password(client, auth, db):
    user = HolderFactory()
    auth.login(user)
    response = client.post_form(
        "/account/password",
        {
            "current_password": "not the password",
            "password": "a fresh passphrase here",
            "password_confirm": "a fresh passphrase here",
        },
    )
    assert response.status_code == 200
    assert "The current password is not correct" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, TEST_PASSWORD)


def test_sign_out_everywhere(app, db):
    HolderFactory(email="everywhere@example.kg")
    first, second = app.test_client(), app.test_client()
    for device in (first, second):
        device.post_form(
            "/auth/sign-in", {"email": "everywhere@example.kg", "password": TEST_PASSWORD}
        )
    first.post_form("/account/sign-out-everywhere")
    assert first.get("/inbox/").status_code == 302
    assert second.get("/inbox/").status_code == 302


def test_staff_are_not_signed_in_by_the_password_alone(client):
    StaffFactory(email="inspector.x@agency.example.kg")
    response = client.post_form(
        "/auth/sign-in", {"email": "inspector.x@agency.example.kg", "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/auth/two-factor"
    assert client.get("/inbox/").status_code == 302  # not signed in yet


def test_deactivated_account_cannot_sign_in(client):
    HolderFactory(email="gone@example.kg", is_active_account=False)
    page = failed_page(client, "gone@example.kg", TEST_PASSWORD)
    assert "Enter a correct e-mail address and password" in page


def test_error_summary_lists_problems_in_the_order_of_the_page(client):
    response = client.post_form(
        "/auth/sign-up",
        {"full_name": "", "email": "bad", "password": "short", "password_confirm": "x"},
    )
    page = response.get_data(as_text=True)
    summary = page.split('class="error-summary__list"', 1)[1].split("</ul>", 1)[0]
    anchors = [part.split('"', 1)[0] for part in summary.split('href="#')[1:]]
    assert anchors == ["full_name", "email", "password", "password_confirm"]
