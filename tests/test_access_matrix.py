"""Who may do what: every route by six roles gives the answer written down here.

`EXPECTATIONS` has one row per endpoint of the URL map; a route added without a row fails
`test_every_route_has_an_expectation`, so nobody adds a page without deciding who may see it.
Each (endpoint, role) pair is its own test with fresh objects (the `db` fixture rolls back), so a
POST that succeeds in one case never changes what another case sees.

The six roles:
    anonymous     not signed in
    holder_own    a holder who owns the route's object: the recipient of the notification, the
                  owner of the organisation (its documents, colleagues, invitations, requests),
                  the invited colleague of an invitation, the requester of their own request
    holder_other  a holder of another organisation
    inspector, supervisor, admin   agency staff, signed in past the second factor

An expected answer is a status code (a 403 must be the site's error page), `SIGN_IN` (302 to
/auth/sign-in, with `next` for a GET), `Redirect(path)` (302 to that path; `{target.id}` and
the like name the test's objects) or `OwnPage(status, text)` (a page of the view's own that
explains a refusal, rather than the site's error page).

`url_values`, `form` and `effect` are called after `prepare`, so they can use what it made
(a published entry, its certificate's code).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import url_for

from register import open_data
from register.database import utcnow
from register.extensions import db
from register.holder.access import CLAIMED_ORGANISATION
from register.models import (
    AccessRequest,
    AccessRequestAddressee,
    ActivityEntry,
    BreachQuestion,
    BreachReport,
    Complaint,
    Declaration,
    DeclarationStatus,
    Document,
    DocumentKind,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionViolation,
    Invitation,
    MemberRole,
    Membership,
    Notification,
    Organisation,
    OrganisationOrigin,
    OrganisationStatus,
    PersonalDataArray,
    ReferenceItem,
    Role,
    User,
)
from register.services import (
    accounts,
    breaches,
    complaints,
    inspections,
    register_entries,
    tokens,
)
from register.services import members as member_service
from tests.factories import (
    ArrayFactory,
    DeclarationFactory,
    DeclarationVersionFactory,
    DocumentFactory,
    HolderFactory,
    MembershipFactory,
    NotificationFactory,
    OrganisationFactory,
    StaffFactory,
)

ROLES = ("anonymous", "holder_own", "holder_other", "inspector", "supervisor", "admin")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
SIGN_IN = "sign-in"
FORBIDDEN_TITLE = "You do not have access to this page"


@dataclass(frozen=True)
class Redirect:
    """A 302 to `path` (formatted with the World's objects, e.g. "/admin/staff/{target.id}")."""

    path: str


@dataclass(frozen=True)
class OwnPage:
    """A `status` with a page of the view's own (not the site's error page) that says `text`."""

    status: int
    text: str


Expected = int | str | Redirect | OwnPage


@dataclass
class World:
    """The objects of one test: a user per role and the things the routes act on."""

    holder_own: User
    holder_other: User
    inspector: User
    supervisor: User
    admin: User
    target: User  # the staff member the admin routes act on
    requester: User  # a third holder, asking to act for holder_own's organisation
    notification: Notification  # holder_own's
    organisation: Organisation  # holder_own is its only owner (verified, registered online)
    document: Document  # the organisation's
    member: Membership  # a colleague of holder_own in the organisation (role member)
    invitation: Invitation  # the organisation's open invitation of a new colleague
    access_request: AccessRequest  # requester's pending request, for the owners to decide
    other_organisation: Organisation  # holder_other's
    invitation_to_own: Invitation  # holder_other's organisation invites holder_own
    claimed: Organisation  # an imported entry without owners
    agency_request: AccessRequest  # holder_own's pending request for `claimed`, to the agency
    declaration: Declaration  # the organisation's submitted declaration (version 1)
    declaration_document: Document  # a file attached to that declaration
    array: PersonalDataArray  # one of the organisation's personal data arrays
    paper: Organisation  # entered by the agency from a paper submission; nobody acts for it
    paper_array: PersonalDataArray  # one of the paper organisation's arrays
    # Made only by the routes that need them (`prepare`), to keep the other cases cheap:
    breach: BreachReport | None = None  # the organisation's breach report
    breach_question: BreachQuestion | None = None  # the agency's open question about it
    complaint: Complaint | None = None  # a complaint about the organisation
    complaint_token: str = ""  # its secret link's token
    inspection: Inspection | None = None  # an inspection of the organisation (inspector assigned)
    order: InspectionOrder | None = None  # an order of that inspection to the organisation
    answer_document: Document | None = None  # a file holder_own attached to an answer

    def users(self) -> list[User]:
        """Every user of the world."""
        return [value for f in fields(self) if isinstance(value := getattr(self, f.name), User)]


def _open_invitation(organisation: Organisation, email: str, invited_by: User) -> Invitation:
    now = utcnow()
    invitation = Invitation(
        organisation_id=organisation.id,
        email=email,
        role=MemberRole.MEMBER,
        invited_by_id=invited_by.id,
        created_at=now,
        expires_at=now + timedelta(days=7),
    )
    db.session.add(invitation)
    return invitation


def _pending_request(
    organisation: Organisation, requester: User, addressed_to: AccessRequestAddressee
) -> AccessRequest:
    access_request = AccessRequest(
        organisation_id=organisation.id,
        requester_id=requester.id,
        addressed_to=addressed_to,
        message="Please let me act for the organisation.",
    )
    db.session.add(access_request)
    return access_request


def _submitted_declaration(organisation: Organisation) -> Declaration:
    declaration = DeclarationFactory(
        organisation=organisation, status=DeclarationStatus.SUBMITTED, submitted_at=utcnow()
    )
    DeclarationVersionFactory(declaration=declaration, number=1)
    return declaration


def make_world() -> World:
    """Fresh objects for one case."""
    holder_own = HolderFactory(full_name="Own Holder")
    holder_other = HolderFactory(full_name="Other Holder")
    requester = HolderFactory(full_name="Third Holder")
    organisation = OrganisationFactory(
        status=OrganisationStatus.VERIFIED, origin=OrganisationOrigin.ONLINE
    )
    MembershipFactory(organisation=organisation, user=holder_own)
    other_organisation = MembershipFactory(user=holder_other).organisation
    claimed = OrganisationFactory(
        status=OrganisationStatus.VERIFIED, origin=OrganisationOrigin.IMPORTED
    )
    declaration = _submitted_declaration(organisation)
    paper = OrganisationFactory(origin=OrganisationOrigin.PAPER)
    world = World(
        holder_own=holder_own,
        holder_other=holder_other,
        inspector=StaffFactory(role=Role.INSPECTOR),
        supervisor=StaffFactory(role=Role.SUPERVISOR),
        admin=StaffFactory(role=Role.ADMIN),
        target=StaffFactory(role=Role.INSPECTOR, full_name="Target Staff"),
        requester=requester,
        notification=NotificationFactory(recipient=holder_own),
        organisation=organisation,
        document=DocumentFactory(organisation=organisation, uploaded_by_id=holder_own.id),
        member=MembershipFactory(organisation=organisation, role=MemberRole.MEMBER),
        invitation=_open_invitation(organisation, "new.colleague@example.kg", holder_own),
        access_request=_pending_request(organisation, requester, AccessRequestAddressee.OWNERS),
        other_organisation=other_organisation,
        invitation_to_own=_open_invitation(other_organisation, holder_own.email, holder_other),
        claimed=claimed,
        agency_request=_pending_request(claimed, holder_own, AccessRequestAddressee.AGENCY),
        declaration=declaration,
        declaration_document=DocumentFactory(
            organisation=organisation,
            kind=DocumentKind.DECLARATION,
            declaration_id=declaration.id,
            uploaded_by_id=holder_own.id,
        ),
        array=ArrayFactory(organisation=organisation),
        paper=paper,
        paper_array=ArrayFactory(organisation=paper),
    )
    db.session.commit()
    return world


def row(
    anonymous: Expected,
    holder_own: Expected,
    holder_other: Expected,
    inspector: Expected,
    supervisor: Expected,
    admin: Expected,
) -> dict[str, Expected]:
    """One line of the matrix, in the order of ROLES."""
    return dict(
        zip(ROLES, (anonymous, holder_own, holder_other, inspector, supervisor, admin), strict=True)
    )


def everyone(expected: Expected) -> dict[str, Expected]:
    """The same answer for every role."""
    return dict.fromkeys(ROLES, expected)


@dataclass(frozen=True)
class Route:
    """The answers of one endpoint, and how to call it.

    `url_values` builds the URL (path arguments and query string); `session` is put in the
    client's session first (what an earlier page left there); `form` is posted with a valid
    CSRF token. When `effect` is given, its value must change for the roles in `effect_for`
    and stay the same for every other role (a refusal changes nothing).
    """

    answers: dict[str, Expected]
    url_values: Callable[[World], dict[str, Any]] = lambda world: {}
    session: Callable[[World], dict[str, Any]] = lambda world: {}
    form: Callable[[World], dict[str, Any]] = lambda world: {}
    prepare: Callable[[World], None] | None = None
    effect: Callable[[World], Any] | None = None
    effect_for: frozenset[str] = field(default_factory=frozenset)


def _target(world: World) -> dict[str, Any]:
    return {"user_id": world.target.id}


def _deactivate_target(world: World) -> None:
    world.target.is_active_account = False
    db.session.commit()


def _unconfirm_holder_own(world: World) -> None:
    world.holder_own.email_confirmed_at = None
    db.session.commit()


def _notification_read(world: World) -> bool:
    return world.notification.read_at is not None


def _notifications_of_holder_own(world: World) -> int:
    return db.session.query(Notification).filter_by(recipient_id=world.holder_own.id).count()


def _reset_link(world: World) -> dict[str, Any]:
    payload = {
        "uid": str(world.holder_own.id),
        "pw": tokens.fingerprint(world.holder_own.password_hash),
    }
    return {
        "token": tokens.make_token(tokens.PASSWORD_RESET, payload),
        "purpose": tokens.PASSWORD_RESET,
    }


def _confirmation_link(world: World) -> dict[str, Any]:
    return {"token": accounts.confirmation_token(world.holder_own)}


def _count(model: type[Any], *criteria: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*criteria)) or 0


