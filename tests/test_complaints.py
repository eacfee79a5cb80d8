"""Complaints from the public: the form at /complaints/new without an account (the holder found
by a server-side search of the register, or named), the receipt and the secret link, the rate
limit, bad input; the agency's triage (every legal and illegal move), its list and the outcome
told through the link and by e-mail."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from register.crypto import fields as crypto_fields
from register.extensions import db
from register.models import (
    ActivityEntry,
    Complaint,
    ComplaintStatus,
    Notification,
    Organisation,
    Role,
)
from register.services import breaches, complaints
from tests.factories import MembershipFactory, StaffFactory
from tests.support.clock import FrozenClock, bishkek
from tests.support.registry import published

NOW = bishkek(2026, 11, 24, 10, 0)  # a Tuesday


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, NOW)


@pytest.fixture
def english(client: Any) -> Any:
    with client.session_transaction() as session:
        session["lang"] = "en"
    return client


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def error_beside(page: str, field: str) -> str:
    found = re.search(rf'id="{field}-error" class="error-message">(.*?)</p>', page, re.S)
    assert found, f"no error beside {field}"
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("Error:", "").strip()


def answers(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "holder_query": "",
        "holder": "unregistered",
        "processor_name": "Ak-Tash Fitness Club",
        "processor_tin": "",
        "what_happened": "The club posted my passport scan in its public chat.",
        "complainant_name": "Nurlan Complainant",
        "complainant_email": "nurlan@example.kg",
        "complainant_phone": "0555 123 456",
        "consents_to_contact": "y",
        "action": "submit",
    }
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def complaints_in_db() -> list[Complaint]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Complaint)))


def file(client: Any, **changes: Any) -> tuple[str, str]:
    """File a complaint through the form; the receipt number and the secret link's path."""
    response = client.post_form("/complaints/new", answers(**changes))
    assert response.status_code == 302, text(response)[:2000]
    assert response.headers["Location"] == "/complaints/received"
    receipt = text(client.get("/complaints/received"))
    number = re.search(r'id="receipt-number">([^<]+)<', receipt).group(1)
    link = re.search(r'id="status-link"[^>]*>([^<]+)<', receipt).group(1)
    return number, urlsplit(link).path + "?" + urlsplit(link).query


# -- the form --------------------------------------------------------------------------------------


def test_the_holder_is_found_in_the_register_without_javascript(english, clock):
    clinic = published("Salamat Clinic LLC")
    published("Another Company LLC")
    typed = answers(holder_query="salamat", holder=None, what_happened="Kept while searching")
    page = text(english.post_form("/complaints/new", {**typed, "action": "search"}))
    assert "Salamat Clinic LLC" in page and clinic.registration_number in page
    assert "Another Company LLC" not in page
    assert "Kept while searching" in page  # the rest of the form is kept
    assert 'id="holder-error"' not in page  # a search is not a submission
    by_number = text(
        english.post_form(
            "/complaints/new",
            {**typed, "holder_query": clinic.registration_number, "action": "search"},
        )
    )
    assert "Salamat Clinic LLC" in by_number
    none = text(
        english.post_form("/complaints/new", {**typed, "holder_query": "zzzz", "action": "search"})
    )
    assert 'id="no-results"' in none
    assert complaints_in_db() == []

    number, _link = file(
        english, holder_query="salamat", holder=clinic.registration_number, processor_name=""
    )
    [complaint] = complaints_in_db()
    assert complaint.organisation_id == clinic.organisation_id
    assert complaint.registration_number == clinic.registration_number
    assert complaint.processor_name is None
    assert complaint.receipt_number == number and re.fullmatch(r"C-[2-9A-Z]{4}-[2-9A-Z]{4}", number)
    # From an entry's page, the holder comes chosen.
    chosen = text(english.get(f"/complaints/new?holder={clinic.registration_number}"))
    assert re.search(rf'<input checked[^>]*value="{clinic.registration_number}"', chosen)


def test_an_unregistered_processor_is_named_with_its_tin(english, clock):
    bad = english.post_form("/complaints/new", answers(processor_tin="12345"))
    assert bad.status_code == 422
    assert "14 digits" in error_beside(text(bad), "processor_tin")
    file(english, processor_tin="01234567890123")
    [complaint] = complaints_in_db()
    assert complaint.organisation_id is None
    assert (complaint.processor_name, complaint.processor_tin) == (
        "Ak-Tash Fitness Club",
        "01234567890123",
    )
    assert complaint.status is ComplaintStatus.RECEIVED
    # Ten working days from Tuesday 24 November: Tuesday 8 December, ends at midnight.
    assert complaint.due_at == bishkek(2026, 12, 9)


