"""The agency's review: the queue, claiming and assigning, reasoned decisions, four eyes, the
review clock, registration numbers, the register entry, its status, and stale forms.

Declarations are submitted through the holder's service; the agency acts through its pages,
so each test reads what an inspector or a supervisor would see.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import (
    ActivityEntry,
    Certificate,
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    EntryStatus,
    Notification,
    OrganisationStatus,
    PersonKind,
    RegisterEntryVersion,
    ReviewComment,
    Role,
)
from register.services import declarations, register_entries, review
from tests.factories import (
    ArrayFactory,
    DocumentFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    StaffFactory,
)

DAY = timedelta(days=1)


# -- helpers ------------------------------------------------------------------------------------


def holder_organisation(**organisation: Any) -> tuple[Any, Any]:
    """An owner and an organisation whose registration is complete (one plain array)."""
    membership = MembershipFactory(organisation=OrganisationFactory(**organisation))
    user, found = membership.user, membership.organisation
    PersonFactory(organisation=found, kind=PersonKind.HEAD, pin=None, phone=None, email=None)
    PersonFactory(organisation=found, full_name="Aida Responsible")
    DocumentFactory(organisation=found, uploaded_by_id=user.id)
    ArrayFactory(organisation=found, name="Personnel files")
    db.session.expire(found, ["people"])
    return user, found


def submitted(high_risk: bool = False, **organisation: Any) -> Declaration:
    """A submitted initial declaration (high risk: an array with a health data item)."""
    user, found = holder_organisation(**organisation)
    if high_risk:
        ArrayFactory(
            organisation=found,
            name="Patients",
            data_item_codes=["full_name", "health"],
            legal_basis_codes=["medical_purposes"],
        )
    return declarations.submit(found, user)


def as_staff(auth: Any, role: Role = Role.INSPECTOR, **values: Any) -> Any:
    staff = StaffFactory(role=role, **values)
    auth.login(staff)
    with auth.client.session_transaction() as session:
        session["lang"] = "en"
    return staff


def page_url(declaration: Declaration, action: str = "") -> str:
    return f"/agency/declarations/{declaration.id}" + (f"/{action}" if action else "")


def claim(client: Any, declaration: Declaration) -> Any:
    return client.post_form(
        page_url(declaration, "claim"), {"lock_version": declaration.lock_version}
    )


def decide(client: Any, declaration: Declaration, decision: str, **fields: Any) -> Any:
    data = {
        "decision": decision,
        "grounds": fields.pop("grounds", "The declaration is complete and lawful."),
        "lock_version": fields.pop("lock_version", declaration.lock_version),
        **fields,
    }
    return client.post_form(page_url(declaration, "decide"), data)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def fresh(declaration: Declaration) -> Declaration:
    db.session.expire_all()
    found = db.session.get(Declaration, declaration.id)
    assert found is not None
    return found


def notices(organisation_id: Any, kind: str) -> list[Notification]:
    members = declarations.members_of(db.session.get(declarations.Organisation, organisation_id))
    ids = [membership.user_id for membership in members]
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.recipient_id.in_(ids), Notification.kind == kind
            )
        )
    )


def actions(action: str) -> list[ActivityEntry]:
    return list(db.session.scalars(sa.select(ActivityEntry).where(ActivityEntry.action == action)))


# -- the queue ----------------------------------------------------------------------------------


def test_the_queue_shows_age_deadline_and_reviewer_and_filters(client, auth, query_counter):
    inspector = as_staff(auth)
    plain = submitted(legal_name="Plain Company LLC")
    risky = submitted(high_risk=True, legal_name="Risky Clinic LLC", region_code="KG-O")
    plain.created_at = utcnow() - 12 * DAY
    plain.due_at = utcnow() - 2 * DAY  # overdue
    risky.assignee_id = inspector.id
    risky.status = DeclarationStatus.IN_REVIEW
    db.session.flush()

    page = text(client.get("/agency/declarations"))
    assert "2 declarations" in page
    assert page.index("Plain Company LLC") < page.index("Risky Clinic LLC")  # oldest first
    assert "12 days" in page and "Overdue by 2 days" in page and "High risk" in page
    assert "30 days left" in page or "29 days left" in page

    def names(query: str) -> set[str]:
        found = text(client.get(f"/agency/declarations?{query}"))
        return {name for name in ("Plain Company LLC", "Risky Clinic LLC") if name in found}

    assert names("high_risk=yes") == {"Risky Clinic LLC"}
    assert names("high_risk=no") == {"Plain Company LLC"}
    assert names("assignee=me") == {"Risky Clinic LLC"}
    assert names("assignee=nobody") == {"Plain Company LLC"}
    assert names("overdue=y") == {"Plain Company LLC"}
    assert names("region=KG-O") == {"Risky Clinic LLC"}
    assert names("status=in_review") == {"Risky Clinic LLC"}
    assert names("kind=amendment") == set()
    assert names("sector=it") == {"Plain Company LLC", "Risky Clinic LLC"}
    assert names("region=XX-nowhere&status=nonsense") == {"Plain Company LLC", "Risky Clinic LLC"}
    newest = text(client.get("/agency/declarations?sort=newest"))
    assert newest.index("Risky Clinic LLC") < newest.index("Plain Company LLC")

    with query_counter() as few:
        client.get("/agency/declarations")
    for _ in range(5):
        submitted()
    with query_counter() as many:
        assert "7 declarations" in text(client.get("/agency/declarations"))
    assert len(many) == len(few)  # no query per row


def test_the_queue_is_paginated(client, auth):
    as_staff(auth)
    for _ in range(review.PAGE_SIZE + 2):
        submitted()
    first, second = client.get("/agency/declarations"), client.get("/agency/declarations?page=2")
    assert "Page 1 of 2" in text(first)
    assert text(second).count('data-declaration="') == 2


# -- claiming and assigning ---------------------------------------------------------------------


def test_an_inspector_claims_and_a_second_cannot_take_it(client, auth):
    declaration = submitted()
    first = as_staff(auth)
    response = claim(client, declaration)
    assert response.status_code == 302
    found = fresh(declaration)
    assert (found.status, found.assignee_id) == (DeclarationStatus.IN_REVIEW, first.id)

    as_staff(auth)
    response = claim(client, found)
    assert response.status_code == 409
    assert "Someone else already reviews this declaration." in text(response)
    assert fresh(declaration).assignee_id == first.id


def test_a_supervisor_assigns_work(client, auth):
    declaration = submitted()
    inspector = StaffFactory(full_name="Nurlan Inspector")
    as_staff(auth, Role.SUPERVISOR)
    response = client.post_form(
        page_url(declaration, "assign"),
        {"assignee": str(inspector.id), "lock_version": declaration.lock_version},
    )
    assert response.status_code == 302
    found = fresh(declaration)
    assert (found.status, found.assignee_id) == (DeclarationStatus.IN_REVIEW, inspector.id)
    holder = StaffFactory(role=Role.ADMIN)
    response = client.post_form(
        page_url(found, "assign"), {"assignee": str(holder.id), "lock_version": found.lock_version}
    )
    assert response.status_code == 422
    assert "Choose a reviewer from the list" in text(response)


# -- the review page ----------------------------------------------------------------------------


def test_the_review_page_shows_confidential_fields_and_logs_the_opening(client, auth):
    declaration = submitted()
    inspector = as_staff(auth)
    page = text(client.get(page_url(declaration)))
    assert "Aida Responsible" in page and "21505199012345" in page  # confidential, for staff
    assert "1C: Salary and HR" in page
    assert "Nothing is published yet" in page
    [opened] = actions("declaration.opened")
    assert opened.actor_id == inspector.id and opened.object_id == str(declaration.id)
    assert "21505199012345" not in str(opened.details)


def test_a_draft_or_missing_declaration_is_not_found(client, auth):
    as_staff(auth)
    declaration = submitted()
    declaration.status = DeclarationStatus.DRAFT
    db.session.flush()
    assert client.get(page_url(declaration)).status_code == 404
    assert decide(client, declaration, "approve").status_code == 404


# -- decisions ----------------------------------------------------------------------------------


def test_approval_publishes_numbers_verifies_and_certifies(client, auth):
    declaration = submitted()
    organisation = declaration.organisation
    as_staff(auth)
    claim(client, declaration)
    response = decide(client, fresh(declaration), "approve")
    assert response.status_code == 302
    found = fresh(declaration)
    assert found.status is DeclarationStatus.APPROVED and found.decided_at is not None
    assert found.due_at is None
    version = found.latest_version
    assert version.published_at is not None
    entry = register_entries.entry_of(organisation.id)
    year = utcnow().astimezone(register_entries.ZoneInfo("Asia/Bishkek")).year
    assert re.fullmatch(rf"PDH-{year}-\d{{6}}", entry.registration_number)
    assert entry.status is EntryStatus.REGISTERED and entry.version_number == version.number
    assert entry.legal_name == organisation.legal_name and entry.tin == organisation.public_tin
    assert db.session.get(type(organisation), organisation.id).status is OrganisationStatus.VERIFIED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
    [notice] = notices(organisation.id, "declaration.approved")
    assert entry.registration_number in notice.body
    assert actions("register.published")


def test_illegal_moves_are_refused_with_a_clear_message(client, auth):
    declaration = submitted()
    as_staff(auth)
    # Not claimed: nobody may decide yet (the decisions are not offered).
    response = decide(client, declaration, "approve")
    assert response.status_code == 409 and "You cannot decide on this declaration now." in text(
        response
    )
    claim(client, declaration)
    found = fresh(declaration)
    read_at = found.lock_version
    assert decide(client, found, "approve").status_code == 302
    # Deciding twice, from the fresh page: the declaration is approved, nothing is offered.
    approved = fresh(declaration)
    response = decide(client, approved, "reject", article="Article 8")
    assert response.status_code == 409
    assert "You cannot decide on this declaration now." in text(response)
    # …and from the stale page: who changed it and when.
    response = decide(client, approved, "reject", article="Article 8", lock_version=read_at)
    assert response.status_code == 409
    assert "This declaration was changed by" in text(response)
    assert fresh(declaration).status is DeclarationStatus.APPROVED


def test_an_inspector_decides_only_what_is_assigned_to_them(client, auth):
    declaration = submitted()
    other = StaffFactory()
    declaration.status, declaration.assignee_id = DeclarationStatus.IN_REVIEW, other.id
    db.session.flush()
    as_staff(auth)
    response = decide(client, declaration, "approve")
    assert response.status_code == 409
    assert fresh(declaration).status is DeclarationStatus.IN_REVIEW
    as_staff(auth, Role.SUPERVISOR)  # a supervisor decides anything in review
    assert decide(client, fresh(declaration), "approve").status_code == 302


def test_request_changes_needs_comments_on_fields_and_stops_the_clock(client, auth):
    declaration = submitted()
    array_id = str(
        declaration.organisation
        and declaration.latest_version.public_snapshot["arrays"].popitem()[0]
    )
    declaration = fresh(declaration)
    as_staff(auth)
    claim(client, declaration)
    declaration = fresh(declaration)
    declaration.due_at = utcnow() + 20 * DAY  # ten days of the thirty already used
    db.session.flush()

    response = decide(client, declaration, "request_changes", grounds="Incomplete.")
    page = text(response)
    assert response.status_code == 422
    assert "Name the article of the law the decision rests on" in page
    assert "Write at least one comment on a field or an array" in page
    assert "Incomplete." in page  # what was typed is kept
    assert fresh(declaration).status is DeclarationStatus.IN_REVIEW

    response = decide(
        client,
        fresh(declaration),
        "request_changes",
        grounds="The retention period has no legal ground.",
        article="Article 8 of the Law",
        **{
            "comments-0-path": f"arrays/{array_id}/retention",
            "comments-0-body": "Give the legal ground for 75 years.",
            "comments-1-path": "organisation/legal_address",
            "comments-1-body": "Differs from the state register.",
            "comments-2-path": f"arrays/{array_id}",
            "comments-2-body": "Split this array by purpose.",
        },
    )
    assert response.status_code == 302
    found = fresh(declaration)
    assert found.status is DeclarationStatus.CHANGES_REQUESTED
    assert found.due_at is None
    assert abs(found.review_seconds_used - 10 * 86400) < 120
    assert sorted(comment.path for comment in found.comments) == sorted(
        [f"arrays/{array_id}/retention", "organisation/legal_address", f"arrays/{array_id}"]
    )
    assert notices(found.organisation_id, "declaration.changes_requested")

    # The holder takes as long as it takes; resubmitting restarts the clock with 20 days left.
    membership = declarations.members_of(found.organisation)[0]
    declarations.submit(found.organisation, membership.user)
    resubmitted = fresh(declaration)
    assert resubmitted.status is DeclarationStatus.SUBMITTED
    left = resubmitted.due_at - utcnow()
    assert 20 * DAY - timedelta(minutes=2) < left <= 20 * DAY
    assert resubmitted.assignee_id is not None  # back to the same reviewer


def test_a_comment_on_an_unknown_field_is_refused(client, auth):
    declaration = submitted()
    as_staff(auth)
    claim(client, declaration)
    response = decide(
        client,
        fresh(declaration),
        "request_changes",
        article="Article 8",
        **{"comments-0-path": "organisation/nonsense", "comments-0-body": "?"},
    )
    assert response.status_code == 422
    assert "Choose the field or array this comment is about" in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewComment)) == 0


def test_a_refusal_states_grounds_article_and_how_to_appeal(client, auth):
    declaration = submitted()
    as_staff(auth)
    claim(client, declaration)
    response = decide(client, fresh(declaration), "reject", grounds="No legal basis.")
    assert response.status_code == 422 and "Name the article" in text(response)
    response = decide(
        client, fresh(declaration), "reject", grounds="No legal basis.", article="Article 5"
    )
    assert response.status_code == 302
    found = fresh(declaration)
    assert found.status is DeclarationStatus.REJECTED and found.decided_at is not None
    note = found.events[-1].note
    assert "No legal basis." in note and "Article 5" in note and "How to appeal" in note
    [notice] = notices(found.organisation_id, "declaration.rejected")
    assert "How to appeal" in notice.body and "Article 5" in notice.body
    assert register_entries.entry_of(found.organisation_id) is None


def test_four_eyes_on_a_high_risk_declaration(client, auth):
    declaration = submitted(high_risk=True)
    assert declaration.high_risk
    approver = as_staff(auth, Role.SUPERVISOR)
    claim(client, declaration)
    assert decide(client, fresh(declaration), "approve").status_code == 302
    waiting = fresh(declaration)
    assert waiting.status is DeclarationStatus.AWAITING_SIGN_OFF
    assert waiting.approved_by_id == approver.id
    assert register_entries.entry_of(waiting.organisation_id) is None

    # The approver cannot sign off their own approval.
    response = decide(client, waiting, "sign_off")
    assert response.status_code == 422
    assert fresh(declaration).status is DeclarationStatus.AWAITING_SIGN_OFF
    with pytest.raises(review.ReviewError, match="another supervisor must sign it off"):
        review.sign_off(waiting, approver, grounds="x", expected_lock_version=waiting.lock_version)
    # An inspector cannot sign off at all.
    inspector = as_staff(auth, Role.INSPECTOR)
    assert decide(client, waiting, "sign_off").status_code == 409
    with pytest.raises(review.ReviewError):
        review.sign_off(waiting, inspector, grounds="x", expected_lock_version=waiting.lock_version)
    # Another supervisor signs off: published.
    second = as_staff(auth, Role.SUPERVISOR)
    page = text(client.get(page_url(waiting)))
    assert "Sign off the approval" in page
    assert (
        decide(client, fresh(declaration), "sign_off", grounds="Checked again.").status_code == 302
    )
    done = fresh(declaration)
    assert done.status is DeclarationStatus.APPROVED
    assert done.events[-1].actor_id == second.id
    assert register_entries.entry_of(done.organisation_id) is not None


def test_a_supervisor_sends_an_approval_back_to_review(client, auth):
    declaration = submitted(high_risk=True)
    as_staff(auth, Role.SUPERVISOR)
    claim(client, declaration)
    decide(client, fresh(declaration), "approve")
    as_staff(auth, Role.SUPERVISOR)
    response = decide(client, fresh(declaration), "return", grounds="Check the transfers.")
    assert response.status_code == 302
    found = fresh(declaration)
    assert found.status is DeclarationStatus.IN_REVIEW and found.approved_by_id is None
    for kind in ("declaration.in_review", "declaration.approved_pending_sign_off"):
        assert len(notices(found.organisation_id, kind)) == 1, kind
    assert len(notices(found.organisation_id, "declaration.returned_to_review")) == 1


def test_a_stale_decision_is_refused_naming_who_acted_and_keeps_the_text(client, auth):
    declaration = submitted()
    first = StaffFactory(role=Role.SUPERVISOR, full_name="Gulnara Supervisor")
    as_staff(auth, Role.SUPERVISOR)
    claim(client, declaration)
    read_at = fresh(declaration).lock_version
    # Meanwhile another supervisor approves.
    found = fresh(declaration)
    review.approve(found, first, grounds="Fine.", expected_lock_version=read_at)
    db.session.flush()
    response = decide(
        client,
        found,
        "request_changes",
        lock_version=read_at,
        grounds="My carefully typed grounds",
        article="Article 8",
        **{"comments-0-path": "organisation/legal_address", "comments-0-body": "My comment text"},
    )
    page = text(response)
    assert response.status_code == 409
    assert "This declaration was changed by Gulnara Supervisor on" in page
    assert "My carefully typed grounds" in page and "My comment text" in page
    assert fresh(declaration).status is DeclarationStatus.APPROVED


# -- amendments, versions, terminations, entry status ------------------------------------------


def approve_now(declaration: Declaration, supervisor: Any) -> None:
    review.claim(declaration, supervisor, declaration.lock_version)
    review.approve(
        declaration, supervisor, grounds="OK", expected_lock_version=declaration.lock_version
    )
    if declaration.status is DeclarationStatus.AWAITING_SIGN_OFF:
        other = StaffFactory(role=Role.SUPERVISOR)
        review.sign_off(
            declaration, other, grounds="OK", expected_lock_version=declaration.lock_version
        )
    db.session.flush()


def test_an_amendment_publishes_version_two_and_keeps_version_one(db):
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    first = submitted()
    organisation = first.organisation
    approve_now(first, supervisor)
    entry = register_entries.entry_of(organisation.id)
    number = entry.registration_number
    organisation.legal_name = "Renamed Company LLC"
    owner = declarations.members_of(organisation)[0].user
    amendment = declarations.submit(organisation, owner)
    assert amendment.kind is DeclarationKind.AMENDMENT
    approve_now(amendment, supervisor)
    db.session.refresh(entry)
    assert entry.registration_number == number  # the number stays
    assert (entry.version_number, entry.legal_name) == (2, "Renamed Company LLC")
    history = db.session.scalars(
        sa.select(RegisterEntryVersion)
        .where(RegisterEntryVersion.entry_id == entry.id)
        .order_by(RegisterEntryVersion.number)
    ).all()
    assert [version.number for version in history] == [1, 2]
    assert history[0].public_snapshot["organisation"]["legal_name"] != "Renamed Company LLC"
    assert "renamed" in entry.search_text


def test_an_approved_termination_notice_strikes_the_entry_off(db):
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    first = submitted()
    organisation = first.organisation
    approve_now(first, supervisor)
    owner = declarations.members_of(organisation)[0].user
    notice = declarations.start_termination(organisation, owner, "We closed the shop.")
    approve_now(notice, supervisor)
    entry = register_entries.entry_of(organisation.id)
    assert entry.status is EntryStatus.STRUCK_OFF and entry.version_number == 1
    assert len(notices(organisation.id, "declaration.approved")) == 2  # registration, ending
    assert notices(organisation.id, "register.struck_off") == []  # told once, not twice
    [event] = register_entries.entry_events(entry)
    assert (event.to_status, event.declaration_id) == ("struck_off", notice.id)


def test_supervisors_suspend_reinstate_and_strike_off_with_grounds(client, auth):
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    declaration = submitted()
    approve_now(declaration, supervisor)
    organisation_id = declaration.organisation_id
    url = f"/agency/organisations/{organisation_id}/entry-status"
    as_staff(auth, Role.SUPERVISOR)

    response = client.post_form(url, {"action": "suspend", "grounds": ""})
    assert response.status_code == 422 and "State the grounds for the decision" in text(response)
    response = client.post_form(url, {"action": "reinstate", "grounds": "Why not"})
    assert response.status_code == 422 and "Choose what to do with the entry" in text(response)
    for action, status in (
        ("suspend", EntryStatus.SUSPENDED),
        ("reinstate", EntryStatus.REGISTERED),
        ("strike_off", EntryStatus.STRUCK_OFF),
    ):
        response = client.post_form(url, {"action": action, "grounds": f"Grounds to {action}"})
        assert response.status_code == 302, text(response)
        db.session.expire_all()
        assert register_entries.entry_of(organisation_id).status is status
    entry = register_entries.entry_of(organisation_id)
    assert [event.grounds for event in register_entries.entry_events(entry)] == [
        "Grounds to suspend",
        "Grounds to reinstate",
        "Grounds to strike_off",
    ]
    with pytest.raises(register_entries.EntryError):
        register_entries.change_status(entry, "reinstate", supervisor, "Too late")
    told = sorted(notice.kind for notice in notices(organisation_id, "register.suspended"))
    assert told == ["register.suspended"]
    [struck] = notices(organisation_id, "register.struck_off")
    assert "Grounds to strike_off" in struck.body
    page = text(client.get(f"/agency/organisations/{organisation_id}"))
    assert "Grounds to strike_off" in page


# -- registration numbers -----------------------------------------------------------------------


def test_numbers_run_per_year_in_the_agency_time_zone(app, db):
    with app.test_request_context():
        # 31 December 20:00 UTC is already 1 January in Bishkek (UTC+6).
        new_year = register_entries.next_registration_number(datetime(2030, 12, 31, 20, tzinfo=UTC))
        before = register_entries.next_registration_number(datetime(2030, 12, 31, 17, tzinfo=UTC))
        again = register_entries.next_registration_number(datetime(2031, 1, 5, tzinfo=UTC))
    assert (new_year, before, again) == ("PDH-2031-000001", "PDH-2030-000001", "PDH-2031-000002")


def test_the_prefix_is_configurable(make_app, db):
    other = make_app(REGISTRATION_NUMBER_PREFIX="KGZ")
    with other.test_request_context():
        assert register_entries.next_registration_number(
            datetime(2032, 6, 1, tzinfo=UTC)
        ).startswith("KGZ-2032-")


def test_the_review_page_has_one_decision_form_and_a_plain_title(client, auth):
    declaration = submitted()
    as_staff(auth, Role.SUPERVISOR)
    page = text(client.get(page_url(declaration)))
    title = page[page.index("<title>") : page.index("</title>")]
    assert "<" not in title[len("<title>") :] and declaration.organisation.legal_name in title
    assert page.count('id="decide"') == 0  # nobody claimed it: no decision yet
    claim(client, declaration)
    page = text(client.get(page_url(declaration)))
    assert page.count('id="decide"') == 1 and page.count('name="grounds"') == 1
    assert page.index('id="decide"') > page.index("The declaration</h2>")  # after reading
