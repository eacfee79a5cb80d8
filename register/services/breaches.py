"""Breach reports: the holder files them on the 72-hour clock and completes them; the agency
triages them within its working-day deadline, asks questions and decides.

    received ──start assessing──> assessing ──close (grounds)──> closed
                                      └──request an inspection (grounds)──> inspection_requested

The clock runs from detection: a report filed more than BREACH_REPORT_HOURS after it is late,
is flagged, and must say why. Every agency move is a conditional UPDATE on the report's status
and `lock_version` (`triage.conditional_update`); illegal moves are refused with a message.
Every move is written to the activity log and told to the organisation's users through the
outbox; what the holder adds (follow-ups, answers) is told to the staff member assessing it.
Services flush; the request commits.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from register.database import utcnow
from register.extensions import db
from register.i18n import agency_timezone
from register.models import (
    OPEN_BREACH_STATUSES,
    BreachFollowUp,
    BreachNature,
    BreachQuestion,
    BreachReport,
    BreachStatus,
    Organisation,
    User,
)
from register.services import activity, triage, working_days
from register.services.members import members_of
from register.services.notifications import local_link, notify
from register.services.triage import StaleRecord, TriageError

OBJECT_TYPE = "breach_report"

STATUS_LABELS: dict[BreachStatus, Any] = {
    BreachStatus.RECEIVED: _l("Received"),
    BreachStatus.ASSESSING: _l("Being assessed"),
    BreachStatus.CLOSED: _l("Closed"),
    BreachStatus.INSPECTION_REQUESTED: _l("Inspection requested"),
}
NATURE_LABELS: dict[BreachNature, Any] = {
    BreachNature.CONFIDENTIALITY: _l("Confidentiality: data disclosed or accessed without right"),
    BreachNature.INTEGRITY: _l("Integrity: data altered or destroyed without right"),
    BreachNature.AVAILABILITY: _l("Availability: data lost or out of reach"),
}
# Detection "in the future" by less than this is a clock difference, not an error.
CLOCK_SKEW = timedelta(minutes=5)


class BreachError(TriageError):
    """The report cannot be filed or changed like this; `field` names the answer concerned."""


class StaleBreach(StaleRecord, BreachError):
    """The report changed since its page was read."""


# -- the 72-hour clock ---------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """Where a report stands on the clock from detection."""

    detected_at: datetime
    deadline: datetime
    now: datetime

    @property
    def late(self) -> bool:
        """The time to report has run out."""
        return self.now > self.deadline

    @property
    def hours_left(self) -> int:
        """Whole hours left (0 when late)."""
        return max(int((self.deadline - self.now) / timedelta(hours=1)), 0)

    @property
    def minutes_left(self) -> int:
        """Minutes left beyond the whole hours (0 when late)."""
        if self.late:
            return 0
        return int((self.deadline - self.now) / timedelta(minutes=1)) % 60

    @property
    def hours_late(self) -> int:
        """Hours since the deadline, a started hour counting as one (0 when not late)."""
        if not self.late:
            return 0
        return max(math.ceil((self.now - self.deadline) / timedelta(hours=1)), 1)


def report_hours() -> int:
    """The hours a holder has to report a breach after detecting it (72 by default)."""
    return int(current_app.config["BREACH_REPORT_HOURS"])


def report_deadline(detected_at: datetime) -> datetime:
    """When the time to report a breach detected at `detected_at` runs out."""
    return detected_at + timedelta(hours=report_hours())


def clock(detected_at: datetime, now: datetime | None = None) -> Clock:
    """The clock of a breach detected at `detected_at`, read now."""
    return Clock(detected_at, report_deadline(detected_at), now or utcnow())


def local_input(moment: datetime) -> str:
    """A moment as a datetime-local input shows it (agency time zone)."""
    return moment.astimezone(agency_timezone()).strftime("%Y-%m-%dT%H:%M")


# -- filing --------------------------------------------------------------------------------


@dataclass
class BreachDetails:
    """What the holder's form gives (DESIGN.md §2), already checked field by field."""

    occurred_at: datetime | None
    detected_at: datetime | None
    nature_codes: list[str]
    description: str
    contact_name: str
    data_item_codes: list[str] = field(default_factory=list)
    data_details: str | None = None
    subject_category_codes: list[str] = field(default_factory=list)
    subjects_affected: int | None = None
    records_affected: int | None = None
    consequences: str | None = None
    measures_taken: str | None = None
    subjects_told: bool = False
    subjects_told_on: date | None = None
    subjects_notice: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    late_reason: str | None = None


