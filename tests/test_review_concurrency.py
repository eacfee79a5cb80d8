"""Concurrent approvals and decisions on a real, committed database (PostgreSQL or SQLite).

Twenty approvals in parallel threads get twenty distinct, consecutive registration numbers; two
reviewers deciding on one declaration at the same moment give exactly one winner, and the other
is told the declaration changed.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from register.extensions import db as _db
from register.models import (
    Declaration,
    DeclarationStatus,
    Document,
    DocumentKind,
    MemberRole,
    Membership,
    Person,
    PersonKind,
    RegisterEntry,
    Role,
    User,
)
from register.services import declarations, register_entries, review
from tests.factories import ArrayFactory, OrganisationFactory

APPROVALS = 20


def _user(role: Role, email: str) -> User:
    user = User(email=email, full_name=email.split("@")[0], role=role)
    _db.session.add(user)
    return user


def _in_review(count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """`count` submitted declarations, claimed by one supervisor; committed."""
    supervisor = _user(Role.SUPERVISOR, "supervisor@agency.example.kg")
    ids = []
    for number in range(count):
        holder = _user(Role.HOLDER, f"holder{number}@example.kg")
        organisation = OrganisationFactory.build(
            tin=f"0{number:013d}", public_tin=f"0{number:013d}"
        )
        _db.session.add(organisation)
        _db.session.add(
            Membership(organisation_id=organisation.id, user_id=holder.id, role=MemberRole.OWNER)
        )
        for kind in PersonKind:
            person = Person(organisation_id=organisation.id, kind=kind)
            person.full_name, person.position = f"Person {number}", "Director"
            if kind is PersonKind.RESPONSIBLE:
                person.pin, person.phone, person.email = (
                    "21505199012345",
                    "+996 555 123 456",
                    f"dpo{number}@example.kg",
                )
            _db.session.add(person)
        document = Document(
            organisation_id=organisation.id,
            kind=DocumentKind.AUTHORITY,
            content_type="application/pdf",
            size_bytes=10,
            uploaded_by_id=holder.id,
        )
        document.filename, document.content = "proof.pdf", b"%PDF-1.4\n%%EOF\n"
        _db.session.add(document)
        _db.session.add(ArrayFactory.build(organisation=organisation))
        _db.session.flush()
        _db.session.expire(organisation, ["people"])
        problems = declarations.can_submit(organisation)
        assert not problems, [str(problem) for problem in problems]
        declaration = declarations.submit(organisation, holder)
        review.claim(declaration, supervisor, declaration.lock_version)
        ids.append(declaration.id)
    _db.session.commit()
    return supervisor.id, ids


def _run_together(app: Any, work: list[Any]) -> list[Any]:
    start = threading.Barrier(len(work))

    def run(job: Any) -> Any:
        with app.test_request_context():
            start.wait()
            try:
                result = job()
                _db.session.commit()
                return result
            except Exception as error:
                _db.session.rollback()
                return error
            finally:
                _db.session.remove()

    with ThreadPoolExecutor(len(work)) as pool:
        return list(pool.map(run, work))


def test_parallel_approvals_get_distinct_consecutive_numbers(scratch_app):
    with scratch_app.test_request_context():
        supervisor_id, ids = _in_review(APPROVALS)

    def approve(declaration_id: uuid.UUID) -> Any:
        def job() -> str:
            supervisor = _db.session.get(User, supervisor_id)
            declaration = _db.session.get(Declaration, declaration_id)
            review.approve(
                declaration,
                supervisor,
                grounds="OK",
                expected_lock_version=declaration.lock_version,
            )
            entry = register_entries.entry_of(declaration.organisation_id)
            return entry.registration_number

        return job

    results = _run_together(scratch_app, [approve(declaration_id) for declaration_id in ids])
    assert not [result for result in results if isinstance(result, Exception)], results
    with scratch_app.test_request_context():
        year = register_entries.agency_today().year
        numbers = sorted(_db.session.scalars(sa.select(RegisterEntry.registration_number)))
    assert sorted(results) == numbers
    assert numbers == [f"PDH-{year}-{sequence:06d}" for sequence in range(1, APPROVALS + 1)]


def test_two_simultaneous_decisions_give_one_winner(scratch_app):
    with scratch_app.test_request_context():
        supervisor_id, [declaration_id] = _in_review(1)
        other = _user(Role.SUPERVISOR, "second@agency.example.kg")
        _db.session.commit()
        other_id = other.id
        read_at = _db.session.get(Declaration, declaration_id).lock_version

    def approve() -> str:
        declaration = _db.session.get(Declaration, declaration_id)
        user = _db.session.get(User, supervisor_id)
        review.approve(declaration, user, grounds="Fine", expected_lock_version=read_at)
        return "approved"

    def request_changes() -> str:
        declaration = _db.session.get(Declaration, declaration_id)
        user = _db.session.get(User, other_id)
        review.request_changes(
            declaration,
            user,
            grounds="Fix it",
            article="Article 8",
            comments=[("organisation/legal_address", "Wrong address")],
            expected_lock_version=read_at,
        )
        return "changes_requested"

    results = _run_together(scratch_app, [approve, request_changes])
    winners = [result for result in results if isinstance(result, str)]
    losers = [result for result in results if not isinstance(result, str)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], declarations.StaleDeclaration)
    assert "This declaration was changed by" in str(losers[0])
    with scratch_app.test_request_context():
        found = _db.session.get(Declaration, declaration_id)
        assert found.status.value == winners[0]
        assert found.lock_version == read_at + 1
        events = [event.to_status for event in found.events]
        assert events.count(winners[0]) == 1
        assert DeclarationStatus.APPROVED.value not in events or winners[0] == "approved"


def test_orders_issued_at_once_on_one_inspection_get_distinct_numbers(scratch_app):
    from datetime import timedelta

    from register.models import InspectionKind, InspectionOrder
    from register.services import inspections

    with scratch_app.test_request_context():
        supervisor = _user(Role.SUPERVISOR, "planner@agency.example.kg")
        inspector = _user(Role.INSPECTOR, "inspector@agency.example.kg")
        organisation = OrganisationFactory.build(tin="01234567890123", public_tin="01234567890123")
        _db.session.add(organisation)
        _db.session.flush()
        inspection = inspections.plan_inspection(
            organisation,
            inspections.InspectionDetails(
                kind=InspectionKind.UNPLANNED,
                legal_ground="Signals",
                planned_start=inspections.today(),
                planned_end=inspections.today() + timedelta(days=3),
                inspector_ids=[inspector.id],
            ),
            supervisor,
            None,
        )
        inspections.start(inspection, inspector, inspection.lock_version)
        _db.session.commit()
        inspection_id, inspector_id = inspection.id, inspector.id

    def issue(text: str) -> Any:
        def job() -> int:
            found = inspections.find(inspection_id)
            user = _db.session.get(User, inspector_id)
            order = inspections.issue_order(found, user, text, inspections.today(), None)
            return order.number

        return job

    results = _run_together(scratch_app, [issue(f"Order text {n}") for n in range(8)])
    assert not [result for result in results if isinstance(result, Exception)], results
    assert sorted(results) == list(range(1, 9))
    with scratch_app.test_request_context():
        numbers = sorted(_db.session.scalars(sa.select(InspectionOrder.number)))
    assert numbers == list(range(1, 9))
