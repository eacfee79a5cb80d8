"""The agency's inspections: the risk-ranked plan, planning one, the list, an inspection's page
(its opening logged) and its moves, violations, orders and answers.

Inspectors and supervisors see the plan, the list and every inspection; supervisors plan
inspections; the inspectors assigned (or any supervisor) act on one. Admins keep the system,
not the register (403). A move refused (not allowed now, or a stale page) is answered 409 with
the reason on top and what was typed kept; bad input 422 with the message beside the field.
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
from register.agency.breaches import filter_choices, pick
from register.agency.inspection_forms import (
    ListFilterForm,
    MoveForm,
    OrderForm,
    OrderGroundsForm,
    OrderMoveForm,
    PlanFilterForm,
    PlanInspectionForm,
    RecordForm,
    ReportForm,
    ViolationForm,
)
from register.database import writes_on_get
from register.downloads import attachment
from register.extensions import db
from register.models import (
    BreachReport,
    Complaint,
    Inspection,
    InspectionKind,
    InspectionOrder,
    InspectionStatus,
    Organisation,
    ReferenceList,
    Role,
)
from register.permissions import roles_required
from register.services import accounts, activity, inspection_plan, inspections, reference
from register.services.inspections import InspectionError

REVIEWERS = (Role.INSPECTOR, Role.SUPERVISOR)
log = logging.getLogger("register.inspections")


def _refused_fields(form: Any, name: str) -> None:
    log.info("%s refused: %s", name, ",".join(sorted(form.errors)) or "rules")


# -- the plan ------------------------------------------------------------------------------


@blueprint.get("/inspections/plan")
@roles_required(*REVIEWERS)
def inspection_plan_page() -> str:
    """Registered holders by risk score, highest first, each score explained term by term."""
    form = PlanFilterForm(request.args)
    form.region.choices = [("", _("Any")), *reference.choices(ReferenceList.REGION)]
    form.sector.choices = [("", _("Any")), *reference.choices(ReferenceList.SECTOR)]
    filters = inspection_plan.PlanFilters(
        region=pick(form.region.data, form.region.choices),
        sector=pick(form.sector.data, form.sector.choices),
        holder=(form.holder.data or "")[:200] if form.validate() else "",
        include_open=bool(form.include_open.data),
    )
    found = inspection_plan.plan(filters, max(request.args.get("page", 1, type=int) or 1, 1))
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "agency/inspection_plan.html",
        form=form,
        found=found,
        query=query,
        may_plan=inspections.is_supervisor(current_user),
        regions=dict(reference.choices(ReferenceList.REGION)),
        sectors=dict(reference.choices(ReferenceList.SECTOR)),
    )


# -- planning one --------------------------------------------------------------------------


def _trigger(organisation: Organisation) -> tuple[InspectionKind | None, Any]:
    """The breach report or complaint named in the query or the form, if it is this holder's."""
    source = request.form if request.method == "POST" else request.args
    breach_id = PlanInspectionForm.uuid_or_none(source.get("breach_report_id"))
    complaint_id = PlanInspectionForm.uuid_or_none(source.get("complaint_id"))
    if breach_id is not None:
        report = db.session.get(BreachReport, breach_id)
        if report is None or report.organisation_id != organisation.id:
            abort(404)
        return InspectionKind.BREACH, report
    if complaint_id is not None:
        complaint = db.session.get(Complaint, complaint_id)
        if complaint is None or complaint.organisation_id != organisation.id:
            abort(404)
        return InspectionKind.COMPLAINT, complaint
    return None, None


def _kinds(fixed: InspectionKind | None) -> list[tuple[str, str]]:
    if fixed is not None:
        return [(fixed.value, str(inspections.KIND_LABELS[fixed]))]
    return [
        (kind.value, str(inspections.KIND_LABELS[kind]))
        for kind in (InspectionKind.PLANNED, InspectionKind.UNPLANNED)
    ]


def _plan_page(
    organisation: Organisation, form: PlanInspectionForm, trigger: Any, status: int = 200
) -> tuple[str, int]:
    risk = inspection_plan.risk_for(organisation.id)
    return render_template(
        "agency/inspection_new.html",
        organisation=organisation,
        form=form,
        trigger=trigger,
        risk=risk,
    ), status