def test_bad_input_is_shown_beside_each_field_kept_and_nothing_is_saved(english, clock, caplog):
    caplog.set_level(logging.INFO, logger="register.complaints")
    response = english.post_form(
        "/complaints/new",
        answers(
            holder="",
            processor_name="Typed Name Kept",
            what_happened="",
            complainant_name="",
            complainant_email="not-an-address",
            complainant_phone="12",
        ),
    )
    page = text(response)
    assert response.status_code == 422
    assert "Find the organisation and choose it" in error_beside(page, "holder")
    assert error_beside(page, "what_happened") == "Describe what happened"
    assert error_beside(page, "complainant_name") == "Enter your name"
    assert "e-mail address" in error_beside(page, "complainant_email")
    assert "phone number" in error_beside(page, "complainant_phone")
    assert 'value="Typed Name Kept"' in page and 'value="not-an-address"' in page
    assert complaints_in_db() == []
    assert any("complaint refused" in record.getMessage() for record in caplog.records)
    assert not any("Typed Name" in record.getMessage() for record in caplog.records)

    unknown = english.post_form("/complaints/new", answers(holder="PDH-2026-999999"))
    assert unknown.status_code == 422
    assert error_beside(text(unknown), "holder") == "Choose the holder from the search results"
    nameless = english.post_form("/complaints/new", answers(processor_name=""))
    assert "Enter the name of the organisation" in error_beside(text(nameless), "processor_name")
    no_contact = english.post_form(
        "/complaints/new", answers(complainant_email="", complainant_phone="")
    )
    assert "so that we can contact you" in error_beside(text(no_contact), "complainant_email")
    assert complaints_in_db() == []


def test_the_contact_is_kept_only_with_consent(english, clock):
    file(english, consents_to_contact=None)
    [complaint] = complaints_in_db()
    assert complaint.consents_to_contact is False
    assert complaint.complainant_email is None and complaint.complainant_phone is None
    assert complaint.complainant_name == "Nurlan Complainant"


# -- the receipt and the secret link ---------------------------------------------------------------


