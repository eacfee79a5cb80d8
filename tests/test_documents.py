# ruff: noqa: RUF001 - file names in Cyrillic
"""Proof of authority: uploads checked by content and size, stored encrypted, downloaded intact.

Also who may reach an organisation's pages and documents, and what never reaches the database
in clear (people, an entrepreneur's TIN, a document's content).
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa

from register.models import ActivityEntry, Document, MemberRole, Organisation, PersonKind, Role
from register.services import documents, organisations
from tests.conftest import ON_POSTGRES, ensure_data_key
from tests.factories import (
    DocumentFactory,
    HolderFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
)
from tests.test_crypto import _dump_postgres, _sentinels, _sqlite_files
from tests.test_organisations import (
    add_reference_items,
    assert_error,
    member_of,
    organisation_form,
    responsible_form,
    signed_in_holder,
)

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
MB = 1024 * 1024


def png_of_size(size: int) -> bytes:
    """A byte string of exactly `size` bytes that starts like a PNG."""
    return PNG + b"\x00" * (size - len(PNG))


def upload(client: Any, organisation: Any, content: bytes, filename: str) -> Any:
    return client.post_form(
        f"/organisation/{organisation.id}/documents", {"file": (io.BytesIO(content), filename)}
    )


def documents_of(db: Any, organisation: Any) -> list[Document]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(Document).where(Document.organisation_id == organisation.id))
    )


def test_upload_list_and_download_a_pdf(client, auth, db):
    user, organisation = member_of(auth)
    response = upload(client, organisation, PDF, "Приказ о назначении.pdf")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisation/{organisation.id}/documents"
    [document] = documents_of(db, organisation)
    assert document.content_type == "application/pdf"
    assert document.size_bytes == len(PDF)
    assert document.filename == "Приказ о назначении.pdf"
    assert document.uploaded_by_id == user.id
    assert document.content == PDF
    assert db.session.scalar(
        sa.select(ActivityEntry.id).where(
            ActivityEntry.action == "document.added", ActivityEntry.object_id == str(document.id)
        )
    )

    page = client.get(f"/organisation/{organisation.id}/documents").get_data(as_text=True)
    row = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    for shown in ("Приказ о назначении.pdf", "PDF", f"{len(PDF)} Bytes", user.full_name):
        assert shown in row

    download = client.get(f"/organisation/{organisation.id}/documents/{document.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition  # the Cyrillic name, encoded
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"


def test_the_type_comes_from_the_content_not_the_name(client, auth, db):
    _, organisation = member_of(auth)
    assert upload(client, organisation, PNG, "scan.pdf").status_code == 302
    assert upload(client, organisation, JPEG, "photo").status_code == 302
    stored = {document.content_type: document for document in documents_of(db, organisation)}
    assert set(stored) == {"image/png", "image/jpeg"}
    assert stored["image/png"].filename == "scan.png"
    assert stored["image/jpeg"].filename == "photo.jpg"
    download = client.get(f"/organisation/{organisation.id}/documents/{stored['image/png'].id}")
    assert download.mimetype == "image/png" and download.data == PNG


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"Just some text, not a PDF at all.\n", "letter.pdf", "must be a PDF, PNG or JPEG"),
        (b"GIF89a" + bytes(32), "picture.png", "must be a PDF, PNG or JPEG"),
        (b"<html><script>alert(1)</script>", "page.jpg", "must be a PDF, PNG or JPEG"),
        (b"", "empty.pdf", "The selected file is empty"),
        (png_of_size(10 * MB + 1), "big.png", "must be smaller than 10 MB"),
    ],
)
def test_refused_files(client, auth, db, content, filename, message):
    _, organisation = member_of(auth)
    response = upload(client, organisation, content, filename)
    assert response.status_code == 200
    assert_error(response.get_data(as_text=True), "file", message)
    assert documents_of(db, organisation) == []


def test_no_file_selected(client, auth, db):
    _, organisation = member_of(auth)
    response = client.post_form(f"/organisation/{organisation.id}/documents", {})
    assert response.status_code == 200
    assert_error(response.get_data(as_text=True), "file", "Select a file")
    assert documents_of(db, organisation) == []


def test_exactly_10_mb_is_accepted_and_comes_back_intact(client, auth, db):
    _, organisation = member_of(auth)
    content = png_of_size(10 * MB)
    assert upload(client, organisation, content, "big.png").status_code == 302
    [document] = documents_of(db, organisation)
    assert document.size_bytes == 10 * MB
    download = client.get(f"/organisation/{organisation.id}/documents/{document.id}")
    assert download.data == content


def test_a_body_over_the_request_limit_is_a_413_page(client, auth, db):
    _, organisation = member_of(auth)
    response = upload(client, organisation, png_of_size(13 * MB), "huge.png")
    assert response.status_code == 413
    assert documents_of(db, organisation) == []


def test_delete_a_document(client, auth, db):
    _, organisation = member_of(auth)
    document_id = DocumentFactory(organisation=organisation).id
    kept = DocumentFactory(organisation=organisation)
    url = f"/organisation/{organisation.id}/documents/{document_id}/delete"
    response = client.post_form(url)
    assert response.headers["Location"] == f"/organisation/{organisation.id}/documents"
    assert [found.id for found in documents_of(db, organisation)] == [kept.id]
    assert db.session.scalar(
        sa.select(ActivityEntry.id).where(
            ActivityEntry.action == "document.deleted", ActivityEntry.object_id == str(document_id)
        )
    )
    assert client.post_form(url).status_code == 404  # already gone


def test_delete_needs_the_csrf_token(client, auth, db):
    _, organisation = member_of(auth)
    document = DocumentFactory(organisation=organisation)
    response = client.post(f"/organisation/{organisation.id}/documents/{document.id}/delete")
    assert response.status_code == 400
    assert len(documents_of(db, organisation)) == 1


def test_a_document_of_another_organisation_is_404_under_ones_own(client, auth, db):
    """Acting for organisation A does not reach B's document through A's URL."""
    _, own = member_of(auth)
    other = MembershipFactory().organisation
    document = DocumentFactory(organisation=other)
    base = f"/organisation/{own.id}/documents/{document.id}"
    assert client.get(base).status_code == 404
    assert client.post_form(f"{base}/delete").status_code == 404
    assert client.get(f"/organisation/{own.id}/documents/{uuid.uuid4()}").status_code == 404
    assert len(documents_of(db, other)) == 1


def test_a_member_who_is_not_owner_may_upload(client, auth, db):
    membership = MembershipFactory(role=MemberRole.MEMBER, organisation=OrganisationFactory())
    auth.login(membership.user)
    assert upload(client, membership.organisation, PDF, "a.pdf").status_code == 302


def test_the_list_does_not_load_contents(client, auth, db, query_counter):
    _, organisation = member_of(auth)
    DocumentFactory(organisation=organisation)
    with query_counter() as statements:
        client.get(f"/organisation/{organisation.id}/documents")
    selects = [s for s in statements if re.search(r"\bFROM documents\b", s)]
    assert selects and not any("content_encrypted" in s for s in selects)


# -- who may see an organisation's pages and documents ---------------------------------------


def object_urls(organisation: Organisation, document_id: uuid.UUID) -> list[tuple[str, str]]:
    base = f"/organisation/{organisation.id}"
    return [
        ("GET", f"{base}/details"),
        ("POST", f"{base}/details"),
        ("GET", f"{base}/head"),
        ("POST", f"{base}/head"),
        ("GET", f"{base}/responsible"),
        ("POST", f"{base}/responsible"),
        ("GET", f"{base}/documents"),
        ("POST", f"{base}/documents"),
        ("GET", f"{base}/documents/{document_id}"),
        ("POST", f"{base}/documents/{document_id}/delete"),
    ]


def _request(client: Any, method: str, url: str) -> Any:
    return client.get(url) if method == "GET" else client.post_form(url, organisation_form())


def test_another_organisations_holder_gets_404_everywhere(client, auth, db):
    organisation = MembershipFactory().organisation
    document = DocumentFactory(organisation=organisation)
    member_of(auth)  # a holder of another organisation
    for method, url in object_urls(organisation, document.id):
        assert _request(client, method, url).status_code == 404, (method, url)
    db.session.expire_all()
    assert db.session.get(type(document), document.id) is not None
    assert organisation.legal_name != organisation_form()["legal_name"]


def test_a_missing_organisation_is_a_404(client, auth):
    signed_in_holder(auth)
    assert client.get(f"/organisation/{uuid.uuid4()}/details").status_code == 404


@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SUPERVISOR, Role.ADMIN])
def test_staff_get_403_on_holder_pages(client, auth, role):
    organisation = MembershipFactory().organisation
    document = DocumentFactory(organisation=organisation)
    auth.login(StaffFactory(role=role))
    urls = [("GET", "/organisation/"), ("GET", "/organisation/new"), ("POST", "/organisation/new")]
    for method, url in urls + object_urls(organisation, document.id):
        assert _request(client, method, url).status_code == 403, (method, url)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/organisation/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in")


# -- nothing confidential in storage ---------------------------------------------------------


def test_no_plaintext_of_people_tins_or_documents_in_the_database(
    make_app, scratch_database_url, db
):
    marker = uuid.uuid4().int
    entrepreneur_tin = f"11505198{marker % 10}{marker % 100000:05d}"
    pin = f"20203197{marker % 10}{(marker // 7) % 100000:05d}"
    phone_digits = f"{(marker // 11) % 1000000:06d}"
    head_name = f"Сентинел Башчы {marker % 10**8}"
    responsible_name = f"Сентинел Жооптуу {marker % 10**8}"
    document_text = f"SENTINEL-DOCUMENT-{marker}"

    scratch = make_app(TEST_DATABASE_URL=scratch_database_url)
    db.session.remove()
    db.session.configure(bind=None)  # the scratch app must really commit to its own database
    try:
        with scratch.app_context():
            flask_migrate.upgrade()
            ensure_data_key(scratch)
            add_reference_items()
            holder_id = HolderFactory().get_id()
        client = scratch.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = holder_id
            session["_fresh"] = True

        created = client.post_form(
            "/organisation/new",
            organisation_form(legal_form_code="individual_entrepreneur", tin=entrepreneur_tin),
        )
        assert created.status_code == 302, created.get_data(as_text=True)
        base = created.headers["Location"].removesuffix("/head")
        steps = [
            client.post_form(f"{base}/head", {"full_name": head_name, "position": "Owner"}),
            client.post_form(
                f"{base}/responsible",
                responsible_form(full_name=responsible_name, pin=pin, phone=f"0555 {phone_digits}"),
            ),
            client.post_form(
                f"{base}/documents",
                {"file": (io.BytesIO(b"%PDF-1.4\n" + document_text.encode()), "a.pdf")},
            ),
        ]
        assert [step.status_code for step in steps] == [302, 302, 302]

        forbidden = _sentinels(
            entrepreneur_tin,
            pin,
            head_name,
            responsible_name,
            f"+996 555 {phone_digits[:3]} {phone_digits[3:]}",
            f"996555{phone_digits}",
            f"0555{phone_digits}",
            document_text,
        )
        with scratch.app_context():
            organisation = organisations.find_by_tin(entrepreneur_tin)
            assert organisation is not None and organisation.public_tin is None
            assert organisation.person(PersonKind.RESPONSIBLE).pin == pin
            db.session.remove()
            if ON_POSTGRES:
                dumps = [_dump_postgres(scratch_database_url)]
            else:
                dumps = [_sqlite_files(scratch_database_url)]
                db.engine.dispose()
                dumps.append(_sqlite_files(scratch_database_url))
            for dump in dumps:
                assert b"individual_entrepreneur" in dump  # the rows were written
                assert [s.decode() for s in forbidden if s in dump] == []
    finally:
        with scratch.app_context():
            db.session.remove()
            db.engine.dispose()


# -- the service's pieces --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"%PDF", None),  # too short to be the signature
        (b"\x89PNG\r\n", None),
        (b" %PDF-1.4", None),
        (b"", None),
    ],
)
def test_sniff_type(content, expected):
    assert documents.sniff_type(content) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\Айгүл\\Скан.JPEG", "image/jpeg", "Скан.jpeg"),
        ("invoice\u202efdp.png", "image/png", "invoicefdp.png"),  # right-to-left override
        ('a"b;c\r\nd.pdf', "application/pdf", "a_b_cd.pdf"),
        ("report.final", "application/pdf", "report.final.pdf"),
        ("", "image/png", "document.png"),
        (". .", "application/pdf", "document.pdf"),
    ],
)
def test_clean_filename(filename, content_type, expected):
    assert documents.clean_filename(filename, content_type) == expected


def test_clean_filename_is_at_most_200_characters():
    cleaned = documents.clean_filename("Ы" * 500 + ".pdf", "application/pdf")
    assert len(cleaned) == 200 and cleaned.endswith(".pdf")
