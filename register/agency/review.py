"""The agency's review of declarations: the queue, the review page, claiming, assigning, deciding.

Inspectors and supervisors only (admins keep the system, not the register: 403). The review page
shows the whole declaration with its confidential fields, so each opening is written to the
activity log. A decision's form carries the version it was read at; a stale one is answered 409
with who changed the declaration and when, and the page keeps what was typed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.agency import blueprint
from register.agency.review_forms import AssignForm, ClaimForm, DecisionForm, QueueFilterForm
from register.database import utcnow, writes_on_get
from register.extensions import db
from register.models import (
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    ReferenceList,
    Role,
    User,
)
from register.permissions import roles_required
from register.services import activity, reference, register_entries, review, risk, snapshots
from register.services import documents as document_service
from register.services.declarations import (
    KIND_LABELS,
    STATUS_LABELS,
    DeclarationError,
    StaleDeclaration,
    declaration_documents,
    stale_message,
    timeline,
)
from register.services.diff import diff
from register.services.registration import readers

REVIEWERS = (Role.INSPECTOR, Role.SUPERVISOR)


def _declaration(declaration_id: uuid.UUID) -> Declaration:
    declaration = review.find(declaration_id)
    if declaration is None:
        abort(404)
    return declaration


# -- the queue -----------------------------------------------------------------------------


def _filters(form: QueueFilterForm) -> review.QueueFilters:
    """The filters the query string asks for; an unknown code is ignored, never an error."""

    def pick(value: str | None, allowed: set[str]) -> str | None:
        return value if value in allowed else None

    status = pick(form.status.data, {status.value for status in review.FILTER_STATUSES})
    kind = pick(form.kind.data, {kind.value for kind in DeclarationKind})
    high_risk = {"yes": True, "no": False}.get(form.high_risk.data or "")
    return review.QueueFilters(
        status=DeclarationStatus(status) if status else None,
        kind=DeclarationKind(kind) if kind else None,
        region=pick(form.region.data, {code for code, _label in form.region.choices or []}),
        sector=pick(form.sector.data, {code for code, _label in form.sector.choices or []}),
        high_risk=high_risk,
        assignee=form.assignee.data if form.assignee.data in {"me", "nobody"} else "anyone",
        overdue=bool(form.overdue.data),
        newest_first=form.sort.data == "newest",
    )


@blueprint.get("/declarations")
@roles_required(*REVIEWERS)
def queue() -> str:
    """Declarations waiting on the agency: filters, age, deadline, reviewer; oldest first."""
    form = QueueFilterForm(request.args)
    form.status.choices = [
        ("", _("Waiting on the agency")),
        *[(status.value, str(STATUS_LABELS[status])) for status in review.FILTER_STATUSES],
    ]
    form.kind.choices = [("", _("Any")), *[(k.value, str(v)) for k, v in KIND_LABELS.items()]]
    form.region.choices = [("", _("Any")), *reference.choices(ReferenceList.REGION)]
    form.sector.choices = [("", _("Any")), *reference.choices(ReferenceList.SECTOR)]
    filters = _filters(form)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found = review.queue(filters, current_user, page)
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "agency/queue.html",
        form=form,
        found=found,
        query=query,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        regions=dict(reference.choices(ReferenceList.REGION)),
        sectors=dict(reference.choices(ReferenceList.SECTOR)),
    )


# -- the review page -----------------------------------------------------------------------


@dataclass
class Answer:
    """One field of the declaration as the reviewer reads it."""

    path: str
    label: str
    value: Any
    public: bool


@dataclass
class Section:
    """The organisation, a person or an array, with its answers."""

    title: str
    path: str
    answers: list[Answer]


def _sections(
    merged: dict[str, Any], public: dict[str, Any], show: Any
) -> tuple[list[Section], list[tuple[str, str]]]:
    """The declaration's sections, and every path a comment can be attached to, with labels."""
    public_paths = set(snapshots.flatten(public))
    groups: list[tuple[str, str, tuple[snapshots.Field, ...], dict[str, Any]]] = [
        (
            _("The organisation"),
            "organisation",
            snapshots.ORGANISATION_FIELDS,
            merged["organisation"],
        )
    ]
    people = (
        ("head", _("Head of the organisation"), snapshots.HEAD_FIELDS),
        ("responsible", _("Person responsible for personal data"), snapshots.RESPONSIBLE_FIELDS),
    )
    for kind, title, person_fields in people:
        if kind in merged["people"]:
            groups.append((title, f"people/{kind}", person_fields, merged["people"][kind]))
    for array_id, values in merged["arrays"].items():
        title = _("Array «%(name)s»", name=values.get("name") or "")
        groups.append((title, f"arrays/{array_id}", snapshots.ARRAY_FIELDS, values))
    sections: list[Section] = []
    paths: list[tuple[str, str]] = []
    for title, prefix, fields, values in groups:
        answers = [
            Answer(
                f"{prefix}/{field.name}",
                str(field.label),
                show(f"{prefix}/{field.name}", values.get(field.name)),
                f"{prefix}/{field.name}" in public_paths,
            )
            for field in fields
        ]
        sections.append(Section(str(title), prefix, answers))
        if prefix.startswith("arrays/"):
            paths.append((prefix, _("%(section)s — the whole array", section=title)))
        paths.extend((answer.path, f"{title}: {answer.label}") for answer in answers)
    return sections, paths