def _array(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id, "array_id": world.array.id}


def _row_exists(instance: Any) -> bool:
    """Whether the row of `instance` is still in the database (without loading the instance)."""
    model = type(instance)
    [key] = sa.inspect(instance).identity
    return _count(model, model.id == key) == 1


def _organisation(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id}


def _document(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id, "document_id": world.document.id}


def _member(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id, "membership_id": world.member.id}


def _invitation(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id, "invitation_id": world.invitation.id}


def _access_request(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id, "request_id": world.access_request.id}


def _declaration(world: World) -> dict[str, Any]:
    return {"organisation_id": world.organisation.id, "declaration_id": world.declaration.id}


def _declaration_document(world: World) -> dict[str, Any]:
    return {**_declaration(world), "document_id": world.declaration_document.id}


def _declarations_of_organisation(world: World) -> int:
    return _count(Declaration, Declaration.organisation_id == world.organisation.id)


def _documents_of_declaration(world: World) -> int:
    return _count(Document, Document.declaration_id == world.declaration.id)


def _invitations_of_organisation(world: World) -> int:
    return _count(Invitation, Invitation.organisation_id == world.organisation.id)


def _holder_own_acts_for_organisation(world: World) -> bool:
    return bool(
        _count(
            Membership,
            Membership.organisation_id == world.organisation.id,
            Membership.user_id == world.holder_own.id,
        )
    )


def _make_member_an_owner(world: World) -> None:
    """A second owner, so that holder_own may leave."""
    world.member.role = MemberRole.OWNER
    db.session.commit()


def _media() -> ReferenceItem:
    """The sector "media" of the reference lists (loaded by the migrations)."""
    item = db.session.scalar(
        sa.select(ReferenceItem).where(
            ReferenceItem.list_code == "sector", ReferenceItem.code == "media"
        )
    )
    assert item is not None
    return item


def _retire_media(world: World) -> None:
    _media().retired_at = utcnow()
    db.session.commit()


def _logged(action: str, instance: Any) -> int:
    """How many activity entries record `action` on `instance`."""
    return _count(
        ActivityEntry, ActivityEntry.action == action, ActivityEntry.object_id == str(instance.id)
    )


def _lock_version(world: World) -> dict[str, Any]:
    return {"lock_version": str(world.declaration.lock_version)}


def _declaration_state(world: World) -> tuple[Any, ...]:
    return (world.declaration.status, world.declaration.assignee_id)


def _in_review_by_inspector(world: World) -> None:
    """The declaration is the inspector's to decide (and any supervisor's)."""
    world.declaration.status = DeclarationStatus.IN_REVIEW
    world.declaration.assignee_id = world.inspector.id
    db.session.commit()


def _publish(world: World) -> None:
    """The organisation's declaration is published: an entry with its certificate."""
    version = world.declaration.versions[-1]
    register_entries.publish(version, world.organisation, world.supervisor, utcnow())
    db.session.commit()


def _entry_status(world: World) -> Any:
    entry = register_entries.entry_of(world.organisation.id)
    assert entry is not None
    return entry.status


def _certificate_code(world: World) -> dict[str, Any]:
    entry = register_entries.entry_of(world.organisation.id)
    certificate = register_entries.current_certificate(entry) if entry is not None else None
    assert certificate is not None
    return {"code": certificate.code}


def _entry_number(world: World) -> dict[str, Any]:
    entry = register_entries.entry_of(world.organisation.id)
    assert entry is not None
    return {"number": entry.registration_number}


