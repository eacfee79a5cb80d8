"""The holder's registration as pages read it: the task list, a declaration's history and files.

The task list shows each part of the registration (the organisation's details, its head and
responsible person, each array, the proof of authority, check and submit) with its state; a part
the agency commented on while asking for changes is marked "needs changes" (comments are
anchored to field paths, see `part_of`). Nothing here changes the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.models import (
    PENDING_STATUSES,
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    Document,
    DocumentKind,
    Organisation,
    PersonalDataArray,
    PersonKind,
    ReviewComment,
    User,
)
from register.services import documents as document_service
from register.services import snapshots
from register.services.diff import diff

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
NEEDS_CHANGES = "needs_changes"
CANNOT_START_YET = "cannot_start_yet"
SUBMITTED = "submitted"

STATUS_LABELS = {
    DeclarationStatus.DRAFT: _l("Draft"),
    DeclarationStatus.SUBMITTED: _l("Submitted"),
    DeclarationStatus.IN_REVIEW: _l("In review"),
    DeclarationStatus.CHANGES_REQUESTED: _l("Changes requested"),
    DeclarationStatus.AWAITING_SIGN_OFF: _l("Awaiting sign-off"),
    DeclarationStatus.APPROVED: _l("Approved"),
    DeclarationStatus.REJECTED: _l("Rejected"),
    DeclarationStatus.WITHDRAWN: _l("Withdrawn"),
}
KIND_LABELS = {
    DeclarationKind.INITIAL: _l("Initial registration"),
    DeclarationKind.AMENDMENT: _l("Amendment"),
    DeclarationKind.TERMINATION: _l("Termination notice"),
}


def _arrays() -> ModuleType:
    # The array pages' service, imported when used: it imports nothing of ours, and the two
    # modules are written side by side.
    from register.services import arrays

    return arrays


@dataclass(frozen=True)
class Problem:
    """Something that stops the registration from being submitted, and the part it is in."""

    part: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Part:
    """One part of the registration on the task list."""

    key: str  # details, head, responsible, array:<id>, documents, check
    title: str
    state: str
    complete: bool
    comments: list[ReviewComment] = field(default_factory=list)
    array: PersonalDataArray | None = None


@dataclass
class TaskList:
    """The parts of an organisation's registration with their states."""

    organisation: Organisation
    about: list[Part]
    arrays: list[Part]
    documents: Part
    check: Part
    pending: Declaration | None
    published: DeclarationVersion | None
    problems: list[Problem]
    array_objects: list[PersonalDataArray]

    @property
    def parts(self) -> list[Part]:
        """Every part, in page order."""
        return [*self.about, *self.arrays, self.documents, self.check]


# -- reading -------------------------------------------------------------------------------


def pending_declaration(organisation: Organisation) -> Declaration | None:
    """The organisation's declaration waiting on the agency or on its changes (at most one)."""
    return db.session.scalars(
        sa.select(Declaration)
        .where(
            Declaration.organisation_id == organisation.id,
            Declaration.status.in_(list(PENDING_STATUSES)),
        )
        .order_by(Declaration.created_at.desc())
        .limit(1)
    ).first()


def published_version(organisation: Organisation) -> DeclarationVersion | None:
    """The version the public sees now: the most recently published one."""
    return db.session.scalars(
        sa.select(DeclarationVersion)
        .where(
            DeclarationVersion.organisation_id == organisation.id,
            DeclarationVersion.published_at.is_not(None),
        )
        .order_by(DeclarationVersion.published_at.desc(), DeclarationVersion.number.desc())
        .limit(1)
    ).first()


def declarations_of(organisation: Organisation) -> list[Declaration]:
    """The organisation's declarations, newest first."""
    return list(
        db.session.scalars(
            sa.select(Declaration)
            .where(Declaration.organisation_id == organisation.id)
            .order_by(Declaration.created_at.desc(), Declaration.id)
        )
    )


