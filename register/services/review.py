"""The agency's review of declarations: the queue, claiming and assigning, reasoned decisions.

The workflow of DESIGN.md §2 from the agency's side:

    submitted ──claim/assign──> in_review ──approve──> approved (published)
                                 │  │  └─approve, high risk─> awaiting_sign_off ─sign off─> approved
                                 │  │                          (a supervisor who is not the
                                 │  │                           approver; or back to in_review)
                                 │  └─reject (grounds, article, how to appeal)─> rejected
                                 └─request changes (comments on fields, arrays)─> changes_requested

Every move is a conditional UPDATE on the `lock_version` the form was read at
(`declarations.change`): of two simultaneous actions exactly one wins and the other is told who
acted and when. Inspectors decide what is assigned to them; supervisors decide anything and
sign off. The review clock (`declarations.clock_values`) stops while the holder has the file.
Every decision is written to the declaration's timeline and the activity log, and told to the
organisation's users through the outbox.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, raiseload

from register.database import utcnow
from register.extensions import db
from register.models import (
    Declaration,
    DeclarationKind,
    DeclarationStatus,
    DeclarationVersion,
    Organisation,
    OrganisationStatus,
    ReviewComment,
    Role,
    User,
)
from register.services import activity, register_entries, snapshots
from register.services.declarations import (
    STATUS_LABELS,
    DeclarationError,
    _move,
    _tell_members,
    change,
    clock_values,
)

QUEUE_STATUSES = (
    DeclarationStatus.SUBMITTED,
    DeclarationStatus.IN_REVIEW,
    DeclarationStatus.AWAITING_SIGN_OFF,
)
# The queue can also show what waits on the holder's changes, when asked.
FILTER_STATUSES = (*QUEUE_STATUSES, DeclarationStatus.CHANGES_REQUESTED)
REVIEWER_ROLES = (Role.INSPECTOR, Role.SUPERVISOR)
PAGE_SIZE = 50


class ReviewError(DeclarationError):
    """The move is not allowed now; the message says why."""


# -- the queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What the queue is narrowed to (from the page's query string, already validated)."""

    status: DeclarationStatus | None = None
    kind: DeclarationKind | None = None
    region: str | None = None
    sector: str | None = None
    high_risk: bool | None = None
    assignee: str = "anyone"  # me, nobody or anyone
    overdue: bool = False
    newest_first: bool = False


