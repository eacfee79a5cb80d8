"""Encryption at rest: key file, wrapped data keys, the value envelope, blind indexes, fields.

Knows bytes and keys and SQLAlchemy, nothing of Flask views. See README "Encryption at rest".
"""

from register.crypto.errors import CryptoError, DecryptionError, KeyringError

__all__ = ["CryptoError", "DecryptionError", "KeyringError"]
