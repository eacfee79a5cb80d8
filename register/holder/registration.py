"""A holder's registration: the task list, check your answers, submit, and its declarations.

Only holders reach these pages (staff get 403); an organisation the user does not act for, and
its declarations and files, are a 404 (`member_organisation`). The pages show what the services
compute: each answer comes from the snapshot that submitting would freeze, so the check page
shows exactly what the agency will receive.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from register.downloads import attachment, certificate_download
from register.holder import blueprint
from register.holder.registration_forms import (
    DeclarationDocumentForm,
    SubmitForm,
    TerminationForm,
    WithdrawForm,
)
from register.models import Declaration, Organisation, ReviewComment, Role
from register.permissions import member_organisation, roles_required
from register.services import declarations, snapshots
from register.services import documents as document_service
from register.services.diff import Change, VersionDiff, diff
from register.services.registration import SUBMITTED, part_of, readers


def _url(endpoint: str, anchor: str | None = None, **values: Any) -> str | None:
    """A link to a page, or None when the page does not exist (yet) in this deployment."""
    try:
        return url_for(endpoint, _anchor=anchor, **values)
    except BuildError:
        return None


def _declaration_of(organisation: Organisation, declaration_id: uuid.UUID) -> Declaration:
    declaration = declarations.find_declaration(organisation, declaration_id)
    if declaration is None:
        abort(404)
    return declaration


# -- what templates are given ------------------------------------------------------------------


def _change_link(organisation: Organisation, path: str) -> str | None:
    """The page (and field) where the answer at `path` is changed."""
    parts = path.split("/")
    name = parts[-1]
    if parts[0] == "organisation":
        return (
            None if name == "tin" else _url("holder.details", name, organisation_id=organisation.id)
        )
    if parts[0] == "people":
        return _url(f"holder.{parts[1]}", name, organisation_id=organisation.id)
    # A derived or grouped field opens at the form field that sets it.
    anchor = {"special_categories": "data_item_codes", "retention": "retention_value"}.get(
        name, name
    )
    return _url("holder.edit_array", anchor, organisation_id=organisation.id, array_id=parts[1])


@dataclass
class Answer:
    """One answer on the check page."""

    path: str
    label: str
    value: str | list[str]
    public: bool
    change_url: str | None
    comments: list[ReviewComment]
    change: Change | None


@dataclass
class Section:
    """A part of the check page: the organisation, a person, an array."""

    key: str
    title: str
    answers: list[Answer]
    change_url: str | None
    comments: list[ReviewComment] = field(default_factory=list)
    kind: str | None = None  # for an array: added or changed since the published version


def _sections(
    organisation: Organisation,
    tasks: declarations.TaskList,
    public: dict[str, Any],
    merged: dict[str, Any],
    changes: VersionDiff | None,
    comments: dict[str, list[ReviewComment]],
    show: Callable[[str, Any], Any],
) -> list[Section]:
    public_paths = set(snapshots.flatten(public))
    by_path = changes.by_path() if changes is not None else {}
    titles = {part.key: part.title for part in tasks.parts}
    groups: list[tuple[str, str, tuple[snapshots.Field, ...], dict[str, Any]]] = [
        ("details", "organisation", snapshots.ORGANISATION_FIELDS, merged["organisation"]),
    ]
    people: tuple[tuple[str, tuple[snapshots.Field, ...]], ...] = (
        ("head", snapshots.HEAD_FIELDS),
        ("responsible", snapshots.RESPONSIBLE_FIELDS),
    )
    for kind, person_fields in people:
        if kind in merged["people"]:
            groups.append((kind, f"people/{kind}", person_fields, merged["people"][kind]))
    for array in tasks.array_objects:
        values = merged["arrays"].get(str(array.id), {})
        groups.append((f"array:{array.id}", f"arrays/{array.id}", snapshots.ARRAY_FIELDS, values))
    sections = []
    for key, prefix, section_fields, values in groups:
        answers = []
        for spec in section_fields:
            path = f"{prefix}/{spec.name}"
            answers.append(
                Answer(
                    path=path,
                    label=str(spec.label),
                    value=show(path, values.get(spec.name)),
                    public=path in public_paths,
                    change_url=_change_link(organisation, path),
                    comments=comments.get(path, []),
                    change=by_path.get(path),
                )
            )
        shown = {answer.path for answer in answers}
        section = Section(
            key=key,
            title=titles.get(key, str(values.get("name") or "")),
            answers=answers,
            change_url=_change_link(organisation, f"{prefix}/name")
            if key.startswith("array:")
            else None,
            comments=[
                comment
                for path, found in comments.items()
                if part_of(path) == key and path not in shown
                for comment in found
            ],
        )
        if key.startswith("array:") and changes is not None:
            array_diff = changes.array(key.split(":", 1)[1])
            section.kind = array_diff.kind if array_diff is not None else None
        sections.append(section)
    return sections


# -- the task list, check your answers, submit ---------------------------------------------------


@blueprint.get("/<uuid:organisation_id>/registration")
@roles_required(Role.HOLDER)
def registration(organisation_id: uuid.UUID) -> str:
    """The parts of the organisation's registration, each with its state."""
    organisation = member_organisation(organisation_id)
    tasks = declarations.task_list(organisation, current_user._get_current_object())
    links = {
        "details": _url("holder.details", organisation_id=organisation.id),
        "head": _url("holder.head", organisation_id=organisation.id),
        "responsible": _url("holder.responsible", organisation_id=organisation.id),
        "documents": _url("holder.documents", organisation_id=organisation.id),
        "check": _url("holder.check_answers", organisation_id=organisation.id),
    }
    for part in tasks.arrays:
        links[part.key] = _url(
            "holder.edit_array", organisation_id=organisation.id, array_id=part.key.split(":")[1]
        )
    if tasks.pending is not None and tasks.check.state == SUBMITTED:
        links["check"] = _url(
            "holder.declaration", organisation_id=organisation.id, declaration_id=tasks.pending.id
        )
    return render_template(
        "holder/registration.html",
        organisation=organisation,
        tasks=tasks,
        links=links,
        new_array_url=_url("holder.new_array", organisation_id=organisation.id),
        status_labels=declarations.STATUS_LABELS,
    )


