"""Reminders: holders of orders due soon and overdue, staff of review and triage deadlines;
each reminder sent once (twice run, concurrent claim, a stage moving on), to the right people
(the assignee, else the supervisors; nobody deactivated), with no confidential text; the CLI
prints counts and its dry run writes nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from register.extensions import db
from register.models import (
    BreachStatus,
    ComplaintStatus,
    DeclarationStatus,
    MemberRole,
    Notification,
    OrderStatus,
    ReminderKind,
    ReminderStage,
    Role,
    SentReminder,
)
from register.services import reminders
from tests.factories import (
    BreachReportFactory,
    ComplaintFactory,
    DeclarationFactory,
    InspectionFactory,
    InspectionOrderFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffFactory,
)
from tests.support.clock import FrozenClock, bishkek

NOW = bishkek(2026, 11, 24, 10, 0)  # Tuesday morning in Bishkek
TODAY = date(2026, 11, 24)
# Two working days from Tuesday: the near window ends when Thursday 26 November ends.
END_OF_THURSDAY = bishkek(2026, 11, 27)
REQUIREMENT = "Destroy the copies of the patients' passports kept in the reception desk"
BREACH_DESCRIPTION = "The laptop with the payroll of 240 teachers was stolen from a car"
COMPLAINANT = "Aizada Complainantova"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    return FrozenClock(monkeypatch, NOW)


@dataclass
class World:
    """People and deadlines around NOW, and the reminders each should get."""

    owner: Any
    member: Any
    former_member: Any
    other_holder: Any
    inspector: Any
    former_inspector: Any
    supervisor: Any
    second_supervisor: Any
    former_supervisor: Any
    objects: dict[str, Any]


def build_world() -> World:
    organisation = OrganisationFactory()
    owner = MembershipFactory(organisation=organisation, user__locale="en").user
    member = MembershipFactory(
        organisation=organisation, role=MemberRole.MEMBER, user__locale="ru"
    ).user
    former_member = MembershipFactory(
        organisation=organisation, role=MemberRole.MEMBER, user__is_active_account=False
    ).user
    other = OrganisationFactory()
    other_holder = MembershipFactory(organisation=other).user
    inspector = StaffFactory()
    former_inspector = StaffFactory(is_active_account=False)
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    second_supervisor = StaffFactory(role=Role.SUPERVISOR, locale="ky")
    former_supervisor = StaffFactory(role=Role.SUPERVISOR, is_active_account=False)
    StaffFactory(role=Role.ADMIN)  # admins keep the system: no reminders

    inspection = InspectionFactory(organisation=organisation, reference="I-7KQ4-M2XD")
    other_inspection = InspectionFactory(organisation=other, reference="I-OTHR-0001")

    def order(
        number: int, due_in: int, status: OrderStatus = OrderStatus.OPEN, of: Any = None
    ) -> Any:
        return InspectionOrderFactory(
            inspection=of or inspection,
            number=number,
            due_on=TODAY + timedelta(days=due_in),
            status=status,
            requirement=REQUIREMENT,
        )

    def declaration(status: DeclarationStatus, due_at: datetime | None, **values: Any) -> Any:
        return DeclarationFactory(
            status=status,
            due_at=due_at,
            submitted_at=bishkek(2026, 10, 28, 9, 0),
            **values,
        )

    objects = {
        "order_due_soon": order(1, 3),
        "order_far": order(2, 20),
        "order_overdue_returned": order(3, -2, OrderStatus.RETURNED),
        "order_answered": order(4, 2, OrderStatus.ANSWERED),
        "order_accepted": order(5, -5, OrderStatus.ACCEPTED),
        "order_due_today": order(6, 0),
        "other_order_overdue": order(1, -1, of=other_inspection),
        "review_near": declaration(
            DeclarationStatus.IN_REVIEW, NOW + timedelta(days=1), assignee_id=inspector.id
        ),
        "review_far": declaration(
            DeclarationStatus.IN_REVIEW, NOW + timedelta(days=20), assignee_id=inspector.id
        ),
        "review_clock_stopped": declaration(
            DeclarationStatus.CHANGES_REQUESTED, None, assignee_id=inspector.id
        ),
        "review_unassigned_overdue": declaration(
            DeclarationStatus.SUBMITTED, NOW - timedelta(hours=1)
        ),
        "review_former_assignee": declaration(
            DeclarationStatus.IN_REVIEW, NOW + timedelta(days=1), assignee_id=former_inspector.id
        ),
        "review_sign_off": declaration(
            DeclarationStatus.AWAITING_SIGN_OFF,
            NOW + timedelta(days=1),
            assignee_id=inspector.id,
            approved_by_id=supervisor.id,
        ),
        "review_approved": declaration(
            DeclarationStatus.APPROVED, NOW - timedelta(days=1), assignee_id=inspector.id
        ),
        "breach_at_cutoff": BreachReportFactory(
            organisation=organisation,
            triage_due_at=END_OF_THURSDAY,
            description=BREACH_DESCRIPTION,
            filed_at=bishkek(2026, 11, 23, 15, 0),
        ),
        "breach_after_cutoff": BreachReportFactory(
            organisation=organisation,
            status=BreachStatus.ASSESSING,
            assignee_id=inspector.id,
            triage_due_at=END_OF_THURSDAY + timedelta(days=1),
            description=BREACH_DESCRIPTION,
        ),
        "breach_overdue": BreachReportFactory(
            organisation=organisation,
            status=BreachStatus.ASSESSING,
            assignee_id=inspector.id,
            triage_due_at=NOW - timedelta(days=1),
            description=BREACH_DESCRIPTION,
        ),
        "breach_closed": BreachReportFactory(
            organisation=organisation,
            status=BreachStatus.CLOSED,
            assignee_id=inspector.id,
            triage_due_at=NOW - timedelta(days=1),
            description=BREACH_DESCRIPTION,
        ),
        "complaint_overdue": ComplaintFactory(
            status=ComplaintStatus.ASSESSING,
            assignee_id=inspector.id,
            due_at=NOW - timedelta(hours=2),
            complainant_name=COMPLAINANT,
            receipt_number="C-2026-OVER",
        ),
        "complaint_near": ComplaintFactory(
            due_at=bishkek(2026, 11, 26),
            complainant_name=COMPLAINANT,
            receipt_number="C-2026-NEAR",
        ),
        "complaint_decided": ComplaintFactory(
            status=ComplaintStatus.UPHELD,
            assignee_id=inspector.id,
            due_at=NOW + timedelta(days=1),
            complainant_name=COMPLAINANT,
        ),
    }
    return World(
        owner=owner,
        member=member,
        former_member=former_member,
        other_holder=other_holder,
        inspector=inspector,
        former_inspector=former_inspector,
        supervisor=supervisor,
        second_supervisor=second_supervisor,
        former_supervisor=former_supervisor,
        objects=objects,
    )


def expected(world: World) -> set[tuple[str, str, Any, Any]]:
    """(kind, stage, object, recipient) of every reminder due at NOW."""
    o = world.objects
    holders = (world.owner, world.member)
    supervisors = (world.supervisor, world.second_supervisor)
    due_soon, overdue = ReminderStage.DUE_SOON.value, ReminderStage.OVERDUE.value
    return {
        *(("order", due_soon, o["order_due_soon"].id, user.id) for user in holders),
        *(("order", due_soon, o["order_due_today"].id, user.id) for user in holders),
        *(("order", overdue, o["order_overdue_returned"].id, user.id) for user in holders),
        ("order", overdue, o["other_order_overdue"].id, world.other_holder.id),
        ("review", due_soon, o["review_near"].id, world.inspector.id),
        *(("review", overdue, o["review_unassigned_overdue"].id, user.id) for user in supervisors),
        *(("review", due_soon, o["review_former_assignee"].id, user.id) for user in supervisors),
        ("review", due_soon, o["review_sign_off"].id, world.second_supervisor.id),
        *(("breach_triage", due_soon, o["breach_at_cutoff"].id, user.id) for user in supervisors),
        ("breach_triage", overdue, o["breach_overdue"].id, world.inspector.id),
        ("complaint_triage", overdue, o["complaint_overdue"].id, world.inspector.id),
        *(("complaint_triage", due_soon, o["complaint_near"].id, user.id) for user in supervisors),
    }


def sent_rows() -> set[tuple[str, str, Any, Any]]:
    return {
        (row.kind.value, row.stage.value, row.object_id, row.recipient_id)
        for row in db.session.scalars(sa.select(SentReminder))
    }


def notifications() -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.kind.startswith("reminder."))
            .order_by(Notification.created_at, Notification.id)
        )
    )


def run(now: datetime | None = None, **options: Any) -> reminders.Outcome:
    outcome = reminders.send(now, **options)
    db.session.commit()
    return outcome


def test_exactly_the_right_people_get_exactly_the_right_reminders(clock: FrozenClock) -> None:
    world = build_world()

    outcome = run()

    assert sent_rows() == expected(world)
    messages = notifications()
    assert len(messages) == len(expected(world))
    # One message per reminder, of the reminder's kind and stage, to its recipient.
    assert sorted((m.kind, str(m.recipient_id)) for m in messages) == sorted(
        (f"reminder.{kind}.{stage}", str(recipient))
        for kind, stage, _, recipient in expected(world)
    )
    assert outcome.counts[(ReminderKind.ORDER, ReminderStage.DUE_SOON)] == 4
    assert outcome.counts[(ReminderKind.ORDER, ReminderStage.OVERDUE)] == 3
    assert outcome.counts[(ReminderKind.REVIEW, ReminderStage.DUE_SOON)] == 4
    assert outcome.counts[(ReminderKind.REVIEW, ReminderStage.OVERDUE)] == 2
    assert outcome.counts[(ReminderKind.BREACH_TRIAGE, ReminderStage.DUE_SOON)] == 2
    assert outcome.counts[(ReminderKind.BREACH_TRIAGE, ReminderStage.OVERDUE)] == 1
    assert outcome.counts[(ReminderKind.COMPLAINT_TRIAGE, ReminderStage.DUE_SOON)] == 2
    assert outcome.counts[(ReminderKind.COMPLAINT_TRIAGE, ReminderStage.OVERDUE)] == 1
    recipients = {m.recipient_id for m in messages}
    for nobody in (
        world.former_member,
        world.former_inspector,
        world.former_supervisor,
    ):
        assert nobody.id not in recipients


def test_messages_name_references_and_dates_in_the_recipients_language(
    clock: FrozenClock,
) -> None:
    world = build_world()
    run()
    by_recipient_kind = {(m.recipient_id, m.kind, m.link): m for m in notifications()}
    order = world.objects["order_due_soon"]
    owners = [
        m
        for (recipient, kind, _), m in by_recipient_kind.items()
        if recipient == world.owner.id and kind == "reminder.order.due_soon"
    ]
    assert any(
        m.subject == "Order 1 of inspection I-7KQ4-M2XD is due on November 27, 2026" for m in owners
    ), [m.subject for m in owners]
    # The link opens the order's own page, where the holder answers it.
    assert all(m.link.startswith("/organisation/") for m in owners), [m.link for m in owners]
    assert f"/organisation/{order.organisation_id}/orders/{order.id}" in {m.link for m in owners}
    assert order.due_on == date(2026, 11, 27)
    # The Russian-speaking member gets the date in Russian.
    member_dates = [
        m.subject
        for (recipient, kind, _), m in by_recipient_kind.items()
        if recipient == world.member.id and kind == "reminder.order.due_soon"
    ]
    assert any("27 ноября 2026" in subject for subject in member_dates), member_dates
    complaint = world.objects["complaint_overdue"]
    (complaint_message,) = [
        m for m in notifications() if m.kind == "reminder.complaint_triage.overdue"
    ]
    assert complaint_message.subject == "Complaint C-2026-OVER: triage overdue"
    assert complaint_message.link == f"/agency/complaints/{complaint.id}"
    review = world.objects["review_near"]
    (review_message,) = [
        m
        for m in notifications()
        if m.kind == "reminder.review.due_soon" and m.recipient_id == world.inspector.id
    ]
    assert "October 28, 2026" in review_message.body  # submitted on
    assert "November 25, 2026" in review_message.body  # due by
    assert str(review.id) in (review_message.link or "")


def test_no_confidential_text_in_any_reminder(clock: FrozenClock) -> None:
    build_world()
    run()
    messages = notifications()
    assert messages
    assert {m.kind.split(".")[1] for m in messages} == {
        "order",
        "review",
        "breach_triage",
        "complaint_triage",
    }
    for message in messages:
        text = f"{message.subject}\n{message.body}\n{message.link}"
        assert REQUIREMENT not in text
        assert BREACH_DESCRIPTION not in text
        assert COMPLAINANT not in text


def test_a_second_run_sends_nothing(clock: FrozenClock) -> None:
    world = build_world()
    first = run()
    count = len(notifications())
    assert count == len(expected(world)) == len(first.reminders)

    second = run()

    assert second.reminders == []
    assert sum(second.counts.values()) == 0
    assert len(notifications()) == count
    clock.advance(timedelta(hours=3))  # later the same day: still nothing new
    assert run().reminders == []
    assert len(notifications()) == count


def test_a_reminder_claimed_by_a_concurrent_run_is_not_sent_again(
    clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between finding its candidates and claiming them, another run sent one: the claim's
    INSERT … ON CONFLICT DO NOTHING makes no row, and no message is written."""
    world = build_world()
    original = reminders.candidates
    taken: list[reminders.Reminder] = []

    def found_then_raced(now: datetime) -> list[reminders.Reminder]:
        items = original(now)
        taken.append(items[0])
        db.session.add(
            SentReminder(
                kind=items[0].kind,
                stage=items[0].stage,
                object_id=items[0].object_id,
                recipient_id=items[0].recipient.id,
            )
        )
        db.session.flush()
        return items

    monkeypatch.setattr(reminders, "candidates", found_then_raced)
    outcome = run()

    assert len(outcome.reminders) == len(expected(world)) - 1
    assert taken[0] not in outcome.reminders
    assert len(notifications()) == len(expected(world)) - 1
    assert len(sent_rows()) == len(expected(world))