@blueprint.route("/organisations/<uuid:organisation_id>/inspections/new", methods=["GET", "POST"])
@roles_required(Role.SUPERVISOR)
def new_inspection(organisation_id: uuid.UUID) -> tuple[str, int] | Response:
    """A supervisor plans an inspection of the holder (from the plan, a breach or a complaint)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    fixed, trigger = _trigger(organisation)
    form = PlanInspectionForm()
    form.kind.choices = _kinds(fixed)
    form.inspectors.choices = [
        (str(user.id), user.full_name or user.email) for user in inspections.assignable_staff()
    ]
    if request.method == "GET":
        form.kind.data = fixed.value if fixed is not None else InspectionKind.PLANNED.value
        if isinstance(trigger, BreachReport):
            form.breach_report_id.data = str(trigger.id)
        elif isinstance(trigger, Complaint):
            form.complaint_id.data = str(trigger.id)
        return _plan_page(organisation, form, trigger)
    if not form.validate():
        _refused_fields(form, "inspection plan")
        return _plan_page(organisation, form, trigger, 422)
    details = inspections.InspectionDetails(
        kind=InspectionKind(form.kind.data),
        legal_ground=form.legal_ground.data or "",
        planned_start=form.planned_start.data,
        planned_end=form.planned_end.data,
        inspector_ids=form.inspector_ids(),
        breach_report_id=trigger.id if isinstance(trigger, BreachReport) else None,
        complaint_id=trigger.id if isinstance(trigger, Complaint) else None,
    )
    found = inspections.problems(organisation, details)
    if found:
        for field_name, message in found:
            getattr(form, field_name).errors = [*getattr(form, field_name).errors, message]
        _refused_fields(form, "inspection plan")
        return _plan_page(organisation, form, trigger, 422)
    risk = inspection_plan.risk_for(organisation.id)
    try:
        inspection = inspections.plan_inspection(
            organisation, details, current_user, risk.score if risk is not None else None
        )
    except InspectionError as error:
        getattr(form, error.field or "kind").errors = [str(error)]
        return _plan_page(organisation, form, trigger, 422)
    flash(_("The inspection is planned; the holder and the inspectors have been told."), "success")
    return redirect(url_for("agency.inspection", inspection_id=inspection.id))


# -- the list ------------------------------------------------------------------------------


@blueprint.get("/inspections")
@roles_required(*REVIEWERS)
def inspections_list() -> str:
    """Inspections by planned start, with their orders' standing; filters."""
    form = ListFilterForm(request.args)
    filter_choices(form, inspections.STATUS_LABELS)
    form.kind.choices = [
        ("", _("Any")),
        *[(kind.value, str(label)) for kind, label in inspections.KIND_LABELS.items()],
    ]
    status = pick(form.status.data, form.status.choices)
    kind = pick(form.kind.data, form.kind.choices)
    filters = inspections.InspectionFilters(
        status=InspectionStatus(status) if status else None,
        kind=InspectionKind(kind) if kind else None,
        mine=bool(form.mine.data),
        overdue_orders=bool(form.overdue_orders.data),
        region=pick(form.region.data, form.region.choices),
        sector=pick(form.sector.data, form.sector.choices),
        holder=(form.holder.data or "")[:200] if form.validate() else "",
    )
    found = inspections.agency_list(
        filters, current_user, max(request.args.get("page", 1, type=int) or 1, 1)
    )
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "agency/inspections.html",
        form=form,
        found=found,
        query=query,
        status_labels=inspections.STATUS_LABELS,
        kind_labels=inspections.KIND_LABELS,
        may_plan=inspections.is_supervisor(current_user),
    )


# -- one inspection ------------------------------------------------------------------------


def _inspection(inspection_id: uuid.UUID) -> Inspection:
    inspection = inspections.find(inspection_id)
    if inspection is None:
        abort(404)
    return inspection


def _order(inspection: Inspection, order_id: uuid.UUID) -> InspectionOrder:
    order = inspections.find_order(inspection, order_id)
    if order is None:
        abort(404)
    return order


