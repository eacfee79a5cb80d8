"""Colleagues: invitations by e-mail, accepting them, roles, removal, leaving, who may do what."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from register.database import utcnow
from register.models import (
    ActivityEntry,
    Invitation,
    MemberRole,
    Membership,
    Notification,
    Organisation,
    Role,
    User,
)
from register.services import members as member_service
from tests.factories import (
    TEST_PASSWORD,
    HolderFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
)

LAST_OWNER = "An organisation must keep at least one owner."
DOES_NOT_WORK = "This invitation does not work"


def english(client: Any) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def as_user(client: Any, auth: Any, user: User) -> None:
    """Sign the client in as `user`, pages in English."""
    auth.login(user)
    english(client)


def followed(client: Any, response: Any) -> str:
    """The page a redirect leads to (with its flashed messages)."""
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def memberships(db: Any, organisation: Organisation) -> dict[str, MemberRole]:
    """The organisation's members as {user e-mail: role}, as the database has them now."""
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Membership).where(Membership.organisation_id == organisation.id)
    ).all()
    return {row.user.email: row.role for row in rows}


def invitation_mail(db: Any, address: str) -> Notification:
    """The one invitation e-mail queued to `address`."""
    found = [
        item
        for item in db.session.scalars(
            sa.select(Notification).where(Notification.kind == "organisation.invitation")
        )
        if item.email_address == address
    ]
    assert len(found) == 1
    return found[0]


def token_of(notification: Notification) -> str:
    assert notification.link is not None
    parts = urlsplit(notification.link)
    assert parts.path == "/organisation/invitations/accept"
    return parse_qs(parts.query)["token"][0]


def actions(db: Any, action: str) -> list[ActivityEntry]:
    return list(
        db.session.scalars(
            sa.select(ActivityEntry)
            .where(ActivityEntry.action == action)
            .order_by(ActivityEntry.seq)
        )
    )


@pytest.fixture
def team(db: Any) -> dict[str, Any]:
    """An organisation with one owner and one member."""
    organisation = OrganisationFactory(legal_name="Kyrgyz Data LLC")
    owner = MembershipFactory(organisation=organisation, user__full_name="Olga Owner")
    member = MembershipFactory(
        organisation=organisation, role=MemberRole.MEMBER, user__full_name="Marat Member"
    )
    return {"organisation": organisation, "owner": owner, "member": member}


def invite(client: Any, organisation: Organisation, email: str, role: str = "member") -> Any:
    return client.post_form(
        f"/organisation/{organisation.id}/members/invite", {"email": email, "role": role}
    )


# -- the page ----------------------------------------------------------------------------------


def test_every_member_sees_the_members_and_open_invitations(client, auth, db, team):
    organisation = team["organisation"]
    invitation_address = "invited.person@example.kg"
    as_user(client, auth, team["owner"].user)
    assert invite(client, organisation, invitation_address).status_code == 302

    as_user(client, auth, team["member"].user)
    page = client.get(f"/organisation/{organisation.id}/members").get_data(as_text=True)
    assert "Olga Owner" in page and team["owner"].user.email in page
    assert "Marat Member" in page and team["member"].user.email in page
    assert invitation_address in page
    # A member sees the list but none of the owners' forms.
    assert "/members/invite" not in page
    assert "/remove" not in page and "/revoke" not in page
    assert "/leave" in page


def test_owners_see_the_forms(client, auth, db, team):
    as_user(client, auth, team["owner"].user)
    organisation = team["organisation"]
    page = client.get(f"/organisation/{organisation.id}/members").get_data(as_text=True)
    assert f"/organisation/{organisation.id}/members/invite" in page
    assert f"/members/{team['member'].id}/role" in page
    assert f"/members/{team['member'].id}/remove" in page
    # The only owner's own row offers no demotion or removal, and leaving is explained.
    assert f"/members/{team['owner'].id}/remove" not in page
    assert "You are the only owner, so you cannot leave." in page


# -- invitations ---------------------------------------------------------------------------------


