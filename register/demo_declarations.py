"""Demo declarations: every state of the workflow, decided through the agency's real services.

Clinic (high risk: health data, a transfer abroad): registered after an inspector's approval
and a supervisor's sign-off, then an amendment approved by the inspector that awaits a second
supervisor's sign-off. Telecom company: the inspector asked for changes, with comments on two
fields. School: submitted 40 days ago and nobody has claimed it, so its review is overdue.
Bank: a declaration withdrawn, then another refused with grounds. Naryn state institution
(filed on paper by the agency): registered, then suspended by the supervisor. Individual
entrepreneur (filed on paper): in review with the inspector. Idempotent: an organisation that
already has arrays is left alone.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from register.database import utcnow
from register.demo_organisations import ENTREPRENEUR_PIN
from register.extensions import db
from register.models import (
    Declaration,
    DeclarationStatus,
    Document,
    DocumentKind,
    Organisation,
    PersonalDataArray,
    ProcessingMode,
    RetentionUnit,
    User,
)
from register.services import arrays, declarations, register_entries, review
from register.services.accounts import find_by_email
from register.services.organisations import find_by_tin

CLINIC, SCHOOL = "01503201910231", "02209199810044"
BANK, TELECOM = "01108200510078", "01212201510092"
NARYN, ENTREPRENEUR = "02507201210015", ENTREPRENEUR_PIN
PROOF = b"%PDF-1.4\n% demo: decision appointing the director\n%%EOF\n"


def _array(organisation: Organisation, name: str, **values: object) -> PersonalDataArray:
    fields: dict[str, object] = {
        "purpose_codes": ["hr_employment"],
        "legal_basis_codes": ["contract", "legal_obligation"],
        "collection_methods": "From the person, on paper forms and in the HR system",
        "processing_mode": ProcessingMode.MIXED,
        "data_item_codes": ["full_name", "pin", "passport", "address", "phone"],
        "subject_category_codes": ["employees"],
        "subject_bucket_code": "up_to_1000",
        "source_codes": ["subject_directly"],
        "informing_subjects": "Written notice signed at hiring",
        "storage_form_code": "mixed",
        "retention_value": 75,
        "retention_unit": RetentionUnit.YEARS,
        "storage_country": "KG",
        "storage_location_details": "Head office archive, room 4; server room on the ground floor",
        "information_systems": "1C: Salary and HR management",
        "recipient_category_codes": ["state_bodies"],
        "named_recipients": "Social Fund; State Tax Service",
        "security_measure_codes": ["access_control", "backups", "staff_training"],
        "security_description": "Locked archive; personal accounts in 1C; nightly backups",
        "processing_start_date": date(2012, 1, 15),
    }
    fields.update(values)
    array = PersonalDataArray(organisation_id=organisation.id, name=name, **fields)
    db.session.add(array)
    return array


def _prepare(organisation: Organisation, holder: User, patients: bool) -> None:
    _array(organisation, "Personnel files")
    if patients:
        _array(
            organisation,
            "Patients' medical records",
            purpose_codes=["health_care"],
            legal_basis_codes=["medical_purposes", "written_consent"],
            data_item_codes=["full_name", "pin", "birth_date", "address", "phone", "health"],
            subject_category_codes=["patients", "minors"],
            subject_bucket_code="up_to_100000",
            informing_subjects="Notice at registration desk; consent form",
            retention_value=25,
            information_systems="MedInfo clinic system",
            named_recipients="Mandatory Health Insurance Fund",
            cross_border=True,
            cross_border_countries=["KZ"],
            cross_border_grounds="Laboratory contract with the subject's written consent",
        )
    has_proof = db.session.scalar(
        sa.select(Document.id).where(
            Document.organisation_id == organisation.id, Document.declaration_id.is_(None)
        )
    )
    if has_proof is None:
        db.session.add(
            Document(
                organisation_id=organisation.id,
                kind=DocumentKind.AUTHORITY,
                filename="director-appointment.pdf",
                content_type="application/pdf",
                size_bytes=len(PROOF),
                content=PROOF,
                uploaded_by_id=holder.id,
            )
        )
    db.session.flush()


def _staff(email: str) -> User:
    user = find_by_email(email)
    if user is None:  # demo.seed creates the staff before the declarations
        raise RuntimeError(f"demo staff account {email} is missing")
    return user


def _claim(declaration: Declaration, inspector: User) -> None:
    review.claim(declaration, inspector, declaration.lock_version)


def _approve(declaration: Declaration, inspector: User, supervisor: User | None) -> None:
    """The inspector approves; a high-risk declaration then needs the supervisor's sign-off."""
    _claim(declaration, inspector)
    review.approve(
        declaration,
        inspector,
        grounds="The declaration is complete and agrees with the documents.",
        expected_lock_version=declaration.lock_version,
    )
    if supervisor is not None and declaration.status is DeclarationStatus.AWAITING_SIGN_OFF:
        review.sign_off(
            declaration,
            supervisor,
            grounds="Checked the special categories and the transfer abroad: lawful.",
            expected_lock_version=declaration.lock_version,
        )
    db.session.flush()