def _page(
    inspection: Inspection,
    *,
    conflict: str | None = None,
    status: int = 200,
    record_form: RecordForm | None = None,
    report_form: ReportForm | None = None,
    violation_form: ViolationForm | None = None,
    order_form: OrderForm | None = None,
    order_forms: dict[tuple[uuid.UUID, str], Any] | None = None,
) -> tuple[str, int]:
    record_form = record_form or RecordForm(
        formdata=None, findings=inspection.findings, notes=inspection.notes
    )
    report_form = report_form or ReportForm(formdata=None, findings=inspection.findings)
    for form in (record_form, report_form):
        if conflict is not None or form.lock_version.data is None:
            form.lock_version.data = str(inspection.lock_version)
    violation_form = violation_form or ViolationForm(formdata=None)
    violation_form.article_code.choices = [
        ("", _("Choose an article")),
        *reference.choices(ReferenceList.LAW_ARTICLE),
    ]
    order_form = order_form or OrderForm(formdata=None)
    order_form.violation_id.choices = _violation_choices(inspection)
    order_forms = dict(order_forms or {})
    for order in inspection.orders:
        for action, form_class in (
            ("accept", OrderMoveForm),
            ("return", OrderGroundsForm),
            ("withdraw", OrderGroundsForm),
        ):
            form = order_forms.get((order.id, action)) or form_class(formdata=None)
            if conflict is not None or form.lock_version.data is None:
                form.lock_version.data = str(order.lock_version)
            order_forms[(order.id, action)] = form
    answers = [answer for order in inspection.orders for answer in order.answers]
    staff_ids = (
        {inspection.created_by_id}
        | {order.issued_by_id for order in inspection.orders}
        | {answer.answered_by_id for answer in answers}
        | {answer.decided_by_id for answer in answers}
        | {violation.recorded_by_id for violation in inspection.violations}
    )
    return render_template(
        "agency/inspection.html",
        inspection=inspection,
        organisation=inspection.organisation,
        conflict=conflict,
        move_form=MoveForm(formdata=None, lock_version=inspection.lock_version),
        record_form=record_form,
        report_form=report_form,
        violation_form=violation_form,
        order_form=order_form,
        order_forms=order_forms,
        may_act=inspections.may_act(current_user, inspection),
        names=accounts.user_names(staff_ids),
        documents=inspections.answer_documents(answers),
        status_labels=inspections.STATUS_LABELS,
        kind_labels=inspections.KIND_LABELS,
        order_status_labels=inspections.ORDER_STATUS_LABELS,
        article=lambda code: reference.label(ReferenceList.LAW_ARTICLE, code),
        today=inspections.today(),
        unsettled=len(inspections.unsettled_orders(inspection)),
        trigger_breach=db.session.get(BreachReport, inspection.breach_report_id)
        if inspection.breach_report_id
        else None,
        trigger_complaint=db.session.get(Complaint, inspection.complaint_id)
        if inspection.complaint_id
        else None,
    ), status


def _violation_choices(inspection: Inspection) -> list[tuple[str, str]]:
    return [
        ("", _("None in particular")),
        *[
            (
                str(violation.id),
                f"{position}. {reference.label(ReferenceList.LAW_ARTICLE, violation.article_code)}",
            )
            for position, violation in enumerate(inspection.violations, start=1)
        ],
    ]


@blueprint.get("/inspections/<uuid:inspection_id>")
@roles_required(*REVIEWERS)
@writes_on_get
def inspection(inspection_id: uuid.UUID) -> tuple[str, int]:
    """The whole inspection with its confidential findings: the opening is logged."""
    found = _inspection(inspection_id)
    activity.record(
        "inspection.opened",
        object_type=inspections.OBJECT_TYPE,
        object_id=str(found.id),
        details={"organisation": str(found.organisation_id)},
    )
    return _page(found)


def _back(inspection: Inspection, anchor: str | None = None) -> Response:
    return redirect(url_for("agency.inspection", inspection_id=inspection.id, _anchor=anchor))


