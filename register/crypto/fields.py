"""Encrypted model attributes: one line in a model, plaintext in Python, ciphertext in the row.

    class User(Model):
        email = Encrypted(blind_index=BlindIndex("email", length_bytes=32, unique=True))

adds the columns `email_encrypted` (the envelope) and `email_index` (the blind index) to the
model. Reading `user.email` decrypts (bound to table, column and the row's id); assigning
encrypts with the active data key. `User.email` on the class is not a column: comparing or
ordering by it fails at once, so LIKE or ORDER BY on an encrypted value cannot be written.
Every Encrypted attribute registers itself in ENCRYPTED_FIELDS, which `keys verify` and
`keys reencrypt` walk, so there is no list to keep up to date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from register.crypto import blind, envelope
from register.crypto.datakeys import DataKeyManager
from register.crypto.errors import DecryptionError, KeyringError

_manager: DataKeyManager | None = None


def set_manager(manager: DataKeyManager | None) -> None:
    """Install the data-key manager the fields use (the app factory does this)."""
    global _manager
    _manager = manager


def manager() -> DataKeyManager:
    """The current app's data-key manager; outside an app context, the one installed last.

    One process may hold several apps (the tests do; a second app on another database must
    not encrypt with the first one's cached active key), so the app in context comes first.
    """
    from flask import current_app, has_app_context

    if has_app_context():
        found = current_app.extensions.get("crypto")
        if isinstance(found, DataKeyManager):
            return found
    if _manager is None:
        raise KeyringError("the crypto layer is not configured (create_app installs it)")
    return _manager


@dataclass(frozen=True)
class BlindIndex:
    """How an encrypted field is indexed for exact-match lookups."""

    normaliser: str  # a key of blind.NORMALISERS
    length_bytes: int
    unique: bool = False

    def normalise(self, value: str) -> str:
        """The value as it is compared."""
        return blind.NORMALISERS[self.normaliser](value)


class Encrypted:
    """A string attribute stored encrypted in `<name>_encrypted` (and indexed in `<name>_index`)."""

    def __init__(self, *, nullable: bool = True, blind_index: BlindIndex | None = None) -> None:
        self.nullable = nullable
        self.blind_index = blind_index
        self.name = ""
        self.column = ""
        self.index_column = ""
        self.owner: type | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column = f"{name}_encrypted"
        self.owner = owner
        setattr(owner, self.column, mapped_column(sa.LargeBinary, nullable=self.nullable))
        if self.blind_index is not None:
            self.index_column = f"{name}_index"
            setattr(
                owner,
                self.index_column,
                mapped_column(
                    sa.LargeBinary(self.blind_index.length_bytes),
                    nullable=self.nullable,
                    index=True,
                    unique=self.blind_index.unique,
                ),
            )
        ENCRYPTED_FIELDS.append(self)

    @property
    def table(self) -> str:
        """The table the attribute's columns are in."""
        return str(getattr(self.owner, "__tablename__", ""))

    @overload
    def __get__(self, instance: None, owner: type) -> Encrypted: ...

    @overload
    def __get__(self, instance: object, owner: type) -> str | None: ...

    def __get__(self, instance: object | None, owner: type) -> Encrypted | str | None:
        if instance is None:
            return self
        stored = getattr(instance, self.column)
        if stored is None:
            return None
        cache = instance.__dict__.setdefault("_plaintexts", {})
        cached = cache.get(self.name)
        if cached is not None and cached[0] == stored:
            return str(cached[1])
        plaintext = decrypt(stored, self.table, self.column, instance.id)  # type: ignore[attr-defined]
        cache[self.name] = (bytes(stored), plaintext)
        return plaintext

    def __set__(self, instance: object, value: str | None) -> None:
        if value is None:
            if not self.nullable:
                raise ValueError(f"{self.name} cannot be empty")
            setattr(instance, self.column, None)
            if self.index_column:
                setattr(instance, self.index_column, None)
            instance.__dict__.setdefault("_plaintexts", {}).pop(self.name, None)
            return
        if not isinstance(value, str):
            raise TypeError(f"{self.name} takes a string")
        row_id = instance.id  # type: ignore[attr-defined]
        if row_id is None:
            raise ValueError("an encrypted value needs the row's id first")
        stored = encrypt(value, self.table, self.column, row_id)
        setattr(instance, self.column, stored)
        if self.blind_index is not None:
            setattr(instance, self.index_column, self.index_of(value))
        instance.__dict__.setdefault("_plaintexts", {})[self.name] = (stored, value)

    def index_of(self, value: str) -> bytes:
        """The blind index of `value` for this field."""
        if self.blind_index is None:
            raise TypeError(f"{self.name} has no blind index")
        return blind.blind_index(
            manager().keyring.blind_index_key,
            self.table,
            self.index_column,
            self.blind_index.normalise(value),
            self.blind_index.length_bytes,
        )

    def matches(self, value: str) -> sa.ColumnElement[bool]:
        """A WHERE clause finding the candidates for `value` (decrypt them and compare)."""
        return getattr(self.owner, self.index_column) == self.index_of(value)

    def equal(self, instance: object, value: str) -> bool:
        """Whether the instance's plaintext equals `value` once both are normalised."""
        current = self.__get__(instance, type(instance))
        if current is None or self.blind_index is None:
            return current == value
        return self.blind_index.normalise(current) == self.blind_index.normalise(value)

    # Comparisons on the class would compare a Python object, not a column: refuse them.
    # Comparing two fields is identity, so that fields can be kept in lists (`in`, `.index`).
    def __eq__(self, other: object) -> Any:
        if isinstance(other, Encrypted):
            return self is other
        raise TypeError(f"{self.name} is encrypted: query it with .matches(value)")

    def __clause_element__(self) -> Any:
        # SQLAlchemy asks for this wherever a column may go (ORDER BY, SELECT, WHERE, func.*),
        # so every such use fails at once instead of with an ArgumentError or a bound object.
        raise TypeError(
            f"{self.name} is encrypted: it is not a column (find rows with .matches(value))"
        )

    def __hash__(self) -> int:
        return id(self)

    def __lt__(self, other: object) -> Any:
        raise TypeError(f"{self.name} is encrypted: it cannot be ordered in SQL")

    def like(self, *args: object) -> Any:
        """Refused: an encrypted value cannot be searched by pattern."""
        raise TypeError(f"{self.name} is encrypted: it cannot be searched with LIKE")

    def asc(self) -> Any:
        """Refused: an encrypted value cannot be ordered in SQL."""
        raise TypeError(f"{self.name} is encrypted: it cannot be ordered in SQL")

    desc = asc


class EncryptedBytes(Encrypted):
    """Bytes (an uploaded document) stored encrypted in `<name>_encrypted`; never cached."""

    def __init__(self, *, nullable: bool = True) -> None:
        super().__init__(nullable=nullable, blind_index=None)

    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        stored = getattr(instance, self.column)
        if stored is None:
            return None
        return decrypt_bytes(stored, self.table, self.column, instance.id)  # type: ignore[attr-defined]

    def __set__(self, instance: object, value: Any) -> None:
        if value is None:
            if not self.nullable:
                raise ValueError(f"{self.name} cannot be empty")
            setattr(instance, self.column, None)
            return
        if not isinstance(value, bytes):
            raise TypeError(f"{self.name} takes bytes")
        row_id = instance.id  # type: ignore[attr-defined]
        setattr(instance, self.column, encrypt_bytes(value, self.table, self.column, row_id))


ENCRYPTED_FIELDS: list[Encrypted] = []


def encrypt(plaintext: str, table: str, column: str, row_id: object) -> bytes:
    """Encrypt a string for `table`.`column` of `row_id` under the active data key."""
    return encrypt_bytes(plaintext.encode(), table, column, row_id)


def encrypt_bytes(plaintext: bytes, table: str, column: str, row_id: object) -> bytes:
    """Encrypt bytes (a document) for `table`.`column` of `row_id` under the active data key."""
    keys = manager()
    key_id = keys.active_key_id()
    aead = keys.column_aead(key_id, table, column)
    return envelope.seal(aead, key_id, plaintext, table, column, row_id)


def decrypt(stored: bytes, table: str, column: str, row_id: object) -> str:
    """Decrypt a stored string, or raise DecryptionError naming table, column, row and key."""
    plaintext = decrypt_bytes(stored, table, column, row_id)
    try:
        return plaintext.decode()
    except UnicodeDecodeError:
        raise DecryptionError("not UTF-8 text", table=table, column=column, row_id=row_id) from None


def decrypt_bytes(stored: bytes, table: str, column: str, row_id: object) -> bytes:
    """Decrypt a stored value to bytes, or raise DecryptionError naming its place and key."""
    try:
        parsed = envelope.parse(stored)
    except envelope.EnvelopeError as exc:
        raise DecryptionError(str(exc), table=table, column=column, row_id=row_id) from None
    try:
        aead = manager().column_aead(parsed.key_id, table, column)
        plaintext = envelope.open_sealed(aead, parsed, table, column, row_id)
    except (envelope.EnvelopeError, KeyringError) as exc:
        raise DecryptionError(
            str(exc), table=table, column=column, row_id=row_id, key_id=parsed.key_id
        ) from None
    return plaintext


def fields_by_table() -> dict[str, list[Encrypted]]:
    """Every encrypted field, grouped by table."""
    grouped: dict[str, list[Encrypted]] = {}
    for field in ENCRYPTED_FIELDS:
        grouped.setdefault(field.table, []).append(field)
    return grouped


Normaliser = Callable[[str], str]
