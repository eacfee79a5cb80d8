"""The holder's registration: task list, check your answers, submit, withdraw, resubmit, amend,
end the entry; frozen versions; the agency's comments beside the fields; declaration files;
who may reach what; and no N+1 on the task list or the check page.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import (
    ActivityEntry,
    Declaration,
    DeclarationEvent,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    Document,
    DocumentKind,
    Notification,
    PersonalDataArray,
    PersonKind,
    Role,
)
from register.services import declarations, snapshots
from tests.factories import (
    ArrayFactory,
    DocumentFactory,
    HolderFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    ReviewCommentFactory,
    StaffFactory,
)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n(Confidential policy text)\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))
MB = 1024 * 1024


# -- helpers --------------------------------------------------------------------------------------


def ready_organisation(auth: Any, arrays: int = 1, **organisation: Any) -> tuple[Any, Any]:
    """A signed-in owner of an organisation whose every part is completed."""
    membership = MembershipFactory(organisation=OrganisationFactory(**organisation))
    user, found = membership.user, membership.organisation
    PersonFactory(
        organisation=found,
        kind=PersonKind.HEAD,
        full_name="Head Headovich",
        position="Director",
        pin=None,
        phone=None,
        email=None,
    )
    PersonFactory(organisation=found, full_name="Aida Responsible")
    DocumentFactory(organisation=found, uploaded_by_id=user.id)
    for index in range(arrays):
        ArrayFactory(organisation=found, name=f"Array {index:02d}")
    db.session.expire(found, ["people"])
    login(auth, user)
    return user, found


def login(auth: Any, user: Any) -> None:
    """Sign in, with the pages in English."""
    auth.login(user)
    with auth.client.session_transaction() as session:
        session["lang"] = "en"


def url(organisation: Any, suffix: str = "") -> str:
    return f"/organisation/{organisation.id}{suffix}"


def submit(client: Any, organisation: Any) -> Any:
    return client.post_form(url(organisation, "/registration/submit"))


def declarations_of(organisation: Any) -> list[Declaration]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Declaration)
            .where(Declaration.organisation_id == organisation.id)
            .order_by(Declaration.created_at)
        )
    )


def raw_version(version_id: uuid.UUID) -> tuple[Any, bytes]:
    row = db.session.execute(
        sa.select(
            DeclarationVersion.public_snapshot, DeclarationVersion.confidential_snapshot_encrypted
        ).where(DeclarationVersion.id == version_id)
    ).one()
    return row[0], bytes(row[1])


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def flashed(client: Any, organisation: Any, page: str = "/registration/check") -> str:
    return text(client.get(url(organisation, page)))


# -- the task list --------------------------------------------------------------------------------


def test_the_task_list_shows_each_part_and_its_state(client, auth):
    membership = MembershipFactory()
    organisation = membership.organisation
    login(auth, membership.user)
    ArrayFactory(organisation=organisation, name="Half done", purpose_codes=[])
    page = text(client.get(url(organisation, "/registration")))
    assert "Organisation details" in page
    assert page.count("Not started") == 3  # head, responsible person, documents
    assert "Half done" in page and "In progress" in page
    assert "Cannot start yet" in page
    assert f'href="{url(organisation, "/head")}"' in page
    assert f'href="{url(organisation, "/registration/check")}"' not in page

    tasks = declarations.task_list(organisation)
    states = {part.key: part.state for part in tasks.parts}
    assert states["details"] == "completed"
    assert states["head"] == states["responsible"] == states["documents"] == "not_started"
    assert states["check"] == "cannot_start_yet"
    assert {problem.part for problem in tasks.problems} >= {"head", "responsible", "documents"}


def test_a_ready_registration_can_be_checked_and_submitted(client, auth):
    _, organisation = ready_organisation(auth)
    page = text(client.get(url(organisation, "/registration")))
    assert "Cannot start yet" not in page
    assert f'href="{url(organisation, "/registration/check")}"' in page
    assert declarations.can_submit(organisation) == []


# -- check your answers, submit, withdraw, resubmit -----------------------------------------------


def test_the_whole_flow(client, auth, db):
    user, organisation = ready_organisation(auth)
    colleague = MembershipFactory(organisation=organisation, role="member").user
    [array] = organisation_arrays(organisation)

    page = text(client.get(url(organisation, "/registration/check")))
    for shown in (organisation.legal_name, "Head Headovich", "21505199012345", "Array 00"):
        assert shown in page
    assert "Up to 1,000" in page and "75 years" in page  # labels, not codes
    assert f'href="{url(organisation, "/details")}#legal_name"' in page
    assert f'href="{url(organisation, "/responsible")}#pin"' in page
    assert "What changed since the published version" not in page  # nothing published yet
    assert "Submit the declaration" in page

    response = submit(client, organisation)
    [declaration] = declarations_of(organisation)
    assert response.headers["Location"] == url(organisation, f"/declarations/{declaration.id}")
    assert declaration.kind is DeclarationKind.INITIAL
    assert declaration.status is DeclarationStatus.SUBMITTED
    assert declaration.lock_version == 1 and declaration.submitted_at is not None
    [first] = declaration.versions
    assert first.number == 1
    assert first.public_snapshot["organisation"]["legal_name"] == organisation.legal_name
    assert str(array.id) in first.public_snapshot["arrays"]
    assert snapshots.confidential_of(first)["people"]["head"]["full_name"] == "Head Headovich"
    assert [(e.from_status, e.to_status) for e in declaration.events] == [("draft", "submitted")]
    for member in (user, colleague):
        assert db.session.scalar(
            sa.select(Notification.id).where(
                Notification.recipient_id == member.id,
                Notification.kind == "declaration.submitted",
            )
        )
    assert db.session.scalar(
        sa.select(ActivityEntry.id).where(ActivityEntry.action == "declaration.submitted")
    )
    page = text(client.get(url(organisation, f"/declarations/{declaration.id}")))
    assert "Version 1 has been submitted to the agency." in page
    assert "Initial registration" in page and "Withdraw the declaration" in page
    assert "Declarations" in text(client.get(url(organisation, "/declarations")))
    registration = text(client.get(url(organisation, "/registration")))
    assert "Your declaration is with the agency" in registration

    response = client.post_form(
        url(organisation, f"/declarations/{declaration.id}/withdraw"),
        {"reason": "We found a mistake", "lock_version": "1"},
    )
    assert response.status_code == 302
    [declaration] = declarations_of(organisation)
    assert declaration.status is DeclarationStatus.WITHDRAWN
    assert declaration.lock_version == 2
    assert declaration.events[-1].to_status == "withdrawn"
    assert declaration.events[-1].note == "We found a mistake"
    public_1, confidential_1 = raw_version(first.id)

    array.retention_value = 50
    db.session.commit()
    assert submit(client, organisation).status_code == 302
    withdrawn, second = declarations_of(organisation)
    assert withdrawn.id == declaration.id and second.kind is DeclarationKind.INITIAL
    assert [version.number for version in second.versions] == [2]
    assert second.versions[0].public_snapshot["arrays"][str(array.id)]["retention"]["value"] == 50
    assert raw_version(first.id) == (public_1, confidential_1)  # version 1 kept, unchanged


def organisation_arrays(organisation: Any) -> list[PersonalDataArray]:
    return list(
        db.session.scalars(
            sa.select(PersonalDataArray).where(PersonalDataArray.organisation_id == organisation.id)
        )
    )


def test_a_submitted_version_never_changes_when_the_working_copy_is_edited(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    version_id = declaration.versions[0].id
    before = raw_version(version_id)

    [array] = organisation_arrays(organisation)
    array.security_description = "Everything changed"
    array.name = "Renamed"
    organisation.legal_address = "Another street 9"
    organisation.person(PersonKind.RESPONSIBLE).pin = "11203198598765"
    db.session.commit()
    db.session.expire_all()
    assert raw_version(version_id) == before
    stored = db.session.get(DeclarationVersion, version_id)
    assert snapshots.full_snapshot(stored)["arrays"][str(array.id)]["name"] == "Array 00"


def test_a_second_pending_declaration_is_refused(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    response = submit(client, organisation)
    assert response.headers["Location"] == url(organisation, "/registration/check")
    assert "already waiting for the agency" in flashed(client, organisation)
    assert len(declarations_of(organisation)) == 1
    with pytest.raises(declarations.NotReady) as refused:
        declarations.submit(organisation, HolderFactory())
    assert "already waiting for the agency" in refused.value.problems[0].message


def test_an_incomplete_registration_is_sent_back_with_its_problems(client, auth):
    _, organisation = ready_organisation(auth, arrays=0)
    response = submit(client, organisation)
    assert response.headers["Location"] == url(organisation, "/registration/check")
    page = flashed(client, organisation)
    assert "Add at least one personal data array" in page
    assert "Submit the declaration" not in page
    assert declarations_of(organisation) == []


def changes_requested(client: Any, organisation: Any) -> tuple[Declaration, PersonalDataArray]:
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    declaration.status = DeclarationStatus.CHANGES_REQUESTED
    [array] = organisation_arrays(organisation)
    ReviewCommentFactory(declaration=declaration, path="organisation/legal_address")
    ReviewCommentFactory(
        declaration=declaration,
        path=f"arrays/{array.id}/retention",
        body="75 years is longer than the archive law allows.",
        article="Art. 9",
    )
    db.session.commit()
    return declaration, array


def test_comments_mark_their_parts_and_show_beside_their_fields(client, auth):
    _, organisation = ready_organisation(auth)
    declaration, array = changes_requested(client, organisation)

    states = {part.key: part.state for part in declarations.task_list(organisation).parts}
    assert states["details"] == "needs_changes"
    assert states[f"array:{array.id}"] == "needs_changes"
    assert states["head"] == states["responsible"] == states["documents"] == "completed"
    assert states["check"] == "not_started"
    page = text(client.get(url(organisation, "/registration")))
    assert page.count("tag tag--needs-changes") == 2
    assert "The agency asks you to change your declaration." in page

    page = text(client.get(url(organisation, "/registration/check")))
    address = page.split('data-path="organisation/legal_address"', 1)[1].split("</div>\n", 1)[0]
    assert "differs from the state register" in address
    retention = page.split(f'data-path="arrays/{array.id}/retention"', 1)[1]
    retention = retention.split('data-path="', 1)[0]
    assert "longer than the archive law allows" in retention and "Art. 9" in retention
    legal_name = page.split('data-path="organisation/legal_name"', 1)[1].split("data-path", 1)[0]
    assert "The agency's comment" not in legal_name
    assert "longer than the archive law" in text(
        client.get(url(organisation, f"/declarations/{declaration.id}"))
    )


def test_resubmitting_after_changes_requested(client, auth):
    _, organisation = ready_organisation(auth)
    declaration, array = changes_requested(client, organisation)
    array.retention_value = 10
    db.session.commit()
    assert submit(client, organisation).status_code == 302
    [resubmitted] = declarations_of(organisation)
    assert resubmitted.id == declaration.id
    assert resubmitted.status is DeclarationStatus.SUBMITTED
    assert [version.number for version in resubmitted.versions] == [1, 2]
    assert resubmitted.events[-1].from_status == "changes_requested"
    assert all(comment.resolved_at is not None for comment in resubmitted.comments)
    assert resubmitted.lock_version == 2
    states = {part.key: part.state for part in declarations.task_list(organisation).parts}
    assert "needs_changes" not in states.values()
    page = text(client.get(url(organisation, f"/declarations/{declaration.id}")))
    assert "Version 2" in page and "Version 1" in page
    assert "75 years" in page and "10 years" in page  # the diff between the two versions


def approve(declaration: Declaration) -> DeclarationVersion:
    declaration.status = DeclarationStatus.APPROVED
    declaration.decided_at = utcnow()
    version = declaration.versions[-1]
    version.published_at = utcnow()
    db.session.commit()
    return version


def test_an_amendment_starts_from_the_working_copy_while_the_published_version_stays(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [initial] = declarations_of(organisation)
    published = approve(initial)
    before = raw_version(published.id)

    response = submit(client, organisation)  # nothing changed yet
    assert response.status_code == 302
    assert "Nothing has changed since the published version" in flashed(client, organisation)

    [array] = organisation_arrays(organisation)
    array.retention_value = 25
    added = ArrayFactory(organisation=organisation, name="Customers")
    db.session.commit()
    page = text(client.get(url(organisation, "/registration/check")))
    assert "What changed since the published version 1" in page
    assert "25 years" in page and "Customers" in page and "Added" in page

    assert submit(client, organisation).status_code == 302
    _, amendment = declarations_of(organisation)
    assert amendment.kind is DeclarationKind.AMENDMENT
    assert amendment.base_version_id == published.id
    assert amendment.versions[0].number == 2
    assert str(added.id) in amendment.versions[0].public_snapshot["arrays"]
    assert declarations.published_version(organisation).id == published.id
    assert raw_version(published.id) == before
    page = text(client.get(url(organisation, f"/declarations/{amendment.id}")))
    assert "Amendment" in page and "75 years" in page and "25 years" in page


def test_a_termination_notice(client, auth):
    _, organisation = ready_organisation(auth)
    termination_url = url(organisation, "/termination")
    assert "nothing to end" in text(client.get(termination_url))
    client.post_form(termination_url, {"reason": "Liquidated"})
    assert declarations_of(organisation) == []

    submit(client, organisation)
    [initial] = declarations_of(organisation)
    published = approve(initial)
    assert "Send the termination notice" in text(client.get(termination_url))
    response = client.post_form(termination_url, {"reason": ""})
    assert response.status_code == 200
    assert "Say why the organisation stops processing personal data" in text(response)

    response = client.post_form(termination_url, {"reason": "The company was liquidated"})
    _, termination = declarations_of(organisation)
    assert response.headers["Location"] == url(organisation, f"/declarations/{termination.id}")
    assert termination.kind is DeclarationKind.TERMINATION
    assert termination.status is DeclarationStatus.SUBMITTED
    assert termination.base_version_id == published.id
    [version] = termination.versions
    assert version.number == 2
    assert version.public_snapshot == published.public_snapshot
    assert snapshots.confidential_of(version) == snapshots.confidential_of(published)
    assert termination.events[0].note == "The company was liquidated"
    client.post_form(termination_url, {"reason": "Again"})
    assert len(declarations_of(organisation)) == 2
    assert "Termination notice" in text(
        client.get(url(organisation, f"/declarations/{termination.id}"))
    )


def test_withdrawal_refused_after_a_decision_or_from_a_stale_page(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    withdraw_url = url(organisation, f"/declarations/{declaration.id}/withdraw")

    declaration.status = DeclarationStatus.IN_REVIEW
    declaration.lock_version = 2
    db.session.commit()
    client.post_form(withdraw_url, {"lock_version": "1"})  # the page was read before review
    page = flashed(client, organisation, f"/declarations/{declaration.id}")
    assert "This declaration was changed by" in page
    assert declarations_of(organisation)[0].status is DeclarationStatus.IN_REVIEW

    approve(declarations_of(organisation)[0])
    client.post_form(withdraw_url, {"lock_version": "2"})
    assert "can no longer be withdrawn" in flashed(
        client, organisation, f"/declarations/{declaration.id}"
    )
    assert declarations_of(organisation)[0].status is DeclarationStatus.APPROVED


def test_a_concurrent_submission_is_reported_clearly(client, auth, monkeypatch):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [first] = declarations_of(organisation)
    first.status = DeclarationStatus.WITHDRAWN
    db.session.commit()
    # Another request took number 2 after this one read the maximum: both want 2... and 1.
    monkeypatch.setattr(declarations, "_next_number", lambda organisation_id: 1)
    response = submit(client, organisation)
    assert response.headers["Location"] == url(organisation, "/registration/check")
    assert "submitted at the same moment" in flashed(client, organisation)
    assert len(declarations_of(organisation)) == 1


def test_the_timeline_uses_the_agency_time_zone(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    event = declaration.events[0]
    event.occurred_at = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)  # 2 January in Bishkek
    db.session.commit()
    page = text(client.get(url(organisation, f"/declarations/{declaration.id}")))
    timeline = page.split('class="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "Jan 2, 2026" in timeline and "2:30" in timeline
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeclarationEvent)) >= 1


# -- documents on a declaration -------------------------------------------------------------------


def upload(client: Any, organisation: Any, declaration: Any, content: bytes, name: str) -> Any:
    return client.post_form(
        url(organisation, f"/declarations/{declaration.id}/documents"),
        {"file": (io.BytesIO(content), name)},
    )


def declaration_files(declaration: Any) -> list[Document]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Document).where(Document.declaration_id == declaration.id))
    )


def test_declaration_documents_upload_and_download(client, auth):
    user, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    response = upload(client, organisation, declaration, PDF, "../Privacy policy\u202e.pdf")
    assert response.headers["Location"] == url(organisation, f"/declarations/{declaration.id}")
    [document] = declaration_files(declaration)
    assert document.kind is DocumentKind.DECLARATION
    assert document.organisation_id == organisation.id
    assert document.filename == "Privacy policy.pdf"  # no path, no control characters
    assert document.uploaded_by_id == user.id
    raw = db.session.execute(
        sa.select(Document.content_encrypted).where(Document.id == document.id)
    ).scalar_one()
    assert b"%PDF" not in raw and b"Confidential policy text" not in raw

    page = text(client.get(url(organisation, f"/declarations/{declaration.id}")))
    assert "Privacy policy.pdf" in page
    download = client.get(
        url(organisation, f"/declarations/{declaration.id}/documents/{document.id}")
    )
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    # The organisation's proof of authority is not a file of the declaration.
    authority = db.session.scalar(
        sa.select(Document.id).where(
            Document.organisation_id == organisation.id, Document.kind == DocumentKind.AUTHORITY
        )
    )
    response = client.get(
        url(organisation, f"/declarations/{declaration.id}/documents/{authority}")
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"Just text, not a PDF\n", "letter.pdf", "must be a PDF, PNG or JPEG"),
        (b"GIF89a" + bytes(32), "picture.png", "must be a PDF, PNG or JPEG"),
        (PNG + b"\x00" * (10 * MB + 1 - len(PNG)), "big.png", "must be smaller than 10 MB"),
    ],
)
def test_refused_declaration_documents(client, auth, content, name, message):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    response = upload(client, organisation, declaration, content, name)
    assert response.status_code == 200
    assert message in text(response)
    assert declaration_files(declaration) == []


def test_an_upload_over_the_request_limit_is_a_413_page(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    response = upload(client, organisation, declaration, PNG + b"\x00" * (13 * MB), "huge.png")
    assert response.status_code == 413
    assert "too large" in text(response)
    assert declaration_files(declaration) == []


def test_no_documents_on_a_decided_declaration(client, auth):
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    approve(declaration)
    upload(client, organisation, declaration, PDF, "late.pdf")
    assert declaration_files(declaration) == []
    assert "only while the declaration waits" in flashed(
        client, organisation, f"/declarations/{declaration.id}"
    )


# -- who may reach what ---------------------------------------------------------------------------


def routes(organisation: Any, declaration: Any, document: Any) -> list[tuple[str, str, dict]]:
    base = url(organisation)
    decl = f"{base}/declarations/{declaration.id}"
    return [
        ("get", f"{base}/registration", {}),
        ("get", f"{base}/registration/check", {}),
        ("post", f"{base}/registration/submit", {}),
        ("get", f"{base}/declarations", {}),
        ("get", decl, {}),
        ("post", f"{decl}/withdraw", {"lock_version": str(declaration.lock_version)}),
        ("post", f"{decl}/documents", {"file": (io.BytesIO(PDF), "x.pdf")}),
        ("get", f"{decl}/documents/{document.id}", {}),
        ("get", f"{base}/termination", {}),
        ("post", f"{base}/termination", {"reason": "Stop"}),
    ]


def call(client: Any, method: str, path: str, data: dict) -> Any:
    if method == "get":
        return client.get(path)
    return client.post_form(path, dict(data))


def own_declaration_with_document(client: Any, auth: Any) -> tuple[Any, Any, Any]:
    _, organisation = ready_organisation(auth)
    submit(client, organisation)
    [declaration] = declarations_of(organisation)
    upload(client, organisation, declaration, PDF, "policy.pdf")
    [document] = declaration_files(declaration)
    return organisation, declaration, document


def test_a_holder_of_another_organisation_gets_404_everywhere(client, auth):
    organisation, declaration, document = own_declaration_with_document(client, auth)
    before = (declaration.status, declaration.lock_version)
    other = MembershipFactory().user
    login(auth, other)
    for method, path, data in routes(organisation, declaration, document):
        assert call(client, method, path, data).status_code == 404, (method, path)
    # Their own organisation does not open another's declaration or document either.
    own = MembershipFactory(user=other).organisation
    for path in (
        url(own, f"/declarations/{declaration.id}"),
        url(own, f"/declarations/{declaration.id}/documents/{document.id}"),
    ):
        assert client.get(path).status_code == 404
    [declaration] = declarations_of(organisation)
    assert (declaration.status, declaration.lock_version) == before
    assert len(declaration_files(declaration)) == 1


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN])
def test_staff_get_403_on_the_holder_pages(client, auth, role):
    organisation, declaration, document = own_declaration_with_document(client, auth)
    login(auth, StaffFactory(role=role))
    for method, path, data in routes(organisation, declaration, document):
        assert call(client, method, path, data).status_code == 403, (method, path)


def test_unknown_declarations_and_documents_are_404(client, auth):
    organisation, declaration, _ = own_declaration_with_document(client, auth)
    missing = uuid.uuid4()
    assert client.get(url(organisation, f"/declarations/{missing}")).status_code == 404
    path = url(organisation, f"/declarations/{declaration.id}/documents/{missing}")
    assert client.get(path).status_code == 404


# -- no N+1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/registration", "/registration/check"])
def test_query_count_does_not_grow_with_the_arrays(client, auth, query_counter, page):
    counts = []
    for arrays in (1, 20):
        _, organisation = ready_organisation(auth, arrays=arrays)
        submit(client, organisation)
        [declaration] = declarations_of(organisation)
        declaration.status = DeclarationStatus.CHANGES_REQUESTED
        for array in organisation_arrays(organisation):
            ReviewCommentFactory(declaration=declaration, path=f"arrays/{array.id}/name")
        approve_copy = declaration.versions[0]
        approve_copy.published_at = utcnow()
        db.session.commit()
        with query_counter() as statements:
            response = client.get(url(organisation, page))
        assert response.status_code == 200
        assert text(response).count("Array ") >= arrays
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_declaration_files_stay_off_the_organisations_own_document_pages(client, auth, db):
    from register.models import Document, DocumentKind
    from tests.factories import DeclarationFactory, DocumentFactory, MembershipFactory

    membership = MembershipFactory()
    organisation = membership.organisation
    declaration = DeclarationFactory(organisation=organisation)
    attached = DocumentFactory(
        organisation=organisation,
        kind=DocumentKind.DECLARATION,
        declaration_id=declaration.id,
        filename="privacy-policy.pdf",
    )
    auth.login(membership.user)
    page = client.get(f"/organisation/{organisation.id}/documents").get_data(as_text=True)
    assert "privacy-policy.pdf" not in page
    base = f"/organisation/{organisation.id}/documents/{attached.id}"
    assert client.get(base).status_code == 404
    assert client.post_form(f"{base}/delete").status_code == 404
    db.session.expire_all()
    assert db.session.get(Document, attached.id) is not None


def test_agency_staff_open_a_declarations_file_and_the_opening_is_logged(client, auth, db):
    import sqlalchemy as sa

    from register.models import ActivityEntry, DocumentKind
    from tests.factories import DeclarationFactory, DocumentFactory, StaffFactory

    declaration = DeclarationFactory()
    content = b"%PDF-1.4\n% privacy policy of the clinic\n%%EOF\n"
    attached = DocumentFactory(
        organisation=declaration.organisation,
        kind=DocumentKind.DECLARATION,
        declaration_id=declaration.id,
        content=content,
        size_bytes=len(content),
    )
    own = DocumentFactory(organisation=declaration.organisation)  # not the declaration's
    inspector = StaffFactory()
    auth.login(inspector)
    response = client.get(f"/agency/declarations/{declaration.id}/documents/{attached.id}")
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    opened = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "document.opened")
    ).all()
    assert [(entry.actor_id, entry.object_id) for entry in opened] == [
        (inspector.id, str(attached.id))
    ]
    assert (
        client.get(f"/agency/declarations/{declaration.id}/documents/{own.id}").status_code == 404
    )
