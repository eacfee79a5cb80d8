"""The stored form of an encrypted value and its associated data.

    version (1 byte) | data-key id (16 bytes) | nonce (12 bytes) | ciphertext + GCM tag (16 bytes)

The associated data binds a value to its place: a context label, the header (version and key
id), the table, the column and the row's id, each length-prefixed so that no two different
places encode alike. A value copied to another row or column therefore fails to decrypt.
"""

from __future__ import annotations

import os
import struct
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_ID_LENGTH = 16
NONCE_LENGTH = 12
TAG_LENGTH = 16
HEADER_LENGTH = 1 + KEY_ID_LENGTH
MINIMUM_LENGTH = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH
FIELD_CONTEXT = b"register.field.v1"


class EnvelopeError(ValueError):
    """The bytes are not a value of a format this code knows, or they fail authentication."""


def length_prefixed(*parts: bytes) -> bytes:
    """Concatenate parts, each preceded by its 4-byte big-endian length."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def associated_data(header: bytes, table: str, column: str, row_id: object) -> bytes:
    """The associated data of a value stored in `table`.`column` of row `row_id`."""
    return length_prefixed(
        FIELD_CONTEXT, header, table.encode(), column.encode(), str(row_id).encode()
    )


@dataclass(frozen=True)
class Envelope:
    """A parsed stored value."""

    version: int
    key_id: uuid.UUID
    nonce: bytes
    ciphertext: bytes

    @property
    def header(self) -> bytes:
        """Version byte and key id, as stored."""
        return bytes([self.version]) + self.key_id.bytes


def parse(stored: bytes) -> Envelope:
    """Parse a stored value strictly: unknown versions and short values are errors."""
    if not isinstance(stored, bytes | bytearray | memoryview):
        raise EnvelopeError("stored value is not bytes")
    stored = bytes(stored)
    if len(stored) < MINIMUM_LENGTH:
        raise EnvelopeError("stored value is too short")
    if stored[0] != VERSION:
        raise EnvelopeError(f"unknown format version {stored[0]}")
    key_id = uuid.UUID(bytes=stored[1:HEADER_LENGTH])
    nonce = stored[HEADER_LENGTH : HEADER_LENGTH + NONCE_LENGTH]
    return Envelope(VERSION, key_id, nonce, stored[HEADER_LENGTH + NONCE_LENGTH :])


def key_id_of(stored: bytes) -> uuid.UUID:
    """The data-key id in a stored value's header."""
    return parse(stored).key_id


def seal(
    aead: AESGCM, key_id: uuid.UUID, plaintext: bytes, table: str, column: str, row_id: object
) -> bytes:
    """Encrypt `plaintext` for its place with a fresh random nonce."""
    header = bytes([VERSION]) + key_id.bytes
    nonce = os.urandom(NONCE_LENGTH)
    ciphertext = aead.encrypt(nonce, plaintext, associated_data(header, table, column, row_id))
    return header + nonce + ciphertext


def open_sealed(aead: AESGCM, envelope: Envelope, table: str, column: str, row_id: object) -> bytes:
    """Decrypt a parsed value for its place; a wrong place, key or byte fails."""
    try:
        return aead.decrypt(
            envelope.nonce,
            envelope.ciphertext,
            associated_data(envelope.header, table, column, row_id),
        )
    except InvalidTag as exc:
        raise EnvelopeError("authentication failed (wrong key, wrong place or altered)") from exc