@blueprint.get("/<uuid:organisation_id>/registration/check")
@roles_required(Role.HOLDER)
def check_answers(organisation_id: uuid.UUID) -> str:
    """Every answer, with a link to change it, what changed since publication, and submit."""
    organisation = member_organisation(organisation_id)
    tasks = declarations.task_list(organisation, current_user._get_current_object())
    problems = declarations.can_submit(organisation, tasks)
    public, confidential = snapshots.build_snapshots(organisation, tasks.array_objects)
    merged = snapshots.merge(public, confidential)
    published = snapshots.full_snapshot(tasks.published)
    changes = diff(published, merged) if published is not None else None
    comments = declarations.comments_by_path(declarations.open_comments(tasks.pending))
    helpers = readers(snapshots.Labels())
    documents = [
        document
        for document in document_service.documents_of(organisation)
        if document.declaration_id is None
    ]
    return render_template(
        "holder/check_answers.html",
        organisation=organisation,
        tasks=tasks,
        problems=problems,
        sections=_sections(organisation, tasks, public, merged, changes, comments, helpers["show"]),
        changes=changes,
        general_comments=[
            c for path, found in comments.items() if part_of(path) == "check" for c in found
        ],
        documents=documents,
        form=SubmitForm(),
        **helpers,
    )


@blueprint.post("/<uuid:organisation_id>/registration/submit")
@roles_required(Role.HOLDER)
def submit_declaration(organisation_id: uuid.UUID) -> Response:
    """Submit the registration; what stops it goes back to the check page, named."""
    organisation = member_organisation(organisation_id)
    back = redirect(url_for("holder.check_answers", organisation_id=organisation.id))
    if not SubmitForm().validate_on_submit():
        abort(400)
    try:
        declaration = declarations.submit(organisation, current_user._get_current_object())
    except declarations.NotReady as not_ready:
        for problem in not_ready.problems:
            flash(problem.message, "error")
        return back
    except declarations.DeclarationError as error:
        flash(str(error), "error")
        return back
    number = declaration.versions[-1].number
    flash(_("Version %(number)s has been submitted to the agency.", number=number), "success")
    return redirect(
        url_for(
            "holder.declaration", organisation_id=organisation.id, declaration_id=declaration.id
        )
    )


# -- declarations ----------------------------------------------------------------------------------


@blueprint.get("/<uuid:organisation_id>/declarations", endpoint="declarations")
@roles_required(Role.HOLDER)
def declaration_list(organisation_id: uuid.UUID) -> str:
    """The organisation's declarations, newest first."""
    organisation = member_organisation(organisation_id)
    return render_template(
        "holder/declarations.html",
        organisation=organisation,
        declarations=declarations.declarations_of(organisation),
        status_labels=declarations.STATUS_LABELS,
        kind_labels=declarations.KIND_LABELS,
    )


