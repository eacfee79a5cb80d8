"""Staff tools: search across organisations (name, TIN, number, a person's PIN, logged) and
filing a declaration on a holder's behalf from a paper submission."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from register.extensions import db
from register.models import (
    ActivityEntry,
    Declaration,
    Membership,
    Organisation,
    OrganisationOrigin,
    PersonKind,
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
from tests.test_arrays import array_form
from tests.test_organisations import organisation_form, responsible_form


def staff(auth: Any, role: Role = Role.INSPECTOR) -> Any:
    user = StaffFactory(role=role)
    auth.login(user)
    with auth.client.session_transaction() as session:
        session["lang"] = "en"
    return user


def search(client: Any, query: str) -> str:
    response = client.get("/agency/organisations", query_string={"q": query})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_search_by_name_in_any_case_with_or_without_kyrgyz_letters(client, auth):
    staff(auth)
    OrganisationFactory(legal_name="Өзгөн шаардык ооруканасы", short_name="ӨШО")
    OrganisationFactory(legal_name="Бишкек Софт LLC")
    for query in ("озгон", "ӨЗГӨН", "Өзгөн", "оорукана", "шаардык өзгөн"):
        page = search(client, query)
        assert "Өзгөн шаардык ооруканасы" in page, query
        assert "Бишкек Софт" not in page
    assert "No organisation" not in search(client, "софт")
    page = search(client, "%_")  # LIKE wildcards are just characters
    assert "1 organisation found" not in page and "Бишкек Софт" not in page


def test_search_by_tin_number_and_pin_and_each_pin_search_is_logged(client, auth):
    inspector = staff(auth)
    target = OrganisationFactory(legal_name="Target Company LLC")
    PersonFactory(organisation=target, pin="21505199055555")
    other = OrganisationFactory(legal_name="Other Company LLC")
    PersonFactory(organisation=other, pin="21505199066666")
    assert "Target Company LLC" in search(client, target.tin)
    page = search(client, "21505199055555")
    assert "Target Company LLC" in page and "Other Company LLC" not in page
    assert "PIN of its responsible person" in page
    # Fourteen digits may be a PIN (an entrepreneur's TIN is one): both searches are logged.
    first, logged = db.session.scalars(
        sa.select(ActivityEntry)
        .where(ActivityEntry.action == "staff.pin_searched")
        .order_by(ActivityEntry.seq)
    ).all()
    assert first.details == {"organisations_found": 0}
    assert logged.actor_id == inspector.id
    assert "21505199055555" not in str(logged.details)
    assert logged.details == {"organisations_found": 1}

    membership = MembershipFactory(organisation=target)
    PersonFactory(organisation=target, kind=PersonKind.HEAD, pin=None, phone=None, email=None)
    DocumentFactory(organisation=target, uploaded_by_id=membership.user_id)
    ArrayFactory(organisation=target)
    db.session.expire(target, ["people"])
    declaration = declarations.submit(target, membership.user)
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    review.claim(declaration, supervisor, declaration.lock_version)
    review.approve(
        declaration, supervisor, grounds="OK", expected_lock_version=declaration.lock_version
    )
    number = register_entries.entry_of(target.id).registration_number
    assert "Target Company LLC" in search(client, number)
    assert "Target Company LLC" in search(client, number.lower())
    assert "0 organisations found" in search(client, "PDH-1999-000001")


def test_a_declaration_filed_from_paper(client, auth):
    clerk = staff(auth)
    response = client.post_form("/agency/paper/new", organisation_form(tin="02108201910099"))
    assert response.status_code == 302
    organisation = db.session.scalar(
        sa.select(Organisation).where(Organisation.origin == OrganisationOrigin.PAPER)
    )
    assert organisation is not None
    filing = f"/agency/paper/{organisation.id}"
    assert response.headers["Location"] == filing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 0
    assert "Upload a document" in client.get(filing).get_data(as_text=True)

    head = {"full_name": "Бакыт Асанов", "position": "Director"}
    assert client.post_form(f"{filing}/people/head", head).status_code == 302
    assert client.post_form(f"{filing}/people/responsible", responsible_form()).status_code == 302
    assert client.post_form(f"{filing}/arrays/new", array_form()).status_code == 302
    scan = (io.BytesIO(b"%PDF-1.4\n% scanned paper forms\n%%EOF\n"), "paper-forms.pdf")
    response = client.post_form(f"{filing}/documents", {"file": scan})
    assert response.status_code == 302
    # A bad upload keeps the page, with the message beside the field.
    response = client.post_form(f"{filing}/documents", {"file": (io.BytesIO(b"MZ"), "x.exe")})
    assert response.status_code == 422

    response = client.post_form(f"{filing}/submit")
    assert response.status_code == 302, client.get(filing).get_data(as_text=True)
    declaration = db.session.scalar(
        sa.select(Declaration).where(Declaration.organisation_id == organisation.id)
    )
    assert declaration.filed_on_paper and declaration.created_by_id == clerk.id
    assert declaration.status.value == "submitted"
    queue = client.get("/agency/declarations").get_data(as_text=True)
    assert "Paper" in queue and organisation.legal_name in queue


def test_a_tin_already_registered_cannot_be_filed_again(client, auth):
    staff(auth)
    existing = OrganisationFactory(tin="02108201910099", public_tin="02108201910099")
    response = client.post_form("/agency/paper/new", organisation_form(tin=existing.tin))
    assert response.status_code == 200
    assert "already in the register" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 1