def test_the_secret_link_shows_only_its_own_complaint_and_a_guess_is_404(
    english, clock, monkeypatch
):
    first_number, first_link = file(english)
    second_number, second_link = file(english, what_happened="Another story")
    assert first_link != second_link
    first, second = text(english.get(first_link)), text(english.get(second_link))
    assert first_number in first and second_number not in first
    assert second_number in second and first_number not in second
    assert "Received" in first

    token = parse_qs(urlsplit(first_link).query)["token"][0]
    assert len(token) >= 43  # 32 random bytes
    for guess in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:20],
        "",
        "x" * 5000,
        "токен",
    ):
        assert english.get("/complaints/status", query_string={"token": guess}).status_code == 404
    assert english.get("/complaints/status").status_code == 404
    assert english.get(f"/complaints/status?token={first_number}").status_code == 404

    # Only the token's hash is stored; the receipt is shown once.
    stored = {complaint.access_token_hash for complaint in complaints_in_db()}
    assert hashlib.sha256(token.encode()).hexdigest() in stored and token not in stored
    assert english.get("/complaints/received").headers["Location"] == "/complaints/new"

    # The page never decrypts: it still answers when no value could be decrypted.
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the complaint's page decrypted a value")

    monkeypatch.setattr(crypto_fields, "decrypt_bytes", refuse)
    page = english.get(first_link)
    assert page.status_code == 200 and first_number in text(page)
    assert "Nurlan" not in text(page) and "passport" not in text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_filing_is_rate_limited_per_address(make_app):
    app = make_app(RATE_LIMIT_COMPLAINT_IP="2 per minute")
    client = app.test_client()

    def post(address: str, **changes: Any) -> int:
        return client.post(
            "/complaints/new",
            data={**answers(**changes), "csrf_token": client.csrf_token()},
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    assert [post("203.0.113.5"), post("203.0.113.5")] == [302, 302]
    assert post("203.0.113.5") == 429
    assert post("203.0.113.5", action="search", holder_query="clinic") == 200  # searching is free
    assert post("198.51.100.9") == 302  # another address is not affected


# -- the agency's triage ---------------------------------------------------------------------------


def filed_complaint(**changes: Any) -> tuple[Complaint, str]:
    details = complaints.ComplaintDetails(
        what_happened="My data was sold.",
        complainant_name="Aizada Complainant",
        processor_name="Shady Data LLC",
        complainant_email="aizada@example.kg",
        consents_to_contact=True,
        locale="en",
    )
    for name, value in changes.items():
        setattr(details, name, value)
    complaint, token = complaints.file_complaint(details)
    db.session.commit()
    return complaint, token


def fresh(complaint: Complaint) -> Complaint:
    db.session.expire_all()
    found = db.session.get(Complaint, complaint.id)
    assert found is not None
    return found


@pytest.mark.parametrize("decision", ["upheld", "not_upheld", "inspection_requested"])
def test_every_legal_and_illegal_move(app, clock, decision):
    with app.test_request_context():
        inspector = StaffFactory(role=Role.INSPECTOR)
        other = StaffFactory(role=Role.INSPECTOR)
        supervisor = StaffFactory(role=Role.SUPERVISOR)
        admin = StaffFactory(role=Role.ADMIN)
        complaint, _token = filed_complaint()
        with pytest.raises(complaints.ComplaintError, match="Start assessing the complaint first"):
            complaints.decide(complaint, inspector, decision, "Grounds.", complaint.lock_version)
        with pytest.raises(complaints.ComplaintError, match="Only inspectors and supervisors"):
            complaints.start_assessment(complaint, admin, complaint.lock_version)
        complaints.start_assessment(complaint, inspector, complaint.lock_version)
        complaint = fresh(complaint)
        assert (complaint.status, complaint.assignee_id) == (
            ComplaintStatus.ASSESSING,
            inspector.id,
        )
        with pytest.raises(complaints.ComplaintError, match="the complaint is being assessed"):
            complaints.start_assessment(complaint, other, complaint.lock_version)
        with pytest.raises(complaints.ComplaintError, match="Only the staff member assessing"):
            complaints.decide(complaint, other, decision, "Grounds.", complaint.lock_version)
        with pytest.raises(complaints.ComplaintError, match="Choose a decision"):
            complaints.decide(complaint, inspector, "closed", "Grounds.", complaint.lock_version)
        with pytest.raises(complaints.ComplaintError, match="State the grounds"):
            complaints.decide(complaint, inspector, decision, " ", complaint.lock_version)
        decider = supervisor if decision == "inspection_requested" else inspector
        complaints.decide(
            complaint, decider, decision, "The grounds for you.", complaint.lock_version
        )
        complaint = fresh(complaint)
        assert complaint.status is complaints.DECISIONS[decision]
        assert (complaint.grounds, complaint.decided_by_id) == ("The grounds for you.", decider.id)
        label = str(complaints.STATUS_LABELS[complaint.status]).lower()
        for move in (
            lambda: complaints.start_assessment(complaint, supervisor, complaint.lock_version),
            lambda: complaints.decide(complaint, supervisor, "upheld", "x", complaint.lock_version),
        ):
            with pytest.raises(complaints.ComplaintError, match=f"the complaint is {label}"):
                move()
        actions = db.session.scalars(
            sa.select(ActivityEntry.action)
            .where(ActivityEntry.object_id == str(complaint.id))
            .order_by(ActivityEntry.seq)
        ).all()
        assert actions == [
            "complaint.filed",
            "complaint.assessing",
            f"complaint.{complaint.status.value}",
        ]


def test_the_outcome_is_told_through_the_link_and_by_email_with_consent(english, clock, app):
    with app.test_request_context():
        inspector = StaffFactory(role=Role.INSPECTOR)
        told, token = filed_complaint()
        silent, _silent_token = filed_complaint(consents_to_contact=False)
        for complaint in (told, silent):
            complaints.start_assessment(complaint, inspector, complaint.lock_version)
            complaints.decide(
                complaint,
                inspector,
                "upheld",
                "The holder must delete the data.",
                fresh(complaint).lock_version,
            )
        db.session.commit()
    page = text(english.get("/complaints/status", query_string={"token": token}))
    assert "Upheld" in page and "The holder must delete the data." in page
    mails = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "complaint.decided")
    ).all()
    assert len(mails) == 1  # only the complainant who agreed to be contacted
    [mail] = mails
    assert mail.recipient_id is None and mail.recipient_address == "aizada@example.kg"
    assert told.receipt_number in mail.subject and "upheld" in mail.body
    assert mail.sensitive  # e-mail only, body erased once sent
    assert token not in (mail.body + (mail.link or ""))