@dataclass(frozen=True)
class QueueRow:
    """One declaration in the queue."""

    declaration: Declaration
    assignee: User | None
    age_days: int
    days_left: int | None  # None while the clock is stopped

    @property
    def organisation(self) -> Organisation:
        """The declaring organisation (loaded with the row)."""
        return self.declaration.organisation

    @property
    def due_at(self) -> datetime | None:
        """The review deadline, None while the clock is stopped."""
        return self.declaration.due_at

    @property
    def overdue(self) -> bool:
        """The deadline has passed while the agency had the file."""
        return self.days_left is not None and self.days_left < 0


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue."""

    rows: list[QueueRow]
    total: int
    page: int
    pages: int


def queue(filters: QueueFilters, user: User, page: int = 1) -> QueuePage:
    """Declarations waiting on the agency, filtered and paginated (a fixed number of queries)."""
    statuses = [filters.status] if filters.status else list(QUEUE_STATUSES)
    conditions: list[Any] = [Declaration.status.in_(statuses)]
    if filters.kind:
        conditions.append(Declaration.kind == filters.kind)
    if filters.region:
        conditions.append(Organisation.region_code == filters.region)
    if filters.sector:
        conditions.append(Organisation.sector_code == filters.sector)
    if filters.high_risk is not None:
        conditions.append(Declaration.high_risk.is_(filters.high_risk))
    if filters.assignee == "me":
        conditions.append(Declaration.assignee_id == user.id)
    elif filters.assignee == "nobody":
        conditions.append(Declaration.assignee_id.is_(None))
    now = utcnow()
    if filters.overdue:
        conditions.append(Declaration.due_at < now)
    base = (
        sa.select(Declaration)
        .join(Organisation, Organisation.id == Declaration.organisation_id)
        .where(*conditions)
    )
    # Counting needs the organisations only to filter by region or sector (every declaration
    # has its organisation): without them the count reads one index of declarations.
    counted = (
        base if filters.region or filters.sector else sa.select(Declaration.id).where(*conditions)
    )
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0)
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    page = min(max(page, 1), pages)
    order = Declaration.created_at.desc() if filters.newest_first else Declaration.created_at
    assignee = sa.orm.aliased(User)
    found = db.session.execute(
        base.outerjoin(assignee, Declaration.assignee_id == assignee.id)
        .add_columns(assignee)
        .options(
            contains_eager(Declaration.organisation),
            raiseload(Declaration.versions),
            raiseload(Declaration.events),
            raiseload(Declaration.comments),
        )
        .order_by(order, Declaration.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [
        QueueRow(
            declaration=declaration,
            assignee=staff,
            age_days=(now - declaration.created_at).days,
            days_left=days_left(declaration, now),
        )
        for declaration, staff in found
    ]
    return QueuePage(rows, total, page, pages)


def days_left(declaration: Declaration, now: datetime | None = None) -> int | None:
    """Days to the deadline, a part day counting as one; negative: whole days overdue (at
    least 1 once it has passed). None while the clock is stopped."""
    if declaration.due_at is None:
        return None
    remaining = (declaration.due_at - (now or utcnow())) / timedelta(days=1)
    if remaining >= 0:
        return math.ceil(remaining)
    return -max(1, math.floor(-remaining))


def reviewers() -> list[User]:
    """Active inspectors and supervisors, by name (whom a supervisor can assign work to)."""
    staff = db.session.scalars(
        sa.select(User).where(User.role.in_(REVIEWER_ROLES), User.is_active_account.is_(True))
    ).all()
    return sorted(staff, key=lambda user: ((user.full_name or "").casefold(), user.email))


# -- who may do what -----------------------------------------------------------------------


def is_reviewer(user: User) -> bool:
    """Inspectors and supervisors review; admins keep the system, not the register."""
    return user.is_authenticated and user.role in REVIEWER_ROLES


def can_claim(user: User, declaration: Declaration) -> bool:
    """An inspector or supervisor takes a declaration nobody has yet."""
    return (
        is_reviewer(user)
        and declaration.assignee_id is None
        and declaration.status in (DeclarationStatus.SUBMITTED, DeclarationStatus.IN_REVIEW)
    )


def can_assign(user: User, declaration: Declaration) -> bool:
    """Supervisors give work to an inspector (or take it back) while the agency has it."""
    return user.role is Role.SUPERVISOR and declaration.status in QUEUE_STATUSES


def can_decide(user: User, declaration: Declaration) -> bool:
    """Approve, reject or ask for changes: the assignee, or any supervisor, while in review."""
    if declaration.status is not DeclarationStatus.IN_REVIEW or not is_reviewer(user):
        return False
    return user.role is Role.SUPERVISOR or declaration.assignee_id == user.id


def can_sign_off(user: User, declaration: Declaration) -> bool:
    """The second pair of eyes: a supervisor who did not approve it."""
    return (
        declaration.status is DeclarationStatus.AWAITING_SIGN_OFF
        and user.role is Role.SUPERVISOR
        and declaration.approved_by_id != user.id
    )


def _refuse_unless(allowed: bool, message: Any) -> None:
    if not allowed:
        raise ReviewError(str(message))


def _not_now(declaration: Declaration) -> str:
    return str(
        _l(
            "That cannot be done now: the declaration is %(status)s.",
            status=str(STATUS_LABELS[declaration.status]).lower(),
        )
    )


# -- claiming and assigning ----------------------------------------------------------------


def claim(declaration: Declaration, user: User, expected_lock_version: int) -> None:
    """Take the declaration for review (submitted → in review)."""
    if declaration.lock_version == expected_lock_version and not can_claim(user, declaration):
        if declaration.assignee_id is not None and declaration.status in QUEUE_STATUSES:
            raise ReviewError(str(_l("Someone else already reviews this declaration.")))
        raise ReviewError(_not_now(declaration))
    _take(declaration, user, user, expected_lock_version)


def assign(
    declaration: Declaration, supervisor: User, to: User, expected_lock_version: int
) -> None:
    """A supervisor gives the declaration to an inspector or supervisor."""
    _refuse_unless(
        declaration.lock_version != expected_lock_version or can_assign(supervisor, declaration),
        _not_now(declaration),
    )
    if to.role not in REVIEWER_ROLES or not to.is_active:
        raise ReviewError(str(_l("Choose an active inspector or supervisor.")))
    _take(declaration, supervisor, to, expected_lock_version)


def _take(declaration: Declaration, actor: User, to: User, expected: int) -> None:
    values: dict[str, Any] = {"assignee_id": to.id}
    if declaration.status is DeclarationStatus.SUBMITTED:
        _move(
            declaration,
            DeclarationStatus.IN_REVIEW,
            actor,
            expected_lock_version=expected,
            values=values,
            allowed_from=[DeclarationStatus.SUBMITTED],
        )
        organisation = declaration.organisation
        _tell_members(
            declaration,
            "declaration.in_review",
            _l("In review: %(organisation)s", organisation=organisation.legal_name),
            _l(
                "The agency has started reviewing the declaration of %(organisation)s. The "
                "deadline for its decision is on the declaration's page.",
                organisation=organisation.legal_name,
            ),
        )
    else:
        change(declaration, expected, values, allowed_from=QUEUE_STATUSES)
    activity.record(
        "declaration.assigned",
        actor=actor,
        object_type="declaration",
        object_id=str(declaration.id),
        details={"assignee": str(to.id)},
    )


# -- decisions -----------------------------------------------------------------------------


def _grounds(grounds: str | None, article: str | None, need_article: bool) -> str:
    grounds = (grounds or "").strip()
    if not grounds:
        raise ReviewError(str(_l("State the grounds for the decision.")))
    if need_article and not (article or "").strip():
        raise ReviewError(str(_l("Name the article of the law the decision rests on.")))
    return f"{grounds}\n({article.strip()})" if article and article.strip() else grounds


def valid_comment_paths(declaration: Declaration) -> set[str]:
    """Where a comment may be anchored: any field of the latest version, or a whole array."""
    version = declaration.latest_version
    if version is None:
        return set()
    merged = snapshots.full_snapshot(version) or {}
    paths = set(snapshots.flatten(merged))
    paths |= {f"arrays/{array_id}" for array_id in merged.get("arrays", {})}
    return paths


def request_changes(
    declaration: Declaration,
    user: User,
    *,
    grounds: str,
    article: str,
    comments: list[tuple[str, str]],
    expected_lock_version: int,
) -> None:
    """Send the declaration back to the holder with comments on fields or arrays; clock stops."""
    _check_decider(declaration, user, expected_lock_version)
    note = _grounds(grounds, article, need_article=True)
    comments = [(path, body.strip()) for path, body in comments if body and body.strip()]
    if not comments:
        raise ReviewError(str(_l("Write at least one comment on a field or an array.")))
    allowed = valid_comment_paths(declaration)
    for path, _body in comments:
        if path not in allowed:
            raise ReviewError(str(_l("A comment is attached to an unknown field.")))
    version = declaration.latest_version
    _move(
        declaration,
        DeclarationStatus.CHANGES_REQUESTED,
        user,
        note=note,
        expected_lock_version=expected_lock_version,
        values=clock_values(declaration, running=False),
        allowed_from=[DeclarationStatus.IN_REVIEW],
    )
    now = utcnow()
    for path, body in comments:
        comment = ReviewComment(
            declaration_id=declaration.id,
            version_id=version.id if version is not None else None,
            path=path,
            article=(article or "").strip()[:100] or None,
            created_at=now,
            created_by_id=user.id,
        )
        comment.body = body
        declaration.comments.append(comment)
    db.session.flush()
    _decided(declaration, user, "declaration.changes_requested", {"comments": len(comments)})
    organisation = declaration.organisation
    _tell_members(
        declaration,
        "declaration.changes_requested",
        _l("Changes requested: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "The agency asks for changes to the declaration of %(organisation)s before it can "
            "decide. Its grounds and its comments on %(count)s answers are on the declaration's "
            "page; the review deadline is paused until you resubmit.",
            organisation=organisation.legal_name,
            count=len(comments),
        ),
    )


def approve(
    declaration: Declaration, user: User, *, grounds: str, expected_lock_version: int
) -> None:
    """Approve: publish now, or, for a high-risk declaration, wait for a supervisor's sign-off."""
    _check_decider(declaration, user, expected_lock_version)
    note = _grounds(grounds, None, need_article=False)
    if declaration.high_risk and declaration.kind is not DeclarationKind.TERMINATION:
        _move(
            declaration,
            DeclarationStatus.AWAITING_SIGN_OFF,
            user,
            note=note,
            expected_lock_version=expected_lock_version,
            values={"approved_by_id": user.id},
            allowed_from=[DeclarationStatus.IN_REVIEW],
        )
        _decided(declaration, user, "declaration.approved_pending_sign_off", {})
        organisation = declaration.organisation
        _tell_members(
            declaration,
            "declaration.approved_pending_sign_off",
            _l(
                "Approved, awaiting sign-off: %(organisation)s",
                organisation=organisation.legal_name,
            ),
            _l(
                "The reviewer approved the declaration of %(organisation)s. Because it concerns "
                "special categories of data, transfers abroad or many data subjects, a second "
                "supervisor signs the approval off before the entry is published.",
                organisation=organisation.legal_name,
            ),
        )
        return
    _final_approval(declaration, user, note, expected_lock_version, DeclarationStatus.IN_REVIEW)