def _make_overdue(declaration: Declaration, days: int) -> None:
    """As if it had been submitted `days` ago and the deadline had passed."""
    past = utcnow() - timedelta(days=days)
    declaration.created_at = declaration.submitted_at = past
    declaration.due_at = past + timedelta(days=int(current_app.config["REVIEW_DEADLINE_DAYS"]))
    for event in declaration.events:
        event.occurred_at = past
    db.session.flush()


def _number(organisation: Organisation) -> str:
    entry = register_entries.entry_of(organisation.id)
    return f" ({entry.registration_number}, {entry.status.value})" if entry is not None else ""


def seed_declarations(holder: User | None) -> list[str]:
    """Give the demo organisations declarations in every state; describe them."""
    if holder is None:
        return []
    inspector = _staff("inspector@demo.example")
    supervisor = _staff("supervisor@demo.example")
    lines = ["Demo declarations (sign in as the inspector or the supervisor to review them):"]
    plan = [
        (CLINIC, "registered; an amendment (high risk) awaits the supervisor's sign-off"),
        (TELECOM, "changes requested by the inspector, with comments on two fields"),
        (SCHOOL, "submitted 40 days ago, nobody has claimed it: the review is overdue"),
        (BANK, "one declaration withdrawn, the next refused with grounds"),
        (NARYN, "filed on paper, registered, then suspended by the supervisor"),
        (ENTREPRENEUR, "filed on paper, in review with the inspector"),
    ]
    for tin, description in plan:
        organisation = find_by_tin(tin)
        if organisation is None:
            continue
        already = db.session.scalar(
            sa.select(PersonalDataArray.id).where(
                PersonalDataArray.organisation_id == organisation.id
            )
        )
        if already is None:
            _seed_one(tin, organisation, holder, inspector, supervisor)
        name = organisation.short_name or organisation.legal_name
        lines.append(f"  {name}: {description}{_number(organisation)}")
    db.session.flush()
    return lines


def _seed_one(
    tin: str, organisation: Organisation, holder: User, inspector: User, supervisor: User
) -> None:
    on_paper = tin in (NARYN, ENTREPRENEUR)
    filer = inspector if on_paper else holder
    _prepare(organisation, filer, patients=tin == CLINIC)
    declaration = declarations.submit(organisation, filer, on_paper=on_paper)
    if tin == CLINIC:
        _approve(declaration, inspector, supervisor)
        personnel = next(
            array for array in arrays.arrays_of(organisation.id) if array.name == "Personnel files"
        )
        personnel.retention_value = 50  # the amendment shortens a retention period
        amendment = declarations.submit(organisation, holder)
        _approve(amendment, inspector, None)  # high risk: waits for a supervisor
    elif tin == TELECOM:
        _claim(declaration, inspector)
        array = arrays.arrays_of(organisation.id)[0]
        review.request_changes(
            declaration,
            inspector,
            grounds="Two answers must be corrected before the declaration can be approved.",
            article="Article 8 of the Law «On personal information»",
            comments=[
                (
                    "organisation/legal_address",
                    "The legal address differs from the state register of legal entities.",
                ),
                (
                    f"arrays/{array.id}/retention",
                    "Give the legal ground for keeping personnel files for 75 years.",
                ),
            ],
            expected_lock_version=declaration.lock_version,
        )
    elif tin == SCHOOL:
        _make_overdue(declaration, 40)
    elif tin == BANK:
        declarations.withdraw(
            declaration, holder, "Submitted by mistake before the board's review."
        )
        again = declarations.submit(organisation, holder)
        _claim(again, inspector)
        review.reject(
            again,
            inspector,
            grounds="The array «Personnel files» keeps files for 75 years without naming the "
            "law that requires it, and the processing has no purpose for the bank's customers.",
            article="Article 8 of the Law «On personal information»",
            expected_lock_version=again.lock_version,
        )
    elif tin == NARYN:
        _approve(declaration, inspector, supervisor)
        entry = register_entries.entry_of(organisation.id)
        if entry is not None:
            register_entries.change_status(
                entry,
                "suspend",
                supervisor,
                "An inspection found the citizens' files stored without access control; "
                "suspended until the order is carried out.",
                "Article 24 of the Law «On personal information»",
            )
    elif tin == ENTREPRENEUR:
        _claim(declaration, inspector)
    db.session.flush()