def problems(details: BreachDetails, now: datetime | None = None) -> list[tuple[str, str]]:
    """The rules across answers, as (field, message); empty when the report may be filed."""
    now = now or utcnow()
    found: list[tuple[str, str]] = []
    detected, occurred = details.detected_at, details.occurred_at
    if detected is None:
        found.append(("detected_at", str(_l("Enter when the breach was detected"))))
    elif detected > now + CLOCK_SKEW:
        found.append(("detected_at", str(_l("The breach cannot be detected in the future"))))
    if occurred is None:
        found.append(("occurred_at", str(_l("Enter when the breach happened"))))
    elif detected is not None and occurred > detected:
        found.append(
            ("occurred_at", str(_l("The breach cannot have happened after it was detected")))
        )
    unknown = set(details.nature_codes) - {nature.value for nature in BreachNature}
    if not details.nature_codes or unknown:
        found.append(("nature_codes", str(_l("Choose what the breach compromised"))))
    if not (details.description or "").strip():
        found.append(("description", str(_l("Describe what happened"))))
    if details.subjects_told and details.subjects_told_on is None:
        found.append(("subjects_told_on", str(_l("Enter when the data subjects were told"))))
    today = now.astimezone(agency_timezone()).date()
    if details.subjects_told_on is not None and details.subjects_told_on > today:
        found.append(("subjects_told_on", str(_l("That date is in the future"))))
    if not (details.contact_name or "").strip():
        found.append(("contact_name", str(_l("Enter the name of the person to contact"))))
    if not (details.contact_phone or details.contact_email):
        found.append(
            ("contact_email", str(_l("Give a phone number or an e-mail address to contact")))
        )
    if detected is not None and clock(detected, now).late and not _text(details.late_reason):
        found.append(
            (
                "late_reason",
                str(
                    _l(
                        "This report is late: the %(hours)s hours from detection ended on "
                        "%(deadline)s. Explain why it was not reported in time",
                        hours=report_hours(),
                        deadline=format_datetime(report_deadline(detected), "medium"),
                    )
                ),
            )
        )
    return found


def file_report(
    organisation: Organisation, user: User, details: BreachDetails, now: datetime | None = None
) -> BreachReport:
    """File the initial report of a breach; late ones are flagged and carry their reason."""
    now = now or utcnow()
    found = problems(details, now)
    if found or details.detected_at is None or details.occurred_at is None:
        field_name, message = found[0]
        raise BreachError(message, field_name)
    timer = clock(details.detected_at, now)
    report = BreachReport(
        organisation_id=organisation.id,
        filed_by_id=user.id,
        status=BreachStatus.RECEIVED,
        occurred_at=details.occurred_at,
        detected_at=details.detected_at,
        filed_at=now,
        report_due_at=timer.deadline,
        filed_late=timer.late,
        nature_codes=sorted(set(details.nature_codes)),
        data_item_codes=list(details.data_item_codes),
        subject_category_codes=list(details.subject_category_codes),
        subjects_affected=details.subjects_affected,
        records_affected=details.records_affected,
        subjects_told=details.subjects_told,
        subjects_told_on=details.subjects_told_on if details.subjects_told else None,
        triage_due_at=working_days.deadline(
            now, int(current_app.config["BREACH_TRIAGE_WORKING_DAYS"])
        ),
        created_at=now,
        updated_at=now,
    )
    report.description = details.description.strip()
    report.contact_name = details.contact_name.strip()
    for name in (
        "data_details",
        "consequences",
        "measures_taken",
        "subjects_notice",
        "contact_phone",
        "contact_email",
    ):
        setattr(report, name, _text(getattr(details, name)))
    report.late_reason = _text(details.late_reason) if timer.late else None
    db.session.add(report)
    db.session.flush()
    _record(report, "breach_report.filed", user, late=timer.late)
    _tell_members(
        report,
        "breach_report.filed",
        _l("Breach report received: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "The agency received the report of a personal data breach at %(organisation)s, "
            "filed on %(filed)s%(late)s. The agency triages it by the end of %(due)s. You can "
            "add information to the report and follow its status online.",
            organisation=organisation.legal_name,
            filed=format_datetime(now, "medium"),
            late=_l(" (late)") if timer.late else "",
            due=format_date(working_days.last_day(report.triage_due_at), "long"),
        ),
    )
    return report


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


