"""Demo declarations: the demo holder's organisations in every state a holder can see.

Clinic: approved and published, then an amendment pending. Telecom company: changes requested,
with the agency's comments on two fields. School: submitted. Bank: a draft (arrays entered,
nothing submitted). The agency's own steps (approval, requests for changes) belong to a later
feature; until then this module sets those states directly, as the agency would leave them.
Idempotent: an organisation that already has arrays is left alone.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import (
    DeclarationStatus,
    Document,
    DocumentKind,
    Organisation,
    OrganisationStatus,
    PersonalDataArray,
    ProcessingMode,
    RetentionUnit,
    ReviewComment,
    User,
)
from register.services import arrays, declarations
from register.services.organisations import find_by_tin

CLINIC, SCHOOL = "01503201910231", "02209199810044"
BANK, TELECOM = "01108200510078", "01212201510092"
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


def _approve(organisation: Organisation) -> None:
    """What the agency's approval leaves behind (the review feature does this for real)."""
    declaration = declarations.pending_declaration(organisation)
    if declaration is None:
        return
    declaration.status = DeclarationStatus.APPROVED
    declaration.decided_at = utcnow()
    declaration.lock_version += 1
    version = declaration.versions[-1]
    version.published_at = utcnow()
    organisation.status = OrganisationStatus.VERIFIED
    db.session.flush()


def seed_declarations(holder: User | None) -> list[str]:
    """Give the demo holder's organisations declarations in each state; describe them."""
    if holder is None:
        return []
    lines = ["Demo declarations:"]
    plan = [
        (CLINIC, "approved and published, then an amendment pending"),
        (TELECOM, "changes requested, with the agency's comments"),
        (SCHOOL, "submitted, waiting for the agency"),
        (BANK, "draft: arrays entered, nothing submitted"),
    ]
    for tin, description in plan:
        organisation = find_by_tin(tin)
        if organisation is None:
            continue
        lines.append(f"  {organisation.short_name or organisation.legal_name}: {description}")
        already = db.session.scalar(
            sa.select(PersonalDataArray.id).where(
                PersonalDataArray.organisation_id == organisation.id
            )
        )
        if already is not None:
            continue
        _prepare(organisation, holder, patients=tin == CLINIC)
        if tin == BANK:
            continue
        declaration = declarations.submit(organisation, holder)
        if tin == CLINIC:
            _approve(organisation)
            personnel = arrays.arrays_of(organisation.id)[-1]  # by name: "Personnel files"
            personnel.retention_value = 50  # the amendment shortens a retention period
            declarations.submit(organisation, holder)
        elif tin == TELECOM:
            declaration.status = DeclarationStatus.CHANGES_REQUESTED
            declaration.lock_version += 1
            array = db.session.scalars(
                sa.select(PersonalDataArray).where(
                    PersonalDataArray.organisation_id == organisation.id
                )
            ).one()
            for path, body in (
                (
                    "organisation/legal_address",
                    "The legal address differs from the state register of legal entities.",
                ),
                (
                    f"arrays/{array.id}/retention",
                    "Give the legal ground for keeping personnel files for 75 years "
                    "(Article 8 of the Law).",
                ),
            ):
                db.session.add(
                    ReviewComment(
                        declaration_id=declaration.id,
                        version_id=declaration.versions[-1].id,
                        path=path,
                        body=body,
                        article="Article 8",
                    )
                )
        db.session.flush()
    return lines