def test_an_order_moving_from_due_soon_to_overdue_gets_the_overdue_reminder_once(
    clock: FrozenClock,
) -> None:
    membership = MembershipFactory(user__locale="en")
    inspection = InspectionFactory(organisation=membership.organisation)
    order = InspectionOrderFactory(inspection=inspection, due_on=TODAY + timedelta(days=3))

    def order_messages() -> list[str]:
        return [m.kind for m in notifications() if m.recipient_id == membership.user.id]

    run()
    assert order_messages() == ["reminder.order.due_soon"]
    clock.advance(timedelta(days=1))
    run()
    assert order_messages() == ["reminder.order.due_soon"]

    # The holder answers, the inspector returns the answer: still one order, nothing new.
    order.status = OrderStatus.ANSWERED
    db.session.commit()
    clock.advance(timedelta(days=1))
    run()
    order.status = OrderStatus.RETURNED
    db.session.commit()
    run()
    assert order_messages() == ["reminder.order.due_soon"]

    clock.advance(timedelta(days=2))  # 28 November: due on the 27th, overdue now
    run()
    run()
    clock.advance(timedelta(days=5))
    run()
    assert order_messages() == ["reminder.order.due_soon", "reminder.order.overdue"]


def test_an_order_found_overdue_first_gets_only_the_overdue_reminder(clock: FrozenClock) -> None:
    membership = MembershipFactory()
    InspectionOrderFactory(
        inspection=InspectionFactory(organisation=membership.organisation),
        due_on=TODAY - timedelta(days=10),
    )
    run()
    clock.advance(timedelta(days=1))
    run()
    assert [m.kind for m in notifications()] == ["reminder.order.overdue"]


