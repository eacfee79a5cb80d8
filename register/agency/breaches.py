"""The agency's triage of breach reports: the list, a report (its opening logged), the moves.

Inspectors and supervisors only (admins keep the system, not the register: 403). A report is
confidential, so each opening of its page is written to the activity log. A move refused (not
allowed now, or the page was stale) is answered 409 with the reason at the top and what was
typed kept; bad input is answered 422 with the message beside the field.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.agency import blueprint
from register.agency.triage_forms import DecisionForm, QuestionForm, StartForm, TriageFilterForm
from register.database import writes_on_get
from register.extensions import db
from register.models import BreachReport, BreachStatus, ReferenceList, Role, User
from register.permissions import roles_required
from register.services import activity, breaches, reference
from register.services.breaches import BreachError

REVIEWERS = (Role.INSPECTOR, Role.SUPERVISOR)
log = logging.getLogger("register.breaches")


def filter_choices(form: TriageFilterForm, status_labels: dict[Any, Any]) -> None:
    """The choices of the list filters: statuses, regions and sectors."""
    form.status.choices = [
        ("", _("Any")),
        *[(status.value, str(label)) for status, label in status_labels.items()],
    ]
    form.region.choices = [("", _("Any")), *reference.choices(ReferenceList.REGION)]
    form.sector.choices = [("", _("Any")), *reference.choices(ReferenceList.SECTOR)]


def pick(value: str | None, choices: Any) -> str | None:
    """The value if the list offers it (an unknown code is ignored, never an error)."""
    return value if value and value in {code for code, _label in choices or []} else None


@blueprint.get("/breaches")
@roles_required(*REVIEWERS)
def breaches_list() -> str:
    """Breach reports, newest first: filters, lateness, the triage deadline, the assessor."""
    form = TriageFilterForm(request.args)
    filter_choices(form, breaches.STATUS_LABELS)
    status = pick(form.status.data, form.status.choices)
    late = {"yes": True, "no": False}.get(form.late.data or "")
    filters = breaches.BreachFilters(
        status=BreachStatus(status) if status else None,
        late=late,
        overdue=bool(form.overdue.data),
        region=pick(form.region.data, form.region.choices),
        sector=pick(form.sector.data, form.sector.choices),
        holder=(form.holder.data or "")[:200] if form.validate() else "",
    )
    found = breaches.agency_list(filters, max(request.args.get("page", 1, type=int) or 1, 1))
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "agency/breaches.html",
        form=form,
        found=found,
        query=query,
        status_labels=breaches.STATUS_LABELS,
        regions=dict(reference.choices(ReferenceList.REGION)),
        sectors=dict(reference.choices(ReferenceList.SECTOR)),
    )


def _report(report_id: uuid.UUID) -> BreachReport:
    report = breaches.find(report_id)
    if report is None:
        abort(404)
    return report


def _decisions() -> list[tuple[str, str]]:
    return [
        ("close", _("Close the report")),
        ("request_inspection", _("Request an inspection")),
    ]


def _page(
    report: BreachReport,
    *,
    question_form: QuestionForm | None = None,
    decision_form: DecisionForm | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    question_form = question_form or QuestionForm(formdata=None)
    decision_form = decision_form or DecisionForm(formdata=None)
    decision_form.decision.choices = _decisions()
    for form in (question_form, decision_form):
        if conflict is not None or form.lock_version.data is None:
            form.lock_version.data = str(report.lock_version)
    staff_ids = {report.assignee_id, report.decided_by_id} | {
        question.asked_by_id for question in report.questions
    }
    staff = {
        user.id: user
        for user in (db.session.get(User, user_id) for user_id in staff_ids if user_id)
        if user is not None
    }
    return render_template(
        "agency/breach.html",
        report=report,
        organisation=report.organisation,
        staff=staff,
        start_form=StartForm(formdata=None, lock_version=report.lock_version),
        question_form=question_form,
        decision_form=decision_form,
        can_start=breaches.can_start(current_user, report),
        can_decide=breaches.can_decide(current_user, report),
        conflict=conflict,
        status_labels=breaches.STATUS_LABELS,
        nature_labels=breaches.NATURE_LABELS,
        label=reference.label,
        triage_days_left=breaches.triage_days_left(report),
        hours=breaches.report_hours(),
    ), status


@blueprint.get("/breaches/<uuid:report_id>")
@roles_required(*REVIEWERS)
@writes_on_get
def breach(report_id: uuid.UUID) -> tuple[str, int]:
    """The whole report with its confidential text: the opening is logged."""
    report = _report(report_id)
    activity.record(
        "breach_report.opened",
        object_type=breaches.OBJECT_TYPE,
        object_id=str(report.id),
        details={"organisation": str(report.organisation_id)},
    )
    return _page(report)


def _back(report: BreachReport) -> Response:
    return redirect(url_for("agency.breach", report_id=report.id))


def _refused(report: BreachReport, error: BreachError, **forms: Any) -> tuple[str, int]:
    """The page again with the reason on top and the input kept (nothing saved: 409)."""
    db.session.expire_all()
    fresh = _report(report.id)
    return _page(fresh, conflict=str(error), status=409, **forms)


@blueprint.post("/breaches/<uuid:report_id>/assess")
@roles_required(*REVIEWERS)
def assess_breach(report_id: uuid.UUID) -> Response | tuple[str, int]:
    """Start assessing a received report (the user becomes its assessor)."""
    report = _report(report_id)
    form = StartForm()
    try:
        breaches.start_assessment(report, current_user, form.expected_lock_version())
    except BreachError as error:
        return _refused(report, error)
    flash(_("You are assessing this report."), "success")
    return _back(report)


@blueprint.post("/breaches/<uuid:report_id>/questions")
@roles_required(*REVIEWERS)
def ask_breach_question(report_id: uuid.UUID) -> Response | tuple[str, int]:
    """Ask the holder a question; the holder answers on the report's page."""
    report = _report(report_id)
    form = QuestionForm()
    if not form.validate():
        log.info("breach question refused: %s", ",".join(sorted(form.errors)))
        return _page(report, question_form=form, status=422)
    try:
        breaches.ask_question(
            report, current_user, form.question.data or "", form.expected_lock_version()
        )
    except BreachError as error:
        return _refused(report, error, question_form=form)
    flash(_("Your question has been sent to the holder."), "success")
    return _back(report)


@blueprint.post("/breaches/<uuid:report_id>/decide")
@roles_required(*REVIEWERS)
def decide_breach(report_id: uuid.UUID) -> Response | tuple[str, int]:
    """Close the report or request an inspection, with grounds."""
    report = _report(report_id)
    form = DecisionForm()
    form.decision.choices = _decisions()
    if not form.validate():
        log.info("breach decision refused: %s", ",".join(sorted(form.errors)))
        return _page(report, decision_form=form, status=422)
    try:
        breaches.decide(
            report,
            current_user,
            form.decision.data or "",
            form.grounds.data or "",
            form.expected_lock_version(),
        )
    except BreachError as error:
        return _refused(report, error, decision_form=form)
    flash(
        _("Decision recorded: %(status)s.", status=str(breaches.STATUS_LABELS[report.status])),
        "success",
    )
    return _back(report)
