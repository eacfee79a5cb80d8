"""Key rotation: new key-encryption key, new data key, re-encryption, verification, retirement.

Plain functions on a Session and the DataKeyManager (no Flask): `keys_cli` wraps them. Every
operation appends to the activity log in the transaction that does it. The encrypted columns
are found in `fields.ENCRYPTED_FIELDS`; a stored value's data-key id is its bytes 1..17, which
SQL reads as `substr(column, 2, 16)` on SQLite blobs and PostgreSQL bytea alike.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, scoped_session

from register.crypto import envelope
from register.crypto import keyring as keyring_module
from register.crypto.datakeys import DataKey, DataKeyManager, unwrap, wrap
from register.crypto.errors import CryptoError, DecryptionError, KeyringError
from register.crypto.fields import decrypt_bytes, fields_by_table
from register.database import utcnow, write_intent

AnySession = Session | scoped_session[Any]
# A value's data-key id, or None when its header is too short to hold one.
KeyId = uuid.UUID | None
_Place = tuple[str, str, Any]  # table, column, row id
NO_KEY = uuid.UUID(int=0)  # no target yet
# After a data key stops being active, workers may still encrypt under it for their cache's
# lifetime, and a request that did so may commit a little later: retiring waits this long more.
RETIRE_MARGIN_SECONDS = 30.0
MAX_REPORTED_FAILURES = 100
KEK, DATA_KEY = "key_encryption_key", "data_key"  # activity log object types


class RetireRefused(CryptoError):
    """A key cannot be retired yet; the message says why."""


def _record(
    session: AnySession, action: str, kind: str | None, object_id: object, **details: Any
) -> None:
    from register.services import activity

    activity.record(action, object_type=kind, object_id=object_id, details=details, session=session)


# -- where the encrypted values are ---------------------------------------------------------


@dataclass(frozen=True)
class EncryptedTable:
    """A table and its encrypted columns."""

    table: sa.Table
    columns: tuple[str, ...]

    def stale(self, target: uuid.UUID) -> sa.ColumnElement[bool]:
        """Rows with any value under a data key other than `target`."""
        return sa.or_(
            *(
                sa.and_(self.table.c[n].is_not(None), key_prefix(self.table.c[n]) != target.bytes)
                for n in self.columns
            )
        )

    def batches(
        self, session: AnySession, size: int, where: sa.ColumnElement[bool] | None = None
    ) -> Iterator[list[sa.Row[Any]]]:
        """Rows (id, then the encrypted columns) in id order, `size` at a time, queried lazily."""
        table, after = self.table, None
        while True:
            query = sa.select(table.c.id, *(table.c[name] for name in self.columns))
            if where is not None:
                query = query.where(where)
            if after is not None:
                query = query.where(table.c.id > after)
            rows = list(session.execute(query.order_by(table.c.id).limit(size)).all())
            if not rows:
                return
            yield rows
            after = rows[-1].id


def encrypted_tables() -> list[EncryptedTable]:
    """Every table holding encrypted values, with its encrypted columns (from the registry)."""
    tables = []
    for name, table_fields in sorted(fields_by_table().items()):
        table: sa.Table = table_fields[0].owner.__table__  # type: ignore[union-attr]
        if table.name != name:
            raise CryptoError(f"encrypted fields of {name!r} are not on a mapped table")
        tables.append(EncryptedTable(table, tuple(sorted({f.column for f in table_fields}))))
    return tables


def key_prefix(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bytes]:
    """SQL for the data-key id in a stored value's header (bytes 2..17, 1-based)."""
    # Literal numbers: PostgreSQL must see the SELECT and GROUP BY expressions as the same.
    two: sa.ColumnElement[int] = sa.literal_column("2")
    sixteen: sa.ColumnElement[int] = sa.literal_column("16")
    return sa.func.substr(column, two, sixteen, type_=sa.LargeBinary)


def key_id_from_prefix(prefix: bytes | None) -> KeyId:
    """The key id that `key_prefix` read, or None when the value is too short."""
    if prefix is None or len(prefix) != envelope.KEY_ID_LENGTH:
        return None
    return uuid.UUID(bytes=bytes(prefix))


