"""A holder's breach reports: file one on the 72-hour clock, complete it, answer the agency.

Only holders reach these pages (staff get 403); another organisation's reports are a 404, like
missing ones (`member_organisation`). The form shows the time left to report, computed on the
server from the detection time typed so far ("Check the time left" re-reads the form without
saving anything); a small script only keeps the figure current while the page is open. Bad
input is answered 422 with the message beside the field and what was typed kept: the request
is rolled back, so nothing is saved.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.holder import blueprint
from register.holder.breach_forms import AnswerForm, BreachReportForm, FollowUpForm
from register.i18n import agency_timezone
from register.models import BreachReport, Organisation, Role
from register.permissions import member_organisation, roles_required
from register.services import breaches, reference
from register.services.breaches import BreachError

log = logging.getLogger("register.breaches")


def _report_of(organisation: Organisation, report_id: uuid.UUID) -> BreachReport:
    report = breaches.find_for_organisation(organisation, report_id)
    if report is None:
        abort(404)
    return report


def _refused(form: Any, name: str) -> None:
    """A log line naming the fields that were refused (never what was typed)."""
    log.info("%s refused: %s", name, ",".join(sorted(form.errors)) or "cross-field rules")


@blueprint.get("/<uuid:organisation_id>/breaches")
@roles_required(Role.HOLDER)
def breaches_list(organisation_id: uuid.UUID) -> str:
    """The organisation's breach reports, newest first, with their status."""
    organisation = member_organisation(organisation_id)
    return render_template(
        "holder/breaches.html",
        organisation=organisation,
        reports=breaches.reports_of(organisation),
        status_labels=breaches.STATUS_LABELS,
    )


def _form_page(
    organisation: Organisation, form: BreachReportForm, status: int = 200
) -> tuple[str, int]:
    zone = agency_timezone()
    offset = breaches.utcnow().astimezone(zone).utcoffset()
    return render_template(
        "holder/breach_new.html",
        organisation=organisation,
        form=form,
        clock=form.clock(),
        hours=breaches.report_hours(),
        timezone=current_app.config["TIMEZONE"],
        utc_offset_minutes=int(offset.total_seconds() // 60) if offset is not None else 0,
    ), status


@blueprint.route("/<uuid:organisation_id>/breaches/new", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def new_breach(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """Report a breach: the 72-hour clock shows while filling in; a late report says why."""
    organisation = member_organisation(organisation_id)
    form = BreachReportForm()
    if request.method == "GET":
        form.contact_name.data = current_user.full_name
        form.contact_email.data = current_user.email
        return _form_page(organisation, form)
    if request.form.get("action") == "check":
        # Read the detection time only: the page comes back with the time left, nothing saved.
        form.detected_at.validate(form)
        return _form_page(organisation, form)
    if not form.validate_all():
        _refused(form, "breach report")
        return _form_page(organisation, form, 422)
    try:
        report = breaches.file_report(
            organisation, current_user._get_current_object(), form.details()
        )
    except BreachError as error:
        form.place([(error.field or "description", str(error))])
        _refused(form, "breach report")
        return _form_page(organisation, form, 422)
    if report.filed_late:
        flash(_("Your breach report has been filed. It was late; your reason is recorded."), "info")
    else:
        flash(_("Your breach report has been filed in time."), "success")
    return redirect(url_for("holder.breach", organisation_id=organisation.id, report_id=report.id))


def _report_page(
    organisation: Organisation,
    report: BreachReport,
    *,
    answer_forms: dict[uuid.UUID, AnswerForm] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    forms = answer_forms or {}
    for question in report.questions:
        if not question.is_answered and question.id not in forms:
            forms[question.id] = AnswerForm(formdata=None, prefix=f"q-{question.id.hex[:8]}")
    return render_template(
        "holder/breach.html",
        organisation=organisation,
        report=report,
        answer_forms=forms,
        status_labels=breaches.STATUS_LABELS,
        nature_labels=breaches.NATURE_LABELS,
        label=reference.label,
        accepts_input=breaches.accepts_holder_input(report),
        triage_days_left=breaches.triage_days_left(report),
        hours=breaches.report_hours(),
    ), status


@blueprint.get("/<uuid:organisation_id>/breaches/<uuid:report_id>")
@roles_required(Role.HOLDER)
def breach(organisation_id: uuid.UUID, report_id: uuid.UUID) -> tuple[str, int]:
    """A report: its status, the clock, what was reported, follow-ups, the agency's questions."""
    organisation = member_organisation(organisation_id)
    return _report_page(organisation, _report_of(organisation, report_id))


@blueprint.route(
    "/<uuid:organisation_id>/breaches/<uuid:report_id>/follow-up", methods=["GET", "POST"]
)
@roles_required(Role.HOLDER)
def breach_follow_up(organisation_id: uuid.UUID, report_id: uuid.UUID) -> Any:
    """Complete the report with what has been learned since."""
    organisation = member_organisation(organisation_id)
    report = _report_of(organisation, report_id)
    form = FollowUpForm()
    status = 200
    if not breaches.accepts_holder_input(report):
        flash(
            _("The agency has closed this report, so nothing more can be added to it."),
            "error",
        )
        return redirect(
            url_for("holder.breach", organisation_id=organisation.id, report_id=report.id)
        )
    if form.is_submitted():
        if form.validate():
            try:
                breaches.add_follow_up(report, current_user._get_current_object(), form.details())
            except BreachError as error:
                form.place([(error.field or "information", str(error))])
            else:
                flash(_("The new information has been added to the report."), "success")
                return redirect(
                    url_for("holder.breach", organisation_id=organisation.id, report_id=report.id)
                )
        _refused(form, "breach follow-up")
        status = 422
    return render_template(
        "holder/breach_follow_up.html", organisation=organisation, report=report, form=form
    ), status


@blueprint.post(
    "/<uuid:organisation_id>/breaches/<uuid:report_id>/questions/<uuid:question_id>/answer"
)
@roles_required(Role.HOLDER)
def answer_breach_question(
    organisation_id: uuid.UUID, report_id: uuid.UUID, question_id: uuid.UUID
) -> Any:
    """Answer one of the agency's questions about the report."""
    organisation = member_organisation(organisation_id)
    report = _report_of(organisation, report_id)
    question = breaches.find_question(report, question_id)
    if question is None:
        abort(404)
    form = AnswerForm(prefix=f"q-{question.id.hex[:8]}")
    if form.validate_on_submit():
        back = redirect(
            url_for("holder.breach", organisation_id=organisation.id, report_id=report.id)
        )
        try:
            breaches.answer_question(
                question, current_user._get_current_object(), form.answer.data or ""
            )
        except BreachError as error:  # closed meanwhile, or answered by a colleague
            flash(str(error), "error")
            return back
        flash(_("Your answer has been sent to the agency."), "success")
        return back
    _refused(form, "breach answer")
    return _report_page(organisation, report, answer_forms={question.id: form}, status=422)
