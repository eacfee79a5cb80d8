"""`demo seed` gives the demo organisations declarations in every state, decided through the
agency's real services, and says which is which."""

from __future__ import annotations

import sqlalchemy as sa

from register.database import utcnow
from register.models import (
    Certificate,
    Declaration,
    DeclarationVersion,
    EntryStatus,
    RegisterEntry,
    ReviewComment,
)


def states(db) -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Declaration.kind, Declaration.status)).all()
    return sorted((kind.value, status.value) for kind, status in rows)


def test_demo_declarations_cover_every_state_once(runner, db):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    expected = [
        ("amendment", "awaiting_sign_off"),
        ("initial", "approved"),
        ("initial", "approved"),
        ("initial", "changes_requested"),
        ("initial", "in_review"),
        ("initial", "rejected"),
        ("initial", "submitted"),
        ("initial", "withdrawn"),
    ]
    assert states(db) == expected
    for words in ("awaits the supervisor's sign-off", "overdue", "suspended", "in review"):
        assert words in first.output
    entries = db.session.scalars(
        sa.select(RegisterEntry).order_by(RegisterEntry.registration_number)
    ).all()
    assert [entry.status for entry in entries] == [EntryStatus.REGISTERED, EntryStatus.SUSPENDED]
    for entry in entries:
        assert entry.registration_number in first.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 2
    comments = db.session.scalars(sa.select(ReviewComment)).all()
    assert {comment.path.split("/")[0] for comment in comments} == {"organisation", "arrays"}
    overdue = db.session.scalars(sa.select(Declaration).where(Declaration.due_at < utcnow())).all()
    assert [declaration.status.value for declaration in overdue] == ["submitted"]
    high_risk = db.session.scalars(
        sa.select(Declaration).where(Declaration.status == "awaiting_sign_off")
    ).one()
    assert high_risk.high_risk and high_risk.approved_by_id is not None
    paper = db.session.scalars(sa.select(Declaration).where(Declaration.filed_on_paper)).all()
    assert len(paper) == 2

    versions = db.session.scalar(sa.select(sa.func.count()).select_from(DeclarationVersion))
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert states(db) == expected
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeclarationVersion)) == versions