def _export_open_data(world: World) -> None:
    """The entry is published and the open-data files exported into the app's folder."""
    _publish(world)
    open_data.export(open_data.export_dir())


def _file_breach(world: World) -> None:
    """holder_own reports a breach of the organisation, detected an hour ago."""
    detected = utcnow() - timedelta(hours=1)
    world.breach = breaches.file_report(
        world.organisation,
        world.holder_own,
        breaches.BreachDetails(
            occurred_at=detected,
            detected_at=detected,
            nature_codes=["confidentiality"],
            description="Customer list e-mailed to a wrong address.",
            contact_name="Own Holder",
            contact_email="dpo@company.example.kg",
        ),
    )
    db.session.commit()


def _breach_assessed_by_inspector(world: World) -> None:
    """The report is the inspector's to assess (and any supervisor's)."""
    _file_breach(world)
    assert world.breach is not None
    breaches.start_assessment(world.breach, world.inspector, world.breach.lock_version)
    db.session.commit()


def _breach_question_asked(world: World) -> None:
    """The inspector asked holder_own's organisation a question about its report."""
    _breach_assessed_by_inspector(world)
    assert world.breach is not None
    world.breach_question = breaches.ask_question(
        world.breach, world.inspector, "Was the message recalled?", world.breach.lock_version
    )
    db.session.commit()


def _breach(world: World) -> dict[str, Any]:
    assert world.breach is not None
    return {"organisation_id": world.organisation.id, "report_id": world.breach.id}


def _agency_breach(world: World) -> dict[str, Any]:
    assert world.breach is not None
    return {"report_id": world.breach.id}


def _breach_state(world: World) -> tuple[Any, ...]:
    assert world.breach is not None
    report = db.session.get(BreachReport, world.breach.id)
    assert report is not None
    return (report.status, report.assignee_id, report.lock_version)


def _breach_lock_version(world: World) -> dict[str, Any]:
    assert world.breach is not None
    return {"lock_version": str(world.breach.lock_version)}


def _breach_answer(world: World) -> dict[str, Any]:
    assert world.breach_question is not None
    return {f"q-{world.breach_question.id.hex[:8]}-answer": "Yes, within the hour."}


def _breach_answered(world: World) -> Any:
    assert world.breach_question is not None
    return db.session.get(BreachQuestion, world.breach_question.id).answered_at


def _file_complaint(world: World) -> None:
    """Someone complained about the organisation (its entry is published)."""
    _publish(world)
    entry = register_entries.entry_of(world.organisation.id)
    assert entry is not None
    world.complaint, world.complaint_token = complaints.file_complaint(
        complaints.ComplaintDetails(
            what_happened="My data was shared without my consent.",
            complainant_name="Citizen Complainant",
            registration_number=entry.registration_number,
        )
    )
    db.session.commit()


def _complaint_assessed_by_inspector(world: World) -> None:
    _file_complaint(world)
    assert world.complaint is not None
    complaints.start_assessment(world.complaint, world.inspector, world.complaint.lock_version)
    db.session.commit()


def _agency_complaint(world: World) -> dict[str, Any]:
    assert world.complaint is not None
    return {"complaint_id": world.complaint.id}


def _complaint_state(world: World) -> tuple[Any, ...]:
    assert world.complaint is not None
    complaint = db.session.get(Complaint, world.complaint.id)
    assert complaint is not None
    return (complaint.status, complaint.assignee_id, complaint.lock_version)


def _complaint_lock_version(world: World) -> dict[str, Any]:
    assert world.complaint is not None
    return {"lock_version": str(world.complaint.lock_version)}


def _complaints_filed(world: World) -> int:
    return _count(Complaint)


def _plan_inspection(world: World) -> None:
    """The supervisor planned an inspection of the organisation; the inspector is assigned."""
    world.inspection = inspections.plan_inspection(
        world.organisation,
        inspections.InspectionDetails(
            kind=InspectionKind.PLANNED,
            legal_ground="Plan of inspections, item 1",
            planned_start=inspections.today() + timedelta(days=1),
            planned_end=inspections.today() + timedelta(days=5),
            inspector_ids=[world.inspector.id],
        ),
        world.supervisor,
        None,
    )
    db.session.commit()


def _inspection_under_way(world: World) -> None:
    _plan_inspection(world)
    assert world.inspection is not None
    inspections.start(world.inspection, world.inspector, world.inspection.lock_version)
    db.session.commit()


def _inspection_reported(world: World) -> None:
    _inspection_under_way(world)
    assert world.inspection is not None
    inspections.write_report(
        world.inspection, world.inspector, world.inspection.lock_version, "Findings"
    )
    db.session.commit()


def _order_issued(world: World) -> None:
    _inspection_under_way(world)
    assert world.inspection is not None
    world.order = inspections.issue_order(
        world.inspection,
        world.inspector,
        "Appoint a responsible person.",
        inspections.today(),
        None,
    )
    db.session.commit()


def _order_answered(world: World) -> None:
    _order_issued(world)
    assert world.order is not None
    answer = inspections.answer_order(
        world.order,
        world.holder_own,
        world.order.lock_version,
        "Appointed.",
        [("order.pdf", b"%PDF-1.4\n%%EOF\n")],
    )
    db.session.commit()
    world.answer_document = db.session.scalars(
        sa.select(Document).where(Document.order_answer_id == answer.id)
    ).one()


def _inspection_values(world: World) -> dict[str, Any]:
    assert world.inspection is not None
    return {"inspection_id": world.inspection.id}


def _agency_order(world: World) -> dict[str, Any]:
    assert world.inspection is not None and world.order is not None
    return {"inspection_id": world.inspection.id, "order_id": world.order.id}


def _holder_inspection(world: World) -> dict[str, Any]:
    return {**_organisation(world), **_inspection_values(world)}


def _holder_order(world: World) -> dict[str, Any]:
    assert world.order is not None
    return {"organisation_id": world.organisation.id, "order_id": world.order.id}


def _inspection_state(world: World) -> tuple[Any, ...]:
    assert world.inspection is not None
    found = db.session.get(Inspection, world.inspection.id)
    assert found is not None
    return (found.status, found.lock_version)


def _inspection_lock(world: World) -> dict[str, Any]:
    assert world.inspection is not None
    return {"lock_version": str(world.inspection.lock_version)}


def _order_state(world: World) -> tuple[Any, ...]:
    assert world.order is not None
    found = db.session.get(InspectionOrder, world.order.id)
    assert found is not None
    return (found.status, found.lock_version)


def _order_lock(world: World) -> dict[str, Any]:
    assert world.order is not None
    return {"lock_version": str(world.order.lock_version)}


def _inspections_of_organisation(world: World) -> int:
    return _count(Inspection, Inspection.organisation_id == world.organisation.id)


def _paper(world: World) -> dict[str, Any]:
    return {"organisation_id": world.paper.id}


