# ruff: noqa: RUF001 - holder names are Kyrgyz and Russian, in Cyrillic
"""Certificates and their verification, and what the public register entry may hold.

The certificate PDF carries the number and the holder's name exactly (Kyrgyz letters
included); `/verify/<code>` and `/api/v1/verify/<code>` say valid, superseded, suspended,
struck off or unknown; the public entry holds no confidential value (sentinels planted in every
confidential field of the declaration never reach the register tables or public answers).
"""

from __future__ import annotations

import io
import json
from typing import Any

import sqlalchemy as sa
from pypdf import PdfReader

from register.extensions import db
from register.models import (
    INDIVIDUAL_ENTREPRENEUR,
    Certificate,
    PersonKind,
    RegisterEntry,
    RegisterEntryVersion,
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

KYRGYZ_NAME = "Өзгөн Үй-бүлөлүк медицина борбору «Саламаттык» жана Кеңеш"


def publish(declaration: Any) -> RegisterEntry:
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    review.claim(declaration, supervisor, declaration.lock_version)
    review.approve(
        declaration, supervisor, grounds="OK", expected_lock_version=declaration.lock_version
    )
    if declaration.status.value == "awaiting_sign_off":
        review.sign_off(
            declaration,
            StaffFactory(role=Role.SUPERVISOR),
            grounds="OK",
            expected_lock_version=declaration.lock_version,
        )
    db.session.flush()
    entry = register_entries.entry_of(declaration.organisation_id)
    assert entry is not None
    return entry


def organisation_with(owner_login: Any = None, **values: Any) -> tuple[Any, Any]:
    membership = MembershipFactory(organisation=OrganisationFactory(**values))
    user, found = membership.user, membership.organisation
    PersonFactory(organisation=found, kind=PersonKind.HEAD, pin=None, phone=None, email=None)
    PersonFactory(organisation=found)
    DocumentFactory(organisation=found, uploaded_by_id=user.id)
    ArrayFactory(organisation=found)
    db.session.expire(found, ["people"])
    if owner_login is not None:
        owner_login.login(user)
    return user, found


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_holder_downloads_a_certificate_with_number_and_kyrgyz_name(client, auth):
    user, organisation = organisation_with(auth, legal_name=KYRGYZ_NAME)
    url = f"/organisation/{organisation.id}/certificate"
    assert client.get(url).status_code == 404  # nothing published yet
    entry = publish(declarations.submit(organisation, user))
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert entry.registration_number in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert entry.registration_number in text
    flat = " ".join(text.split())
    for piece in KYRGYZ_NAME.split():
        assert piece in flat, piece
    for letter in "ңөүҮӨ":
        assert letter in text
    assert organisation.tin in text
    certificate = register_entries.current_certificate(entry)
    assert certificate.code in text and len(certificate.code) >= 24


def test_an_entrepreneurs_tin_is_masked_on_the_certificate(client, auth):
    pin = "21505199012345"
    user, organisation = organisation_with(
        auth, legal_form_code=INDIVIDUAL_ENTREPRENEUR, tin=pin, public_tin=None
    )
    entry = publish(declarations.submit(organisation, user))
    assert entry.tin is None
    text = pdf_text(client.get(f"/organisation/{organisation.id}/certificate").data)
    assert pin not in text
    assert register_entries.mask_tin(pin) in text  # 2•••••••••••45


def verification(client: Any, code: str) -> tuple[int, str, int, dict[str, Any]]:
    page = client.get(f"/verify/{code}")
    api = client.get(f"/api/v1/verify/{code}")
    return (
        page.status_code,
        page.get_data(as_text=True),
        api.status_code,
        api.get_json(silent=True) or json.loads(api.data or b"{}"),
    )


def test_verification_valid_superseded_suspended_struck_off_unknown(client):
    user, organisation = organisation_with(legal_name="Verified Company LLC")
    entry = publish(declarations.submit(organisation, user))
    first = register_entries.current_certificate(entry).code

    status, page, api_status, body = verification(client, first)
    assert (status, api_status, body["status"]) == (200, 200, "valid")
    assert "Verified Company LLC" in page and entry.registration_number in page
    assert body["registration_number"] == entry.registration_number
    assert body["legal_name"] == "Verified Company LLC"

    organisation.short_name = "Renamed"
    publish(declarations.submit(organisation, user))
    second = register_entries.current_certificate(entry).code
    assert second != first
    _, page, _, body = verification(client, first)
    assert body["status"] == "superseded" and "Superseded" in page
    assert (body["certificate_version"], body["current_version"]) == (1, 2)
    assert verification(client, second)[3]["status"] == "valid"

    supervisor = StaffFactory(role=Role.SUPERVISOR)
    register_entries.change_status(entry, "suspend", supervisor, "Inspection pending")
    assert verification(client, second)[3]["status"] == "suspended"
    assert verification(client, first)[3]["status"] == "suspended"
    register_entries.change_status(entry, "strike_off", supervisor, "Stopped processing")
    _, page, _, body = verification(client, second)
    assert body["status"] == "struck_off" and "struck off the register" in page

    for code in ("unknown-code", "x" * 200, "%FF"):
        status, page, api_status, body = verification(client, code)
        assert (status, api_status) == (404, 404)
        assert "No certificate has this code." in page
    assert client.get("/api/v1/verify/unknown").mimetype == "application/problem+json"
    assert client.get(f"/api/v1/verify/{second}").headers["Access-Control-Allow-Origin"] == "*"


# -- no confidential value in public ---------------------------------------------------------


SENTINEL = "SENTINEL-{}-7f3a"


def test_the_public_entry_holds_no_confidential_value(client):
    def mark(name: str) -> str:
        return SENTINEL.format(name)

    membership = MembershipFactory(
        organisation=OrganisationFactory(actual_address=mark("actual_address"))
    )
    user, organisation = membership.user, membership.organisation
    PersonFactory(
        organisation=organisation,
        kind=PersonKind.HEAD,
        full_name=mark("head_name"),
        position=mark("head_position"),
        pin=None,
        phone=None,
        email=None,
    )
    PersonFactory(
        organisation=organisation,
        full_name=mark("responsible_name"),
        position=mark("responsible_position"),
        pin="21505199099999",
        phone="+996 555 999 999",
        email="sentinel-dpo@example.kg",
        consents_to_publication=False,
    )
    DocumentFactory(organisation=organisation, uploaded_by_id=user.id, filename=mark("file"))
    ArrayFactory(
        organisation=organisation,
        collection_methods=mark("collection_methods"),
        informing_subjects=mark("informing_subjects"),
        storage_location_details=mark("storage_location_details"),
        information_systems=mark("information_systems"),
        named_recipients=mark("named_recipients"),
        cross_border=True,
        cross_border_countries=["KZ"],
        cross_border_grounds=mark("cross_border_grounds"),
        security_description=mark("security_description"),
    )
    db.session.expire(organisation, ["people"])
    entry = publish(declarations.submit(organisation, user))
    assert entry.cross_border is True

    public_rows = [
        *db.session.execute(sa.select(RegisterEntry.__table__)).all(),
        *db.session.execute(sa.select(RegisterEntryVersion.__table__)).all(),
        *db.session.execute(sa.select(Certificate.__table__)).all(),
    ]
    code = register_entries.current_certificate(entry).code
    answers = [
        str(public_rows),
        client.get(f"/verify/{code}").get_data(as_text=True),
        client.get(f"/api/v1/verify/{code}").get_data(as_text=True),
    ]
    for answer in answers:
        assert "SENTINEL" not in answer
        for value in ("21505199099999", "+996 555 999 999", "sentinel-dpo@example.kg"):
            assert value not in answer