def sign_off(
    declaration: Declaration, user: User, *, grounds: str, expected_lock_version: int
) -> None:
    """The supervisor's second approval of a high-risk declaration (not the first approver's)."""
    if declaration.lock_version == expected_lock_version:
        if (
            declaration.status is DeclarationStatus.AWAITING_SIGN_OFF
            and user.role is Role.SUPERVISOR
            and declaration.approved_by_id == user.id
        ):
            raise ReviewError(
                str(_l("You approved this declaration: another supervisor must sign it off."))
            )
        _refuse_unless(can_sign_off(user, declaration), _not_now(declaration))
    note = _grounds(grounds, None, need_article=False)
    _final_approval(
        declaration, user, note, expected_lock_version, DeclarationStatus.AWAITING_SIGN_OFF
    )


def return_to_review(
    declaration: Declaration, user: User, *, grounds: str, expected_lock_version: int
) -> None:
    """A supervisor sends a high-risk approval back to review instead of signing it off."""
    if declaration.lock_version == expected_lock_version:
        _refuse_unless(
            declaration.status is DeclarationStatus.AWAITING_SIGN_OFF
            and user.role is Role.SUPERVISOR,
            _not_now(declaration),
        )
    note = _grounds(grounds, None, need_article=False)
    _move(
        declaration,
        DeclarationStatus.IN_REVIEW,
        user,
        note=note,
        expected_lock_version=expected_lock_version,
        values={"approved_by_id": None},
        allowed_from=[DeclarationStatus.AWAITING_SIGN_OFF],
    )
    _decided(declaration, user, "declaration.returned_to_review", {})
    organisation = declaration.organisation
    _tell_members(
        declaration,
        "declaration.returned_to_review",
        _l("Back in review: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "The supervisor did not sign off the approval of the declaration of %(organisation)s "
            "and sent it back to review. The grounds are on the declaration's page.",
            organisation=organisation.legal_name,
        ),
    )


