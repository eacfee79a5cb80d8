"""Staff administration: the admin pages and `flask users create`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from register.models import ActivityEntry, Notification, RecoveryCode, Role, User
from register.services import staff, two_factor
from register.services.accounts import AccountError, find_by_email
from tests.conftest import Auth
from tests.factories import TEST_PASSWORD, HolderFactory, StaffFactory

NEW_PASSWORD = "a long and fresh pass phrase"
SIGN_IN_FAILED = "Enter a correct e-mail address and password."


@pytest.fixture
def admin(client, auth):
    """A signed-in admin (pages in English)."""
    user = StaffFactory(role=Role.ADMIN, full_name="Ada Admin")
    auth.login(user)
    english(client)
    return user


def english(client: Any) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def fresh(db: Any, user: User) -> User:
    """The user as the database has it now."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def entries(db: Any, action: str, user: User) -> list[ActivityEntry]:
    """Activity entries of `action` about `user`."""
    return list(
        db.session.scalars(
            sa.select(ActivityEntry)
            .where(ActivityEntry.action == action, ActivityEntry.object_id == str(user.id))
            .order_by(ActivityEntry.seq)
        )
    )


def second_session(app: Any, user: User) -> Any:
    """Another browser, signed in as `user`, whose session works before the test acts."""
    other = app.test_client()
    Auth(other).login(user)
    assert other.get("/inbox/").status_code == 200
    return other


def is_signed_out(browser: Any) -> bool:
    response = browser.get("/inbox/")
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in")


def sign_in(app: Any, email: str, password: str) -> Any:
    """The password step of sign-in, in a new browser."""
    browser = app.test_client()
    english(browser)
    return browser.post_form("/auth/sign-in", {"email": email, "password": password})


def flashed(client: Any, response: Any) -> str:
    """The page a redirect leads to (with its flashed messages)."""
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def table_row(page: str, text: str) -> str:
    rows = [row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if text in row]
    assert len(rows) == 1, f"{text!r} is in {len(rows)} rows"
    return rows[0]


# -- the list ---------------------------------------------------------------------------------


def test_staff_list_shows_staff_with_role_and_two_factor_state_but_no_holders(client, admin):
    StaffFactory(role=Role.INSPECTOR, full_name="Ivan Inspector")
    StaffFactory(
        role=Role.SUPERVISOR, full_name="Sara Supervisor", totp_secret=None, totp_enrolled_at=None
    )
    StaffFactory(role=Role.INSPECTOR, full_name="Dana Deactivated", is_active_account=False)
    holder = HolderFactory(full_name="Harry Holder")

    response = client.get("/admin/staff")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    ivan = table_row(page, "Ivan Inspector")
    assert "<td>Inspector</td>" in ivan
    assert "<td>Set up</td>" in ivan
    assert "<td>Active</td>" in ivan
    sara = table_row(page, "Sara Supervisor")
    assert "<td>Supervisor</td>" in sara
    assert "<td>Not set up</td>" in sara
    assert "<td>Deactivated</td>" in table_row(page, "Dana Deactivated")
    assert "<td>Administrator</td>" in table_row(page, "Ada Admin")
    assert "Harry Holder" not in page
    assert holder.email not in page


# -- creating staff ---------------------------------------------------------------------------


