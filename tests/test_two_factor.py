"""Staff two-factor: enrolment, codes accepted once, recovery codes, idle time-out."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa

from register.models import RecoveryCode, Role, User
from tests.factories import TEST_PASSWORD, HolderFactory, StaffFactory


def password_step(client, email: str) -> str:
    response = client.post_form("/auth/sign-in", {"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return response.headers["Location"]


def enrol(client, db, email: str) -> tuple[str, list[str]]:
    """Go through first sign-in of a staff member; return the secret and recovery codes."""
    assert password_step(client, email) == "/auth/two-factor/setup"
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = re.search(r'class="secret-key">([A-Z2-7]+)<', page).group(1)
    qr = client.get("/auth/two-factor/qr.svg")
    assert qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data
    wrong = client.post_form("/auth/two-factor/setup", {"code": "000000"})
    assert "The code is not correct" in wrong.get_data(as_text=True)
    done = client.post_form("/auth/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.get_data(True))
    return secret, codes


def test_first_sign_in_enrols_and_shows_ten_recovery_codes(client, db):
    user = StaffFactory(
        email="new.inspector@agency.example.kg", totp_secret=None, totp_enrolled_at=None
    )
    secret, codes = enrol(client, db, "new.inspector@agency.example.kg")
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.refresh(user)
    assert user.totp_secret == secret and user.two_factor_enrolled
    stored = db.session.scalars(
        sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
    ).all()
    assert len(stored) == 10
    assert not set(codes) & set(stored)  # stored hashed, never as typed
    assert client.get("/inbox/").status_code == 200  # signed in now


def test_qr_code_only_for_the_pending_staff_member(client):
    assert client.get("/auth/two-factor/qr.svg").status_code == 404
    HolderFactory()
    assert client.get("/auth/two-factor/setup").status_code == 302


def test_every_sign_in_needs_a_code_and_a_code_works_once(app, db):
    user = StaffFactory(email="daily@agency.example.kg")
    totp = pyotp.TOTP(user.totp_secret)
    first = app.test_client()
    assert password_step(first, "daily@agency.example.kg") == "/auth/two-factor"
    code = totp.now()
    response = first.post_form("/auth/two-factor", {"code": code})
    assert response.status_code == 302
    assert first.get("/inbox/").status_code == 200

    # Someone who saw that code cannot use it again, even with the password.
    second = app.test_client()
    password_step(second, "daily@agency.example.kg")
    replay = second.post_form("/auth/two-factor", {"code": code})
    assert replay.status_code == 200
    assert "already used" in replay.get_data(as_text=True)
    assert second.get("/inbox/").status_code == 302
    # The next time step's code is accepted.
    later = second.post_form("/auth/two-factor", {"code": totp.at(time.time() + 30)})
    assert later.status_code == 302


def test_recovery_code_works_once(app, db):
    user = StaffFactory(
        email="lost.phone@agency.example.kg", totp_secret=None, totp_enrolled_at=None
    )
    _, codes = enrol(app.test_client(), db, "lost.phone@agency.example.kg")
    client = app.test_client()
    password_step(client, "lost.phone@agency.example.kg")
    used = client.post_form("/auth/two-factor", {"code": codes[0].upper()})
    assert used.status_code == 302
    client.post_form("/auth/sign-out")
    password_step(client, "lost.phone@agency.example.kg")
    again = client.post_form("/auth/two-factor", {"code": codes[0]})
    assert again.status_code == 200
    assert client.get("/inbox/").status_code == 302
    remaining = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    assert remaining == 9


def test_pending_second_factor_expires(client, db):
    StaffFactory(email="slow@agency.example.kg")
    password_step(client, "slow@agency.example.kg")
    with client.session_transaction() as session:
        session["pending_since"] = int(time.time()) - 6 * 60
    response = client.get("/auth/two-factor")
    assert response.headers["Location"] == "/auth/sign-in"


def test_staff_idle_for_thirty_minutes_are_signed_out(client, auth, db):
    staff = StaffFactory(role=Role.SUPERVISOR)
    auth.login(staff)
    assert client.get("/inbox/").status_code == 200
    with client.session_transaction() as session:
        session["last_active"] = int(time.time()) - 29 * 60
    assert client.get("/inbox/").status_code == 200  # activity refreshes the clock
    with client.session_transaction() as session:
        session["last_active"] = int(time.time()) - 31 * 60
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")
    assert client.get("/inbox/").status_code == 302  # the session is gone


def test_holders_are_not_timed_out_after_thirty_minutes(client, auth):
    holder = HolderFactory()
    auth.login(holder)
    with client.session_transaction() as session:
        session["last_active"] = int(time.time()) - 45 * 60
    assert client.get("/inbox/").status_code == 200


def test_idle_time_is_configurable(make_app, db):
    app = make_app(STAFF_IDLE_MINUTES="5")
    staff = StaffFactory()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = staff.get_id()
        session["last_active"] = int(time.time()) - 6 * 60
    assert client.get("/inbox/").status_code == 302


def test_reset_by_admin_means_enrolling_again(client, db):
    user = StaffFactory(email="reset.me@agency.example.kg")
    from register.services import two_factor

    two_factor.reset(user)
    db.session.commit()
    assert password_step(client, "reset.me@agency.example.kg") == "/auth/two-factor/setup"
    db.session.refresh(user)
    assert db.session.get(User, user.id).totp_secret is None