def count_values_by_key(session: AnySession) -> dict[tuple[str, str], Counter[KeyId]]:
    """How many stored values each data key protects, per table and column (SQL, no decrypt)."""
    counts: dict[tuple[str, str], Counter[KeyId]] = {}
    for item in encrypted_tables():
        for name in item.columns:
            column = item.table.c[name]
            prefix = key_prefix(column).label("key_id")
            query = (
                sa.select(prefix, sa.func.count())
                .where(column.is_not(None))
                .group_by(key_prefix(column))
            )
            tally: Counter[KeyId] = Counter()
            for raw, number in session.execute(query):
                tally[key_id_from_prefix(raw)] += number
            counts[(item.table.name, name)] = tally
    return counts


def total_by_key(counts: dict[tuple[str, str], Counter[KeyId]]) -> Counter[KeyId]:
    """Sum per-column counts into counts per data key."""
    total: Counter[KeyId] = Counter()
    for tally in counts.values():
        total.update(tally)
    return total


def active_data_key(session: AnySession) -> DataKey | None:
    """The active data key as stored now (not the manager's cached id)."""
    return session.scalars(sa.select(DataKey).where(DataKey.active_marker == 1)).one_or_none()


def _fresh_keyring(manager: DataKeyManager) -> keyring_module.Keyring:
    return keyring_module.load(manager.keyring.path)


# -- rotation -------------------------------------------------------------------------------


def rotate_kek(session: AnySession, manager: DataKeyManager) -> tuple[str, int]:
    """Add a new active KEK to the key file, re-wrap every data key under it; (id, count)."""
    keyring = _fresh_keyring(manager)
    rows = list(session.scalars(sa.select(DataKey).order_by(DataKey.created_at)))
    # Unwrap everything before the file changes (a missing old KEK stops here). The file is
    # saved before the commit: a crash in between leaves the data keys wrapped by the previous
    # KEK, which is still in the file, and another `rotate --kek` finishes the job.
    plaintexts = {row.id: unwrap(keyring, row) for row in rows}
    kek_id = keyring_module.new_kek_id()
    while kek_id in keyring.key_encryption_keys:
        kek_id = keyring_module.new_kek_id()
    previous = keyring.active_kek_id
    keyring.key_encryption_keys[kek_id] = keyring_module.new_key()
    keyring.active_kek_id = kek_id
    keyring_module.save(keyring)
    for row in rows:
        row.wrapped = wrap(keyring, row.id, plaintexts[row.id], kek_id)
        row.kek_id = kek_id
    plaintexts.clear()
    rewrapped = len(rows)
    _record(session, "keys.kek_rotated", KEK, kek_id, previous_kek=previous, rewrapped=rewrapped)
    session.commit()
    manager.forget()
    return kek_id, len(rows)


def rotate_data(
    session: AnySession, manager: DataKeyManager, *, if_missing: bool = False
) -> tuple[DataKey, bool]:
    """Make a new data key active (with if_missing, keep one that exists); (key, is new)."""
    if if_missing:
        existing = active_data_key(session)
        if existing is not None:
            return existing, False
    previous = active_data_key(session)
    manager.forget()  # wrap under the key file's active KEK as it is now
    row = manager.create_data_key(session, activate=True)
    before = str(previous.id) if previous else None
    _record(session, "keys.data_key_rotated", DATA_KEY, row.id, previous_key=before)
    session.commit()
    manager.forget()
    return row, True


# -- re-encryption --------------------------------------------------------------------------


@dataclass
class _Failures:
    """Values that did not decrypt: the first MAX_REPORTED_FAILURES, and how many in all."""

    failures: list[DecryptionError] = field(default_factory=list)
    failure_count: int = 0

    def failed(self, error: DecryptionError) -> None:
        """Note one more value that did not decrypt."""
        self.failure_count += 1
        if len(self.failures) < MAX_REPORTED_FAILURES:
            self.failures.append(error)


@dataclass
class ReencryptProgress(_Failures):
    """Where a re-encryption run is, passed to `on_batch` after each committed batch."""

    target: uuid.UUID = NO_KEY
    table: str = ""
    batches: int = 0
    rows: int = 0
    moved: int = 0
    changed_meanwhile: int = 0
    restarts: int = 0


