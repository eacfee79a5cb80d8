"""The activity log: append to the hash chain, record security events, verify, checkpoint.

Each entry stores the hash of the entry before it (`prev_hash`) and its own hash over a
canonical encoding of its fields (`entry_hash`), so changing, removing or inserting an entry
breaks the chain from that point on. Entries are appended under a lock on the one-row chain
head (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the write transaction's BEGIN IMMEDIATE
already admits one writer at a time), so concurrent requests never fork the chain.

What `verify` finds: an edited entry (its hash no longer matches), a deleted entry (a gap in
`seq`, or the head pointing past the last entry), an inserted one (it cannot carry a hash that
both matches its content and links to its neighbours). What it cannot find alone: someone with
write access to the database who recomputes every hash after the point they changed and moves
the head. `activity checkpoint` prints the head (seq and hash) to keep outside the database;
`verify(session, against=...)` (CLI: `activity verify --checkpoint SEQ HASH`) then shows
that the entry at that position still has that hash, which a rewritten chain cannot. Each
entry also carries an HMAC of its hash under the audit key from the key file (`compute_mac`),
so rewriting the chain needs that key as well as the database.

Never log secrets: `details` refuses keys that look like passwords, tokens or codes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request
from flask.sansio.app import App
from flask_login import current_user
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session

from register.database import utcnow, write_intent
from register.extensions import db
from register.models import ActivityChainHead, ActivityEntry, User
from register.models.activity import CHAIN_HEAD_ID, GENESIS_HASH

log = logging.getLogger("register.activity")

# The fields covered by an entry's hash, in the canonical encoding.
CANONICAL_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "ip",
    "request_id",
    "details",
    "prev_hash",
)
# A details key containing one of these is refused: the log must never hold a secret.
SECRET_KEY_WORDS = ("password", "token", "code", "secret", "totp", "otp", "recovery")
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_PENDING_EVENTS = "activity_pending_security_events"

Scalar = str | int | float | bool | None
# A plain session or the app's scoped `db.session`.
AnySession = Session | scoped_session[Any]


class ActivityChainError(RuntimeError):
    """The chain cannot be appended to (its head is missing while entries exist)."""


class Checkpoint(NamedTuple):
    """The chain's head: the last position and its hash."""

    seq: int
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found: ok, how many entries it checked, and the first broken one."""

    ok: bool
    checked: int
    head: Checkpoint
    first_broken_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _Event:
    """An entry's content before it takes its place in the chain."""

    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_label: str
    action: str
    object_type: str | None
    object_id: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Scalar]


