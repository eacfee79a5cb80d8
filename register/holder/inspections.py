"""A holder's inspections and the orders addressed to it: read them, answer each order.

Only holders reach these pages (staff get 403); another organisation's inspections and orders
are a 404, like missing ones (`member_organisation`). The holder sees the inspection's type,
dates, legal ground and standing, and its orders with the answers and the agency's decisions —
never the inspectors' findings, notes or descriptions of violations. An answer is text and up to
five documents (PDF, PNG or JPEG, checked by content); bad input is answered 422 with the
message beside the field and the text kept, and nothing is saved.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import MultipleFileField
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from register.agency.review_forms import LockedForm
from register.downloads import attachment
from register.extensions import db
from register.holder import blueprint
from register.holder.forms import MaxLength, clean_text
from register.models import InspectionOrder, Organisation, ReferenceList, Role
from register.permissions import member_organisation, roles_required
from register.services import documents, inspections, reference
from register.services.inspections import InspectionError

log = logging.getLogger("register.inspections")


class OrderAnswerForm(LockedForm):
    """The holder's answer to an order: what was done, and documents that show it."""

    text = TextAreaField(
        _l("Your answer"),
        validators=[
            DataRequired(_l("Write your answer")),
            MaxLength(4000, _l("Keep your answer to 4,000 characters or fewer")),
        ],
        filters=[clean_text],
    )
    files = MultipleFileField(
        _l("Documents (optional)"),
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"},
    )

    def uploads(self) -> list[tuple[str, bytes]]:
        """The files chosen (an empty file input sends one nameless part: ignored)."""
        found = []
        for storage in self.files.data or []:
            if storage is None or not getattr(storage, "filename", ""):
                continue
            found.append((str(storage.filename), storage.stream.read(documents.MAX_BYTES + 1)))
        return found


@blueprint.get("/<uuid:organisation_id>/inspections")
@roles_required(Role.HOLDER)
def inspections_list(organisation_id: uuid.UUID) -> str:
    """The organisation's inspections and the orders addressed to it, overdue ones flagged."""
    organisation = member_organisation(organisation_id)
    found = inspections.inspections_of(organisation)
    waiting = sorted(
        (
            order
            for inspection in found
            for order in inspection.orders
            if order.status in inspections.AWAITING_HOLDER_STATUSES
        ),
        key=lambda order: (order.due_on, order.number),
    )
    return render_template(
        "holder/inspections.html",
        organisation=organisation,
        inspections=found,
        waiting=waiting,
        status_labels=inspections.STATUS_LABELS,
        kind_labels=inspections.KIND_LABELS,
        order_status_labels=inspections.ORDER_STATUS_LABELS,
        today=inspections.today(),
    )


@blueprint.get("/<uuid:organisation_id>/inspections/<uuid:inspection_id>")
@roles_required(Role.HOLDER)
def inspection(organisation_id: uuid.UUID, inspection_id: uuid.UUID) -> str:
    """One inspection as the holder sees it: no findings, no notes."""
    organisation = member_organisation(organisation_id)
    found = inspections.find_for_organisation(organisation, inspection_id)
    if found is None:
        abort(404)
    return render_template(
        "holder/inspection.html",
        organisation=organisation,
        inspection=found,
        status_labels=inspections.STATUS_LABELS,
        kind_labels=inspections.KIND_LABELS,
        order_status_labels=inspections.ORDER_STATUS_LABELS,
        today=inspections.today(),
    )


def _order_of(organisation: Organisation, order_id: uuid.UUID) -> InspectionOrder:
    order = inspections.find_order_for_organisation(organisation, order_id)
    if order is None:
        abort(404)
    return order


def _order_page(
    organisation: Organisation,
    order: InspectionOrder,
    form: OrderAnswerForm | None = None,
    *,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    form = form or OrderAnswerForm(formdata=None)
    if conflict is not None or form.lock_version.data is None:
        form.lock_version.data = str(order.lock_version)
    return render_template(
        "holder/inspection_order.html",
        organisation=organisation,
        order=order,
        inspection=order.inspection,
        form=form,
        conflict=conflict,
        documents=inspections.answer_documents(order.answers),
        order_status_labels=inspections.ORDER_STATUS_LABELS,
        article=reference.label(ReferenceList.LAW_ARTICLE, order.violation.article_code)
        if order.violation is not None
        else None,
        may_answer=order.status in inspections.AWAITING_HOLDER_STATUSES,
        today=inspections.today(),
    ), status


@blueprint.get("/<uuid:organisation_id>/orders/<uuid:order_id>")
@roles_required(Role.HOLDER)
def inspection_order(organisation_id: uuid.UUID, order_id: uuid.UUID) -> tuple[str, int]:
    """An order: what to do by when, the answers given and the agency's decisions."""
    organisation = member_organisation(organisation_id)
    return _order_page(organisation, _order_of(organisation, order_id))


@blueprint.post("/<uuid:organisation_id>/orders/<uuid:order_id>/answer")
@roles_required(Role.HOLDER)
def answer_inspection_order(organisation_id: uuid.UUID, order_id: uuid.UUID) -> Any:
    """Answer the order (text and documents); the inspectors are told."""
    organisation = member_organisation(organisation_id)
    order = _order_of(organisation, order_id)
    form = OrderAnswerForm()
    if not form.validate():
        log.info("order answer refused: %s", ",".join(sorted(form.errors)))
        return _order_page(organisation, order, form, status=422)
    try:
        inspections.answer_order(
            order, current_user, form.expected_lock_version(), form.text.data or "", form.uploads()
        )
    except InspectionError as error:
        if isinstance(error, inspections.StaleInspection) or not error.field:
            fresh = _refresh(organisation, order)
            return _order_page(organisation, fresh, form, conflict=str(error), status=409)
        getattr(form, error.field).errors = [str(error)]
        log.info("order answer refused: %s", error.field)
        return _order_page(organisation, order, form, status=422)
    flash(_("Your answer has been sent to the inspectors."), "success")
    return redirect(
        url_for("holder.inspection_order", organisation_id=organisation.id, order_id=order.id)
    )


def _refresh(organisation: Organisation, order: InspectionOrder) -> InspectionOrder:
    db.session.rollback()
    return _order_of(organisation, order.id)


@blueprint.get("/<uuid:organisation_id>/orders/<uuid:order_id>/documents/<uuid:document_id>")
@roles_required(Role.HOLDER)
def order_answer_document(
    organisation_id: uuid.UUID, order_id: uuid.UUID, document_id: uuid.UUID
) -> Response:
    """A document the organisation attached to one of its answers."""
    organisation = member_organisation(organisation_id)
    order = _order_of(organisation, order_id)
    document = inspections.find_answer_document(order, document_id)
    if document is None:
        abort(404)
    return attachment(document)