def decisions_for(user: User, declaration: Declaration) -> list[str]:
    """The decisions the user can take on the declaration now."""
    if review.can_decide(user, declaration):
        return ["approve", "request_changes", "reject"]
    if declaration.status is DeclarationStatus.AWAITING_SIGN_OFF and user.role is Role.SUPERVISOR:
        codes = ["sign_off"] if review.can_sign_off(user, declaration) else []
        return [*codes, "return", "reject"]
    return []


def _page(
    declaration: Declaration,
    *,
    decision_form: DecisionForm | None = None,
    assign_form: AssignForm | None = None,
    conflict: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    organisation = declaration.organisation
    version = declaration.latest_version
    labels = snapshots.Labels()
    helpers = readers(labels)
    merged = snapshots.full_snapshot(version) or {"organisation": {}, "people": {}, "arrays": {}}
    public = version.public_snapshot if version is not None else {}
    sections, paths = _sections(merged, public, helpers["show"])
    published = review.published_for(declaration)
    changes = diff(snapshots.full_snapshot(published), merged) if published is not None else None
    if decision_form is None:
        decision_form = DecisionForm(formdata=None, lock_version=declaration.lock_version)
    decision_form.set_choices(decisions_for(current_user, declaration), paths)
    if conflict is not None:
        decision_form.lock_version.data = str(declaration.lock_version)
    if assign_form is None:
        assign_form = AssignForm(formdata=None, lock_version=declaration.lock_version)
    assign_form.assignee.choices = [
        (str(user.id), f"{user.full_name or user.email} ({user.role.value})")
        for user in review.reviewers()
    ]
    documents = declaration_documents(declaration)
    authority = [
        document
        for document in document_service.documents_of(organisation)
        if document.declaration_id is None
    ]
    entry = register_entries.entry_of(organisation.id)
    assignee = db.session.get(User, declaration.assignee_id) if declaration.assignee_id else None
    approver = (
        db.session.get(User, declaration.approved_by_id) if declaration.approved_by_id else None
    )
    comments = sorted(declaration.comments, key=lambda comment: comment.created_at)
    return render_template(
        "agency/review.html",
        declaration=declaration,
        organisation=organisation,
        version=version,
        sections=sections,
        changes=changes,
        published=published,
        timeline=timeline(declaration),
        comments=comments,
        documents=documents,
        authority_documents=authority,
        uploaders=document_service.uploader_names([*documents, *authority]),
        entry=entry,
        assignee=assignee,
        approver=approver,
        risk_reasons=risk.reason_labels(risk.reasons(public)) if declaration.high_risk else [],
        days_left=review.days_left(declaration),
        age_days=(utcnow() - declaration.created_at).days,
        decision_form=decision_form,
        assign_form=assign_form,
        claim_form=ClaimForm(formdata=None, lock_version=declaration.lock_version),
        can_claim=review.can_claim(current_user, declaration),
        can_assign=review.can_assign(current_user, declaration),
        conflict=conflict,
        kind_labels=KIND_LABELS,
        appeal_notice=review.appeal_notice(),
        **helpers,
    ), status


@blueprint.get("/declarations/<uuid:declaration_id>")
@roles_required(*REVIEWERS)
@writes_on_get
def review_declaration(declaration_id: uuid.UUID) -> tuple[str, int]:
    """The whole declaration with its confidential fields: the opening is logged."""
    declaration = _declaration(declaration_id)
    activity.record(
        "declaration.opened",
        object_type="declaration",
        object_id=str(declaration.id),
        details={"organisation": str(declaration.organisation_id)},
    )
    return _page(declaration)


def _back(declaration: Declaration) -> Response:
    return redirect(url_for("agency.review_declaration", declaration_id=declaration.id))


def _refused(declaration: Declaration, error: DeclarationError, **forms: Any) -> tuple[str, int]:
    """The page again, with the reason at the top and the user's input kept."""
    db.session.refresh(declaration)
    return _page(declaration, conflict=str(error), status=409, **forms)


@blueprint.post("/declarations/<uuid:declaration_id>/claim")
@roles_required(*REVIEWERS)
def claim(declaration_id: uuid.UUID) -> Response | tuple[str, int]:
    """Take the declaration for review."""
    declaration = _declaration(declaration_id)
    form = ClaimForm()
    try:
        review.claim(declaration, current_user, form.expected_lock_version())
    except DeclarationError as error:
        return _refused(declaration, error)
    flash(_("You review this declaration now."), "success")
    return _back(declaration)


@blueprint.post("/declarations/<uuid:declaration_id>/assign")
@roles_required(Role.SUPERVISOR)
def assign(declaration_id: uuid.UUID) -> Response | tuple[str, int]:
    """A supervisor gives the declaration to a reviewer."""
    declaration = _declaration(declaration_id)
    form = AssignForm()
    form.assignee.choices = [(str(user.id), user.email) for user in review.reviewers()]
    if not form.validate():
        return _page(declaration, assign_form=form, status=422)
    to = db.session.get(User, uuid.UUID(form.assignee.data))
    try:
        if to is None:
            raise review.ReviewError(_("Choose an active inspector or supervisor."))
        review.assign(declaration, current_user, to, form.expected_lock_version())
    except DeclarationError as error:
        return _refused(declaration, error, assign_form=form)
    flash(_("The declaration is assigned to %(name)s.", name=to.full_name or to.email), "success")
    return _back(declaration)


@blueprint.post("/declarations/<uuid:declaration_id>/decide")
@roles_required(*REVIEWERS)
def decide(declaration_id: uuid.UUID) -> Response | tuple[str, int]:
    """Approve, ask for changes, refuse, sign off or send back: always with grounds."""
    declaration = _declaration(declaration_id)
    form = DecisionForm()
    if form.expected_lock_version() != declaration.lock_version:
        message = stale_message(declaration)
        return _refused(declaration, StaleDeclaration(message), decision_form=form)
    paths = _sections(
        snapshots.full_snapshot(declaration.latest_version)
        or {"organisation": {}, "people": {}, "arrays": {}},
        {},
        lambda path, value: value,
    )[1]
    offered = decisions_for(current_user, declaration)
    form.set_choices(offered, paths)
    if not offered:
        return _refused(
            declaration,
            review.ReviewError(_("You cannot decide on this declaration now.")),
            decision_form=form,
        )
    if not form.validate():
        return _page(declaration, decision_form=form, status=422)
    expected = form.expected_lock_version()
    grounds, article = form.grounds.data or "", form.article.data or ""
    try:
        match form.decision.data:
            case "approve":
                review.approve(
                    declaration, current_user, grounds=grounds, expected_lock_version=expected
                )
            case "request_changes":
                review.request_changes(
                    declaration,
                    current_user,
                    grounds=grounds,
                    article=article,
                    comments=form.filled_comments(),
                    expected_lock_version=expected,
                )
            case "reject":
                review.reject(
                    declaration,
                    current_user,
                    grounds=grounds,
                    article=article,
                    expected_lock_version=expected,
                )
            case "sign_off":
                review.sign_off(
                    declaration, current_user, grounds=grounds, expected_lock_version=expected
                )
            case _:
                review.return_to_review(
                    declaration, current_user, grounds=grounds, expected_lock_version=expected
                )
    except DeclarationError as error:
        return _refused(declaration, error, decision_form=form)
    flash(
        _("Decision recorded: %(status)s.", status=str(STATUS_LABELS[declaration.status])),
        "success",
    )
    return _back(declaration)