# -- the canonical encoding and the hash ---------------------------------------------------


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an activity entry")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The deterministic encoding of an entry's fields that its hash covers (UTF-8 JSON)."""
    document = {name: _canonical_value(fields[name]) for name in CANONICAL_FIELDS}
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_hash(fields: Mapping[str, Any]) -> str:
    """An entry's SHA-256 over its canonical encoding."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def compute_mac(entry_hash: str, audit_key: bytes | None = None) -> str:
    """The entry's authenticator: HMAC-SHA256 of its hash under the key file's audit key."""
    if audit_key is None:
        from register.crypto.fields import manager

        audit_key = manager().keyring.audit_key
    return hmac.new(audit_key, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


# -- appending -------------------------------------------------------------------------------


def _clean_details(details: Mapping[str, Any] | None) -> dict[str, Scalar]:
    clean: dict[str, Scalar] = {}
    for key, value in (details or {}).items():
        if not isinstance(key, str) or not key:
            raise ValueError("activity details keys must be non-empty strings")
        lowered = key.lower()
        if any(word in lowered for word in SECRET_KEY_WORDS):
            raise ValueError(f"activity details must hold no secrets; key {key!r} is refused")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(f"activity detail {key!r} must be a string, number, bool or None")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"activity detail {key!r} must be a finite number")
        clean[key] = value
    return clean


def _short(value: object, name: str, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value)
    if len(text) > limit:
        raise ValueError(f"activity {name} is longer than {limit} characters")
    return text


def _actor_fields(actor: User | None) -> tuple[uuid.UUID | None, str]:
    if (
        actor is None
        and has_request_context()
        and hasattr(current_app, "login_manager")
        and current_user.is_authenticated
    ):
        actor = current_user._get_current_object()
    if actor is None:
        return None, "anonymous" if has_request_context() else "system"
    return actor.id, str(actor.role)


def _prepare(
    action: str,
    actor: User | None,
    object_type: str | None,
    object_id: object,
    details: Mapping[str, Any] | None,
) -> _Event:
    if not ACTION_PATTERN.match(action) or len(action) > 64:
        raise ValueError(f"activity action {action!r} must be a dotted name like 'auth.sign_in'")
    actor_id, actor_label = _actor_fields(actor)
    ip = request_id = None
    if has_request_context():
        ip = (request.remote_addr or "")[:45] or None
        request_id = str(g.get("request_id") or "")[:32] or None
    return _Event(
        occurred_at=utcnow(),
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=_short(object_type, "object type", 64),
        object_id=_short(object_id, "object id", 64),
        ip=ip,
        request_id=request_id,
        details=_clean_details(details),
    )


def _lock_head(session: AnySession) -> ActivityChainHead:
    statement = (
        sa.select(ActivityChainHead)
        .where(ActivityChainHead.id == CHAIN_HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(statement).one_or_none()
    if head is None:
        _create_head(session)
        head = session.scalars(statement).one()
    return head


def _create_head(session: AnySession) -> None:
    """Create the head row the migration normally inserts; never over an existing chain."""
    if session.scalar(sa.select(ActivityEntry.seq).limit(1)) is not None:
        raise ActivityChainError("the activity chain head is missing; run `activity verify`")
    values = {"id": CHAIN_HEAD_ID, "seq": 0, "last_hash": GENESIS_HASH}
    # ON CONFLICT DO NOTHING: two first appends may both find the head missing.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ActivityChainHead).values(values).on_conflict_do_nothing())


def _append(session: AnySession, event: _Event) -> ActivityEntry:
    head = _lock_head(session)
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "ip": event.ip,
        "request_id": event.request_id,
        "details": event.details,
        "prev_hash": head.last_hash,
    }
    entry_hash = compute_hash(fields)
    entry = ActivityEntry(**fields, entry_hash=entry_hash, mac=compute_mac(entry_hash))
    session.add(entry)
    head.seq = entry.seq
    head.last_hash = entry.entry_hash
    session.flush()
    return entry


def record(
    action: str,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: Mapping[str, Any] | None = None,
    session: AnySession | None = None,
) -> ActivityEntry:
    """Append an entry in the caller's transaction (rolled back with it); flush, never commit.

    `actor` defaults to the signed-in user. On SQLite a GET view that records must be marked
    `@writes_on_get`, so that its transaction begins IMMEDIATE and never has to upgrade a lock.
    """
    event = _prepare(action, actor, object_type, object_id, details)
    return _append(db.session if session is None else session, event)


# -- security events: committed on their own ---------------------------------------------


def record_security_event(
    action: str,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append an entry that survives the rollback of the request (failed sign-in, refusal).

    In a request it is appended in its own transaction right after the request's transaction
    has ended, committed or rolled back: appending earlier, on a second connection, would wait
    for the request's own locks (SQLite's single writer; the head row if the request recorded
    anything). Outside a request (CLI, jobs) it is appended and committed at once: call it
    there while `db.session` holds no write transaction, for the same reason.
    """
    event = _prepare(action, actor, object_type, object_id, details)
    if has_request_context():
        if not current_app.extensions.get("activity"):
            raise RuntimeError("security events need activity.init_app (the activity blueprint)")
        g.setdefault(_PENDING_EVENTS, []).append(event)
        return
    _append_committed([event])


@contextmanager
def _separate_session() -> Iterator[Session]:
    """A session with its own transaction, independent of `db.session`'s."""
    bind = db.session.session_factory.kw.get("bind")
    if isinstance(bind, Connection):
        # The test suite binds db.session to one connection inside an outer transaction that
        # is rolled back after each test (tests/conftest.py). That connection holds SQLite's
        # write lock, so a second connection could not write; use a savepoint on it instead.
        # It is released on "commit", so the entry survives the request's own rollback.
        session = Session(bind=bind, join_transaction_mode="create_savepoint")
    else:
        session = Session(bind=db.engine)
    with write_intent(True), session:
        yield session


def _append_committed(events: list[_Event]) -> None:
    with _separate_session() as session:
        for event in events:
            _append(session, event)
        session.commit()