def test_the_agency_list_filters_and_runs_a_fixed_number_of_queries(
    client, auth, clock, query_counter
):
    inspector = StaffFactory(role=Role.INSPECTOR)
    auth.login(inspector)
    with client.session_transaction() as session:
        session["lang"] = "en"
    osh = published("Osh Market LLC", region="KG-O", sector="trade_retail")
    clock.set(NOW - timedelta(days=30))
    late, _ = filed_complaint(registration_number=osh.registration_number, processor_name=None)
    clock.set(NOW)
    unregistered, _ = filed_complaint()
    complaints.start_assessment(unregistered, inspector, unregistered.lock_version)
    db.session.commit()

    page = text(client.get("/agency/complaints"))
    assert "2 complaints" in page and "Osh Market LLC" in page and "Not in the register" in page
    assert "Overdue by" in page and "10 working days left" in page

    def receipts(query: str) -> set[str]:
        found = text(client.get(f"/agency/complaints?{query}"))
        return {c.receipt_number for c in (late, unregistered) if c.receipt_number in found}

    assert receipts("overdue=y") == {late.receipt_number}
    assert receipts("status=assessing") == {unregistered.receipt_number}
    assert receipts("region=KG-O") == {late.receipt_number}
    assert receipts("sector=trade_retail") == {late.receipt_number}
    assert receipts("holder=osh+market") == {late.receipt_number}
    assert receipts(f"holder={osh.registration_number}") == {late.receipt_number}
    assert receipts("status=bogus") == {late.receipt_number, unregistered.receipt_number}

    with query_counter() as few:
        client.get("/agency/complaints")
    for _ in range(4):
        filed_complaint(registration_number=osh.registration_number, processor_name=None)
    with query_counter() as many:
        assert "6 complaints" in text(client.get("/agency/complaints"))
    assert len(many) == len(few)


def test_opening_a_complaint_is_logged_and_the_decision_needs_grounds(client, auth, clock):
    inspector = StaffFactory(role=Role.INSPECTOR)
    auth.login(inspector)
    complaint, _ = filed_complaint()
    page = text(client.get(f"/agency/complaints/{complaint.id}"))
    assert "Aizada Complainant" in page and "aizada@example.kg" in page and "Shady Data LLC" in page
    opened = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "complaint.opened")
    ).all()
    assert [(entry.actor_id, entry.object_id) for entry in opened] == [
        (inspector.id, str(complaint.id))
    ]

    base = f"/agency/complaints/{complaint.id}"
    early = client.post_form(
        f"{base}/decide",
        {"decision": "upheld", "grounds": "Too soon.", "lock_version": complaint.lock_version},
    )
    assert early.status_code == 409 and "Start assessing the complaint first" in text(early)
    assert "Too soon." in text(early)  # what was typed is kept
    assert (
        client.post_form(f"{base}/assess", {"lock_version": complaint.lock_version}).status_code
        == 302
    )
    complaint = fresh(complaint)
    empty = client.post_form(
        f"{base}/decide",
        {"decision": "upheld", "grounds": "", "lock_version": complaint.lock_version},
    )
    assert empty.status_code == 422 and 'id="grounds-error"' in text(empty)
    assert fresh(complaint).status is ComplaintStatus.ASSESSING
    done = client.post_form(
        f"{base}/decide",
        {
            "decision": "not_upheld",
            "grounds": "No evidence.",
            "lock_version": complaint.lock_version,
        },
    )
    assert done.status_code == 302
    assert fresh(complaint).status is ComplaintStatus.NOT_UPHELD


@pytest.mark.parametrize(
    "changes",
    [
        {"holder": "PDH-2026-\x00", "holder_query": "x" * 500},
        {"holder": "ü" * 50, "processor_tin": "0" * 40},
        {"what_happened": "y" * 9000, "complainant_name": "\x00\x01"},
        {"holder": ["", "unregistered"], "consents_to_contact": "maybe", "complainant_phone": "+"},
    ],
)
def test_odd_input_is_refused_beside_the_field_never_a_server_error(english, clock, changes):
    response = english.post_form("/complaints/new", answers(**changes))
    assert response.status_code == 422
    assert 'class="error-message"' in text(response)
    assert complaints_in_db() == []


def test_the_holders_file_lists_its_breach_reports_and_complaints(client, auth, clock):
    auth.login(StaffFactory(role=Role.INSPECTOR))
    entry = published("Filed Holder LLC")
    about, _token = filed_complaint(registration_number=entry.registration_number)
    elsewhere, _other = filed_complaint()
    owner = MembershipFactory(organisation=db.session.get(Organisation, entry.organisation_id))
    detected = clock.now - timedelta(hours=2)
    report = breaches.file_report(
        owner.organisation,
        owner.user,
        breaches.BreachDetails(
            occurred_at=detected,
            detected_at=detected,
            nature_codes=["integrity"],
            description="Records altered.",
            contact_name="Someone",
            contact_phone="0312 123 456",
        ),
    )
    db.session.commit()
    page = text(client.get(f"/agency/organisations/{entry.organisation_id}"))
    assert about.receipt_number in page and elsewhere.receipt_number not in page
    assert f"/agency/breaches/{report.id}" in page
    assert "Aizada" not in page  # the list shows no complainant
