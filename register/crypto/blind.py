"""Blind indexes: exact-match search on encrypted values without decrypting every row.

index = HMAC-SHA256(key for table.column, normalised value), truncated. The per-column key is
derived with HKDF from the blind-index root key (in the key file, separate from the data keys).
A lookup finds the candidates by index, then decrypts them and compares the plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from register.crypto.envelope import length_prefixed

BLIND_CONTEXT = b"register.blind-index.v1"


def normalise_email(value: str) -> str:
    """E-mail addresses compare trimmed and case-folded."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def normalise_digits(value: str) -> str:
    """PINs and TINs compare as their digits only."""
    return "".join(character for character in value if character.isdigit())


def normalise_text(value: str) -> str:
    """Free text compares NFKC-normalised, trimmed, case-folded, with single spaces."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


NORMALISERS: dict[str, Callable[[str], str]] = {
    "email": normalise_email,
    "digits": normalise_digits,
    "text": normalise_text,
}


@lru_cache(maxsize=256)
def column_key(root_key: bytes, table: str, column: str) -> bytes:
    """The blind-index key of one column (cached: derivation costs more than the HMAC)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=length_prefixed(BLIND_CONTEXT, table.encode(), column.encode()),
    ).derive(root_key)


def blind_index(
    root_key: bytes, table: str, column: str, normalised: str, length_bytes: int
) -> bytes:
    """The truncated HMAC of a normalised value for `table`.`column`."""
    digest = hmac.new(
        column_key(root_key, table, column), normalised.encode(), hashlib.sha256
    ).digest()
    return digest[:length_bytes]