def _documents_of_paper(world: World) -> int:
    return _count(Document, Document.organisation_id == world.paper.id)


def _declarations_of_paper(world: World) -> int:
    return _count(Declaration, Declaration.organisation_id == world.paper.id)


def owner_action(path: str) -> dict[str, Expected]:
    """An action on holder_own's organisation: done (a redirect to `path`), else refused."""
    return row(SIGN_IN, Redirect(path), 404, 403, 403, 403)


ADMIN_PAGE = row(SIGN_IN, 403, 403, 403, 403, 200)
ADMIN_ACTION = row(SIGN_IN, 403, 403, 403, 403, Redirect("/admin/staff/{target.id}"))
HOME = Redirect("/")
# A holder's pages: the owner's organisation is a 404 to another holder; staff get 403.
OWN_PAGE = row(SIGN_IN, 200, 404, 403, 403, 403)
HOLDER_PAGE = row(SIGN_IN, 200, 200, 403, 403, 403)
MEMBERS_ACTION = owner_action("/organisation/{organisation.id}/members")
STAFF_ACTION = row(SIGN_IN, 403, 403, *[Redirect("/agency/access-requests")] * 3)
REFERENCE_ACTION = row(SIGN_IN, 403, 403, 403, 403, Redirect("/admin/reference/sector/media"))
SECTOR = {"list_code": "sector"}
MEDIA = {"list_code": "sector", "code": "media"}
OWNER = frozenset({"holder_own"})
STAFF = frozenset({"inspector", "supervisor", "admin"})
ADMIN = frozenset({"admin"})
REVIEWERS = frozenset({"inspector", "supervisor"})
SUPERVISOR = frozenset({"supervisor"})
# The agency's review, organisations and paper filing: inspectors and supervisors; admins keep
# the system, not the register.
REVIEW_PAGE = row(SIGN_IN, 403, 403, 200, 200, 403)
TO_DECLARATION = Redirect("/agency/declarations/{declaration.id}")
TO_PAPER = Redirect("/agency/paper/{paper.id}")
TO_BREACH = Redirect("/agency/breaches/{breach.id}")
TO_COMPLAINT = Redirect("/agency/complaints/{complaint.id}")
TO_INSPECTION = Redirect("/agency/inspections/{inspection.id}")

