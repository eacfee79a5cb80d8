"""Signed, expiring tokens for e-mail links (confirmation, password reset, staff invitation), and
random references that people read out (complaint receipts, inspections)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

EMAIL_CONFIRMATION = "email-confirmation"
PASSWORD_RESET = "password-reset"  # noqa: S105 - a salt name, not a secret
STAFF_INVITATION = "staff-invitation"
READABLE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L or U to misread


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"register.{purpose}")


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    """Sign `payload` for one purpose (a token for one purpose is refused for another)."""
    return str(_serializer(purpose).dumps(payload))


def read_token(purpose: str, token: str, max_age_seconds: int) -> dict[str, Any] | None:
    """The payload of a valid, unexpired token of this purpose, else None."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age_seconds)
    except BadSignature:  # includes SignatureExpired
        return None
    return payload if isinstance(payload, dict) else None


def fingerprint(value: str | None) -> str:
    """A short digest of a secret-derived value; a token carrying it dies when the value changes."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


def readable_reference(prefix: str) -> str:
    """A reference like C-7KQ4-M2XD: random, so it tells nobody how many there are."""
    characters = "".join(secrets.choice(READABLE_ALPHABET) for _ in range(8))
    return f"{prefix}-{characters[:4]}-{characters[4:]}"
