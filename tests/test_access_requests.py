"""Requests to act for an organisation already in the register: asking, owners and the agency
deciding once, and who may see or do what."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from register.models import (
    AccessRequest,
    AccessRequestAddressee,
    AccessRequestStatus,
    ActivityEntry,
    MemberRole,
    Membership,
    Notification,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    Role,
    User,
)
from tests.factories import HolderFactory, MembershipFactory, OrganisationFactory, StaffFactory

ENTREPRENEUR_PIN = "21505199012345"


def english(client: Any) -> None:
    with client.session_transaction() as session:
        session["lang"] = "en"


def as_user(client: Any, auth: Any, user: User) -> None:
    auth.login(user)
    english(client)


def followed(client: Any, response: Any) -> str:
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def requests_for(db: Any, organisation: Organisation) -> list[AccessRequest]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AccessRequest).where(AccessRequest.organisation_id == organisation.id)
        )
    )


def members_of(db: Any, organisation: Organisation) -> dict[Any, MemberRole]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Membership).where(Membership.organisation_id == organisation.id)
    ).all()
    return {row.user_id: row.role for row in rows}


def notifications_of(db: Any, user: User, kind: str) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.recipient_id == user.id, Notification.kind == kind
            )
        )
    )


def actions(db: Any, action: str) -> list[ActivityEntry]:
    return list(db.session.scalars(sa.select(ActivityEntry).where(ActivityEntry.action == action)))


def verified_online(**values: Any) -> Organisation:
    return OrganisationFactory(
        status=OrganisationStatus.VERIFIED, origin=OrganisationOrigin.ONLINE, **values
    )


def claim(client: Any, tin: str) -> None:
    """What "Register an organisation" does with a TIN already taken: the id in the session."""
    from register.services.access_requests import find_organisation

    organisation = find_organisation(tin)
    with client.session_transaction() as session:
        if organisation is None:
            session.pop("claimed_organisation", None)
        else:
            session["claimed_organisation"] = str(organisation.id)


def open_claim(client: Any, tin: str) -> Any:
    """The request-access page after entering `tin`."""
    claim(client, tin)
    return client.get("/organisation/request-access")


def ask(client: Any, tin: str, message: str = "") -> Any:
    claim(client, tin)
    return client.post_form("/organisation/request-access", {"message": message})


@pytest.fixture
def claimed(db: Any) -> dict[str, Any]:
    """A verified online organisation with an owner, and a second claimant of its TIN."""
    organisation = verified_online(legal_name="Ala-Too Clinic LLC")
    owner = MembershipFactory(organisation=organisation).user
    claimant = HolderFactory(full_name="Cholpon Claimant")
    return {"organisation": organisation, "owner": owner, "claimant": claimant}


# -- asking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tin", ["99999999999999", "123", "not-a-tin", ""])
def test_an_unknown_tin_gets_a_friendly_not_found_page(client, auth, db, tin):
    as_user(client, auth, HolderFactory())
    response = open_claim(client, tin)
    assert response.status_code == 404
    assert "No organisation with this TIN is in the register" in response.get_data(as_text=True)


def test_second_claimant_asks_the_owners_of_a_verified_online_organisation(
    client, auth, db, claimed
):
    organisation, owner, claimant = claimed["organisation"], claimed["owner"], claimed["claimant"]
    as_user(client, auth, claimant)
    page = open_claim(client, organisation.tin)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ala-Too Clinic LLC is already in the register" in text
    assert "(its owners) decide" in text

    response = ask(client, organisation.tin, "I am the new data protection officer.")
    assert "Your request was sent." in followed(client, response)
    [request] = requests_for(db, organisation)
    assert request.requester_id == claimant.id
    assert request.status is AccessRequestStatus.PENDING
    assert request.addressed_to is AccessRequestAddressee.OWNERS
    assert request.message == "I am the new data protection officer."
    # Nothing changes for the organisation until someone decides.
    assert members_of(db, organisation) == {owner.id: MemberRole.OWNER}
    [told] = notifications_of(db, owner, "organisation.access_requested")
    assert told.link == f"/organisation/{organisation.id}/access-requests"
    assert "Ala-Too Clinic LLC" in told.subject
    [entry] = actions(db, "access_request.created")
    assert entry.details["addressed_to"] == "owners"
    assert "officer" not in str(entry.details)


def test_asking_twice_keeps_one_pending_request(client, auth, db, claimed):
    organisation = claimed["organisation"]
    as_user(client, auth, claimed["claimant"])
    ask(client, organisation.tin, "first")
    page = open_claim(client, organisation.tin)
    assert "your request is waiting for a decision" in page.get_data(as_text=True)
    response = ask(client, organisation.tin, "second")
    assert "You have already asked" in followed(client, response)
    [request] = requests_for(db, organisation)
    assert request.message == "first"
    assert len(notifications_of(db, claimed["owner"], "organisation.access_requested")) == 1


@pytest.mark.parametrize(
    ("status", "origin", "with_owner"),
    [
        (OrganisationStatus.UNVERIFIED, OrganisationOrigin.ONLINE, True),
        (OrganisationStatus.VERIFIED, OrganisationOrigin.IMPORTED, False),
        (OrganisationStatus.UNVERIFIED, OrganisationOrigin.IMPORTED, False),
        (OrganisationStatus.VERIFIED, OrganisationOrigin.PAPER, True),
        (OrganisationStatus.VERIFIED, OrganisationOrigin.ONLINE, False),
    ],
)
def test_unverified_imported_paper_or_ownerless_entries_go_to_the_agency(
    client, auth, db, status, origin, with_owner
):
    organisation = OrganisationFactory(status=status, origin=origin)
    owner = MembershipFactory(organisation=organisation).user if with_owner else None
    as_user(client, auth, HolderFactory())
    page = open_claim(client, organisation.tin)
    assert "The State Agency for Personal Data Protection decides" in page.get_data(as_text=True)
    ask(client, organisation.tin)
    [request] = requests_for(db, organisation)
    assert request.addressed_to is AccessRequestAddressee.AGENCY
    assert request.message is None
    if owner is not None:
        assert notifications_of(db, owner, "organisation.access_requested") == []
        assert members_of(db, organisation) == {owner.id: MemberRole.OWNER}


def test_an_individual_entrepreneur_is_neither_named_nor_its_tin_shown(client, auth, db):
    entrepreneur = OrganisationFactory(
        legal_name="Individual Entrepreneur Asel Secretname",
        short_name="IE Secretname",
        legal_form_code="individual_entrepreneur",
        tin=ENTREPRENEUR_PIN,
        public_tin=None,
    )
    as_user(client, auth, HolderFactory())
    response = open_claim(client, ENTREPRENEUR_PIN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "An individual entrepreneur with this TIN is already in the register" in page
    assert "Secretname" not in page
    form_html = page.split("<main", 1)[1]
    assert ENTREPRENEUR_PIN not in form_html.replace(f"tin={ENTREPRENEUR_PIN}", "")
    status_page = followed(client, ask(client, ENTREPRENEUR_PIN))
    assert "Secretname" not in status_page and ENTREPRENEUR_PIN not in status_page
    [request] = requests_for(db, entrepreneur)
    assert request.addressed_to is AccessRequestAddressee.AGENCY


def test_a_member_asking_is_sent_to_the_organisation(client, auth, db, claimed):
    organisation = claimed["organisation"]
    as_user(client, auth, claimed["owner"])
    response = open_claim(client, organisation.tin)
    assert response.headers["Location"] == f"/organisation/{organisation.id}/members"
    assert ask(client, organisation.tin).status_code == 302
    assert requests_for(db, organisation) == []


def test_a_message_longer_than_1000_characters_is_refused_and_kept(client, auth, db, claimed):
    organisation = claimed["organisation"]
    as_user(client, auth, claimed["claimant"])
    response = ask(client, organisation.tin, "x" * 1001)
    assert response.status_code == 200
    assert "A message has at most 1000 characters" in response.get_data(as_text=True)
    assert requests_for(db, organisation) == []


def test_only_the_requester_sees_their_request(client, auth, db, claimed):
    as_user(client, auth, claimed["claimant"])
    ask(client, claimed["organisation"].tin)
    [request] = requests_for(db, claimed["organisation"])
    assert client.get(f"/organisation/request-access/{request.id}").status_code == 200
    as_user(client, auth, HolderFactory())
    assert client.get(f"/organisation/request-access/{request.id}").status_code == 404


# -- owners decide ---------------------------------------------------------------------------


def _pending(db: Any, organisation: Organisation, requester: User, addressee: Any) -> Any:
    request = AccessRequest(
        organisation_id=organisation.id,
        requester_id=requester.id,
        addressed_to=addressee,
        message="Please let me in, I keep the patient files.",
    )
    db.session.add(request)
    db.session.commit()
    return request


def decide_url(organisation: Organisation, request: AccessRequest) -> str:
    return f"/organisation/{organisation.id}/access-requests/{request.id}/decide"


def test_owners_see_pending_requests_and_approve_one(client, auth, db, claimed):
    organisation, owner, claimant = claimed["organisation"], claimed["owner"], claimed["claimant"]
    request = _pending(db, organisation, claimant, AccessRequestAddressee.OWNERS)
    other = OrganisationFactory()
    elsewhere = _pending(db, other, HolderFactory(full_name="Elsewhere Person"), "owners")
    to_agency = _pending(db, organisation, HolderFactory(full_name="Agency Case"), "agency")
    as_user(client, auth, owner)
    page = client.get(f"/organisation/{organisation.id}/access-requests").get_data(as_text=True)
    assert "Cholpon Claimant" in page and claimant.email in page
    assert "I keep the patient files." in page
    assert "Elsewhere Person" not in page and "Agency Case" not in page

    # Requests of another organisation or addressed to the agency are not the owners' to decide.
    assert (
        client.post_form(decide_url(organisation, elsewhere), {"decision": "approve"}).status_code
        == 404
    )
    assert (
        client.post_form(decide_url(organisation, to_agency), {"decision": "approve"}).status_code
        == 404
    )

    response = client.post_form(decide_url(organisation, request), {"decision": "approve"})
    assert "Request approved" in followed(client, response)
    assert members_of(db, organisation)[claimant.id] is MemberRole.MEMBER
    [request] = [item for item in requests_for(db, organisation) if item.id == request.id]
    assert request.status is AccessRequestStatus.APPROVED
    assert request.decided_by_id == owner.id
    [told] = notifications_of(db, claimant, "organisation.access_decided")
    assert "approved" in told.subject
    [entry] = actions(db, "access_request.approved")
    assert entry.details["role"] == "member"
    assert db.session.get(AccessRequest, to_agency.id).status is AccessRequestStatus.PENDING


def test_a_refusal_needs_its_reason_and_tells_the_requester(client, auth, db, claimed):
    organisation, claimant = claimed["organisation"], claimed["claimant"]
    request = _pending(db, organisation, claimant, AccessRequestAddressee.OWNERS)
    as_user(client, auth, claimed["owner"])

    response = client.post_form(decide_url(organisation, request), {"decision": "refuse"})
    assert response.status_code == 200
    assert "Give the reason for refusing" in response.get_data(as_text=True)
    assert requests_for(db, organisation)[0].status is AccessRequestStatus.PENDING

    response = client.post_form(decide_url(organisation, request), {"decision": ""})
    assert "Choose whether to approve or refuse the request" in response.get_data(as_text=True)

    reason = "We do not know this person; ask your director to write to us."
    response = client.post_form(
        decide_url(organisation, request), {"decision": "refuse", "reason": reason}
    )
    assert "Request refused" in followed(client, response)
    [request] = requests_for(db, organisation)
    assert request.status is AccessRequestStatus.REFUSED
    assert request.decision_reason == reason
    assert claimant.id not in members_of(db, organisation)
    [told] = notifications_of(db, claimant, "organisation.access_decided")
    assert reason in told.body
    assert told.link == f"/organisation/request-access/{request.id}"
    [entry] = actions(db, "access_request.refused")
    assert "director" not in str(entry.details)

    as_user(client, auth, claimant)
    status_page = client.get(told.link).get_data(as_text=True)
    assert "Refused" in status_page and reason in status_page


def test_a_request_is_decided_once(client, auth, db, claimed):
    organisation, claimant = claimed["organisation"], claimed["claimant"]
    request = _pending(db, organisation, claimant, AccessRequestAddressee.OWNERS)
    second_owner = MembershipFactory(organisation=organisation).user
    as_user(client, auth, claimed["owner"])
    client.post_form(decide_url(organisation, request), {"decision": "refuse", "reason": "No."})

    as_user(client, auth, second_owner)
    response = client.post_form(decide_url(organisation, request), {"decision": "approve"})
    assert "This request was already decided (refused); nothing was changed." in followed(
        client, response
    )
    [request] = requests_for(db, organisation)
    assert request.status is AccessRequestStatus.REFUSED
    assert request.decided_by_id == claimed["owner"].id
    assert claimant.id not in members_of(db, organisation)
    assert len(notifications_of(db, claimant, "organisation.access_decided")) == 1
    assert actions(db, "access_request.approved") == []


def test_a_member_who_is_not_an_owner_cannot_decide(client, auth, db, claimed):
    organisation = claimed["organisation"]
    request = _pending(db, organisation, claimed["claimant"], AccessRequestAddressee.OWNERS)
    member = MembershipFactory(organisation=organisation, role=MemberRole.MEMBER).user
    as_user(client, auth, member)
    assert client.get(f"/organisation/{organisation.id}/access-requests").status_code == 404
    response = client.post_form(decide_url(organisation, request), {"decision": "approve"})
    assert response.status_code == 404
    assert requests_for(db, organisation)[0].status is AccessRequestStatus.PENDING


# -- the agency decides ------------------------------------------------------------------------


def agency_decide(client: Any, request: AccessRequest, decision: str, reason: str = "") -> Any:
    return client.post_form(
        f"/agency/access-requests/{request.id}/decide", {"decision": decision, "reason": reason}
    )


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN])
def test_agency_approval_on_an_imported_entry_without_owners_makes_an_owner(client, auth, db, role):
    organisation = OrganisationFactory(
        origin=OrganisationOrigin.IMPORTED,
        status=OrganisationStatus.VERIFIED,
        legal_name="Legacy School No. 5",
    )
    claimant = HolderFactory(full_name="Bakyt Principal")
    as_user(client, auth, claimant)
    ask(client, organisation.tin, "I am the principal.")
    [request] = requests_for(db, organisation)

    staff = StaffFactory(role=role)
    as_user(client, auth, staff)
    page = client.get("/agency/access-requests").get_data(as_text=True)
    assert "Legacy School No. 5" in page and organisation.tin in page
    assert "Bakyt Principal" in page and claimant.email in page
    assert "I am the principal." in page
    assert "approving makes the requester its owner" in page

    response = agency_decide(client, request, "approve", "Appointment order checked.")
    assert "Request approved" in followed(client, response)
    assert members_of(db, organisation) == {claimant.id: MemberRole.OWNER}
    [request] = requests_for(db, organisation)
    assert request.status is AccessRequestStatus.APPROVED
    assert request.decided_by_id == staff.id
    assert request.decision_reason == "Appointment order checked."
    [told] = notifications_of(db, claimant, "organisation.access_decided")
    assert told.link == f"/organisation/{organisation.id}/members"
    [entry] = actions(db, "access_request.approved")
    assert entry.details["role"] == "owner" and entry.actor_id == staff.id

    response = agency_decide(client, request, "refuse", "Changed my mind.")
    assert "already decided (approved)" in followed(client, response)
    assert members_of(db, organisation) == {claimant.id: MemberRole.OWNER}


def test_agency_approval_where_an_owner_exists_makes_a_member(client, auth, db):
    organisation = OrganisationFactory(status=OrganisationStatus.UNVERIFIED)
    owner = MembershipFactory(organisation=organisation).user
    claimant = HolderFactory()
    request = _pending(db, organisation, claimant, AccessRequestAddressee.AGENCY)
    as_user(client, auth, StaffFactory())
    agency_decide(client, request, "approve")
    assert members_of(db, organisation) == {
        owner.id: MemberRole.OWNER,
        claimant.id: MemberRole.MEMBER,
    }


def test_agency_refusal_needs_a_reason(client, auth, db):
    organisation = OrganisationFactory()
    claimant = HolderFactory()
    request = _pending(db, organisation, claimant, AccessRequestAddressee.AGENCY)
    as_user(client, auth, StaffFactory())
    response = agency_decide(client, request, "refuse")
    assert response.status_code == 200
    assert "Give the reason for refusing" in response.get_data(as_text=True)
    assert requests_for(db, organisation)[0].status is AccessRequestStatus.PENDING
    followed(client, agency_decide(client, request, "refuse", "No proof of authority."))
    [request] = requests_for(db, organisation)
    assert request.status is AccessRequestStatus.REFUSED
    assert members_of(db, organisation) == {}
    [told] = notifications_of(db, claimant, "organisation.access_decided")
    assert "No proof of authority." in told.body


def test_the_agency_queue_holds_only_requests_addressed_to_the_agency(client, auth, db, claimed):
    _pending(db, claimed["organisation"], claimed["claimant"], AccessRequestAddressee.OWNERS)
    owners_request = requests_for(db, claimed["organisation"])[0]
    as_user(client, auth, StaffFactory())
    page = client.get("/agency/access-requests").get_data(as_text=True)
    assert "Cholpon Claimant" not in page
    assert agency_decide(client, owners_request, "approve").status_code == 404
    assert requests_for(db, claimed["organisation"])[0].status is AccessRequestStatus.PENDING


def test_holders_get_403_on_the_agency_queue(client, auth, db, claimed):
    organisation = OrganisationFactory()
    request = _pending(db, organisation, claimed["claimant"], AccessRequestAddressee.AGENCY)
    as_user(client, auth, claimed["owner"])
    assert client.get("/agency/access-requests").status_code == 403
    assert agency_decide(client, request, "approve").status_code == 403
    assert members_of(db, organisation) == {}


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.ADMIN])
def test_staff_get_403_on_the_holders_access_pages(client, auth, db, claimed, role):
    organisation = claimed["organisation"]
    as_user(client, auth, StaffFactory(role=role))
    assert open_claim(client, organisation.tin).status_code == 403
    assert client.get(f"/organisation/{organisation.id}/access-requests").status_code == 403


def test_posts_without_a_csrf_token_are_refused(client, auth, db, claimed):
    organisation = claimed["organisation"]
    as_user(client, auth, claimed["claimant"])
    claim(client, organisation.tin)
    response = client.post("/organisation/request-access", data={})
    assert response.status_code == 400
    assert requests_for(db, organisation) == []

    request = _pending(db, organisation, claimed["claimant"], AccessRequestAddressee.OWNERS)
    as_user(client, auth, claimed["owner"])
    response = client.post(decide_url(organisation, request), data={"decision": "approve"})
    assert response.status_code == 400
    agency_request = _pending(db, OrganisationFactory(), claimed["claimant"], "agency")
    as_user(client, auth, StaffFactory())
    response = client.post(
        f"/agency/access-requests/{agency_request.id}/decide", data={"decision": "approve"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(AccessRequest, request.id).status is AccessRequestStatus.PENDING
    assert db.session.get(AccessRequest, agency_request.id).status is AccessRequestStatus.PENDING


def test_trying_one_tin_after_another_is_throttled(app, client, auth, db, monkeypatch):
    """Entering TINs on "Register an organisation" would tell who is registered."""
    monkeypatch.setitem(app.config, "RATE_LIMIT_REQUEST_ACCESS", "3 per hour")
    as_user(client, auth, HolderFactory())
    statuses = [
        client.post_form("/organisation/new", {"tin": f"9999999999999{digit}"}).status_code
        for digit in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # The count is the user's own: another holder is not slowed down.
    as_user(client, auth, HolderFactory())
    assert client.post_form("/organisation/new", {"tin": "99999999999990"}).status_code == 200


def test_without_an_entered_tin_the_page_says_there_is_nothing_to_ask_for(client, auth, db):
    as_user(client, auth, HolderFactory())
    assert client.get("/organisation/request-access").status_code == 404
    assert client.get("/organisation/request-access?tin=01234567890123").status_code == 404


def test_opening_the_agency_queue_is_logged(client, auth, db):
    from register.models import ActivityEntry
    from tests.factories import AccessRequestFactory

    AccessRequestFactory()
    inspector = StaffFactory()
    auth.login(inspector)
    assert client.get("/agency/access-requests").status_code == 200
    entries = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "agency.access_requests_viewed")
    ).all()
    assert [entry.actor_id for entry in entries] == [inspector.id]
