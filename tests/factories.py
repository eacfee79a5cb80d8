"""Factories for test data; each object is committed (a savepoint inside the test transaction)."""

from __future__ import annotations

from datetime import date, timedelta

import factory
import pyotp
from factory.alchemy import SQLAlchemyModelFactory

from register.database import utcnow
from register.extensions import db
from register.models import (
    AccessRequest,
    AccessRequestAddressee,
    BreachFollowUp,
    BreachQuestion,
    BreachReport,
    BreachStatus,
    Complaint,
    ComplaintStatus,
    Declaration,
    DeclarationEvent,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    DeliveryStatus,
    Document,
    DocumentKind,
    EntryStatus,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    InspectionViolation,
    Invitation,
    MemberRole,
    Membership,
    Notification,
    OrderAnswer,
    OrderStatus,
    Organisation,
    OrganisationStatus,
    Person,
    PersonalDataArray,
    PersonKind,
    ProcessingMode,
    RegisterEntry,
    RegisterEntryEvent,
    RetentionUnit,
    ReviewComment,
    Role,
    User,
)
from register.services.passwords import hash_password


class BaseFactory(SQLAlchemyModelFactory):
    """Common settings: the app's session, committed so requests in the test can see the rows."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    """A holder's user unless a role is given."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.kg")
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    role = Role.HOLDER
    locale = "en"
    is_active_account = True


TEST_PASSWORD = "correct horse battery staple"


class StaffFactory(UserFactory):
    """An agency staff member with a password and two-factor enrolled (inspector by default)."""

    role = Role.INSPECTOR
    email = factory.Sequence(lambda n: f"staff{n}@agency.example.kg")
    password_hash = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))
    email_confirmed_at = factory.LazyFunction(utcnow)
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    totp_enrolled_at = factory.LazyFunction(utcnow)


class HolderFactory(UserFactory):
    """A holder's user with a confirmed e-mail address and a password."""

    password_hash = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))
    email_confirmed_at = factory.LazyFunction(utcnow)


class NotificationFactory(BaseFactory):
    """A message waiting to be e-mailed."""

    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    recipient_id = factory.SelfAttribute("recipient.id")
    kind = "test"
    subject = factory.Sequence(lambda n: f"Message {n}")
    body = "Something happened to your file."
    link = "/inbox/"
    delivery_status = DeliveryStatus.PENDING
    next_attempt_at = factory.LazyFunction(utcnow)


class OrganisationFactory(BaseFactory):
    """An unverified LLC in Bishkek (a legal entity: its TIN is public)."""

    class Meta:
        model = Organisation

    legal_name = factory.Sequence(lambda n: f"Test Company {n} LLC")
    short_name = factory.Sequence(lambda n: f"Test {n}")
    tin = factory.Sequence(lambda n: f"0{n:013d}")
    public_tin = factory.SelfAttribute("tin")
    legal_form_code = "llc"
    ownership_form_code = "private"
    sector_code = "it"
    region_code = "KG-GB"
    legal_address = "Chüy avenue 1, Bishkek"
    actual_address = "Chüy avenue 1, office 2, Bishkek"
    phone = "+996 312 123 456"
    email = factory.Sequence(lambda n: f"office{n}@company.example.kg")


class PersonFactory(BaseFactory):
    """The person responsible for personal data of an organisation."""

    class Meta:
        model = Person

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    kind = PersonKind.RESPONSIBLE
    full_name = factory.Sequence(lambda n: f"Responsible Person {n}")
    position = "Data protection officer"
    pin = "21505199012345"
    phone = "+996 555 123 456"
    email = factory.Sequence(lambda n: f"dpo{n}@company.example.kg")
    consents_to_publication = False


class MembershipFactory(BaseFactory):
    """A holder user acting for an organisation (owner by default)."""

    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    user = factory.SubFactory(HolderFactory)
    user_id = factory.SelfAttribute("user.id")
    role = MemberRole.OWNER


class DocumentFactory(BaseFactory):
    """A small PDF proving the authority to act for an organisation."""

    class Meta:
        model = Document

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    kind = DocumentKind.AUTHORITY
    filename = "authority.pdf"
    content_type = "application/pdf"
    content = b"%PDF-1.4\n% test document\n%%EOF\n"
    size_bytes = factory.LazyAttribute(lambda document: len(document.content))