def test_invited_colleague_signs_in_accepts_once_and_becomes_a_member(app, client, auth, db, team):
    organisation = team["organisation"]
    invitee = HolderFactory(email="colleague@example.kg", full_name="Cholpon Colleague")
    as_user(client, auth, team["owner"].user)
    response = invite(client, organisation, "Colleague@Example.kg ", role="owner")
    assert "Invitation sent to" in followed(client, response)

    mail = invitation_mail(db, "colleague@example.kg")
    assert mail.recipient_id == invitee.id
    assert mail.sensitive is True  # a one-time link: e-mail only, never in the inbox
    token = token_of(mail)
    accept_url = f"/organisation/invitations/accept?token={token}"

    # The invitee opens the link in another browser, is asked to sign in, and comes back.
    browser = app.test_client()
    english(browser)
    response = browser.get(accept_url)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/sign-in"
    assert parse_qs(location.query)["next"] == [accept_url]
    response = browser.post_form(
        "/auth/sign-in",
        {"email": "colleague@example.kg", "password": TEST_PASSWORD, "next": accept_url},
    )
    assert response.headers["Location"] == accept_url
    page = browser.get(accept_url).get_data(as_text=True)
    assert "Olga Owner invited you to act for Kyrgyz Data LLC" in page
    assert memberships(db, organisation).get("colleague@example.kg") is None  # not yet

    response = browser.post_form("/organisation/invitations/accept", {"token": token})
    assert response.headers["Location"] == f"/organisation/{organisation.id}/members"
    assert memberships(db, organisation)["colleague@example.kg"] is MemberRole.OWNER
    [entry] = actions(db, "organisation.invitation_accepted")
    assert entry.actor_id == invitee.id

    # The link works once: a second use is refused and makes no second membership.
    again = browser.post_form("/organisation/invitations/accept", {"token": token})
    assert again.status_code == 400
    assert DOES_NOT_WORK in again.get_data(as_text=True)
    assert browser.get(accept_url).status_code == 400
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(Membership.organisation_id == organisation.id, Membership.user_id == invitee.id)
    )
    assert count == 1


def test_an_address_without_an_account_gets_the_invitation_by_e_mail(client, auth, db, team):
    organisation = team["organisation"]
    as_user(client, auth, team["owner"].user)
    assert invite(client, organisation, "newcomer@example.kg").status_code == 302

    mail = invitation_mail(db, "newcomer@example.kg")
    assert mail.recipient_id is None
    assert mail.sensitive is True
    assert "create one with this e-mail address first" in mail.body
    token_of(mail)
    invitation = db.session.scalars(
        sa.select(Invitation).where(Invitation.organisation_id == organisation.id)
    ).one()
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)

    # Once the newcomer has an account with that address, the same link works.
    newcomer = HolderFactory(email="newcomer@example.kg")
    as_user(client, auth, newcomer)
    response = client.post_form("/organisation/invitations/accept", {"token": token_of(mail)})
    assert response.status_code == 302
    assert memberships(db, organisation)["newcomer@example.kg"] is MemberRole.MEMBER


def test_inviting_again_replaces_the_open_invitation(client, auth, db, team):
    organisation = team["organisation"]
    as_user(client, auth, team["owner"].user)
    invite(client, organisation, "twice@example.kg")
    first = token_of(invitation_mail(db, "twice@example.kg"))
    invite(client, organisation, "twice@example.kg", role="owner")
    db.session.expire_all()
    open_ones = member_service.open_invitations(organisation)
    assert [item.role for item in open_ones] == [MemberRole.OWNER]
    assert member_service.invitation_from_token(first) is None


def test_inviting_a_member_is_refused_beside_the_field(client, auth, db, team):
    as_user(client, auth, team["owner"].user)
    response = invite(client, team["organisation"], team["member"].user.email)
    assert response.status_code == 200
    assert "This person is already a member of the organisation." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_an_invalid_address_is_refused_and_kept(client, auth, db, team):
    as_user(client, auth, team["owner"].user)
    response = invite(client, team["organisation"], "not-an-address")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter an e-mail address in the correct format" in page
    assert 'value="not-an-address"' in page


def _invitation_for(client: Any, auth: Any, db: Any, team: dict[str, Any], email: str) -> str:
    as_user(client, auth, team["owner"].user)
    assert invite(client, team["organisation"], email).status_code == 302
    return token_of(invitation_mail(db, email))