@dataclass
class FollowUpDetails:
    """What a follow-up adds to a report."""

    information: str
    measures_taken: str | None = None
    subjects_affected: int | None = None
    records_affected: int | None = None
    subjects_told_on: date | None = None


def accepts_holder_input(report: BreachReport) -> bool:
    """Follow-ups and answers are taken until the agency closes the report."""
    return report.status is not BreachStatus.CLOSED


def _closed_refusal() -> BreachError:
    return BreachError(
        _l(
            "The agency has closed this report, so nothing more can be added to it. If you "
            "learn something new about the breach, file a new report."
        )
    )


def add_follow_up(
    report: BreachReport, user: User, details: FollowUpDetails, now: datetime | None = None
) -> BreachFollowUp:
    """Complete a report with new information (attached to it, in order)."""
    if not accepts_holder_input(report):
        raise _closed_refusal()
    if not (details.information or "").strip():
        raise BreachError(_l("Say what you have learned since the report"), "information")
    now = now or utcnow()
    follow_up = BreachFollowUp(
        report_id=report.id,
        filed_at=now,
        filed_by_id=user.id,
        subjects_affected=details.subjects_affected,
        records_affected=details.records_affected,
        subjects_told_on=details.subjects_told_on,
    )
    follow_up.information = details.information.strip()
    follow_up.measures_taken = _text(details.measures_taken)
    db.session.add(follow_up)
    report.updated_at = now
    db.session.flush()
    _record(report, "breach_report.followed_up", user, follow_up=str(follow_up.id))
    _tell_assessor(
        report,
        "breach_report.followed_up",
        _l("New information on a breach: %(organisation)s", organisation=_name(report)),
        _l(
            "%(organisation)s added information to its breach report of %(filed)s.",
            organisation=_name(report),
            filed=format_datetime(report.filed_at, "medium"),
        ),
    )
    return follow_up