def find_declaration(organisation: Organisation, declaration_id: uuid.UUID) -> Declaration | None:
    """The declaration if it is the organisation's (another's is as good as missing)."""
    return db.session.scalar(
        sa.select(Declaration).where(
            Declaration.id == declaration_id, Declaration.organisation_id == organisation.id
        )
    )


def open_comments(declaration: Declaration | None) -> list[ReviewComment]:
    """The agency's unanswered comments, while the declaration waits for the holder's changes."""
    if declaration is None or declaration.status is not DeclarationStatus.CHANGES_REQUESTED:
        return []
    return sorted(
        (comment for comment in declaration.comments if comment.resolved_at is None),
        key=lambda comment: comment.created_at,
    )


def comments_by_path(comments: list[ReviewComment]) -> dict[str, list[ReviewComment]]:
    """Comments grouped by the path of the field they concern."""
    grouped: dict[str, list[ReviewComment]] = {}
    for comment in comments:
        grouped.setdefault(comment.path, []).append(comment)
    return grouped


def part_of(path: str) -> str:
    """The task-list part a field's path belongs to."""
    parts = path.split("/")
    if parts[0] == "organisation":
        return "details"
    if parts[0] == "people" and len(parts) > 1:
        return parts[1]  # head or responsible
    if parts[0] == "arrays" and len(parts) > 1:
        return f"array:{parts[1]}"
    if parts[0] == "documents":
        return "documents"
    return "check"


def _authority_document_count(organisation: Organisation) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Document)
            .where(
                Document.organisation_id == organisation.id,
                Document.kind == DocumentKind.AUTHORITY,
                Document.declaration_id.is_(None),
                Document.order_answer_id.is_(None),
            )
        )
        or 0
    )


def _person_part(organisation: Organisation, kind: PersonKind, title: Any) -> Part:
    person = organisation.person(kind)
    required = ["full_name", "position"]
    if kind is PersonKind.RESPONSIBLE:
        required += ["pin", "phone", "email"]
    if person is None:
        return Part(kind.value, str(title), NOT_STARTED, False)
    complete = all(getattr(person, name) for name in required)
    return Part(kind.value, str(title), COMPLETED if complete else IN_PROGRESS, complete)


def task_list(organisation: Organisation, user: User | None = None) -> TaskList:
    """Every part of the registration with its state, and what stops it being submitted."""
    arrays_service = _arrays()
    arrays = list(arrays_service.arrays_of(organisation.id))
    catalogue = arrays_service.catalogue() if arrays else None  # one query for every array
    pending = pending_declaration(organisation)
    required = ["legal_name", "legal_form_code", "ownership_form_code", "sector_code"]
    required += ["region_code", "legal_address", "actual_address", "phone", "email"]
    details_complete = all(getattr(organisation, name) for name in required)
    about = [
        Part(
            "details",
            str(_l("Organisation details")),
            COMPLETED if details_complete else IN_PROGRESS,
            details_complete,
        ),
        _person_part(organisation, PersonKind.HEAD, _l("Head of the organisation")),
        _person_part(
            organisation, PersonKind.RESPONSIBLE, _l("Person responsible for personal data")
        ),
    ]
    problems: list[Problem] = []
    messages = {
        "details": _l("Complete the organisation's details"),
        "head": _l("Enter the head of the organisation"),
        "responsible": _l("Enter the person responsible for personal data, with their PIN"),
    }
    for part in about:
        if not part.complete:
            problems.append(Problem(part.key, str(messages[part.key])))
    array_parts = []
    for array in arrays:
        state = arrays_service.state(array, catalogue)
        errors = arrays_service.rule_errors(array, catalogue) if state == COMPLETED else {}
        complete = state == COMPLETED and not errors
        part = Part(f"array:{array.id}", array.name, state, complete, array=array)
        if errors:
            part.state = IN_PROGRESS
            problems.append(
                Problem(part.key, str(_l("Correct the array %(name)s", name=array.name)))
            )
        elif not complete:
            problems.append(
                Problem(part.key, str(_l("Complete the array %(name)s", name=array.name)))
            )
        array_parts.append(part)
    if not arrays:
        problems.append(Problem("arrays", str(_l("Add at least one personal data array"))))
    documents_count = _authority_document_count(organisation)
    documents = Part(
        "documents",
        str(_l("Proof of authority (document)")),
        COMPLETED if documents_count else NOT_STARTED,
        bool(documents_count),
    )
    if not documents_count:
        problems.append(
            Problem(
                "documents",
                str(_l("Upload a document proving your authority to act for the organisation")),
            )
        )
    by_part: dict[str, list[ReviewComment]] = {}
    for comment in open_comments(pending):
        by_part.setdefault(part_of(comment.path), []).append(comment)
    for part in [*about, *array_parts, documents]:
        part.comments = by_part.get(part.key, [])
        if part.comments:
            part.state = NEEDS_CHANGES
    waiting = pending is not None and pending.status is not DeclarationStatus.CHANGES_REQUESTED
    check_state = SUBMITTED if waiting else (CANNOT_START_YET if problems else NOT_STARTED)
    check = Part("check", str(_l("Check your answers and submit")), check_state, not problems)
    return TaskList(
        organisation=organisation,
        about=about,
        arrays=array_parts,
        documents=documents,
        check=check,
        pending=pending,
        published=published_version(organisation),
        problems=problems,
        array_objects=arrays,
    )