def _seal(manager: DataKeyManager, key_id: uuid.UUID, plaintext: bytes, place: _Place) -> bytes:
    # fields.encrypt with an explicit key: the run's target, not the manager's cached active id.
    aead = manager.column_aead(key_id, place[0], place[1])
    return envelope.seal(aead, key_id, plaintext, *place)


def reencrypt_rows(
    session: AnySession,
    manager: DataKeyManager,
    item: EncryptedTable,
    rows: list[sa.Row[Any]],
    progress: ReencryptProgress,
) -> None:
    """Re-encrypt one batch of rows under progress.target and commit."""
    table, target = item.table, progress.target
    updates: dict[str, list[dict[str, Any]]] = {name: [] for name in item.columns}
    for row in rows:
        for index, name in enumerate(item.columns, start=1):
            stored = row[index]
            if stored is None or bytes(stored[1 : envelope.HEADER_LENGTH]) == target.bytes:
                continue
            try:
                plaintext = decrypt_bytes(stored, table.name, name, row.id)
            except DecryptionError as error:
                progress.failed(error)
                continue
            new = _seal(manager, target, plaintext, (table.name, name, row.id))
            updates[name].append({"b_id": row.id, "b_old": bytes(stored), "b_new": new})
    for name, params in updates.items():
        if not params:
            continue
        # Only if the value is still the one read: a write made meanwhile is never undone.
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"), table.c[name] == sa.bindparam("b_old"))
            .values({name: sa.bindparam("b_new")})
        )
        result = session.execute(statement, params)
        moved = result.rowcount if result.rowcount >= 0 else len(params)  # type: ignore[attr-defined]
        progress.moved += moved
        progress.changed_meanwhile += len(params) - moved
    session.commit()
    progress.table = table.name
    progress.batches += 1
    progress.rows += len(rows)


def reencrypt(
    session: AnySession,
    manager: DataKeyManager,
    *,
    batch_size: int = 1000,
    on_batch: Callable[[ReencryptProgress], None] | None = None,
) -> ReencryptProgress:
    """Move every value under another data key to the active one, in committed batches."""
    # Resumable and idempotent: rows already moved are not selected again. A new active key
    # during the run starts it over; values that do not decrypt are skipped and reported.
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    progress = ReencryptProgress()
    while not _reencrypt_pass(session, manager, progress, batch_size, on_batch):
        progress.restarts += 1
    done = progress
    _record(
        session,
        "keys.reencrypted",
        DATA_KEY,
        done.target,
        values_moved=done.moved,
        changed_meanwhile=done.changed_meanwhile,
        failures=done.failure_count,
    )
    session.commit()
    return progress


def _reencrypt_pass(
    session: AnySession,
    manager: DataKeyManager,
    progress: ReencryptProgress,
    batch_size: int,
    on_batch: Callable[[ReencryptProgress], None] | None,
) -> bool:
    """One pass over every table for the active key; False if another key became active."""
    active = active_data_key(session)
    if active is None:
        raise KeyringError("there is no active data key: run `keys rotate --data`")
    progress.target = active.id
    for item in encrypted_tables():
        for rows in item.batches(session, batch_size, item.stale(active.id)):
            if session.scalar(sa.select(DataKey.id).where(DataKey.active_marker == 1)) != active.id:
                session.rollback()
                return False
            reencrypt_rows(session, manager, item, rows, progress)
            if on_batch is not None:
                on_batch(progress)
    return True


# -- verification ---------------------------------------------------------------------------