def _refused(inspection: Inspection, error: InspectionError, **forms: Any) -> tuple[str, int]:
    """The page again with the reason on top and the input kept (nothing saved: 409)."""
    db.session.rollback()
    fresh = _inspection(inspection.id)
    return _page(fresh, conflict=str(error), status=409, **forms)


def _bad(inspection: Inspection, name: str, form: Any, **forms: Any) -> tuple[str, int]:
    _refused_fields(form, name)
    return _page(inspection, status=422, **forms)


@blueprint.post("/inspections/<uuid:inspection_id>/start")
@roles_required(*REVIEWERS)
def start_inspection(inspection_id: uuid.UUID) -> Response | tuple[str, int]:
    """planned → in progress."""
    found = _inspection(inspection_id)
    form = MoveForm()
    try:
        inspections.start(found, current_user, form.expected_lock_version())
    except InspectionError as error:
        return _refused(found, error)
    flash(_("The inspection is in progress."), "success")
    return _back(found)


@blueprint.post("/inspections/<uuid:inspection_id>/record")
@roles_required(*REVIEWERS)
def save_inspection_record(inspection_id: uuid.UUID) -> Response | tuple[str, int]:
    """Keep the findings and notes."""
    found = _inspection(inspection_id)
    form = RecordForm()
    if not form.validate():
        return _bad(found, "inspection record", form, record_form=form)
    try:
        inspections.save_record(
            found,
            current_user,
            form.expected_lock_version(),
            form.findings.data or "",
            form.notes.data or "",
        )
    except InspectionError as error:
        if error.field and not isinstance(error, inspections.StaleInspection):
            getattr(form, error.field).errors = [str(error)]
            return _bad(found, "inspection record", form, record_form=form)
        return _refused(found, error, record_form=form)
    flash(_("The findings and notes are saved."), "success")
    return _back(found, "record")


@blueprint.post("/inspections/<uuid:inspection_id>/report")
@roles_required(*REVIEWERS)
def report_inspection(inspection_id: uuid.UUID) -> Response | tuple[str, int]:
    """in progress → report (with the findings)."""
    found = _inspection(inspection_id)
    form = ReportForm()
    if not form.validate():
        return _bad(found, "inspection report", form, report_form=form)
    try:
        inspections.write_report(
            found, current_user, form.expected_lock_version(), form.findings.data or ""
        )
    except InspectionError as error:
        return _refused(found, error, report_form=form)
    flash(_("The report is written."), "success")
    return _back(found)


@blueprint.post("/inspections/<uuid:inspection_id>/close")
@roles_required(*REVIEWERS)
def close_inspection(inspection_id: uuid.UUID) -> Response | tuple[str, int]:
    """report → closed, once every order is settled."""
    found = _inspection(inspection_id)
    form = MoveForm()
    try:
        inspections.close(found, current_user, form.expected_lock_version())
    except InspectionError as error:
        return _refused(found, error)
    flash(_("The inspection is closed."), "success")
    return _back(found)


@blueprint.post("/inspections/<uuid:inspection_id>/violations")
@roles_required(*REVIEWERS)
def add_violation(inspection_id: uuid.UUID) -> Response | tuple[str, int]:
    """Record a violation with the article of law."""
    found = _inspection(inspection_id)
    form = ViolationForm()
    form.article_code.choices = reference.choices(ReferenceList.LAW_ARTICLE)
    if not form.validate():
        return _bad(found, "violation", form, violation_form=form)
    try:
        inspections.record_violation(
            found, current_user, form.article_code.data or "", form.description.data or ""
        )
    except InspectionError as error:
        return _refused(found, error, violation_form=form)
    flash(_("The violation is recorded."), "success")
    return _back(found, "violations")


@blueprint.post("/inspections/<uuid:inspection_id>/orders")
@roles_required(*REVIEWERS)
def issue_order(inspection_id: uuid.UUID) -> Response | tuple[str, int]:
    """Issue an order to the holder."""
    found = _inspection(inspection_id)
    form = OrderForm()
    form.violation_id.choices = _violation_choices(found)
    if not form.validate():
        return _bad(found, "order", form, order_form=form)
    try:
        inspections.issue_order(
            found,
            current_user,
            form.requirement.data or "",
            form.due_on.data,
            uuid.UUID(form.violation_id.data) if form.violation_id.data else None,
        )
    except InspectionError as error:
        if error.field and hasattr(form, error.field):
            getattr(form, error.field).errors = [str(error)]
            return _bad(found, "order", form, order_form=form)
        return _refused(found, error, order_form=form)
    flash(_("The order is issued; the holder has been told."), "success")
    return _back(found, "orders")