def _write_pending_security_events(error: BaseException | None) -> None:
    events: list[_Event] | None = g.pop(_PENDING_EVENTS, None)
    if not events:
        return
    try:
        # The request's transaction was finished in after_request; anything db.session began
        # since (e.g. reloading the expired user for the log line) is discarded at app-context
        # teardown anyway. End it now: on SQLite it may hold the write lock this append needs.
        db.session.rollback()
        _append_committed(events)
    except Exception:
        # Teardown must not raise; the log line at least keeps a trace of what was lost.
        log.exception("could not record security event(s): %s", ", ".join(e.action for e in events))


def init_app(app: App) -> None:
    """Append the request's security events once its transaction has ended."""
    if not app.extensions.get("activity"):
        app.extensions["activity"] = True
        app.teardown_request(_write_pending_security_events)


# -- verifying -------------------------------------------------------------------------------


def _read_head(session: AnySession) -> Checkpoint | None:
    row = session.execute(
        sa.select(ActivityChainHead.seq, ActivityChainHead.last_hash).where(
            ActivityChainHead.id == CHAIN_HEAD_ID
        )
    ).one_or_none()
    return None if row is None else Checkpoint(int(row.seq), str(row.last_hash))


def checkpoint(session: AnySession) -> Checkpoint:
    """The chain's head (seq and hash) to keep outside the database."""
    return _read_head(session) or Checkpoint(0, GENESIS_HASH)


def verify(session: AnySession, *, against: Checkpoint | None = None) -> VerifyResult:
    """Recompute the whole chain in order and report the first entry that does not hold."""
    first_head = _read_head(session)
    columns = [getattr(ActivityEntry, name) for name in CANONICAL_FIELDS]
    statement = (
        sa.select(*columns, ActivityEntry.entry_hash, ActivityEntry.mac)
        .order_by(ActivityEntry.seq)
        .execution_options(yield_per=1000)
    )
    expected_seq, previous_hash = 1, GENESIS_HASH
    from register.crypto.fields import manager

    audit_key = manager().keyring.audit_key

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(
            ok=False,
            checked=expected_seq - 1,
            head=Checkpoint(expected_seq - 1, previous_hash),
            first_broken_seq=seq,
            reason=reason,
        )

    with session.execute(statement) as rows:
        for row in rows:
            fields = row._mapping
            seq, entry_hash = int(fields["seq"]), str(fields["entry_hash"])
            if seq > expected_seq:
                return broken(expected_seq, f"the entry is missing (the next one is {seq})")
            if seq < expected_seq:
                return broken(seq, "the entry has an impossible position")
            if fields["prev_hash"] != previous_hash:
                return broken(seq, "it does not link to the entry before it")
            if compute_hash(dict(fields)) != entry_hash:
                return broken(seq, "its content does not match its hash")
            if not hmac.compare_digest(compute_mac(entry_hash, audit_key), str(fields["mac"])):
                return broken(seq, "its audit MAC is wrong (not written with the audit key)")
            if against is not None and seq == against.seq and entry_hash != against.hash:
                return broken(seq, "its hash differs from the checkpoint's")
            if first_head is not None and seq == first_head.seq and entry_hash != first_head.hash:
                return broken(seq, "its hash differs from the chain head's")
            expected_seq, previous_hash = seq + 1, entry_hash

    last_seq = expected_seq - 1
    # Read again: under READ COMMITTED, entries committed during the scan are covered by it
    # (each append moves the head in the same transaction as its insert).
    head = _read_head(session)
    if head is None:
        if last_seq:
            return broken(last_seq, "the chain head is missing")
    elif first_head is not None and first_head.seq > last_seq:
        return broken(last_seq + 1, f"the entry is missing (the chain head is at {first_head.seq})")
    elif last_seq > head.seq:
        return broken(head.seq + 1, "the entry is beyond the chain head (not appended by the log)")
    elif last_seq == head.seq and previous_hash != head.hash:
        return broken(last_seq, "its hash differs from the chain head's")
    if against is not None and against.seq > last_seq:
        return broken(last_seq + 1, f"the entry is missing (the checkpoint is at {against.seq})")
    return VerifyResult(ok=True, checked=last_seq, head=Checkpoint(last_seq, previous_hash))