def reject(
    declaration: Declaration,
    user: User,
    *,
    grounds: str,
    article: str,
    expected_lock_version: int,
) -> None:
    """Refuse, with grounds, the article of law and how to appeal."""
    at_sign_off = declaration.status is DeclarationStatus.AWAITING_SIGN_OFF
    if at_sign_off and declaration.lock_version == expected_lock_version:
        _refuse_unless(user.role is Role.SUPERVISOR, _not_now(declaration))
    else:
        _check_decider(declaration, user, expected_lock_version)
    note = _grounds(grounds, article, need_article=True)
    _move(
        declaration,
        DeclarationStatus.REJECTED,
        user,
        note=f"{note}\n\n{appeal_notice()}",
        expected_lock_version=expected_lock_version,
        values={"decided_at": utcnow(), **clock_values(declaration, running=False)},
        allowed_from=[DeclarationStatus.IN_REVIEW, DeclarationStatus.AWAITING_SIGN_OFF],
    )
    _decided(declaration, user, "declaration.rejected", {})
    organisation = declaration.organisation
    _tell_members(
        declaration,
        "declaration.rejected",
        _l("Declaration refused: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "The agency refused the declaration of %(organisation)s.\n\nGrounds: %(grounds)s"
            "\n\n%(appeal)s",
            organisation=organisation.legal_name,
            grounds=note,
            appeal=appeal_notice(),
        ),
    )