def _declaration_page(
    organisation: Organisation,
    declaration: Declaration,
    *,
    withdraw_form: WithdrawForm | None = None,
    document_form: DeclarationDocumentForm | None = None,
) -> str:
    versions = declarations.version_diffs(declaration)
    documents = declarations.declaration_documents(declaration)
    withdraw_form = withdraw_form or WithdrawForm(lock_version=str(declaration.lock_version))
    withdraw_form.lock_version.data = str(declaration.lock_version)
    comments = sorted(declaration.comments, key=lambda comment: comment.created_at)
    array_names = {
        array_id: str(values.get("name") or "")
        for version, _changes in versions
        for array_id, values in (version.public_snapshot.get("arrays") or {}).items()
    }
    return render_template(
        "holder/declaration.html",
        organisation=organisation,
        declaration=declaration,
        timeline=declarations.timeline(declaration),
        versions=versions,
        comments=declarations.comments_by_path(comments),
        latest=versions[-1][0] if versions else None,
        array_names=array_names,
        documents=documents,
        uploaders=document_service.uploader_names(documents),
        type_labels=document_service.TYPE_LABELS,
        withdraw_form=withdraw_form,
        document_form=document_form or DeclarationDocumentForm(),
        can_withdraw=declarations.can_withdraw(declaration),
        kind_labels=declarations.KIND_LABELS,
        **readers(snapshots.Labels()),
    )


@blueprint.get("/<uuid:organisation_id>/declarations/<uuid:declaration_id>")
@roles_required(Role.HOLDER)
def declaration(organisation_id: uuid.UUID, declaration_id: uuid.UUID) -> str:
    """A declaration: its status, timeline, versions and what changed, comments and files."""
    organisation = member_organisation(organisation_id)
    return _declaration_page(organisation, _declaration_of(organisation, declaration_id))


@blueprint.post("/<uuid:organisation_id>/declarations/<uuid:declaration_id>/withdraw")
@roles_required(Role.HOLDER)
def withdraw_declaration(organisation_id: uuid.UUID, declaration_id: uuid.UUID) -> str | Response:
    """Withdraw the declaration before the agency decides on it."""
    organisation = member_organisation(organisation_id)
    found = _declaration_of(organisation, declaration_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _declaration_page(organisation, found, withdraw_form=form)
    try:
        declarations.withdraw(
            found,
            current_user._get_current_object(),
            form.reason.data,
            expected_lock_version=form.expected_lock_version(),
        )
    except declarations.DeclarationError as error:
        flash(str(error), "error")
    else:
        flash(_("The declaration has been withdrawn."), "success")
    return redirect(
        url_for("holder.declaration", organisation_id=organisation.id, declaration_id=found.id)
    )


@blueprint.post("/<uuid:organisation_id>/declarations/<uuid:declaration_id>/documents")
@roles_required(Role.HOLDER)
def upload_declaration_document(
    organisation_id: uuid.UUID, declaration_id: uuid.UUID
) -> str | Response:
    """Attach a document to the declaration."""
    organisation = member_organisation(organisation_id)
    found = _declaration_of(organisation, declaration_id)
    form = DeclarationDocumentForm()
    if not form.validate_on_submit():
        return _declaration_page(organisation, found, document_form=form)
    try:
        document = declarations.add_declaration_document(
            found, current_user._get_current_object(), form.filename, form.content
        )
    except declarations.DeclarationError as error:
        flash(str(error), "error")
    else:
        flash(_("%(filename)s has been uploaded.", filename=document.filename), "success")
    return redirect(
        url_for("holder.declaration", organisation_id=organisation.id, declaration_id=found.id)
    )


@blueprint.get(
    "/<uuid:organisation_id>/declarations/<uuid:declaration_id>/documents/<uuid:document_id>"
)
@roles_required(Role.HOLDER)
def download_declaration_document(
    organisation_id: uuid.UUID, declaration_id: uuid.UUID, document_id: uuid.UUID
) -> Response:
    """A declaration's file, decrypted, as an attachment that is never cached or sniffed."""
    organisation = member_organisation(organisation_id)
    found = _declaration_of(organisation, declaration_id)
    document = declarations.find_declaration_document(found, document_id)
    if document is None:
        abort(404)
    return attachment(document)


@blueprint.route("/<uuid:organisation_id>/termination", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def termination_notice(organisation_id: uuid.UUID) -> str | Response:
    """Tell the agency the organisation stops processing personal data (after confirming)."""
    organisation = member_organisation(organisation_id)
    form = TerminationForm()
    published = declarations.published_version(organisation)
    pending = declarations.pending_declaration(organisation)
    if form.validate_on_submit():
        try:
            found = declarations.start_termination(
                organisation, current_user._get_current_object(), form.reason.data or ""
            )
        except declarations.DeclarationError as error:
            flash(str(error), "error")
        else:
            flash(_("Your termination notice has been sent to the agency."), "success")
            return redirect(
                url_for(
                    "holder.declaration", organisation_id=organisation.id, declaration_id=found.id
                )
            )
    return render_template(
        "holder/declaration_termination.html",
        organisation=organisation,
        form=form,
        published=published,
        pending=pending,
    )


@blueprint.get("/<uuid:organisation_id>/certificate")
@roles_required(Role.HOLDER)
def certificate(organisation_id: uuid.UUID) -> Response:
    """The certificate of the organisation's published entry, as a PDF (404 before one)."""
    return certificate_download(member_organisation(organisation_id))