def answer_question(question: BreachQuestion, user: User, answer: str) -> None:
    """The holder answers one of the agency's questions (once)."""
    report = question.report
    if not accepts_holder_input(report):
        raise _closed_refusal()
    if not (answer or "").strip():
        raise BreachError(_l("Write your answer"), "answer")
    now = utcnow()
    result = db.session.execute(
        sa.update(BreachQuestion)
        .where(BreachQuestion.id == question.id, BreachQuestion.answered_at.is_(None))
        .values(answered_at=now, answered_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.expire(question)
        raise BreachError(_l("This question has already been answered."), "answer")
    set_committed_value(question, "answered_at", now)
    set_committed_value(question, "answered_by_id", user.id)
    question.answer = answer.strip()
    report.updated_at = now
    db.session.flush()
    _record(report, "breach_report.question_answered", user, question=str(question.id))
    _tell_assessor(
        report,
        "breach_report.question_answered",
        _l("Answer about a breach: %(organisation)s", organisation=_name(report)),
        _l(
            "%(organisation)s answered the agency's question about its breach report of %(filed)s.",
            organisation=_name(report),
            filed=format_datetime(report.filed_at, "medium"),
        ),
    )


# -- the agency's triage -------------------------------------------------------------------


def _not_now(report: BreachReport) -> BreachError:
    return BreachError(
        _l(
            "That cannot be done now: the report is %(status)s.",
            status=str(STATUS_LABELS[report.status]).lower(),
        )
    )


def can_start(user: User, report: BreachReport) -> bool:
    """Any inspector or supervisor takes a received report and assesses it."""
    return triage.is_reviewer(user) and report.status is BreachStatus.RECEIVED


def can_decide(user: User, report: BreachReport) -> bool:
    """Ask, close or request an inspection: the assessor, or any supervisor, while assessing."""
    return report.status is BreachStatus.ASSESSING and triage.may_decide(user, report.assignee_id)


def _guard(
    report: BreachReport, user: User, expected: int, allowed: bool, needs: BreachStatus
) -> None:
    """Refuse a move the user may not make now, saying why; a stale form (read at another
    version) is left to the conditional update, which names who acted meanwhile."""
    if report.lock_version != expected:
        return
    if not triage.is_reviewer(user):
        raise BreachError(_l("Only inspectors and supervisors triage breach reports."))
    if allowed:
        return
    if report.status is not needs:
        if report.status is BreachStatus.RECEIVED:
            raise BreachError(_l("Start assessing the report first."))
        raise _not_now(report)
    raise BreachError(
        _l("Only the staff member assessing this report, or a supervisor, can do that.")
    )


def _move(
    report: BreachReport,
    expected: int,
    allowed_from: list[BreachStatus],
    values: dict[str, Any],
) -> None:
    try:
        triage.conditional_update(
            report,
            expected,
            allowed_from,
            values,
            object_type=OBJECT_TYPE,
            status_labels=STATUS_LABELS,
        )
    except StaleRecord as stale:
        raise StaleBreach(str(stale)) from None


def start_assessment(report: BreachReport, user: User, expected_lock_version: int) -> None:
    """received → assessing: the user takes the report."""
    _guard(report, user, expected_lock_version, can_start(user, report), BreachStatus.RECEIVED)
    now = utcnow()
    _move(
        report,
        expected_lock_version,
        [BreachStatus.RECEIVED],
        {"status": BreachStatus.ASSESSING, "assignee_id": user.id, "assessing_since": now},
    )
    _record(report, "breach_report.assessing", user)
    _tell_members(
        report,
        "breach_report.assessing",
        _l("Breach report being assessed: %(organisation)s", organisation=_name(report)),
        _l(
            "The agency is assessing the breach report of %(organisation)s filed on %(filed)s. "
            "If it has questions, they will be on the report's page.",
            organisation=_name(report),
            filed=format_datetime(report.filed_at, "medium"),
        ),
    )


def ask_question(
    report: BreachReport, user: User, question: str, expected_lock_version: int
) -> BreachQuestion:
    """The agency asks the holder a question about the report (while assessing it)."""
    _guard(report, user, expected_lock_version, can_decide(user, report), BreachStatus.ASSESSING)
    if not (question or "").strip():
        raise BreachError(_l("Write the question"), "question")
    now = utcnow()
    _move(report, expected_lock_version, [BreachStatus.ASSESSING], {})
    asked = BreachQuestion(report_id=report.id, asked_at=now, asked_by_id=user.id)
    asked.question = question.strip()
    db.session.add(asked)
    db.session.flush()
    _record(report, "breach_report.question_asked", user, question=str(asked.id))
    _tell_members(
        report,
        "breach_report.question_asked",
        _l("A question about your breach report: %(organisation)s", organisation=_name(report)),
        _l(
            "The agency asks a question about the breach report of %(organisation)s filed on "
            "%(filed)s. Read it and answer on the report's page.",
            organisation=_name(report),
            filed=format_datetime(report.filed_at, "medium"),
        ),
    )
    return asked


DECISIONS = {
    "close": BreachStatus.CLOSED,
    "request_inspection": BreachStatus.INSPECTION_REQUESTED,
}


def decide(
    report: BreachReport, user: User, decision: str, grounds: str, expected_lock_version: int
) -> None:
    """assessing → closed, or → inspection requested; always with grounds."""
    to = DECISIONS.get(decision)
    if to is None:
        raise BreachError(_l("Choose a decision"), "decision")
    _guard(report, user, expected_lock_version, can_decide(user, report), BreachStatus.ASSESSING)
    if not (grounds or "").strip():
        raise BreachError(_l("State the grounds for the decision"), "grounds")
    now = utcnow()
    _move(
        report,
        expected_lock_version,
        [BreachStatus.ASSESSING],
        {"status": to, "decided_at": now, "decided_by_id": user.id},
    )
    report.decision_grounds = grounds.strip()
    db.session.flush()
    _record(report, f"breach_report.{to.value}", user)
    # The grounds stay on the report (encrypted), not in the message: an outbox row is plain.
    if to is BreachStatus.CLOSED:
        subject = _l("Breach report closed: %(organisation)s", organisation=_name(report))
        body = _l(
            "The agency closed the breach report of %(organisation)s filed on %(filed)s. Its "
            "grounds are on the report's page.",
            organisation=_name(report),
            filed=format_datetime(report.filed_at, "medium"),
        )
    else:
        subject = _l(
            "Inspection requested after a breach: %(organisation)s", organisation=_name(report)
        )
        body = _l(
            "After assessing the breach report of %(organisation)s filed on %(filed)s, the "
            "agency asks for an inspection; the inspectors will contact you. The grounds are "
            "on the report's page.",
            organisation=_name(report),
            filed=format_datetime(report.filed_at, "medium"),
        )
    _tell_members(report, f"breach_report.{to.value}", subject, body)


# -- telling people ------------------------------------------------------------------------


def _name(report: BreachReport) -> str:
    return report.organisation.legal_name


def _record(report: BreachReport, action: str, user: User, **details: Any) -> None:
    activity.record(
        action,
        actor=user,
        object_type=OBJECT_TYPE,
        object_id=str(report.id),
        details={"organisation": str(report.organisation_id), **details},
    )


def _tell_members(report: BreachReport, kind: str, subject: Any, body: Any) -> None:
    link = local_link(
        "holder.breach", organisation_id=str(report.organisation_id), report_id=str(report.id)
    )
    for membership in members_of(report.organisation):
        notify(membership.user, kind, subject, body, link=link)


def _tell_assessor(report: BreachReport, kind: str, subject: Any, body: Any) -> None:
    if report.assignee_id is None:
        return  # nobody assesses it yet: the list shows it to every inspector
    assessor = db.session.get(User, report.assignee_id)
    if assessor is not None and assessor.is_active:
        notify(
            assessor,
            kind,
            subject,
            body,
            link=local_link("agency.breach", report_id=str(report.id)),
        )


# -- reading -------------------------------------------------------------------------------


def reports_of(organisation: Organisation) -> list[BreachReport]:
    """The organisation's reports, newest first."""
    return list(
        db.session.scalars(
            sa.select(BreachReport)
            .where(BreachReport.organisation_id == organisation.id)
            .order_by(BreachReport.filed_at.desc(), BreachReport.id)
        )
    )


def _with_parts(statement: sa.Select[Any]) -> sa.Select[Any]:
    return statement.options(
        selectinload(BreachReport.follow_ups), selectinload(BreachReport.questions)
    )


def find_for_organisation(organisation: Organisation, report_id: uuid.UUID) -> BreachReport | None:
    """One of the organisation's reports (another organisation's is None, like a missing one)."""
    return db.session.scalar(
        _with_parts(
            sa.select(BreachReport).where(
                BreachReport.id == report_id, BreachReport.organisation_id == organisation.id
            )
        )
    )


def find(report_id: uuid.UUID) -> BreachReport | None:
    """Any report, with its follow-ups and questions (the agency's view)."""
    return db.session.scalar(
        _with_parts(sa.select(BreachReport).where(BreachReport.id == report_id))
    )


def find_question(report: BreachReport, question_id: uuid.UUID) -> BreachQuestion | None:
    """One of the report's questions."""
    return next((question for question in report.questions if question.id == question_id), None)


def triage_days_left(report: BreachReport, now: datetime | None = None) -> int | None:
    """Working days to the triage deadline (negative: overdue); None once decided."""
    if report.status not in OPEN_BREACH_STATUSES:
        return None
    return working_days.working_days_left(report.triage_due_at, now or utcnow())


# -- the agency's list ---------------------------------------------------------------------


@dataclass(frozen=True)
class BreachFilters:
    """What the agency's list is narrowed to (already validated)."""

    status: BreachStatus | None = None
    late: bool | None = None  # filed after the 72 hours
    overdue: bool = False  # the agency's triage deadline has passed
    region: str | None = None
    sector: str | None = None
    holder: str = ""


@dataclass(frozen=True)
class BreachRow:
    """One report in the agency's list."""

    report: BreachReport
    assignee: User | None
    follow_ups: int
    open_questions: int
    days_left: int | None  # working days to the triage deadline; None once decided

    @property
    def organisation(self) -> Organisation:
        """The reporting organisation (loaded with the row)."""
        return self.report.organisation

    @property
    def overdue(self) -> bool:
        """Still open past the agency's triage deadline."""
        return self.days_left is not None and self.days_left < 0


def agency_list(filters: BreachFilters, page: int = 1) -> triage.ListPage[BreachRow]:
    """Reports, newest first, filtered and paginated, in a fixed number of queries."""
    now = utcnow()
    conditions: list[Any] = []
    if filters.status is not None:
        conditions.append(BreachReport.status == filters.status)
    if filters.late is not None:
        conditions.append(BreachReport.filed_late.is_(filters.late))
    if filters.overdue:
        conditions.append(BreachReport.status.in_(list(OPEN_BREACH_STATUSES)))
        conditions.append(BreachReport.triage_due_at < now)
    conditions += triage.organisation_conditions(filters.region, filters.sector, filters.holder)
    base = (
        sa.select(BreachReport)
        .join(Organisation, Organisation.id == BreachReport.organisation_id)
        .where(*conditions)
    )
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0)
    page, pages = triage.page_bounds(total, page)
    assignee = sa.orm.aliased(User)
    follow_ups = (
        sa.select(sa.func.count(BreachFollowUp.id))
        .where(BreachFollowUp.report_id == BreachReport.id)
        .scalar_subquery()
    )
    open_questions = (
        sa.select(sa.func.count(BreachQuestion.id))
        .where(BreachQuestion.report_id == BreachReport.id, BreachQuestion.answered_at.is_(None))
        .scalar_subquery()
    )
    found = db.session.execute(
        base.outerjoin(assignee, BreachReport.assignee_id == assignee.id)
        .add_columns(assignee, follow_ups, open_questions)
        .options(contains_eager(BreachReport.organisation))
        .order_by(BreachReport.filed_at.desc(), BreachReport.id)
        .limit(triage.PAGE_SIZE)
        .offset((page - 1) * triage.PAGE_SIZE)
    ).all()
    holidays = working_days.configured_holidays()
    rows = [
        BreachRow(
            report=report,
            assignee=staff,
            follow_ups=int(added or 0),
            open_questions=int(waiting or 0),
            days_left=working_days.working_days_left(report.triage_due_at, now, holidays)
            if report.status in OPEN_BREACH_STATUSES
            else None,
        )
        for report, staff, added, waiting in found
    ]
    return triage.ListPage(rows, total, page, pages)