@dataclass
class VerifyReport(_Failures):
    """What `verify` found: values per data key, failures, data keys that do not unwrap."""

    counts: Counter[KeyId] = field(default_factory=Counter)
    per_column: Counter[tuple[str, str]] = field(default_factory=Counter)
    checked: int = 0
    data_key_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every value decrypted and every data key unwrapped."""
        return self.failure_count == 0 and not self.data_key_errors


def verify(
    session: AnySession,
    manager: DataKeyManager,
    *,
    batch_size: int = 1000,
    on_table: Callable[[str, int], None] | None = None,
) -> VerifyReport:
    """Decrypt every encrypted value, count them per data key, collect what fails; commit."""
    report = VerifyReport()
    keyring = _fresh_keyring(manager)  # the file as it is now, not the manager's copy
    for row in session.scalars(sa.select(DataKey).order_by(DataKey.created_at)):
        try:
            unwrap(keyring, row)
        except KeyringError as error:
            report.data_key_errors.append(str(error))
    session.rollback()
    for item in encrypted_tables():
        checked_before = report.checked
        with write_intent(False):  # read-only transactions, one per batch
            for rows in item.batches(session, batch_size):
                _verify_rows(item, rows, report)
                session.rollback()
        if on_table is not None:
            on_table(item.table.name, report.checked - checked_before)
    _record(
        session,
        "keys.verified",
        None,
        None,
        values_checked=report.checked,
        failures=report.failure_count,
        data_key_errors=len(report.data_key_errors),
        ok=report.ok,
    )
    session.commit()
    return report


def _verify_rows(item: EncryptedTable, rows: list[sa.Row[Any]], report: VerifyReport) -> None:
    table = item.table.name
    for row in rows:
        for index, name in enumerate(item.columns, start=1):
            stored = row[index]
            if stored is None:
                continue
            report.checked += 1
            report.per_column[(table, name)] += 1
            try:
                decrypt_bytes(stored, table, name, row.id)
            except DecryptionError as error:
                report.failed(error)
                continue
            report.counts[key_id_from_prefix(bytes(stored[1 : envelope.HEADER_LENGTH]))] += 1


# -- retirement -----------------------------------------------------------------------------


def retire_data_key(
    session: AnySession,
    manager: DataKeyManager,
    key_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> None:
    """Delete a data key nothing depends on, or raise RetireRefused saying what does."""
    row = session.get(DataKey, key_id)
    if row is None:
        raise RetireRefused(f"data key {key_id} does not exist")
    if row.is_active:
        raise RetireRefused(
            f"data key {key_id} is the active data key: run `keys rotate --data` and"
            " `keys reencrypt` first"
        )
    if row.deactivated_at is not None:
        grace = timedelta(seconds=manager.active_ttl_seconds + RETIRE_MARGIN_SECONDS)
        ready = row.deactivated_at + grace
        if (now or utcnow()) < ready:
            raise RetireRefused(
                f"data key {key_id} was active until {row.deactivated_at:%Y-%m-%d %H:%M:%S}"
                f" UTC and workers may still have written under it: run `keys reencrypt` again"
                f" and retire it after {ready:%H:%M:%S} UTC"
            )
    remaining = total_by_key(count_values_by_key(session))[key_id]
    if remaining:
        raise RetireRefused(
            f"{remaining} stored value(s) are still encrypted under data key {key_id}:"
            " run `keys reencrypt` first"
        )
    kek_id = row.kek_id
    session.delete(row)
    _record(session, "keys.data_key_retired", DATA_KEY, key_id, kek_id=kek_id)
    session.commit()
    manager.forget()


def retire_kek(session: AnySession, manager: DataKeyManager, kek_id: str) -> None:
    """Remove a key-encryption key from the key file when it is not active and wraps nothing."""
    keyring = _fresh_keyring(manager)
    if kek_id not in keyring.key_encryption_keys:
        raise RetireRefused(f"key-encryption key {kek_id!r} is not in the key file {keyring.path}")
    if kek_id == keyring.active_kek_id:
        raise RetireRefused(
            f"key-encryption key {kek_id!r} is the active one: run `keys rotate --kek` first"
        )
    wrapped = session.scalar(
        sa.select(sa.func.count()).select_from(DataKey).where(DataKey.kek_id == kek_id)
    )
    if wrapped:
        raise RetireRefused(
            f"{wrapped} data key(s) are wrapped by key-encryption key {kek_id!r}:"
            " run `keys rotate --kek` first"
        )
    _record(session, "keys.kek_retired", KEK, kek_id)
    del keyring.key_encryption_keys[kek_id]
    keyring_module.save(keyring)
    session.commit()
    manager.forget()
