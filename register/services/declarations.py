"""Declarations, the holder's side of the workflow: submit, withdraw, end an entry.

Submitting freezes a numbered version of the working copy (DESIGN.md §2): its public snapshot in
clear, its confidential snapshot encrypted and bound to the version's id. Version numbers run
per organisation and are unique there, so of two concurrent submissions one fails cleanly
(`ConcurrentSubmission`) instead of both becoming pending. A change of state is a conditional
UPDATE on the status and the `lock_version` read before, so a holder's withdrawal and an agency
decision made at the same moment cannot both win. Services flush; the request commits.

What the pages read (the task list, timelines, diffs between versions) is in
`register.services.registration`; its names are available here too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from register.database import utcnow
from register.extensions import db
from register.models import (
    PENDING_STATUSES,
    Declaration,
    DeclarationEvent,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    Document,
    DocumentKind,
    Organisation,
    User,
)
from register.services import activity, risk, snapshots
from register.services import documents as document_service
from register.services.members import members_of
from register.services.notifications import local_link, notify
from register.services.registration import (  # noqa: F401 - the declarations API, in one place
    KIND_LABELS,
    STATUS_LABELS,
    Part,
    Problem,
    TaskList,
    TimelineEntry,
    _arrays,
    comments_by_path,
    declaration_documents,
    declarations_of,
    find_declaration,
    find_declaration_document,
    open_comments,
    part_of,
    pending_declaration,
    published_version,
    task_list,
    timeline,
    version_diffs,
)


class DeclarationError(Exception):
    """The action cannot be done; the message says why, for the holder."""


class NotReady(DeclarationError):
    """Parts of the registration are not completed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(str(_l("The registration is not ready to submit.")))
        self.problems = problems


class StaleDeclaration(DeclarationError):
    """The declaration changed since the page was read (someone else acted first)."""


class ConcurrentSubmission(DeclarationError):
    """Another submission for the organisation was saved at the same moment."""


def can_submit(organisation: Organisation, tasks: TaskList | None = None) -> list[Problem]:
    """What stops the organisation's registration from being submitted now (empty: nothing)."""
    tasks = tasks or task_list(organisation)
    problems = list(tasks.problems)
    refusal = _pending_refusal(tasks.pending)
    if refusal is not None:
        problems.insert(0, Problem("check", refusal))
    return problems


def _pending_refusal(pending: Declaration | None) -> str | None:
    if pending is None:
        return None
    if pending.kind is DeclarationKind.TERMINATION:
        return str(
            _l(
                "The organisation's termination notice is waiting for the agency. Withdraw it "
                "before you submit a new declaration."
            )
        )
    if pending.status is DeclarationStatus.CHANGES_REQUESTED:
        return None
    return str(
        _l(
            "A declaration of this organisation is already waiting for the agency (status: "
            "%(status)s). You can submit again once it is decided, or withdraw it first.",
            status=STATUS_LABELS[pending.status],
        )
    )


# -- changing ------------------------------------------------------------------------------


def _event(
    declaration: Declaration, from_status: str | None, to: str, user: User, note: str | None = None
) -> DeclarationEvent:
    event = DeclarationEvent(
        declaration_id=declaration.id,
        from_status=from_status,
        to_status=to,
        actor_id=user.id,
        occurred_at=utcnow(),
    )
    event.note = (note or "").strip() or None
    declaration.events.append(event)
    return event


def stale_message(declaration: Declaration) -> str:
    """Who changed the declaration last, and when (for a form read before that change)."""
    last = db.session.scalars(
        sa.select(DeclarationEvent)
        .where(DeclarationEvent.declaration_id == declaration.id)
        .order_by(DeclarationEvent.occurred_at.desc())
        .limit(1)
    ).first()
    status = db.session.scalar(
        sa.select(Declaration.status).where(Declaration.id == declaration.id)
    )
    label = STATUS_LABELS.get(status, "") if status is not None else ""
    if last is None:
        return str(
            _l(
                "This declaration was changed by someone else in the meantime (it is now: "
                "%(status)s). Reload the page to see where it stands.",
                status=label,
            )
        )
    actor = db.session.get(User, last.actor_id) if last.actor_id else None
    return str(
        _l(
            "This declaration was changed by %(name)s on %(when)s (it is now: %(status)s). "
            "Nothing of yours was saved; what you typed is kept below. Reload the page to see "
            "where it stands.",
            name=(actor.full_name or actor.email) if actor is not None else _l("someone else"),
            when=format_datetime(last.occurred_at, "medium"),
            status=label,
        )
    )