def test_the_order_window_is_configurable(clock: FrozenClock, app: Any) -> None:
    membership = MembershipFactory()
    InspectionOrderFactory(
        inspection=InspectionFactory(organisation=membership.organisation),
        due_on=TODAY + timedelta(days=10),
    )
    assert run().reminders == []
    app.config["REMINDER_ORDER_DAYS"] = 10
    try:
        assert [item.stage for item in run().reminders] == [ReminderStage.DUE_SOON]
    finally:
        app.config["REMINDER_ORDER_DAYS"] = 7


def test_the_staff_window_counts_working_days(clock: FrozenClock, app: Any) -> None:
    """On a Friday, two working days end on Tuesday night: a complaint due on Monday night is
    near, one due on Wednesday night is not (the weekend does not count)."""
    clock.set(bishkek(2026, 11, 27, 9, 0))
    StaffFactory(role=Role.SUPERVISOR)
    near = ComplaintFactory(due_at=bishkek(2026, 12, 1))  # the end of Monday 30 November
    ComplaintFactory(due_at=bishkek(2026, 12, 3))  # the end of Wednesday 2 December
    assert {item.object_id for item in run().reminders} == {near.id}


def test_a_new_assignee_is_reminded_too(clock: FrozenClock) -> None:
    """The reminder is per recipient: supervisors were told of an unassigned report; the
    inspector who takes it later is told as well, and the supervisors not again."""
    supervisor = StaffFactory(role=Role.SUPERVISOR)
    inspector = StaffFactory()
    report = BreachReportFactory(triage_due_at=NOW + timedelta(days=1))
    run()
    report.status = BreachStatus.ASSESSING
    report.assignee_id = inspector.id
    db.session.commit()
    run()
    assert [(m.kind, m.recipient_id) for m in notifications()] == [
        ("reminder.breach_triage.due_soon", supervisor.id),
        ("reminder.breach_triage.due_soon", inspector.id),
    ]