# fmt: off
EXPECTATIONS: dict[str, Route] = {
    #                           anonymous  holder_own  holder_other  inspector  supervisor  admin
    "static": Route(everyone(200), url_values=lambda world: {"filename": "css/app.css"}),
    "public.index": Route(everyone(200)),
    "public.healthz": Route(everyone(200)),
    "public.readyz": Route(everyone(200)),
    # Public account pages: a signed-in user is sent home from sign-up and sign-in.
    "auth.sign_up": Route(row(200, HOME, HOME, HOME, HOME, HOME)),
    "auth.sign_in": Route(row(200, HOME, HOME, HOME, HOME, HOME)),
    "auth.check_email": Route(everyone(200)),
    "auth.confirm_email": Route(
        everyone(Redirect("/auth/sign-in")), url_values=_confirmation_link
    ),
    "auth.resend_confirmation": Route(
        everyone(Redirect("/auth/check-email")),
        form=lambda world: {"email": world.holder_own.email},
        prepare=_unconfirm_holder_own,
        effect=_notifications_of_holder_own,
        effect_for=frozenset(ROLES),
    ),
    "auth.forgot_password": Route(everyone(200)),
    "auth.reset_password": Route(everyone(200), url_values=_reset_link),
    # Without a pending password step, the second-factor pages send everyone back to sign-in.
    "auth.two_factor": Route(everyone(Redirect("/auth/sign-in"))),
    "auth.two_factor_setup": Route(everyone(Redirect("/auth/sign-in"))),
    "auth.two_factor_qr": Route(everyone(404)),
    # A POST is never replayed after signing in, so anonymous POSTs get no `next`.
    "auth.sign_out": Route(row(HOME, HOME, HOME, HOME, HOME, HOME)),
    "account.change_password": Route(row(SIGN_IN, 200, 200, 200, 200, 200)),
    "account.sign_out_everywhere": Route(
        row(SIGN_IN, *[Redirect("/auth/sign-in")] * 5),
        effect=lambda world: [user.session_version for user in world.users()],
        effect_for=SIGNED_IN,
    ),
    # The inbox: another user's notification is indistinguishable from a missing one.
    "inbox.index": Route(row(SIGN_IN, 200, 200, 200, 200, 200)),
    "inbox.show": Route(
        row(SIGN_IN, 200, 404, 404, 404, 404),
        url_values=lambda world: {"notification_id": world.notification.id},
        effect=_notification_read,
        effect_for=frozenset({"holder_own"}),
    ),
    "inbox.mark_all_read": Route(
        row(SIGN_IN, *[Redirect("/inbox/")] * 5),
        effect=_notification_read,
        effect_for=frozenset({"holder_own"}),
    ),
    # The agency: the activity log for supervisors and admins, staff accounts for admins.
    "activity.index": Route(row(SIGN_IN, 403, 403, 403, 200, 200)),
    "admin.staff_list": Route(ADMIN_PAGE),
    "admin.create_staff": Route(ADMIN_PAGE),
    "admin.staff_member": Route(ADMIN_PAGE, url_values=_target),
    "admin.change_role": Route(
        ADMIN_ACTION,
        url_values=_target,
        form=lambda world: {"role": Role.SUPERVISOR.value},
        effect=lambda world: world.target.role,
        effect_for=frozenset({"admin"}),
    ),
    "admin.deactivate": Route(
        ADMIN_ACTION,
        url_values=_target,
        effect=lambda world: world.target.is_active_account,
        effect_for=frozenset({"admin"}),
    ),
    "admin.reactivate": Route(
        ADMIN_ACTION,
        url_values=_target,
        prepare=_deactivate_target,
        effect=lambda world: world.target.is_active_account,
        effect_for=frozenset({"admin"}),
    ),
    "admin.reset_two_factor": Route(
        ADMIN_ACTION,
        url_values=_target,
        effect=lambda world: (world.target.totp_secret, world.target.session_version),
        effect_for=frozenset({"admin"}),
    ),
    "admin.sign_out_everywhere": Route(
        ADMIN_ACTION,
        url_values=_target,
        effect=lambda world: world.target.session_version,
        effect_for=frozenset({"admin"}),
    ),
    # Reference lists: admins only.
    "admin.reference_lists": Route(ADMIN_PAGE),
    "admin.reference_list": Route(ADMIN_PAGE, url_values=lambda world: SECTOR),
    "admin.reference_new": Route(ADMIN_PAGE, url_values=lambda world: SECTOR),
    "admin.reference_edit": Route(ADMIN_PAGE, url_values=lambda world: MEDIA),
    "admin.reference_retire": Route(
        REFERENCE_ACTION,
        url_values=lambda world: MEDIA,
        effect=lambda world: _media().retired_at,
        effect_for=ADMIN,
    ),
    "admin.reference_reinstate": Route(
        REFERENCE_ACTION,
        url_values=lambda world: MEDIA,
        prepare=_retire_media,
        effect=lambda world: _media().retired_at,
        effect_for=ADMIN,
    ),
    # A holder's organisations: not object URLs, so every holder gets them; staff get 403.
    "holder.index": Route(HOLDER_PAGE),
    "holder.create": Route(HOLDER_PAGE),
    # The organisation, its people and documents: another holder cannot tell it from a missing one.
    "holder.details": Route(OWN_PAGE, url_values=_organisation),
    "holder.head": Route(OWN_PAGE, url_values=_organisation),
    "holder.responsible": Route(OWN_PAGE, url_values=_organisation),
    "holder.documents": Route(OWN_PAGE, url_values=_organisation),
    "holder.download_document": Route(OWN_PAGE, url_values=_document),
    "holder.delete_document": Route(
        owner_action("/organisation/{organisation.id}/documents"),
        url_values=_document,
        effect=lambda world: _row_exists(world.document),
        effect_for=OWNER,
    ),
    # The registration and its declarations: the organisation's own; 404 to another holder.
    # Personal data arrays: every member edits them; another holder gets 404, staff 403.
    "holder.new_array": Route(OWN_PAGE, url_values=_organisation),
    "holder.edit_array": Route(OWN_PAGE, url_values=_array),
    "holder.confirm_remove_array": Route(OWN_PAGE, url_values=_array),
    "holder.remove_array": Route(
        owner_action("/organisation/{organisation.id}/registration"),
        url_values=_array,
        effect=lambda world: _row_exists(world.array),
        effect_for=OWNER,
    ),
    "holder.registration": Route(OWN_PAGE, url_values=_organisation),
    "holder.check_answers": Route(OWN_PAGE, url_values=_organisation),
    # A declaration is already pending: the owner is sent back to the check page, unchanged.
    "holder.submit_declaration": Route(
        owner_action("/organisation/{organisation.id}/registration/check"),
        url_values=_organisation,
        effect=_declarations_of_organisation,
    ),
    "holder.declarations": Route(OWN_PAGE, url_values=_organisation),
    "holder.declaration": Route(OWN_PAGE, url_values=_declaration),
    "holder.withdraw_declaration": Route(
        owner_action("/organisation/{organisation.id}/declarations/{declaration.id}"),
        url_values=_declaration,
        form=lambda world: {"lock_version": str(world.declaration.lock_version)},
        effect=lambda world: world.declaration.status,
        effect_for=OWNER,
    ),
    "holder.upload_declaration_document": Route(
        owner_action("/organisation/{organisation.id}/declarations/{declaration.id}"),
        url_values=_declaration,
        form=lambda world: {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "policy.pdf")},
        effect=_documents_of_declaration,
        effect_for=OWNER,
    ),
    "holder.download_declaration_document": Route(OWN_PAGE, url_values=_declaration_document),
    # The agency opens a declaration's files (logged); holders never reach /agency.
    "agency.declaration_document": Route(
        row(SIGN_IN, 403, 403, 200, 200, 200),
        url_values=lambda world: {
            "declaration_id": world.declaration.id,
            "document_id": world.declaration_document.id,
        },
    ),
    "holder.termination_notice": Route(OWN_PAGE, url_values=_organisation),
    # Breach reports: every member of the organisation files, completes and answers them.
    "holder.breaches_list": Route(OWN_PAGE, url_values=_organisation),
    "holder.new_breach": Route(OWN_PAGE, url_values=_organisation),
    "holder.breach": Route(OWN_PAGE, url_values=_breach, prepare=_file_breach),
    "holder.breach_follow_up": Route(OWN_PAGE, url_values=_breach, prepare=_file_breach),
    "holder.answer_breach_question": Route(
        owner_action("/organisation/{organisation.id}/breaches/{breach.id}"),
        url_values=lambda world: {
            **_breach(world),
            "question_id": world.breach_question.id,  # type: ignore[union-attr]
        },
        prepare=_breach_question_asked,
        form=_breach_answer,
        effect=_breach_answered,
        effect_for=OWNER,
    ),
    # Colleagues: every member sees them, owners change them.
    "holder.members": Route(OWN_PAGE, url_values=_organisation),
    "holder.invite": Route(
        MEMBERS_ACTION,
        url_values=_organisation,
        form=lambda world: {"email": "another.colleague@example.kg", "role": "member"},
        effect=_invitations_of_organisation,
        effect_for=OWNER,
    ),
    "holder.change_member_role": Route(
        MEMBERS_ACTION,
        url_values=_member,
        form=lambda world: {"role": MemberRole.OWNER.value},
        effect=lambda world: world.member.role,
        effect_for=OWNER,
    ),
    "holder.remove_member": Route(
        MEMBERS_ACTION,
        url_values=_member,
        effect=lambda world: _row_exists(world.member),
        effect_for=OWNER,
    ),
    "holder.revoke_invitation": Route(
        MEMBERS_ACTION,
        url_values=_invitation,
        effect=lambda world: world.invitation.revoked_at,
        effect_for=OWNER,
    ),
    # With a second owner, holder_own may leave (the last owner may not).
    "holder.leave": Route(
        owner_action("/organisation/"),
        url_values=_organisation,
        prepare=_make_member_an_owner,
        effect=_holder_own_acts_for_organisation,
        effect_for=OWNER,
    ),
    # The invited holder sees the invitation; another holder is told it was sent elsewhere.
    "holder.accept_invitation": Route(
        row(SIGN_IN, 200, OwnPage(403, "sent to another e-mail address"), 403, 403, 403),
        url_values=lambda world: {
            "token": member_service.invitation_token(world.invitation_to_own)
        },
    ),
    # Access requests: asking (the TIN comes in the session), one's own request, the owners'.
    "holder.request_access": Route(
        HOLDER_PAGE, session=lambda world: {CLAIMED_ORGANISATION: str(world.claimed.id)}
    ),
    "holder.access_request_status": Route(
        OWN_PAGE, url_values=lambda world: {"request_id": world.agency_request.id}
    ),
    "holder.access_requests": Route(OWN_PAGE, url_values=_organisation),
    "holder.decide_access_request": Route(
        owner_action("/organisation/{organisation.id}/access-requests"),
        url_values=_access_request,
        form=lambda world: {"decision": "approve"},
        effect=lambda world: world.access_request.status,
        effect_for=OWNER,
    ),
    # The agency's queue of access requests: all staff.
    "agency.access_requests": Route(row(SIGN_IN, 403, 403, 200, 200, 200)),
    "agency.decide_access_request": Route(
        STAFF_ACTION,
        url_values=lambda world: {"request_id": world.agency_request.id},
        form=lambda world: {"decision": "approve"},
        effect=lambda world: world.agency_request.status,
        effect_for=STAFF,
    ),
    # The review of declarations: the queue, the whole declaration (each opening is logged).
    "agency.queue": Route(REVIEW_PAGE),
    "agency.review_declaration": Route(
        REVIEW_PAGE,
        url_values=lambda world: {"declaration_id": world.declaration.id},
        effect=lambda world: _logged("declaration.opened", world.declaration),
        effect_for=REVIEWERS,
    ),
    "agency.claim": Route(
        row(SIGN_IN, 403, 403, TO_DECLARATION, TO_DECLARATION, 403),
        url_values=lambda world: {"declaration_id": world.declaration.id},
        form=_lock_version,
        effect=_declaration_state,
        effect_for=REVIEWERS,
    ),
    # Only a supervisor gives the declaration to a reviewer.
    "agency.assign": Route(
        row(SIGN_IN, 403, 403, 403, TO_DECLARATION, 403),
        url_values=lambda world: {"declaration_id": world.declaration.id},
        form=lambda world: {"assignee": str(world.inspector.id), **_lock_version(world)},
        effect=_declaration_state,
        effect_for=SUPERVISOR,
    ),
    # In review with the inspector: the assignee or any supervisor approves (and publishes).
    "agency.decide": Route(
        row(SIGN_IN, 403, 403, TO_DECLARATION, TO_DECLARATION, 403),
        url_values=lambda world: {"declaration_id": world.declaration.id},
        prepare=_in_review_by_inspector,
        form=lambda world: {
            "decision": "approve",
            "grounds": "The declaration is complete and consistent.",
            **_lock_version(world),
        },
        effect=lambda world: world.declaration.status,
        effect_for=REVIEWERS,
    ),
    # Organisations: search, the file (its opening is logged), the entry, the certificate.
    # Breach reports: inspectors and supervisors triage them (each opening is logged).
    "agency.breaches_list": Route(REVIEW_PAGE),
    "agency.breach": Route(
        REVIEW_PAGE,
        url_values=_agency_breach,
        prepare=_file_breach,
        effect=lambda world: _logged("breach_report.opened", world.breach),
        effect_for=REVIEWERS,
    ),
    "agency.assess_breach": Route(
        row(SIGN_IN, 403, 403, TO_BREACH, TO_BREACH, 403),
        url_values=_agency_breach,
        prepare=_file_breach,
        form=_breach_lock_version,
        effect=_breach_state,
        effect_for=REVIEWERS,
    ),
    # Assessed by the inspector: the inspector or any supervisor asks and decides.
    "agency.ask_breach_question": Route(
        row(SIGN_IN, 403, 403, TO_BREACH, TO_BREACH, 403),
        url_values=_agency_breach,
        prepare=_breach_assessed_by_inspector,
        form=lambda world: {"question": "Who received it?", **_breach_lock_version(world)},
        effect=_breach_state,
        effect_for=REVIEWERS,
    ),
    "agency.decide_breach": Route(
        row(SIGN_IN, 403, 403, TO_BREACH, TO_BREACH, 403),
        url_values=_agency_breach,
        prepare=_breach_assessed_by_inspector,
        form=lambda world: {
            "decision": "close",
            "grounds": "The message was recalled at once.",
            **_breach_lock_version(world),
        },
        effect=_breach_state,
        effect_for=REVIEWERS,
    ),
    # Complaints: inspectors and supervisors triage them (each opening is logged).
    "agency.complaints_list": Route(REVIEW_PAGE),
    "agency.complaint": Route(
        REVIEW_PAGE,
        url_values=_agency_complaint,
        prepare=_file_complaint,
        effect=lambda world: _logged("complaint.opened", world.complaint),
        effect_for=REVIEWERS,
    ),
    "agency.assess_complaint": Route(
        row(SIGN_IN, 403, 403, TO_COMPLAINT, TO_COMPLAINT, 403),
        url_values=_agency_complaint,
        prepare=_file_complaint,
        form=_complaint_lock_version,
        effect=_complaint_state,
        effect_for=REVIEWERS,
    ),
    "agency.decide_complaint": Route(
        row(SIGN_IN, 403, 403, TO_COMPLAINT, TO_COMPLAINT, 403),
        url_values=_agency_complaint,
        prepare=_complaint_assessed_by_inspector,
        form=lambda world: {
            "decision": "not_upheld",
            "grounds": "The holder had the complainant's consent.",
            **_complaint_lock_version(world),
        },
        effect=_complaint_state,
        effect_for=REVIEWERS,
    ),
    "agency.organisations": Route(REVIEW_PAGE),
    "agency.organisation": Route(
        REVIEW_PAGE,
        url_values=_organisation,
        effect=lambda world: _logged("organisation.opened", world.organisation),
        effect_for=REVIEWERS,
    ),
    # Only a supervisor suspends, reinstates or strikes off an entry.
    "agency.entry_status": Route(
        row(SIGN_IN, 403, 403, 403, Redirect("/agency/organisations/{organisation.id}"), 403),
        url_values=_organisation,
        prepare=_publish,
        form=lambda world: {"action": "suspend", "grounds": "Processing without a legal basis."},
        effect=_entry_status,
        effect_for=SUPERVISOR,
    ),
    "agency.certificate": Route(REVIEW_PAGE, url_values=_organisation, prepare=_publish),
    "agency.organisation_document": Route(
        REVIEW_PAGE,
        url_values=_document,
        effect=lambda world: _logged("document.opened", world.document),
        effect_for=REVIEWERS,
    ),
    # Paper filing: only an organisation filed on paper that nobody acts for online (any other
    # is a 404: test_staff_file_on_paper_only_for_paper_organisations_nobody_acts_for).
    "agency.paper_new": Route(REVIEW_PAGE),
    "agency.paper_filing": Route(REVIEW_PAGE, url_values=_paper),
    "agency.paper_details": Route(REVIEW_PAGE, url_values=_paper),
    "agency.paper_person": Route(
        REVIEW_PAGE, url_values=lambda world: {**_paper(world), "kind": "head"}
    ),
    "agency.paper_new_array": Route(REVIEW_PAGE, url_values=_paper),
    "agency.paper_array": Route(
        REVIEW_PAGE,
        url_values=lambda world: {**_paper(world), "array_id": world.paper_array.id},
    ),
    "agency.paper_document": Route(
        row(SIGN_IN, 403, 403, TO_PAPER, TO_PAPER, 403),
        url_values=_paper,
        form=lambda world: {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "scan.pdf")},
        effect=_documents_of_paper,
        effect_for=REVIEWERS,
    ),
    # The paper submission is not complete: staff are sent back to it, nothing is filed.
    "agency.paper_submit": Route(
        row(SIGN_IN, 403, 403, TO_PAPER, TO_PAPER, 403),
        url_values=_paper,
        effect=_declarations_of_paper,
    ),
    # The certificate: the organisation's own (404 to another holder); staff use /agency.
    "holder.certificate": Route(OWN_PAGE, url_values=_organisation, prepare=_publish),
    # Anyone checks a certificate's code, on the page or through the API.
    "public.verify": Route(everyone(200), url_values=_certificate_code, prepare=_publish),
    "api.verify": Route(everyone(200), url_values=_certificate_code, prepare=_publish),
    # The public register: search, entries and the API, for everyone; it never decrypts.
    "public.registry": Route(everyone(200)),
    "public.registry_entry": Route(everyone(200), url_values=_entry_number, prepare=_publish),
    "api.holders": Route(everyone(200), prepare=_publish),
    "api.holder": Route(everyone(200), url_values=_entry_number, prepare=_publish),
    "api.holder_versions": Route(everyone(200), url_values=_entry_number, prepare=_publish),
    "api.openapi": Route(everyone(200)),
    # Open data: the page and the exported files, for everyone.
    "public.open_data": Route(everyone(200)),
    # Complaints: anyone files one without an account, and follows it through its secret link.
    "public.new_complaint": Route(everyone(200), effect=_complaints_filed),
    "public.complaint_received": Route(
        everyone(200),
        session=lambda world: {
            "complaint_receipt": {"number": "C-TEST-0001", "token": "t" * 43}
        },
    ),
    "public.complaint_status": Route(
        everyone(200),
        url_values=lambda world: {"token": world.complaint_token},
        prepare=_file_complaint,
    ),
    "public.open_data_file": Route(
        everyone(200),
        url_values=lambda world: {"filename": "holders.csv"},
        prepare=_export_open_data,
    ),
    # Inspections (issue 11): the plan, the list and an inspection's page for inspectors and
    # supervisors; supervisors plan; the inspector assigned (or a supervisor) acts.
    "agency.inspections_list": Route(REVIEW_PAGE),
    "agency.inspection_plan_page": Route(REVIEW_PAGE),
    "agency.new_inspection": Route(
        row(SIGN_IN, 403, 403, 403, 200, 403),
        url_values=_organisation,
        effect=_inspections_of_organisation,
    ),
    "agency.inspection": Route(
        REVIEW_PAGE,
        url_values=_inspection_values,
        prepare=_plan_inspection,
        effect=lambda world: _logged("inspection.opened", world.inspection),
        effect_for=REVIEWERS,
    ),
    "agency.start_inspection": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_inspection_values,
        prepare=_plan_inspection,
        form=_inspection_lock,
        effect=_inspection_state,
        effect_for=REVIEWERS,
    ),
    "agency.save_inspection_record": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_inspection_values,
        prepare=_inspection_under_way,
        form=lambda world: {**_inspection_lock(world), "findings": "Seen", "notes": "Noted"},
        effect=_inspection_state,
        effect_for=REVIEWERS,
    ),
    "agency.report_inspection": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_inspection_values,
        prepare=_inspection_under_way,
        form=lambda world: {**_inspection_lock(world), "findings": "Found"},
        effect=_inspection_state,
        effect_for=REVIEWERS,
    ),
    "agency.close_inspection": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_inspection_values,
        prepare=_inspection_reported,
        form=_inspection_lock,
        effect=_inspection_state,
        effect_for=REVIEWERS,
    ),
    "agency.add_violation": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_inspection_values,
        prepare=_inspection_under_way,
        form=lambda world: {"article_code": "art_30", "description": "Unregistered array"},
        effect=lambda world: _count(InspectionViolation),
        effect_for=REVIEWERS,
    ),
    "agency.issue_order": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_inspection_values,
        prepare=_inspection_under_way,
        form=lambda world: {
            "requirement": "Register the array",
            "due_on": (inspections.today() + timedelta(days=30)).isoformat(),
        },
        effect=lambda world: _count(InspectionOrder),
        effect_for=REVIEWERS,
    ),
    "agency.accept_order_answer": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_agency_order,
        prepare=_order_answered,
        form=_order_lock,
        effect=_order_state,
        effect_for=REVIEWERS,
    ),
    "agency.return_order_answer": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_agency_order,
        prepare=_order_answered,
        form=lambda world: {**_order_lock(world), "grounds": "Show the appointment order"},
        effect=_order_state,
        effect_for=REVIEWERS,
    ),
    "agency.withdraw_order": Route(
        row(SIGN_IN, 403, 403, TO_INSPECTION, TO_INSPECTION, 403),
        url_values=_agency_order,
        prepare=_order_issued,
        form=lambda world: {**_order_lock(world), "grounds": "Issued by mistake"},
        effect=_order_state,
        effect_for=REVIEWERS,
    ),
    "agency.order_answer_document": Route(
        REVIEW_PAGE,
        url_values=lambda world: {**_agency_order(world), "document_id": world.answer_document.id},
        prepare=_order_answered,
        effect=lambda world: _logged("document.opened", world.answer_document),
        effect_for=REVIEWERS,
    ),
    # The holder's inspections and orders: its own (another holder's is a 404), never staff's.
    "holder.inspections_list": Route(OWN_PAGE, url_values=_organisation),
    "holder.inspection": Route(
        OWN_PAGE, url_values=_holder_inspection, prepare=_plan_inspection
    ),
    "holder.inspection_order": Route(OWN_PAGE, url_values=_holder_order, prepare=_order_issued),
    "holder.answer_inspection_order": Route(
        row(
            SIGN_IN,
            Redirect("/organisation/{organisation.id}/orders/{order.id}"),
            404,
            403,
            403,
            403,
        ),
        url_values=_holder_order,
        prepare=_order_issued,
        form=lambda world: {**_order_lock(world), "text": "Done as ordered"},
        effect=_order_state,
        effect_for=OWNER,
    ),
    "holder.order_answer_document": Route(
        OWN_PAGE,
        url_values=lambda world: {**_holder_order(world), "document_id": world.answer_document.id},
        prepare=_order_answered,
    ),
    # Statistics (issue 11, part 5): supervisors only; inspectors and admins get 403.
    "agency.statistics_page": Route(row(SIGN_IN, 403, 403, 403, 200, 403)),
    "agency.statistics_csv": Route(row(SIGN_IN, 403, 403, 403, 200, 403)),
    # Issue 11, the holder's file: the staff who open the organisation's page; each opening logged.
    "agency.holder_file": Route(
        REVIEW_PAGE,
        url_values=_organisation,
        prepare=_publish,
        effect=lambda world: _logged("organisation.file_opened", world.organisation),
        effect_for=REVIEWERS,
    ),
}
# fmt: on


