"""Demo breach reports and complaints, made through the real services.

Breach reports: the medical centre reported a misdirected e-mail in time (the inspector is
assessing it and has asked a question); the bank reported a stolen laptop late, with its
reason, and completed the report with a follow-up. Complaints, one in each state: received,
being assessed (about an unregistered processor), upheld, not upheld, inspection requested.
The demo complaints have fixed secret links, so that the printed links keep working on a
development machine (the tokens are in this file: never use them outside the demo).
Idempotent: an organisation that has breach reports, and a complaint whose link exists, are
left alone.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from register.database import utcnow
from register.demo_declarations import BANK, CLINIC, SCHOOL, TELECOM
from register.extensions import db
from register.models import BreachReport, Complaint, User
from register.services import breaches, complaints, register_entries
from register.services.accounts import find_by_email
from register.services.organisations import find_by_tin


def _staff(email: str) -> User:
    user = find_by_email(email)
    if user is None:  # demo.seed creates the staff first
        raise RuntimeError(f"demo staff account {email} is missing")
    return user


def seed_breaches(holder: User | None) -> list[str]:
    """An on-time report being assessed, with a question; a late one with a follow-up."""
    if holder is None:
        return []
    inspector = _staff("inspector@demo.example")
    lines = ["Demo breach reports (sign in as the clerk, or as the inspector to triage them):"]
    clinic, bank = find_by_tin(CLINIC), find_by_tin(BANK)
    now = utcnow()
    if clinic is not None:
        if not _has_reports(clinic.id):
            detected = now - timedelta(hours=20)
            report = breaches.file_report(
                clinic,
                holder,
                breaches.BreachDetails(
                    occurred_at=detected - timedelta(hours=2),
                    detected_at=detected,
                    nature_codes=["confidentiality"],
                    description="A nurse e-mailed a list of 40 patients' test results to a "
                    "wrong outside address instead of the laboratory.",
                    data_item_codes=["full_name", "phone", "health"],
                    data_details="Names, phone numbers and blood test results",
                    subject_category_codes=["patients"],
                    subjects_affected=40,
                    records_affected=40,
                    consequences="Disclosure of health data to one outside person",
                    measures_taken="The recipient was asked to delete the e-mail and confirmed "
                    "it; outgoing e-mail to outside addresses now needs confirmation.",
                    contact_name="Gulnara Dzhaparova",
                    contact_phone="+996 312 55 44 33",
                    contact_email="dpo@densooluk.example.kg",
                ),
            )
            breaches.start_assessment(report, inspector, report.lock_version)
            breaches.ask_question(
                report,
                inspector,
                "Have the 40 patients been told, and how?",
                report.lock_version,
            )
        lines.append(f"  {clinic.short_name}: reported in time; being assessed, one question")
    if bank is not None:
        if not _has_reports(bank.id):
            detected = now - timedelta(days=5)
            report = breaches.file_report(
                bank,
                holder,
                breaches.BreachDetails(
                    occurred_at=detected - timedelta(hours=6),
                    detected_at=detected,
                    nature_codes=["confidentiality", "availability"],
                    description="A laptop of the loans department was stolen from an "
                    "employee's car. It held a copy of the loan applications of 2025.",
                    data_item_codes=["full_name", "pin", "passport", "financial"],
                    subject_category_codes=["customers"],
                    subjects_affected=2300,
                    consequences="Identity fraud with the customers' passport data",
                    measures_taken="Police informed; the laptop's accounts were blocked.",
                    contact_name="Ermek Sydykov",
                    contact_phone="+996 312 66 77 88",
                    contact_email="security@alatoo-bank.example.kg",
                    late_reason="The theft was reported to the security department only "
                    "four days later, when the employee came back from leave.",
                ),
            )
            breaches.add_follow_up(
                report,
                holder,
                breaches.FollowUpDetails(
                    information="The laptop's disk turned out not to be encrypted. The "
                    "customers concerned are being told by letter.",
                    subjects_affected=2150,
                ),
            )
        lines.append(f"  {bank.short_name}: reported late (with its reason), one follow-up")
    db.session.flush()
    return lines


def _has_reports(organisation_id: object) -> bool:
    return (
        db.session.scalar(
            sa.select(BreachReport.id).where(BreachReport.organisation_id == organisation_id)
        )
        is not None
    )


# Demo only: fixed secret links (anyone reading the source knows them).
DEMO_COMPLAINTS = [
    ("received", TELECOM, "demo-complaint-received-link-not-secret-00001"),
    ("assessing", None, "demo-complaint-assessing-link-not-secret-0002"),
    ("upheld", CLINIC, "demo-complaint-upheld-link-not-secret-000003"),
    ("not_upheld", SCHOOL, "demo-complaint-not-upheld-link-not-secret-04"),
    ("inspection_requested", BANK, "demo-complaint-inspection-link-not-secret-05"),
]
GROUNDS = {
    "upheld": "The clinic sent the complainant's test results to his employer without his "
    "consent. The clinic has been ordered to stop and to train its staff.",
    "not_upheld": "The school published the class list on its notice board inside the "
    "building, which the parents' consent covers; nothing was published online.",
    "inspection_requested": "Several complaints describe the same calls from debt "
    "collectors; an inspection of the bank's transfers of customer data is opened.",
}


def seed_complaints() -> list[str]:
    """A complaint in each state, with its (fixed, demo-only) secret link."""
    inspector = _staff("inspector@demo.example")
    supervisor = _staff("supervisor@demo.example")
    base = str(current_app.config["SERVICE_URL"]).rstrip("/")
    lines = ["Demo complaints (anyone can open these links; staff triage them):"]
    for state, tin, token in DEMO_COMPLAINTS:
        complaint = db.session.scalar(
            sa.select(Complaint).where(Complaint.access_token_hash == complaints.token_hash(token))
        )
        if complaint is None:
            complaint = _file(state, tin, token)
            if state != "received":
                complaints.start_assessment(complaint, inspector, complaint.lock_version)
            if state in GROUNDS:
                decider = supervisor if state == "inspection_requested" else inspector
                complaints.decide(complaint, decider, state, GROUNDS[state], complaint.lock_version)
        label = str(complaints.STATUS_LABELS[complaint.status]).lower()
        lines.append(
            f"  {complaint.receipt_number} ({label}): {base}/complaints/status?token={token}"
        )
    db.session.flush()
    return lines


def _file(state: str, tin: str | None, token: str) -> Complaint:
    organisation = find_by_tin(tin) if tin else None
    entry = register_entries.entry_of(organisation.id) if organisation is not None else None
    details = complaints.ComplaintDetails(
        what_happened={
            "received": "Since I ended my contract, the company still sends me advertising "
            "text messages and will not say where it got my number.",
            "assessing": "A fitness club photographed my passport at the entrance and keeps "
            "the photos on the receptionist's phone.",
            "upheld": "The clinic sent my test results to my employer.",
            "not_upheld": "The school put my child's name and grade on a list in the corridor.",
            "inspection_requested": "Debt collectors call me about a loan of my brother's "
            "and know my address from the bank.",
        }[state],
        complainant_name={
            "received": "Azamat Toktogulov",
            "assessing": "Aizhan Bekova",
            "upheld": "Nurbek Asanov",
            "not_upheld": "Cholpon Myrzakulova",
            "inspection_requested": "Saltanat Ismailova",
        }[state],
        registration_number=entry.registration_number if entry is not None else None,
        # Not (yet) in the register: named in free text, as the public form allows.
        processor_name=None
        if entry is not None
        else organisation.legal_name
        if organisation is not None
        else "Fitness club «Ak-Tash»",
        complainant_email=f"{state.replace('_', '.')}@complainant.example",
        consents_to_contact=state != "not_upheld",
        locale="ru",
    )
    complaint, _token = complaints.file_complaint(details, token=token)
    return complaint