def change(
    declaration: Declaration,
    expected_lock_version: int | None,
    values: dict[str, Any],
    *,
    allowed_from: Iterable[DeclarationStatus] = PENDING_STATUSES,
) -> None:
    """Set `values` if the declaration is still in one of `allowed_from` and unchanged since read.

    A conditional UPDATE on the status and the `lock_version` read before (raised by one), so of
    two concurrent actions exactly one wins; the other gets StaleDeclaration naming who acted.
    """
    expected = declaration.lock_version if expected_lock_version is None else expected_lock_version
    allowed = list(allowed_from)
    if declaration.status not in allowed or declaration.lock_version != expected:
        raise StaleDeclaration(stale_message(declaration))
    now = utcnow()
    values = {**values, "lock_version": expected + 1, "updated_at": now}
    result = db.session.execute(
        sa.update(Declaration)
        .where(
            Declaration.id == declaration.id,
            Declaration.lock_version == expected,
            Declaration.status.in_(allowed),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.expire(declaration)
        raise StaleDeclaration(stale_message(declaration))
    for name, value in values.items():
        set_committed_value(declaration, name, value)


def _move(
    declaration: Declaration,
    to: DeclarationStatus,
    user: User,
    *,
    note: str | None = None,
    expected_lock_version: int | None = None,
    values: dict[str, Any] | None = None,
    allowed_from: Iterable[DeclarationStatus] = PENDING_STATUSES,
) -> DeclarationEvent:
    """Change the status if it is still pending and unchanged since read; else StaleDeclaration."""
    from_status = declaration.status
    change(
        declaration,
        expected_lock_version,
        {"status": to, **(values or {})},
        allowed_from=allowed_from,
    )
    return _event(declaration, from_status.value, to.value, user, note)


def clock_values(declaration: Declaration, *, running: bool) -> dict[str, Any]:
    """The review clock started (the agency has the file) or stopped (the holder has it).

    While it runs, `due_at` is the deadline: the configured number of days less the time already
    counted. Stopping it adds the time since it started to `review_seconds_used`.
    """
    limit = int(current_app.config["REVIEW_DEADLINE_DAYS"]) * 86400
    now = utcnow()
    used = int(declaration.review_seconds_used or 0)
    if running:
        if declaration.due_at is not None:
            return {}
        return {"due_at": now + timedelta(seconds=limit - used)}
    if declaration.due_at is None:
        return {}
    remaining = (declaration.due_at - now).total_seconds()
    return {"due_at": None, "review_seconds_used": max(int(limit - remaining), 0)}


def _next_number(organisation_id: uuid.UUID) -> int:
    """The organisation's next version number, read in this transaction.

    Two concurrent submissions may read the same maximum; the unique (organisation, number)
    lets only the first insert its version.
    """
    last = db.session.scalar(
        sa.select(sa.func.max(DeclarationVersion.number)).where(
            DeclarationVersion.organisation_id == organisation_id
        )
    )
    return int(last or 0) + 1


def _freeze(
    declaration: Declaration, user: User, public: dict[str, Any], confidential: dict[str, Any]
) -> DeclarationVersion:
    version = DeclarationVersion(
        organisation_id=declaration.organisation_id,
        declaration_id=declaration.id,
        number=_next_number(declaration.organisation_id),
        created_by_id=user.id,
        public_snapshot=public,
        confidential_snapshot=snapshots.encode(confidential),
    )
    declaration.versions.append(version)
    db.session.flush()
    return version


def _tell_members(declaration: Declaration, kind: str, subject: Any, body: Any) -> None:
    """Tell every user acting for the declaration's organisation, linking to the declaration."""
    organisation = declaration.organisation
    link = local_link(
        "holder.declaration",
        organisation_id=str(organisation.id),
        declaration_id=str(declaration.id),
    )
    for membership in members_of(organisation):
        notify(membership.user, kind, subject, body, link=link)


def _concurrent() -> ConcurrentSubmission:
    return ConcurrentSubmission(
        str(
            _l(
                "Another declaration of this organisation was submitted at the same moment. "
                "Nothing of yours was submitted: check the organisation's declarations, then "
                "try again if you still need to."
            )
        )
    )


def submit(organisation: Organisation, user: User, *, on_paper: bool = False) -> Declaration:
    """Freeze the working copy as a new version: a new declaration, or the answer to changes.

    `on_paper`: agency staff file it from a paper submission (the declaration is marked so).

    Raises NotReady (with the problems), DeclarationError (a declaration is already pending,
    or an amendment changes nothing), StaleDeclaration or ConcurrentSubmission.
    """
    problems = can_submit(organisation)
    if problems:
        raise NotReady(problems)
    pending = pending_declaration(organisation)
    public, confidential = snapshots.build_snapshots(
        organisation, _arrays().arrays_of(organisation.id)
    )
    published = published_version(organisation)
    unchanged = snapshots.merge(public, confidential) == snapshots.full_snapshot(published)
    if pending is None and published is not None and unchanged:
        raise DeclarationError(
            str(_l("Nothing has changed since the published version: nothing to submit."))
        )
    try:
        with db.session.begin_nested():
            high_risk = bool(risk.reasons(public))
            if pending is None:
                declaration = Declaration(
                    organisation_id=organisation.id,
                    kind=DeclarationKind.INITIAL
                    if published is None
                    else DeclarationKind.AMENDMENT,
                    status=DeclarationStatus.SUBMITTED,
                    created_by_id=user.id,
                    submitted_at=utcnow(),
                    base_version_id=published.id if published is not None else None,
                    filed_on_paper=on_paper,
                    high_risk=high_risk,
                )
                declaration.due_at = clock_values(declaration, running=True)["due_at"]
                db.session.add(declaration)
                _event(
                    declaration,
                    DeclarationStatus.DRAFT.value,
                    DeclarationStatus.SUBMITTED.value,
                    user,
                )
                action = "declaration.submitted"
            else:
                declaration = pending
                _move(
                    declaration,
                    DeclarationStatus.SUBMITTED,
                    user,
                    values={
                        **clock_values(declaration, running=True),
                        "high_risk": high_risk,
                        "submitted_at": utcnow(),
                    },
                    allowed_from=[DeclarationStatus.CHANGES_REQUESTED],
                )
                for comment in declaration.comments:  # answered by this resubmission
                    if comment.resolved_at is None:
                        comment.resolved_at = utcnow()
                action = "declaration.resubmitted"
            version = _freeze(declaration, user, public, confidential)
    except IntegrityError:
        raise _concurrent() from None
    activity.record(
        action,
        actor=user,
        object_type="declaration",
        object_id=str(declaration.id),
        details={
            "organisation": str(organisation.id),
            "kind": declaration.kind.value,
            "version": version.number,
        },
    )
    _tell_members(
        declaration,
        action,
        _l("Declaration submitted: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "Version %(number)s of the entry of %(organisation)s in the Register of Personal "
            "Data Holders was submitted to the agency. You can follow its status online.",
            number=version.number,
            organisation=organisation.legal_name,
        ),
    )
    return declaration


def can_withdraw(declaration: Declaration) -> bool:
    """A declaration may be withdrawn until the agency decides on it."""
    return declaration.status in PENDING_STATUSES


def withdraw(
    declaration: Declaration,
    user: User,
    reason: str | None = None,
    expected_lock_version: int | None = None,
) -> None:
    """Withdraw a pending declaration (its versions stay, as history)."""
    if not can_withdraw(declaration):
        raise DeclarationError(
            str(_l("This declaration can no longer be withdrawn: the agency has decided on it."))
        )
    _move(
        declaration,
        DeclarationStatus.WITHDRAWN,
        user,
        note=reason,
        expected_lock_version=expected_lock_version,
    )
    organisation = declaration.organisation
    activity.record(
        "declaration.withdrawn",
        actor=user,
        object_type="declaration",
        object_id=str(declaration.id),
        details={"organisation": str(organisation.id)},
    )
    _tell_members(
        declaration,
        "declaration.withdrawn",
        _l("Declaration withdrawn: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "A declaration of %(organisation)s was withdrawn before the agency decided on it.",
            organisation=organisation.legal_name,
        ),
    )


def start_termination(organisation: Organisation, user: User, reason: str) -> Declaration:
    """Ask the agency to strike the entry off: a termination notice on the published version."""
    if pending_declaration(organisation) is not None:
        raise DeclarationError(
            str(_l("Withdraw the declaration the agency has not decided on yet, then try again."))
        )
    published = published_version(organisation)
    if published is None:
        raise DeclarationError(
            str(_l("The organisation has no published entry yet, so there is nothing to end."))
        )
    if published.declaration.kind is DeclarationKind.TERMINATION:
        raise DeclarationError(str(_l("The organisation's entry has already been ended.")))
    try:
        with db.session.begin_nested():
            declaration = Declaration(
                organisation_id=organisation.id,
                kind=DeclarationKind.TERMINATION,
                status=DeclarationStatus.SUBMITTED,
                created_by_id=user.id,
                submitted_at=utcnow(),
                base_version_id=published.id,
            )
            declaration.due_at = clock_values(declaration, running=True)["due_at"]
            db.session.add(declaration)
            _event(
                declaration,
                DeclarationStatus.DRAFT.value,
                DeclarationStatus.SUBMITTED.value,
                user,
                reason,
            )
            version = _freeze(
                declaration,
                user,
                dict(published.public_snapshot),
                snapshots.confidential_of(published),
            )
    except IntegrityError:
        raise _concurrent() from None
    activity.record(
        "declaration.termination_submitted",
        actor=user,
        object_type="declaration",
        object_id=str(declaration.id),
        details={"organisation": str(organisation.id), "version": version.number},
    )
    _tell_members(
        declaration,
        "declaration.termination_submitted",
        _l("Termination notice submitted: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "A notice that %(organisation)s stops processing personal data was sent to the "
            "agency, asking it to strike the entry off the register.",
            organisation=organisation.legal_name,
        ),
    )
    return declaration


def add_declaration_document(
    declaration: Declaration, user: User, filename: str, content: bytes
) -> Document:
    """Attach a file to a pending declaration (stored encrypted, type checked by content)."""
    if not declaration.is_pending:
        raise DeclarationError(
            str(_l("Documents can be added only while the declaration waits for a decision."))
        )
    document = document_service.add_document(
        declaration.organisation, user, filename, content, kind=DocumentKind.DECLARATION
    )
    document.declaration_id = declaration.id
    db.session.flush()
    return document
