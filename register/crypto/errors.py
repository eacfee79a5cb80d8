"""The crypto layer's errors: each names what failed, never a plaintext or a key."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of the crypto layer's errors."""


class KeyringError(CryptoError):
    """The key file is missing, unreadable or incomplete; the message names what and where."""


class DecryptionError(CryptoError):
    """A stored value could not be decrypted: wrong or missing key, moved, tampered or unknown."""

    def __init__(
        self,
        reason: str,
        *,
        table: str,
        column: str,
        row_id: object,
        key_id: object = None,
    ) -> None:
        self.reason = reason
        self.table = table
        self.column = column
        self.row_id = str(row_id)
        self.key_id = None if key_id is None else str(key_id)
        super().__init__(
            f"cannot decrypt {table}.{column} of row {self.row_id}"
            f" (data key {self.key_id or 'unknown'}): {reason}"
        )
