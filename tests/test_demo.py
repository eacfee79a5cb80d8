"""`demo seed` is idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from register.models import Notification, User


def counts(db):
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Notification)),
    )


def test_demo_seed_twice_creates_everything_once(runner, db):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "inspector@demo.example" in first.output
    after_first = counts(db)
    assert after_first[0] >= 4 and after_first[1] >= 4
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert counts(db) == after_first
