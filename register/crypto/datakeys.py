"""Data keys: random 256-bit keys stored wrapped by a key-encryption key from the key file.

Exactly one data key is active (encrypts new values); older ones still decrypt what they
encrypted until `keys reencrypt` has moved it. Workers cache the active key's id for a few
seconds, so a key activated by `keys rotate --data` is picked up without a restart.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from register.crypto import keyring as keyring_module
from register.crypto.envelope import length_prefixed
from register.crypto.errors import KeyringError
from register.crypto.keyring import Keyring
from register.database import Base, utcnow

# A plain session or Flask-SQLAlchemy's scoped one: both are used the same way here.
AnySession = Session | scoped_session[Any]

WRAP_CONTEXT = b"register.data-key.v1"
COLUMN_KEY_CONTEXT = b"register.column-key.v1"


class DataKey(Base):
    """A data key, wrapped (AES-GCM) by the key-encryption key named in `kek_id`."""

    __tablename__ = "data_keys"

    wrapped: Mapped[bytes] = mapped_column(sa.LargeBinary(128))
    kek_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(default=None)
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)
    # 1 for the active key, NULL for the others: the unique index allows one active key only.
    active_marker: Mapped[int | None] = mapped_column(default=None, unique=True)

    @property
    def is_active(self) -> bool:
        """Whether new values are encrypted under this key."""
        return self.active_marker == 1


def _wrap_aad(key_id: uuid.UUID, kek_id: str) -> bytes:
    return length_prefixed(WRAP_CONTEXT, key_id.bytes, kek_id.encode())


def wrap(keyring: Keyring, key_id: uuid.UUID, data_key: bytes, kek_id: str | None = None) -> bytes:
    """Encrypt a data key under a key-encryption key (the active one by default)."""
    kek_id = kek_id or keyring.active_kek_id
    nonce = os.urandom(12)
    return nonce + AESGCM(keyring.kek(kek_id)).encrypt(nonce, data_key, _wrap_aad(key_id, kek_id))


def unwrap(keyring: Keyring, row: DataKey) -> bytes:
    """Decrypt a stored data key; a wrong or missing key-encryption key is a KeyringError."""
    from cryptography.exceptions import InvalidTag

    try:
        return AESGCM(keyring.kek(row.kek_id)).decrypt(
            row.wrapped[:12], row.wrapped[12:], _wrap_aad(row.id, row.kek_id)
        )
    except InvalidTag:
        raise KeyringError(
            f"data key {row.id} does not unwrap with key-encryption key {row.kek_id!r}"
        ) from None


def derive_column_aead(data_key: bytes, table: str, column: str) -> AESGCM:
    """The AES-GCM cipher of one column under one data key (HKDF, `info` naming the column)."""
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=length_prefixed(COLUMN_KEY_CONTEXT, table.encode(), column.encode()),
    ).derive(data_key)
    return AESGCM(derived)


class DataKeyManager:
    """Finds, unwraps and caches data keys and the per-column keys derived from them."""

    def __init__(
        self,
        keyring_loader: Callable[[], Keyring],
        session_factory: Callable[[], AnySession],
        active_ttl_seconds: float = 5.0,
    ) -> None:
        self._load_keyring = keyring_loader
        self._keyring: Keyring | None = None
        self._session = session_factory
        self.active_ttl_seconds = active_ttl_seconds
        self._lock = threading.Lock()
        self._data_keys: dict[uuid.UUID, bytes] = {}
        self._column_keys: dict[tuple[uuid.UUID, str, str], AESGCM] = {}
        self._active: tuple[uuid.UUID, float] | None = None

    def __repr__(self) -> str:
        return f"<DataKeyManager {len(self._data_keys)} data key(s) cached>"

    # -- keyring ---------------------------------------------------------------------------

    @property
    def keyring(self) -> Keyring:
        """The key file's keys, loaded on first use (a missing file is a clear error)."""
        if self._keyring is None:
            self._keyring = self._load_keyring()
        return self._keyring

    def reload_keyring_if_changed(self) -> bool:
        """Re-read the key file if it changed on disk (after `keys rotate --kek`)."""
        current = self._keyring
        if current is None:
            return False
        try:
            mtime = current.path.stat().st_mtime
        except OSError:
            return False
        if mtime == current.loaded_mtime:
            return False
        self._keyring = keyring_module.load(current.path)
        return True

    def forget(self) -> None:
        """Drop every cached key (after a rotation in this process, and in tests)."""
        with self._lock:
            self._data_keys.clear()
            self._column_keys.clear()
            self._active = None
        self._keyring = None

    # -- data keys -------------------------------------------------------------------------

    def data_key(self, key_id: uuid.UUID) -> bytes:
        """The plaintext of data key `key_id`; KeyringError naming it when it does not exist."""
        cached = self._data_keys.get(key_id)
        if cached is not None:
            return cached
        session = self._session()
        # No autoflush: a value is often encrypted while its object is half built (not yet
        # added to the session); flushing then would warn and skip it.
        with session.no_autoflush:
            row = session.get(DataKey, key_id)
        if row is None:
            raise KeyringError(f"data key {key_id} does not exist")
        try:
            key = unwrap(self.keyring, row)
        except KeyringError:
            if not self.reload_keyring_if_changed():
                raise
            key = unwrap(self.keyring, row)
        with self._lock:
            self._data_keys[key_id] = key
        return key

    def column_aead(self, key_id: uuid.UUID, table: str, column: str) -> AESGCM:
        """The AES-GCM cipher for one column under one data key (HKDF, cached)."""
        cache_key = (key_id, table, column)
        aead = self._column_keys.get(cache_key)
        if aead is None:
            aead = derive_column_aead(self.data_key(key_id), table, column)
            with self._lock:
                self._column_keys[cache_key] = aead
        return aead

    def active_key_id(self) -> uuid.UUID:
        """The active data key's id, cached for a few seconds.

        Data keys are only ever created by commands (`keys rotate --data`, migrations), which
        commit before anyone else can see the key; so a cached id always names a stored key.
        """
        now = time.monotonic()
        active = self._active
        if active is not None and now - active[1] < self.active_ttl_seconds:
            return active[0]
        session = self._session()
        with session.no_autoflush:  # see data_key(): the object being encrypted may be half built
            key_id = session.scalar(sa.select(DataKey.id).where(DataKey.active_marker == 1))
        if key_id is None:
            raise KeyringError(
                "there is no active data key: run `flask --app register keys rotate --data`"
            )
        self._active = (key_id, now)
        return key_id

    def create_data_key(self, session: AnySession, *, activate: bool) -> DataKey:
        """Make a new random data key, wrapped by the active key-encryption key (flushes)."""
        key_id = uuid.uuid4()
        plaintext = os.urandom(32)
        row = DataKey(
            id=key_id,
            wrapped=wrap(self.keyring, key_id, plaintext),
            kek_id=self.keyring.active_kek_id,
        )
        if activate:
            session.execute(
                sa.update(DataKey)
                .where(DataKey.active_marker == 1)
                .values(active_marker=None, deactivated_at=utcnow())
            )
            row.active_marker = 1
            row.activated_at = utcnow()
        session.add(row)
        session.flush()
        with self._lock:
            self._data_keys[key_id] = plaintext
        self._active = None  # read it again from the database once committed
        return row