class InvitationFactory(BaseFactory):
    """An open invitation of a colleague to an organisation."""

    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    email = factory.Sequence(lambda n: f"colleague{n}@company.example.kg")
    role = MemberRole.MEMBER
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))


class AccessRequestFactory(BaseFactory):
    """A pending request by a holder to act for an organisation, addressed to the agency."""

    class Meta:
        model = AccessRequest

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    requester = factory.SubFactory(HolderFactory)
    requester_id = factory.SelfAttribute("requester.id")
    addressed_to = AccessRequestAddressee.AGENCY
    message = "I am the new director; please give me access."


class ArrayFactory(BaseFactory):
    """A complete personal data array of an organisation (HR records)."""

    class Meta:
        model = PersonalDataArray

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    name = factory.Sequence(lambda n: f"Personnel files {n}")
    purpose_codes = factory.LazyFunction(lambda: ["hr_employment"])
    legal_basis_codes = factory.LazyFunction(lambda: ["contract"])
    collection_methods = "From the employee at hiring"
    processing_mode = ProcessingMode.MIXED
    data_item_codes = factory.LazyFunction(lambda: ["full_name", "pin", "address"])
    subject_category_codes = factory.LazyFunction(lambda: ["employees"])
    subject_bucket_code = "up_to_1000"
    source_codes = factory.LazyFunction(lambda: ["subject_directly"])
    informing_subjects = "Written notice at hiring"
    storage_form_code = "mixed"
    retention_value = 75
    retention_unit = RetentionUnit.YEARS
    storage_country = "KG"
    storage_location_details = "Bishkek head office, room 12; server in the same building"
    information_systems = "1C: Salary and HR"
    recipient_category_codes = factory.LazyFunction(lambda: ["state_bodies"])
    named_recipients = "Social Fund of the Kyrgyz Republic"
    security_measure_codes = factory.LazyFunction(lambda: ["access_control", "backups"])
    security_description = "Locked cabinets; role-based access in 1C; nightly backups"
    processing_start_date = factory.LazyFunction(lambda: date(2015, 3, 1))


class DeclarationFactory(BaseFactory):
    """A draft initial declaration of an organisation."""

    class Meta:
        model = Declaration

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    kind = DeclarationKind.INITIAL
    status = DeclarationStatus.DRAFT


class DeclarationVersionFactory(BaseFactory):
    """A frozen version (snapshots given by the test, or small defaults)."""

    class Meta:
        model = DeclarationVersion

    declaration = factory.SubFactory(DeclarationFactory)
    declaration_id = factory.SelfAttribute("declaration.id")
    organisation_id = factory.SelfAttribute("declaration.organisation_id")
    number = factory.Sequence(lambda n: n + 1)
    public_snapshot = factory.LazyFunction(lambda: {"organisation": {}, "arrays": {}})
    confidential_snapshot = '{"organisation": {}, "people": {}, "arrays": {}}'


class DeclarationEventFactory(BaseFactory):
    """A step of a declaration's timeline."""

    class Meta:
        model = DeclarationEvent

    declaration = factory.SubFactory(DeclarationFactory)
    declaration_id = factory.SelfAttribute("declaration.id")
    from_status = "draft"
    to_status = "submitted"
    note = "Submitted by the holder"


class ReviewCommentFactory(BaseFactory):
    """An agency comment on a field of a declaration."""

    class Meta:
        model = ReviewComment

    declaration = factory.SubFactory(DeclarationFactory)
    declaration_id = factory.SelfAttribute("declaration.id")
    path = "organisation/legal_address"
    body = "The legal address differs from the state register of legal entities."


class RegisterEntryFactory(BaseFactory):
    """A published register entry of an organisation (version 1, registered)."""

    class Meta:
        model = RegisterEntry
        exclude = ("organisation", "declaration_version")

    organisation = factory.SubFactory(OrganisationFactory, status=OrganisationStatus.VERIFIED)
    organisation_id = factory.SelfAttribute("organisation.id")
    declaration_version = factory.SubFactory(
        DeclarationVersionFactory,
        declaration__organisation=factory.SelfAttribute("...organisation"),
        number=1,
    )
    declaration_version_id = factory.SelfAttribute("declaration_version.id")
    registration_number = factory.Sequence(lambda n: f"PDH-2026-{900000 + n:06d}")
    status = EntryStatus.REGISTERED
    registered_on = factory.LazyFunction(lambda: utcnow().date())
    updated_on = factory.LazyFunction(lambda: utcnow().date())
    version_number = 1
    legal_name = factory.SelfAttribute("organisation.legal_name")
    public_snapshot = factory.LazyFunction(lambda: {"organisation": {}, "arrays": {}})


