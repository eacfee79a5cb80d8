"""`demo seed` gives the demo holder declarations in every state a holder can see."""

from __future__ import annotations

import sqlalchemy as sa

from register.models import Declaration, DeclarationVersion, ReviewComment


def states(db) -> list[tuple[str, str]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Declaration.kind, Declaration.status)).all()
    return sorted((kind.value, status.value) for kind, status in rows)


def test_demo_declarations_cover_every_holder_visible_state_once(runner, db):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "Demo declarations:" in first.output
    expected = [
        ("amendment", "submitted"),
        ("initial", "approved"),
        ("initial", "changes_requested"),
        ("initial", "submitted"),
    ]
    assert states(db) == expected
    published = db.session.scalars(
        sa.select(DeclarationVersion).where(DeclarationVersion.published_at.is_not(None))
    ).all()
    assert len(published) == 1
    comments = db.session.scalars(sa.select(ReviewComment)).all()
    assert {comment.path.split("/")[0] for comment in comments} == {"organisation", "arrays"}

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert states(db) == expected
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeclarationVersion)) == 4