def test_created_staff_member_is_invited_sets_a_password_and_signs_in(app, client, admin, db):
    response = client.post_form(
        "/admin/staff/new",
        {"full_name": "Nina New", "email": " Nina.New@Agency.example.kg ", "role": "supervisor"},
    )
    user = find_by_email("nina.new@agency.example.kg")
    assert user is not None
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/staff/{user.id}"
    assert "An invitation link was e-mailed to nina.new@agency.example.kg" in flashed(
        client, response
    )
    assert user.role is Role.SUPERVISOR
    assert user.full_name == "Nina New"
    assert user.password_hash is None
    assert not user.two_factor_enrolled
    [created] = entries(db, "user.created", user)
    assert created.actor_id == admin.id

    [invitation] = db.session.scalars(
        sa.select(Notification).where(Notification.recipient_id == user.id)
    ).all()
    assert invitation.kind == "account.staff-invitation"
    assert invitation.sensitive is True
    link = urlsplit(invitation.link)
    assert link.path == "/auth/reset-password"
    query = parse_qs(link.query)
    assert query["purpose"] == ["staff-invitation"]
    [token] = query["token"]

    # The invitee, in their own browser, chooses a password through the link …
    invitee = app.test_client()
    english(invitee)
    assert invitee.get(invitation.link).status_code == 200
    chosen = invitee.post_form(
        "/auth/reset-password",
        {
            "token": token,
            "purpose": "staff-invitation",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert chosen.status_code == 302
    assert chosen.headers["Location"] == "/auth/sign-in"
    assert invitee.get(invitation.link).status_code == 400  # the link works once

    # … then signs in and is sent to set up two-factor sign-in.
    signed_in = sign_in(app, "nina.new@agency.example.kg", NEW_PASSWORD)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/auth/two-factor/setup"


def test_creating_staff_with_a_taken_address_shows_the_error_beside_the_field(client, admin, db):
    HolderFactory(email="taken@example.kg")
    response = client.post_form(
        "/admin/staff/new",
        {"full_name": "Kept Name", "email": "Taken@Example.kg", "role": "inspector"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error = re.search(r'<p id="email-error" class="error-message">(.*?)</p>', page, re.S)
    assert error is not None
    assert "An account with this e-mail address already exists." in error.group(1)
    assert 'value="Kept Name"' in page
    assert 'value="Taken@Example.kg"' in page
    assert not [u for u in db.session.scalars(sa.select(User)) if u.full_name == "Kept Name"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_a_holder_role_cannot_be_given_to_new_staff(client, admin, db):
    response = client.post_form(
        "/admin/staff/new", {"full_name": "Not Staff", "email": "x@example.kg", "role": "holder"}
    )
    assert response.status_code == 200
    assert 'id="role-error"' in response.get_data(as_text=True)
    assert find_by_email("x@example.kg") is None


# -- roles ------------------------------------------------------------------------------------


def test_changing_a_role_ends_the_targets_sessions_and_is_logged(app, client, admin, db):
    target = StaffFactory(role=Role.INSPECTOR)
    version = target.session_version
    browser = second_session(app, target)

    response = client.post_form(f"/admin/staff/{target.id}/role", {"role": "supervisor"})
    assert response.headers["Location"] == f"/admin/staff/{target.id}"
    assert "Role changed." in flashed(client, response)
    changed = fresh(db, target)
    assert changed.role is Role.SUPERVISOR
    assert changed.session_version == version + 1
    assert is_signed_out(browser)
    [entry] = entries(db, "user.role_changed", target)
    assert entry.actor_id == admin.id
    assert entry.details == {"from": "inspector", "to": "supervisor"}


def test_a_role_outside_the_staff_roles_is_refused(client, admin, db):
    target = StaffFactory(role=Role.INSPECTOR)
    version = target.session_version
    response = client.post_form(f"/admin/staff/{target.id}/role", {"role": "holder"})
    assert response.status_code == 302
    assert "Choose one of the listed roles." in flashed(client, response)
    changed = fresh(db, target)
    assert changed.role is Role.INSPECTOR
    assert changed.session_version == version
    assert entries(db, "user.role_changed", target) == []


def test_holders_are_not_managed_on_the_staff_pages(client, admin, db):
    holder = HolderFactory()
    assert client.get(f"/admin/staff/{holder.id}").status_code == 404
    assert client.post_form(f"/admin/staff/{holder.id}/deactivate").status_code == 404
    assert client.post_form(f"/admin/staff/{holder.id}/role", {"role": "admin"}).status_code == 404
    unchanged = fresh(db, holder)
    assert unchanged.is_active_account
    assert unchanged.role is Role.HOLDER


def test_an_admin_cannot_change_their_own_role(client, admin, db):
    version = admin.session_version
    response = client.post_form(f"/admin/staff/{admin.id}/role", {"role": "inspector"})
    assert "You cannot change your own role." in flashed(client, response)
    unchanged = fresh(db, admin)
    assert unchanged.role is Role.ADMIN
    assert unchanged.session_version == version
    assert entries(db, "user.role_changed", admin) == []


# -- deactivating and reactivating -----------------------------------------------------------


def test_an_admin_cannot_deactivate_themselves(client, admin, db):
    StaffFactory(role=Role.ADMIN)  # not the last admin: the refusal is about oneself
    response = client.post_form(f"/admin/staff/{admin.id}/deactivate")
    assert "You cannot deactivate your own account." in flashed(client, response)
    assert fresh(db, admin).is_active_account
    assert client.get("/admin/staff").status_code == 200  # still signed in


def test_the_last_active_admin_cannot_be_deactivated(db):
    # Through the pages an admin acts on someone else, so another active admin always exists;
    # the service keeps the rule for any other caller.
    last = StaffFactory(role=Role.ADMIN)
    StaffFactory(role=Role.ADMIN, is_active_account=False)
    actor = StaffFactory(role=Role.SUPERVISOR)
    with pytest.raises(AccountError, match="last active admin"):
        staff.set_active(last, False, actor)
    assert fresh(db, last).is_active_account

    StaffFactory(role=Role.ADMIN)  # with a second active admin it is allowed
    staff.set_active(last, False, actor)
    assert not fresh(db, last).is_active_account


def test_the_last_active_admin_cannot_be_demoted(db):
    last = StaffFactory(role=Role.ADMIN)
    actor = StaffFactory(role=Role.SUPERVISOR)
    with pytest.raises(AccountError, match="last active admin"):
        staff.change_role(last, Role.INSPECTOR, actor)
    assert fresh(db, last).role is Role.ADMIN


def test_deactivating_an_already_deactivated_admin_is_not_an_error(db):
    StaffFactory(role=Role.ADMIN)
    gone = StaffFactory(role=Role.ADMIN, is_active_account=False)
    actor = StaffFactory(role=Role.SUPERVISOR)
    staff.set_active(gone, False, actor)  # nothing to do, nothing refused
    assert not fresh(db, gone).is_active_account


@pytest.mark.parametrize("action", ["reset-two-factor", "sign-out-everywhere"])
def test_an_admin_cannot_use_the_staff_actions_on_themselves(client, admin, db, action):
    StaffFactory(role=Role.ADMIN)
    version = admin.session_version
    response = client.post_form(f"/admin/staff/{admin.id}/{action}")
    assert response.status_code == 302
    unchanged = fresh(db, admin)
    assert unchanged.two_factor_enrolled
    assert unchanged.session_version == version
    assert client.get("/admin/staff").status_code == 200  # still signed in


def test_another_admin_can_be_deactivated_while_one_stays(client, admin, db):
    other = StaffFactory(role=Role.ADMIN)
    response = client.post_form(f"/admin/staff/{other.id}/deactivate")
    assert "Account deactivated" in flashed(client, response)
    assert not fresh(db, other).is_active_account


def test_a_deactivated_member_is_signed_out_and_cannot_sign_in(app, client, admin, db):
    target = StaffFactory(role=Role.INSPECTOR)
    browser = second_session(app, target)

    response = client.post_form(f"/admin/staff/{target.id}/deactivate")
    assert response.headers["Location"] == f"/admin/staff/{target.id}"
    assert not fresh(db, target).is_active_account
    assert [e.actor_id for e in entries(db, "user.deactivated", target)] == [admin.id]
    assert is_signed_out(browser)

    refused = sign_in(app, target.email, TEST_PASSWORD)
    assert refused.status_code == 200
    assert SIGN_IN_FAILED in refused.get_data(as_text=True)
    wrong = sign_in(app, "nobody@agency.example.kg", "wrong password here")
    assert SIGN_IN_FAILED in wrong.get_data(as_text=True)  # the same words: nothing revealed
    assert "deactivated" not in refused.get_data(as_text=True).lower()


def test_a_reactivated_member_can_sign_in_again(app, client, admin, db):
    target = StaffFactory(role=Role.INSPECTOR, is_active_account=False)
    assert sign_in(app, target.email, TEST_PASSWORD).status_code == 200

    response = client.post_form(f"/admin/staff/{target.id}/reactivate")
    assert "Account reactivated." in flashed(client, response)
    assert fresh(db, target).is_active_account
    signed_in = sign_in(app, target.email, TEST_PASSWORD)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/auth/two-factor"


# -- two-factor and sessions ------------------------------------------------------------------


def test_resetting_two_factor_clears_it_and_the_recovery_codes(app, client, admin, db):
    target = StaffFactory(role=Role.INSPECTOR, totp_last_timestep=123)
    two_factor.new_recovery_codes(target)
    db.session.commit()
    browser = second_session(app, target)

    def codes() -> int:
        return db.session.scalar(
            sa.select(sa.func.count()).where(RecoveryCode.user_id == target.id)
        )

    assert codes() == 10
    response = client.post_form(f"/admin/staff/{target.id}/reset-two-factor")
    assert "Two-factor sign-in reset" in flashed(client, response)
    reset = fresh(db, target)
    assert reset.totp_secret is None
    assert reset.totp_enrolled_at is None
    assert reset.totp_last_timestep is None
    assert codes() == 0
    assert is_signed_out(browser)
    assert len(entries(db, "user.two_factor_reset", target)) == 1
    signed_in = sign_in(app, target.email, TEST_PASSWORD)
    assert signed_in.headers["Location"] == "/auth/two-factor/setup"


def test_signing_a_member_out_everywhere_ends_their_sessions(app, client, admin, db):
    target = StaffFactory(role=Role.SUPERVISOR)
    version = target.session_version
    browser = second_session(app, target)

    response = client.post_form(f"/admin/staff/{target.id}/sign-out-everywhere")
    assert "Every session of this account was ended." in flashed(client, response)
    assert fresh(db, target).session_version == version + 1
    assert is_signed_out(browser)
    assert client.get("/admin/staff").status_code == 200  # the admin's own session goes on


@pytest.mark.parametrize(
    "action", ["role", "deactivate", "reactivate", "reset-two-factor", "sign-out-everywhere"]
)
def test_admin_actions_without_a_csrf_token_are_refused(client, admin, db, action):
    target = StaffFactory(role=Role.INSPECTOR, is_active_account=action != "reactivate")
    before = (target.role, target.is_active_account, target.totp_secret, target.session_version)
    response = client.post(f"/admin/staff/{target.id}/{action}", data={"role": "supervisor"})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    after = fresh(db, target)
    assert (after.role, after.is_active_account, after.totp_secret, after.session_version) == before


def test_creating_staff_without_a_csrf_token_is_refused(client, admin, db):
    response = client.post(
        "/admin/staff/new",
        data={"full_name": "No Token", "email": "no.token@agency.example.kg", "role": "admin"},
    )
    assert response.status_code == 400
    assert not [u for u in db.session.scalars(sa.select(User)) if u.full_name == "No Token"]


# -- flask users create -----------------------------------------------------------------------


def test_cli_creates_a_staff_member_who_signs_in_and_enrols_two_factor(app, runner, db):
    result = runner.invoke(
        args=[
            "users", "create", "--email", "Cli.Inspector@Agency.example.kg",
            "--role", "inspector", "--password", NEW_PASSWORD, "--name", "Cli Inspector",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created inspector cli.inspector@agency.example.kg" in result.output
    user = find_by_email("cli.inspector@agency.example.kg")
    assert user is not None
    assert user.role is Role.INSPECTOR
    assert user.full_name == "Cli Inspector"
    assert not user.two_factor_enrolled
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0

    signed_in = sign_in(app, "cli.inspector@agency.example.kg", NEW_PASSWORD)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/auth/two-factor/setup"


def test_cli_without_a_password_queues_an_invitation(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "invited@agency.example.kg",
                                 "--role", "admin"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "invitation link queued" in result.output
    user = find_by_email("invited@agency.example.kg")
    assert user.role is Role.ADMIN
    assert user.full_name == "invited"
    [invitation] = db.session.scalars(
        sa.select(Notification).where(Notification.recipient_id == user.id)
    ).all()
    assert invitation.kind == "account.staff-invitation"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Password must be at least 12 characters long"),
        ("weak.person.is.here.1", "Password must not contain your e-mail address"),
    ],
)
def test_cli_refuses_a_weak_password(runner, db, password, message):
    result = runner.invoke(
        args=["users", "create", "--email", "weak.person@agency.example.kg",
              "--role", "inspector", "--password", password]
    )  # fmt: skip
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_cli_refuses_an_invalid_address(runner, db):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "not an email",
            "--role",
            "inspector",
            "--password",
            NEW_PASSWORD,
        ]
    )
    assert result.exit_code != 0
    assert "not valid" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_cli_refuses_an_existing_address(runner, db):
    HolderFactory(email="someone@example.kg")
    result = runner.invoke(
        args=["users", "create", "--email", "Someone@Example.kg", "--role", "admin",
              "--password", NEW_PASSWORD]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert db.session.scalar(sa.select(User.role)) is Role.HOLDER


def test_cli_refuses_a_role_that_is_not_staff(runner, db):
    result = runner.invoke(
        args=["users", "create", "--email", "holder@example.kg", "--role", "holder",
              "--password", NEW_PASSWORD]
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