class RegisterEntryEventFactory(BaseFactory):
    """A supervisor's suspension of an entry, with grounds."""

    class Meta:
        model = RegisterEntryEvent
        exclude = ("entry",)

    entry = factory.SubFactory(RegisterEntryFactory)
    entry_id = factory.SelfAttribute("entry.id")
    from_status = "registered"
    to_status = "suspended"
    grounds = "Inspection found processing without a legal basis."


class BreachReportFactory(BaseFactory):
    """A breach report filed in time, received by the agency (made directly, not by the form)."""

    class Meta:
        model = BreachReport

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    status = BreachStatus.RECEIVED
    detected_at = factory.LazyFunction(lambda: utcnow() - timedelta(hours=5))
    occurred_at = factory.LazyAttribute(lambda report: report.detected_at - timedelta(hours=1))
    filed_at = factory.LazyFunction(utcnow)
    report_due_at = factory.LazyAttribute(lambda report: report.detected_at + timedelta(hours=72))
    triage_due_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=3))
    nature_codes = factory.LazyFunction(lambda: ["confidentiality"])
    description = "An e-mail with a customer list was sent to a wrong address."
    contact_name = "Responsible Person"
    contact_email = "dpo@company.example.kg"


class BreachFollowUpFactory(BaseFactory):
    """Information added to a breach report later."""

    class Meta:
        model = BreachFollowUp

    report = factory.SubFactory(BreachReportFactory)
    report_id = factory.SelfAttribute("report.id")
    information = "The recipient confirmed the deletion."


class BreachQuestionFactory(BaseFactory):
    """The agency's question about a breach report, not answered yet."""

    class Meta:
        model = BreachQuestion

    report = factory.SubFactory(BreachReportFactory)
    report_id = factory.SelfAttribute("report.id")
    question = "How many customers were on the list?"


class ComplaintFactory(BaseFactory):
    """A complaint about an unregistered processor, received (its link's token unknown)."""

    class Meta:
        model = Complaint

    receipt_number = factory.Sequence(lambda n: f"C-TEST-{n:04d}")
    access_token_hash = factory.Sequence(lambda n: f"{n:064x}")
    status = ComplaintStatus.RECEIVED
    processor_name = "Unregistered Shop"
    what_happened = "The shop published my phone number."
    complainant_name = "Test Complainant"
    received_at = factory.LazyFunction(utcnow)
    due_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=14))


# -- inspections, violations, orders and answers, made directly (not through the services) --


class InspectionFactory(BaseFactory):
    """A planned inspection of an organisation (made directly, not by the plan)."""

    class Meta:
        model = Inspection

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    reference = factory.Sequence(lambda n: f"I-TEST-{n:04d}")
    kind = InspectionKind.PLANNED
    status = InspectionStatus.PLANNED
    legal_ground = "The agency's inspection plan for the year."
    planned_start = factory.LazyFunction(lambda: utcnow().date())
    planned_end = factory.LazyFunction(lambda: utcnow().date() + timedelta(days=10))


class InspectionOrderFactory(BaseFactory):
    """An open order of an inspection to its holder, due in 30 days."""

    class Meta:
        model = InspectionOrder

    inspection = factory.SubFactory(InspectionFactory)
    inspection_id = factory.SelfAttribute("inspection.id")
    organisation_id = factory.SelfAttribute("inspection.organisation_id")
    number = factory.Sequence(lambda n: n + 1)
    requirement = "Appoint a person responsible for personal data."
    due_on = factory.LazyFunction(lambda: utcnow().date() + timedelta(days=30))
    status = OrderStatus.OPEN


class InspectionViolationFactory(BaseFactory):
    """A violation found by an inspection."""

    class Meta:
        model = InspectionViolation

    inspection = factory.SubFactory(InspectionFactory)
    inspection_id = factory.SelfAttribute("inspection.id")
    article_code = "art_30"
    description = "An array of customer data is not declared in the register."


class OrderAnswerFactory(BaseFactory):
    """The holder's answer to an order."""

    class Meta:
        model = OrderAnswer

    order = factory.SubFactory(InspectionOrderFactory)
    order_id = factory.SelfAttribute("order.id")
    text = "The array was declared in an amendment."