# -- the declaration's page ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a declaration's history."""

    occurred_at: datetime
    from_status: str | None
    to_status: str
    actor_name: str
    note: str | None


def timeline(declaration: Declaration) -> list[TimelineEntry]:
    """The declaration's steps, oldest first, with who took them."""
    ids = {event.actor_id for event in declaration.events if event.actor_id}
    names = {}
    if ids:
        names = {
            user.id: user.full_name or ""
            for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))
        }
    return [
        TimelineEntry(
            event.occurred_at,
            event.from_status,
            event.to_status,
            names.get(event.actor_id, "") if event.actor_id else "",
            event.note,
        )
        for event in sorted(declaration.events, key=lambda event: event.occurred_at)
    ]


def version_diffs(declaration: Declaration) -> list[tuple[DeclarationVersion, Any]]:
    """Each version of the declaration with what changed from the one before it.

    The first version is compared with the published version it started from (None for an
    initial registration: everything is new).
    """

    previous = (
        snapshots.full_snapshot(db.session.get(DeclarationVersion, declaration.base_version_id))
        if declaration.base_version_id
        else None
    )
    found = []
    for version in declaration.versions:
        current = snapshots.merge(version.public_snapshot, snapshots.confidential_of(version))
        found.append((version, diff(previous, current)))
        previous = current
    return found


def declaration_documents(declaration: Declaration) -> list[Document]:
    """The documents attached to the declaration, newest first, without their contents."""
    return [
        document
        for document in document_service.documents_of(declaration.organisation)
        if document.declaration_id == declaration.id
    ]


def find_declaration_document(declaration: Declaration, document_id: uuid.UUID) -> Document | None:
    """The document if it is attached to this declaration."""
    return document_service.find_document(
        declaration.organisation, document_id, declaration_id=declaration.id
    )


def readers(labels: snapshots.Labels) -> dict[str, Callable[..., Any]]:
    """Helpers the templates use to show paths and values in the reader's language."""

    def show(path: str, value: Any) -> str | list[str]:
        return snapshots.readable(snapshots.field_of(path), value, labels)

    def label_of(path: str) -> str:
        found = snapshots.field_of(path)
        if found is not None:
            return str(found.label)
        if path.startswith("arrays/") and path.count("/") == 1:
            return str(_l("The whole array"))
        return path

    def status_label(value: str | None) -> str:
        try:
            return str(STATUS_LABELS[DeclarationStatus(value or "")])
        except ValueError:
            return value or ""

    return {"show": show, "label_of": label_of, "status_label": status_label}