def test_an_expired_invitation_does_not_work(client, auth, db, team):
    invitee = HolderFactory(email="late@example.kg")
    token = _invitation_for(client, auth, db, team, "late@example.kg")
    invitation = db.session.scalars(sa.select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    as_user(client, auth, invitee)
    assert client.get(f"/organisation/invitations/accept?token={token}").status_code == 400
    response = client.post_form("/organisation/invitations/accept", {"token": token})
    assert response.status_code == 400
    assert DOES_NOT_WORK in response.get_data(as_text=True)
    assert "late@example.kg" not in memberships(db, team["organisation"])


def test_a_revoked_invitation_does_not_work(client, auth, db, team):
    invitee = HolderFactory(email="revoked@example.kg")
    token = _invitation_for(client, auth, db, team, "revoked@example.kg")
    invitation = db.session.scalars(sa.select(Invitation)).one()
    organisation = team["organisation"]
    response = client.post_form(
        f"/organisation/{organisation.id}/invitations/{invitation.id}/revoke"
    )
    assert "its link no longer works" in followed(client, response)
    [entry] = actions(db, "organisation.invitation_revoked")
    assert entry.object_id == str(invitation.id)

    as_user(client, auth, invitee)
    response = client.post_form("/organisation/invitations/accept", {"token": token})
    assert response.status_code == 400
    assert "revoked@example.kg" not in memberships(db, organisation)


def test_a_tampered_token_does_not_work(client, auth, db, team):
    as_user(client, auth, team["member"].user)
    response = client.get("/organisation/invitations/accept?token=not-a-token")
    assert response.status_code == 400
    assert DOES_NOT_WORK in response.get_data(as_text=True)


def test_someone_with_another_address_cannot_accept(client, auth, db, team):
    token = _invitation_for(client, auth, db, team, "intended@example.kg")
    HolderFactory(email="intended@example.kg")
    stranger = HolderFactory(email="stranger@example.kg")
    as_user(client, auth, stranger)
    assert client.get(f"/organisation/invitations/accept?token={token}").status_code == 403
    response = client.post_form("/organisation/invitations/accept", {"token": token})
    assert response.status_code == 403
    assert "sent to another e-mail address" in response.get_data(as_text=True)
    members = memberships(db, team["organisation"])
    assert "stranger@example.kg" not in members and "intended@example.kg" not in members
    # The invitation still works for the person it was sent to.
    db.session.expire_all()
    assert member_service.invitation_from_token(token) is not None


def test_a_member_accepting_an_invitation_gets_no_second_membership(client, auth, db, team):
    member = team["member"]
    organisation = team["organisation"]
    owner = team["owner"].user
    invitation = Invitation(
        organisation_id=organisation.id,
        email=member.user.email,
        role=MemberRole.OWNER,
        invited_by_id=owner.id,
        expires_at=utcnow() + timedelta(days=7),
    )
    db.session.add(invitation)
    db.session.commit()
    token = member_service.invitation_token(invitation)
    as_user(client, auth, member.user)
    response = client.post_form("/organisation/invitations/accept", {"token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).accepted_at is not None
    assert memberships(db, organisation)[member.user.email] is MemberRole.MEMBER
    rows = db.session.scalars(
        sa.select(Membership).where(Membership.organisation_id == organisation.id)
    ).all()
    assert len(rows) == 2


# -- roles, removal, leaving -------------------------------------------------------------------


def test_owner_changes_a_members_role(client, auth, db, team):
    organisation, member = team["organisation"], team["member"]
    as_user(client, auth, team["owner"].user)
    response = client.post_form(
        f"/organisation/{organisation.id}/members/{member.id}/role", {"role": "owner"}
    )
    assert "Role changed." in followed(client, response)
    assert memberships(db, organisation)[member.user.email] is MemberRole.OWNER
    [entry] = actions(db, "organisation.member_role_changed")
    assert entry.details["role"] == "owner" and entry.details["previous"] == "member"
    told = db.session.scalars(
        sa.select(Notification).where(Notification.recipient_id == member.user_id)
    ).all()
    assert [item.kind for item in told] == ["organisation.member_role_changed"]


def test_a_role_outside_the_list_is_refused(client, auth, db, team):
    organisation, member = team["organisation"], team["member"]
    as_user(client, auth, team["owner"].user)
    response = client.post_form(
        f"/organisation/{organisation.id}/members/{member.id}/role", {"role": "admin"}
    )
    assert "Choose one of the listed roles." in followed(client, response)
    assert memberships(db, organisation)[member.user.email] is MemberRole.MEMBER


def test_owner_removes_a_member(client, auth, db, team):
    organisation, member = team["organisation"], team["member"]
    removed, email = member.user, member.user.email
    as_user(client, auth, team["owner"].user)
    response = client.post_form(f"/organisation/{organisation.id}/members/{member.id}/remove")
    assert "The colleague was removed." in followed(client, response)
    assert email not in memberships(db, organisation)
    [entry] = actions(db, "organisation.member_removed")
    assert entry.details["user_id"] == str(removed.id)
    told = db.session.scalars(
        sa.select(Notification).where(Notification.recipient_id == removed.id)
    ).all()
    assert [item.kind for item in told] == ["organisation.member_removed"]
    # The removed member no longer reaches the organisation's pages.
    as_user(client, auth, removed)
    assert client.get(f"/organisation/{organisation.id}/members").status_code == 404


def test_the_last_owner_cannot_be_demoted_removed_or_leave(client, auth, db, team):
    organisation, owner = team["organisation"], team["owner"]
    as_user(client, auth, owner.user)
    base = f"/organisation/{organisation.id}"
    for url, form in (
        (f"{base}/members/{owner.id}/role", {"role": "member"}),
        (f"{base}/members/{owner.id}/remove", {}),
        (f"{base}/leave", {}),
    ):
        response = client.post_form(url, form)
        assert response.headers["Location"] == f"{base}/members"
        assert LAST_OWNER in client.get(response.headers["Location"]).get_data(as_text=True)
    assert memberships(db, organisation)[owner.user.email] is MemberRole.OWNER
    assert actions(db, "organisation.member_left") == []
    assert actions(db, "organisation.member_removed") == []


def test_an_owner_can_leave_once_another_owner_exists(client, auth, db, team):
    organisation, owner = team["organisation"], team["owner"]
    user, email = owner.user, owner.user.email
    MembershipFactory(organisation=organisation, role=MemberRole.OWNER)
    as_user(client, auth, user)
    response = client.post_form(f"/organisation/{organisation.id}/leave")
    assert response.headers["Location"] == "/organisation/"
    assert email not in memberships(db, organisation)
    [entry] = actions(db, "organisation.member_left")
    assert entry.actor_id == user.id


def test_a_member_can_leave(client, auth, db, team):
    organisation, member = team["organisation"], team["member"]
    email = member.user.email
    as_user(client, auth, member.user)
    response = client.post_form(f"/organisation/{organisation.id}/leave")
    assert "You no longer act for Kyrgyz Data LLC." in followed(client, response)
    assert email not in memberships(db, organisation)


def test_activity_details_never_hold_an_e_mail_address(client, auth, db, team):
    organisation, member = team["organisation"], team["member"]
    HolderFactory(email="someone@example.kg")
    as_user(client, auth, team["owner"].user)
    invite(client, organisation, "someone@example.kg")
    invitation = db.session.scalars(sa.select(Invitation)).one()
    client.post_form(f"/organisation/{organisation.id}/invitations/{invitation.id}/revoke")
    client.post_form(f"/organisation/{organisation.id}/members/{member.id}/role", {"role": "owner"})
    client.post_form(f"/organisation/{organisation.id}/members/{member.id}/remove")
    recorded = [
        entry
        for entry in db.session.scalars(sa.select(ActivityEntry))
        if entry.action.startswith("organisation.")
    ]
    assert {entry.action for entry in recorded} == {
        "organisation.member_invited",
        "organisation.invitation_revoked",
        "organisation.member_role_changed",
        "organisation.member_removed",
    }
    for entry in recorded:
        assert "@" not in str(entry.details)


# -- who may do what -------------------------------------------------------------------------


def _owner_actions(team: dict[str, Any], invitation: Invitation) -> list[tuple[str, dict]]:
    base = f"/organisation/{team['organisation'].id}"
    member, owner = team["member"], team["owner"]
    return [
        (f"{base}/members/invite", {"email": "x@example.kg", "role": "member"}),
        (f"{base}/members/{member.id}/role", {"role": "owner"}),
        (f"{base}/members/{owner.id}/remove", {}),
        (f"{base}/invitations/{invitation.id}/revoke", {}),
    ]


def _open_invitation(team: dict[str, Any], db: Any) -> Invitation:
    invitation = Invitation(
        organisation_id=team["organisation"].id,
        email="pending@example.kg",
        role=MemberRole.MEMBER,
        expires_at=utcnow() + timedelta(days=7),
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def test_a_member_who_is_not_an_owner_gets_404_on_owner_actions(client, auth, db, team):
    invitation = _open_invitation(team, db)
    as_user(client, auth, team["member"].user)
    before = memberships(db, team["organisation"])
    for url, form in _owner_actions(team, invitation):
        assert client.post_form(url, form).status_code == 404, url
    assert memberships(db, team["organisation"]) == before
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).revoked_at is None
    assert client.get(f"/organisation/{team['organisation'].id}/members").status_code == 200


def test_a_holder_of_another_organisation_gets_404_everywhere(client, auth, db, team):
    invitation = _open_invitation(team, db)
    outsider = MembershipFactory().user  # owner of another organisation
    as_user(client, auth, outsider)
    base = f"/organisation/{team['organisation'].id}"
    assert client.get(f"{base}/members").status_code == 404
    assert client.get(f"{base}/access-requests").status_code == 404
    for url, form in [*_owner_actions(team, invitation), (f"{base}/leave", {})]:
        assert client.post_form(url, form).status_code == 404, url
    some_request = "00000000-0000-4000-8000-000000000000"
    decide = f"{base}/access-requests/{some_request}/decide"
    assert client.post_form(decide, {"decision": "approve"}).status_code == 404


def test_an_owner_cannot_reach_another_organisations_members_through_their_own(
    client, auth, db, team
):
    other = MembershipFactory(role=MemberRole.MEMBER)
    as_user(client, auth, team["owner"].user)
    base = f"/organisation/{team['organisation'].id}"
    for url, form in (
        (f"{base}/members/{other.id}/role", {"role": "owner"}),
        (f"{base}/members/{other.id}/remove", {}),
    ):
        assert client.post_form(url, form).status_code == 404
    db.session.expire_all()
    assert db.session.get(Membership, other.id).role is MemberRole.MEMBER


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN])
def test_staff_get_403_on_holder_pages(client, auth, db, team, role):
    as_user(client, auth, StaffFactory(role=role))
    base = f"/organisation/{team['organisation'].id}"
    assert client.get(f"{base}/members").status_code == 403
    assert client.get("/organisation/invitations/accept?token=x").status_code == 403
    assert client.post_form(f"{base}/members/invite", {"email": "a@b.kg"}).status_code == 403
    assert client.post_form(f"{base}/leave").status_code == 403


def test_forms_without_a_csrf_token_are_refused(client, auth, db, team):
    organisation, member = team["organisation"], team["member"]
    as_user(client, auth, team["owner"].user)
    base = f"/organisation/{organisation.id}"
    for url, form in (
        (f"{base}/members/invite", {"email": "nocsrf@example.kg", "role": "member"}),
        (f"{base}/members/{member.id}/role", {"role": "owner"}),
        (f"{base}/members/{member.id}/remove", {}),
        (f"{base}/leave", {}),
    ):
        assert client.post(url, data=form).status_code == 400, url
    assert memberships(db, organisation)[member.user.email] is MemberRole.MEMBER
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_the_service_refuses_an_invitation_for_another_address(db, team):
    invitation = _open_invitation(team, db)
    stranger = HolderFactory(email="not-pending@example.kg")
    with pytest.raises(member_service.MembershipError):
        member_service.accept_invitation(invitation, stranger)
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).accepted_at is None


def test_an_owner_removing_themselves_goes_to_their_organisations(client, auth, db, team):
    organisation, owner = team["organisation"], team["owner"]
    user, email = owner.user, owner.user.email
    MembershipFactory(organisation=organisation, role=MemberRole.OWNER)
    as_user(client, auth, user)
    response = client.post_form(f"/organisation/{organisation.id}/members/{owner.id}/remove")
    assert response.headers["Location"] == "/organisation/"
    assert email not in memberships(db, organisation)


def test_a_used_invitation_cannot_be_revoked(client, auth, db, team):
    invitation = _open_invitation(team, db)
    invitation.accepted_at = utcnow()
    db.session.commit()
    as_user(client, auth, team["owner"].user)
    url = f"/organisation/{team['organisation'].id}/invitations/{invitation.id}/revoke"
    assert "already used, revoked or has expired" in followed(client, client.post_form(url))
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).revoked_at is None
    assert actions(db, "organisation.invitation_revoked") == []
