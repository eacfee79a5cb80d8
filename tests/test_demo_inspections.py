"""`demo seed` adds inspections in every state, with orders due, overdue and settled, made
through the real services, once."""

from __future__ import annotations

import sqlalchemy as sa

from register.models import (
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    OrderStatus,
)
from register.services import inspections


def inspection_rows(db) -> list[tuple[str, str, list[str]]]:
    db.session.expire_all()
    rows = []
    for inspection in db.session.scalars(sa.select(Inspection)):
        orders = db.session.scalars(
            sa.select(InspectionOrder.status)
            .where(InspectionOrder.inspection_id == inspection.id)
            .order_by(InspectionOrder.number)
        ).all()
        rows.append((inspection.status.value, inspection.kind.value, [o.value for o in orders]))
    return sorted(rows)


def test_demo_inspections_cover_every_state_and_orders_due_overdue_and_settled(runner, db):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    rows = inspection_rows(db)
    assert {status for status, _kind, _orders in rows} == {s.value for s in InspectionStatus}
    assert ("report", InspectionKind.BREACH.value, ["accepted", "answered", "open"]) in rows
    assert ("closed", "planned", ["accepted", "withdrawn"]) in rows
    today = inspections.today()
    orders = db.session.scalars(sa.select(InspectionOrder)).all()
    overdue = [o for o in orders if o.is_overdue(today)]
    due_soon = [
        o
        for o in orders
        if o.status is OrderStatus.OPEN
        and today <= o.due_on <= today.fromordinal(today.toordinal() + 7)
    ]
    assert len(overdue) == 1 and len(due_soon) == 1
    assert any(o.is_settled for o in orders)
    # Closed means every order settled.
    for inspection in db.session.scalars(
        sa.select(Inspection).where(Inspection.status == InspectionStatus.CLOSED)
    ):
        statuses = db.session.scalars(
            sa.select(InspectionOrder.status).where(InspectionOrder.inspection_id == inspection.id)
        ).all()
        assert all(status in (OrderStatus.ACCEPTED, OrderStatus.WITHDRAWN) for status in statuses)
    assert "Demo inspections" in first.output

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert inspection_rows(db) == rows
