"""What sign-in, refusals and account changes write to the activity log (and what they don't)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from register.models import ActivityEntry
from register.services.activity import verify
from tests.factories import TEST_PASSWORD, HolderFactory, StaffFactory


def log_entries(db, action: str) -> list[ActivityEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ActivityEntry)
            .where(ActivityEntry.action == action)
            .order_by(ActivityEntry.seq)
        )
    )


def everything_logged(db) -> str:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(ActivityEntry)).all()
    return json.dumps(
        [[row.action, row.object_id, row.actor_label, row.details] for row in rows], default=str
    )


def test_failed_sign_ins_are_logged_without_the_address_or_password(client, db):
    user = HolderFactory(email="someone@example.kg")
    client.post_form("/auth/sign-in", {"email": "nobody@example.kg", "password": "guess one!"})
    client.post_form("/auth/sign-in", {"email": "someone@example.kg", "password": "guess two!"})
    failures = log_entries(db, "auth.sign_in_failed")
    assert [entry.details["reason"] for entry in failures] == ["unknown", "wrong_password"]
    assert failures[1].object_id == str(user.id)
    assert all(entry.ip == "127.0.0.1" for entry in failures)
    logged = everything_logged(db)
    for secret in ("nobody@example.kg", "someone@example.kg", "guess one!", "guess two!"):
        assert secret not in logged


def test_lock_out_and_successful_sign_in_are_logged(client, db):
    user = HolderFactory(email="locked@example.kg")
    for _ in range(5):
        client.post_form("/auth/sign-in", {"email": "locked@example.kg", "password": "nope nope"})
    assert [entry.object_id for entry in log_entries(db, "auth.locked_out")] == [str(user.id)]

    other = HolderFactory(email="fine@example.kg")
    client.post_form("/auth/sign-in", {"email": "fine@example.kg", "password": TEST_PASSWORD})
    signed_in = log_entries(db, "auth.signed_in")
    assert [entry.actor_id for entry in signed_in] == [other.id]
    assert TEST_PASSWORD not in everything_logged(db)


def test_a_refused_request_is_logged_even_though_the_request_rolls_back(client, auth, db):
    holder = HolderFactory()
    auth.login(holder)
    response = client.get("/admin/staff")
    assert response.status_code == 403
    refusals = log_entries(db, "access.refused")
    assert len(refusals) == 1
    assert refusals[0].actor_id == holder.id
    assert refusals[0].details == {"endpoint": "admin.staff_list", "method": "GET"}


def test_two_factor_failures_are_logged_and_the_chain_stays_whole(client, db):
    staff = StaffFactory(email="tf@agency.example.kg")
    client.post_form("/auth/sign-in", {"email": "tf@agency.example.kg", "password": TEST_PASSWORD})
    client.post_form("/auth/two-factor", {"code": "123456"})
    failures = log_entries(db, "auth.two_factor_failed")
    assert [entry.object_id for entry in failures] == [str(staff.id)]
    assert "123456" not in everything_logged(db)
    result = verify(db.session)
    assert result.ok, result.reason
    assert result.checked == 1