def _method(app: Any, endpoint: str) -> str:
    methods: set[str] = set()
    for rule in app.url_map.iter_rules(endpoint):
        methods |= set(rule.methods or ()) - {"HEAD", "OPTIONS"}
    return "GET" if "GET" in methods else sorted(methods)[0]


def _rule_path(app: Any, endpoint: str) -> str:
    return next(iter(app.url_map.iter_rules(endpoint))).rule


def assert_forbidden_page(response: Any) -> None:
    """A 403 is the site's error page, not a stack trace or a bare response."""
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert FORBIDDEN_TITLE in page
    assert "Error 403" in page
    assert 'class="site-header' in page  # in the site's layout
    assert "Traceback" not in page


def assert_answer(
    response: Any, expected: Expected, *, url: str, method: str, world: World
) -> None:
    """Compare a response with the expected answer of the matrix."""
    status = response.status_code
    if expected == SIGN_IN:
        assert status == 302, f"expected a redirect to sign-in, got {status}"
        location = urlsplit(response.headers["Location"])
        assert location.path == "/auth/sign-in"
        # Pages come back after signing in; a POST is not replayed.
        assert parse_qs(location.query) == ({"next": [url]} if method == "GET" else {})
    elif isinstance(expected, Redirect):
        assert status == 302, f"expected a redirect to {expected.path}, got {status}"
        path = expected.path.format(**{f.name: getattr(world, f.name) for f in fields(world)})
        assert urlsplit(response.headers["Location"]).path == path
    elif isinstance(expected, OwnPage):
        assert status == expected.status, f"expected {expected.status}, got {status}"
        page = response.get_data(as_text=True)
        assert expected.text in page
        assert 'class="site-header' in page  # in the site's layout
        assert "Traceback" not in page
    else:
        assert isinstance(expected, int)
        assert status == expected, f"expected {expected}, got {status}"
        if expected == 403:
            assert_forbidden_page(response)