def test_the_queries_do_not_grow_with_the_reminders(clock: FrozenClock, query_counter: Any) -> None:
    """Finding the reminders takes the same number of queries for 1 or 5 of each kind."""

    def add(count: int) -> None:
        for _ in range(count):
            membership = MembershipFactory()
            InspectionOrderFactory(
                inspection=InspectionFactory(organisation=membership.organisation),
                due_on=TODAY + timedelta(days=1),
            )
            ComplaintFactory(due_at=NOW - timedelta(hours=1))
            BreachReportFactory(triage_due_at=NOW + timedelta(hours=5))
            DeclarationFactory(status=DeclarationStatus.SUBMITTED, due_at=NOW + timedelta(days=1))

    StaffFactory(role=Role.SUPERVISOR)
    add(1)
    db.session.expire_all()
    with query_counter() as few:
        assert len(reminders.candidates(NOW)) == 4
    add(4)
    db.session.expire_all()
    with query_counter() as many:
        assert len(reminders.candidates(NOW)) == 20
    assert len(many) == len(few)


# -- the command ---------------------------------------------------------------------------


def test_the_command_prints_counts_and_sends_once(clock: FrozenClock, runner: Any) -> None:
    world = build_world()

    first = runner.invoke(args=["reminders", "send"])

    assert first.exit_code == 0, first.output
    assert "order due_soon: sent 4" in first.output
    assert "order overdue: sent 3" in first.output
    assert "review due_soon: sent 4" in first.output
    assert "breach_triage overdue: sent 1" in first.output
    assert "complaint_triage due_soon: sent 2" in first.output
    assert f"total: sent {len(expected(world))}" in first.output
    db.session.expire_all()
    assert len(notifications()) == len(expected(world))

    second = runner.invoke(args=["reminders", "send"])

    assert second.exit_code == 0, second.output
    assert "total: sent 0" in second.output
    db.session.expire_all()
    assert len(notifications()) == len(expected(world))