def appeal_notice() -> str:
    """How a refusal is appealed (stated in every refusal)."""
    return str(
        _l(
            "How to appeal: within %(days)s days of receiving this decision you may file an "
            "administrative complaint with the head of the State Agency for Personal Data "
            "Protection, or bring the case before the court, under the Law of the Kyrgyz "
            "Republic «On the basics of administrative activity and administrative procedures». "
            "You may also correct the declaration and submit it again.",
            days=current_app.config["APPEAL_DAYS"],
        )
    )


def _check_decider(declaration: Declaration, user: User, expected_lock_version: int) -> None:
    """Refuse a decision the user may not take; a stale form is left to the conditional update."""
    if declaration.lock_version != expected_lock_version:
        return  # `change` reports who acted in the meantime
    if declaration.status is not DeclarationStatus.IN_REVIEW:
        raise ReviewError(_not_now(declaration))
    if not can_decide(user, declaration):
        raise ReviewError(
            str(_l("Claim the declaration first: only its reviewer or a supervisor decides."))
        )


def _final_approval(
    declaration: Declaration,
    user: User,
    note: str,
    expected_lock_version: int,
    from_status: DeclarationStatus,
) -> None:
    now = utcnow()
    _move(
        declaration,
        DeclarationStatus.APPROVED,
        user,
        note=note,
        expected_lock_version=expected_lock_version,
        values={"decided_at": now, **clock_values(declaration, running=False)},
        allowed_from=[from_status],
    )
    organisation = declaration.organisation
    version = declaration.latest_version
    if version is None:  # every submitted declaration has a version
        raise ReviewError(_not_now(declaration))
    if declaration.kind is DeclarationKind.TERMINATION:
        version.published_at = now
        entry = register_entries.entry_of(organisation.id)
        if entry is not None and entry.status is not register_entries.EntryStatus.STRUCK_OFF:
            register_entries.change_status(
                entry, "strike_off", user, note, declaration=declaration, tell_holder=False
            )
        _decided(declaration, user, "declaration.approved", {"kind": declaration.kind.value})
        _tell_members(
            declaration,
            "declaration.approved",
            _l("Entry struck off: %(organisation)s", organisation=organisation.legal_name),
            _l(
                "The agency accepted the termination notice of %(organisation)s: the entry is "
                "struck off the Register of Personal Data Holders.",
                organisation=organisation.legal_name,
            ),
        )
        return
    entry = register_entries.publish(version, organisation, user, now)
    organisation.status = OrganisationStatus.VERIFIED
    for comment in declaration.comments:
        if comment.resolved_at is None:
            comment.resolved_at = now
    db.session.flush()
    _decided(
        declaration,
        user,
        "declaration.approved",
        {"number": entry.registration_number, "version": version.number},
    )
    _tell_members(
        declaration,
        "declaration.approved",
        _l("Declaration approved: %(organisation)s", organisation=organisation.legal_name),
        _l(
            "The agency approved the declaration of %(organisation)s. Version %(version)s of "
            "the entry %(number)s is now published in the Register of Personal Data Holders; "
            "the certificate can be downloaded from the organisation's page.",
            organisation=organisation.legal_name,
            version=version.number,
            number=entry.registration_number,
        ),
    )


def _decided(declaration: Declaration, user: User, action: str, details: dict[str, Any]) -> None:
    activity.record(
        action,
        actor=user,
        object_type="declaration",
        object_id=str(declaration.id),
        details={"organisation": str(declaration.organisation_id), **details},
    )


# -- reading -------------------------------------------------------------------------------


def find(declaration_id: uuid.UUID) -> Declaration | None:
    """A declaration the agency can see (any but a draft)."""
    declaration = db.session.get(Declaration, declaration_id)
    if declaration is None or declaration.status is DeclarationStatus.DRAFT:
        return None
    return declaration


def published_for(declaration: Declaration) -> DeclarationVersion | None:
    """The published version the declaration would replace (what the diff compares with)."""
    if declaration.base_version_id is None:
        return None
    return db.session.get(DeclarationVersion, declaration.base_version_id)