def test_every_route_has_an_expectation(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(EXPECTATIONS))
    extra = sorted(set(EXPECTATIONS) - endpoints)
    assert not missing and not extra, (
        f"routes without a row in EXPECTATIONS: {missing}; rows without a route: {extra}"
    )


def test_matrix_agrees_with_the_public_allowlist_and_keeps_holders_out_of_the_agency(app):
    public = app.config["PUBLIC_ENDPOINTS"]
    for endpoint, route in EXPECTATIONS.items():
        assert set(route.answers) == set(ROLES), endpoint
        # Deny by default: exactly the endpoints off the allowlist send anonymous to sign-in.
        assert (route.answers["anonymous"] == SIGN_IN) == (endpoint not in public), endpoint
        if endpoint not in app.view_functions:
            continue
        path = _rule_path(app, endpoint)
        # Holders get 403 on every /admin and /agency route.
        if path.startswith(("/admin", "/agency")):
            assert route.answers["holder_own"] == 403, endpoint
            assert route.answers["holder_other"] == 403, endpoint
        # Inspectors and supervisors get 403 on every /admin route.
        if path.startswith("/admin"):
            assert route.answers["inspector"] == 403, endpoint
            assert route.answers["supervisor"] == 403, endpoint
        # Staff get 403 on every page of a holder's organisations.
        if path.startswith("/organisation"):
            for role in ("inspector", "supervisor", "admin"):
                assert route.answers[role] == 403, endpoint


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(EXPECTATIONS))
def test_route_answers_each_role_as_expected(app, client, auth, endpoint, role):
    if endpoint not in app.view_functions:
        pytest.fail(f"{endpoint} has a row in EXPECTATIONS but no route")
    route = EXPECTATIONS[endpoint]
    world = make_world()
    if route.prepare:
        route.prepare(world)
    with app.test_request_context():
        url = url_for(endpoint, **route.url_values(world))
    if role != "anonymous":
        auth.login(getattr(world, role))
    with client.session_transaction() as session:
        session["lang"] = "en"
        session.update(route.session(world))
    before = route.effect(world) if route.effect else None

    method = _method(app, endpoint)
    if method == "GET":
        response = client.get(url)
    else:
        data = {"csrf_token": client.csrf_token(), **route.form(world)}
        response = client.open(url, method=method, data=data)

    assert_answer(response, route.answers[role], url=url, method=method, world=world)
    response.close()
    if route.effect:
        db.session.expire_all()
        after = route.effect(world)
        if role in route.effect_for:
            assert after != before, f"{role}: {endpoint} should have changed something"
        else:
            assert after == before, f"{role}: {endpoint} changed something it must not"