def _order_move(
    inspection_id: uuid.UUID, order_id: uuid.UUID, action: str
) -> Response | tuple[str, int]:
    found = _inspection(inspection_id)
    order = _order(found, order_id)
    form: Any = OrderMoveForm() if action == "accept" else OrderGroundsForm()
    forms = {(order.id, action): form}
    if not form.validate():
        return _bad(found, f"order {action}", form, order_forms=forms)
    try:
        if action == "accept":
            inspections.accept_answer(order, current_user, form.expected_lock_version())
        elif action == "return":
            inspections.return_answer(
                order, current_user, form.expected_lock_version(), form.grounds.data or ""
            )
        else:
            inspections.withdraw_order(
                order, current_user, form.expected_lock_version(), form.grounds.data or ""
            )
    except InspectionError as error:
        return _refused(found, error, order_forms=forms)
    flash(
        {
            "accept": _("The answer is accepted; the order is settled."),
            "return": _("The answer is returned to the holder with your grounds."),
            "withdraw": _("The order is withdrawn."),
        }[action],
        "success",
    )
    return _back(found, f"order-{order.number}")


@blueprint.post("/inspections/<uuid:inspection_id>/orders/<uuid:order_id>/accept")
@roles_required(*REVIEWERS)
def accept_order_answer(
    inspection_id: uuid.UUID, order_id: uuid.UUID
) -> Response | tuple[str, int]:
    """Accept the holder's answer: the order is settled."""
    return _order_move(inspection_id, order_id, "accept")


@blueprint.post("/inspections/<uuid:inspection_id>/orders/<uuid:order_id>/return")
@roles_required(*REVIEWERS)
def return_order_answer(
    inspection_id: uuid.UUID, order_id: uuid.UUID
) -> Response | tuple[str, int]:
    """Return the holder's answer with grounds."""
    return _order_move(inspection_id, order_id, "return")


@blueprint.post("/inspections/<uuid:inspection_id>/orders/<uuid:order_id>/withdraw")
@roles_required(*REVIEWERS)
def withdraw_order(inspection_id: uuid.UUID, order_id: uuid.UUID) -> Response | tuple[str, int]:
    """Withdraw an order issued by mistake, with grounds."""
    return _order_move(inspection_id, order_id, "withdraw")


@blueprint.get(
    "/inspections/<uuid:inspection_id>/orders/<uuid:order_id>/documents/<uuid:document_id>"
)
@roles_required(*REVIEWERS)
@writes_on_get
def order_answer_document(
    inspection_id: uuid.UUID, order_id: uuid.UUID, document_id: uuid.UUID
) -> Response:
    """A document attached to a holder's answer: confidential, so the opening is logged."""
    found = _inspection(inspection_id)
    order = _order(found, order_id)
    document = inspections.find_answer_document(order, document_id)
    if document is None:
        abort(404)
    activity.record(
        "document.opened",
        object_type="document",
        object_id=str(document.id),
        details={"inspection_order": str(order.id)},
    )
    return attachment(document)


# -- for other agency pages ----------------------------------------------------------------


@blueprint.app_template_global()
def follow_up_inspection(
    breach_report_id: uuid.UUID | None = None, complaint_id: uuid.UUID | None = None
) -> Inspection | None:
    """The inspection planned after a breach report or a complaint (their pages link to it)."""
    return inspections.requested_by(breach_report_id=breach_report_id, complaint_id=complaint_id)


@blueprint.app_template_global()
def organisation_inspections(organisation_id: uuid.UUID) -> list[Inspection]:
    """An organisation's inspections, newest first (the agency's organisation page)."""
    organisation = db.session.get(Organisation, organisation_id)
    return inspections.inspections_of(organisation) if organisation is not None else []