def test_the_dry_run_prints_what_would_be_sent_and_writes_nothing(
    clock: FrozenClock, runner: Any
) -> None:
    world = build_world()

    result = runner.invoke(args=["reminders", "send", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"total: would send {len(expected(world))}" in result.output
    assert "order overdue: would send 3" in result.output
    review = world.objects["review_near"]
    assert (
        f"would send: review due_soon due 2026-11-25 object {review.id} "
        f"to user {world.inspector.id}"
    ) in result.output
    db.session.expire_all()
    assert notifications() == []
    assert sent_rows() == set()
    # … and a real run afterwards sends them all.
    assert len(run().reminders) == len(expected(world))


# -- two runs at once, on a real committed database -----------------------------------------


def test_two_runs_at_once_send_each_reminder_once(scratch_app: Any) -> None:
    """Both runs find the same reminders; each claim is taken by one run only (PostgreSQL: the
    second INSERT waits for the first transaction, then does nothing; SQLite: the second run
    waits for the first to commit, then finds nothing)."""
    with scratch_app.app_context():
        membership = MembershipFactory()
        inspection = InspectionFactory(organisation=membership.organisation)
        for number in range(1, 6):
            InspectionOrderFactory(
                inspection=inspection, number=number, due_on=TODAY + timedelta(days=number)
            )
        StaffFactory(role=Role.SUPERVISOR)
        for _ in range(5):
            ComplaintFactory(due_at=NOW - timedelta(hours=1))
        db.session.commit()

    start = threading.Barrier(2)

    def send() -> Any:
        with scratch_app.app_context():
            start.wait()
            try:
                outcome = reminders.send(NOW)
                db.session.commit()
                return len(outcome.reminders)
            except Exception as error:
                db.session.rollback()
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: send(), range(2)))

    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == 10
    with scratch_app.app_context():
        assert len(notifications()) == 10
        assert len(sent_rows()) == 10