PAPER_PAGES = (
    "agency.paper_filing",
    "agency.paper_details",
    "agency.paper_person",
    "agency.paper_new_array",
    "agency.paper_array",
    "agency.paper_document",
    "agency.paper_submit",
)


def _claim_paper(world: World) -> Organisation:
    """The paper organisation once a holder acts for it online."""
    MembershipFactory(organisation=world.paper, user=world.holder_other)
    return world.paper


@pytest.mark.parametrize(
    "which",
    [
        pytest.param(lambda world: world.organisation, id="online"),
        pytest.param(_claim_paper, id="paper-claimed"),
    ],
)
@pytest.mark.parametrize("role", ["inspector", "supervisor"])
@pytest.mark.parametrize("endpoint", PAPER_PAGES)
def test_staff_file_on_paper_only_for_paper_organisations_nobody_acts_for(
    app, client, auth, endpoint, role, which
):
    world = make_world()
    organisation = which(world)
    array = world.array if organisation is world.organisation else world.paper_array
    values: dict[str, Any] = {"organisation_id": organisation.id}
    if endpoint == "agency.paper_person":
        values["kind"] = "head"
    if endpoint == "agency.paper_array":
        values["array_id"] = array.id
    with app.test_request_context():
        url = url_for(endpoint, **values)
    auth.login(getattr(world, role))
    methods = {
        method
        for rule in app.url_map.iter_rules(endpoint)
        for method in rule.methods or ()
        if method in {"GET", "POST"}
    }
    assert methods
    for method in sorted(methods):
        data = {"csrf_token": client.csrf_token()} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        response.close()


@pytest.mark.parametrize(
    ("endpoint", "role"),
    [("holder.certificate", "holder_own"), ("agency.certificate", "inspector")],
)
def test_the_certificate_is_a_pdf(app, client, auth, endpoint, role):
    world = make_world()
    _publish(world)
    with app.test_request_context():
        url = url_for(endpoint, organisation_id=world.organisation.id)
    auth.login(getattr(world, role))
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")


def test_json_clients_get_problem_details_on_a_private_endpoint(client, auth):
    json = {"Accept": "application/json"}
    anonymous = client.get("/admin/staff", headers=json)
    assert anonymous.status_code == 401
    assert anonymous.mimetype == "application/problem+json"
    assert anonymous.get_json()["status"] == 401
    assert "Location" not in anonymous.headers

    auth.login(HolderFactory())
    holder = client.get("/admin/staff", headers=json)
    assert holder.status_code == 403
    assert holder.mimetype == "application/problem+json"
    assert holder.get_json()["title"] == FORBIDDEN_TITLE
