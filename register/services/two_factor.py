"""Two-factor sign-in for agency staff: TOTP (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa

from register.database import utcnow
from register.extensions import db
from register.models import RecoveryCode, User

ISSUER = "Personal Data Register"
RECOVERY_CODE_COUNT = 10
VALID_WINDOW = 1  # accept the previous and the next 30-second step (clock drift)


def new_secret() -> str:
    """A fresh random base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an SVG document (drawn on the server, no script)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#0b0c0c", light="#ffffff"))


def _matching_timestep(secret: str, code: str, now: float) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_code(user: User, code: str, now: float | None = None) -> bool:
    """Check a TOTP code; each code (time step) is accepted once only."""
    if not user.totp_secret:
        return False
    step = _matching_timestep(user.totp_secret, code, time.time() if now is None else now)
    if step is None:
        return False
    if user.totp_last_timestep is not None and step <= user.totp_last_timestep:
        return False  # a replayed (or older) code
    user.totp_last_timestep = step
    db.session.flush()
    return True


def confirm_enrolment(user: User, secret: str, code: str, now: float | None = None) -> bool:
    """Store the secret if `code` proves the authenticator holds it."""
    step = _matching_timestep(secret, code, time.time() if now is None else now)
    if step is None:
        return False
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    user.totp_last_timestep = step
    db.session.flush()
    return True


def _hash_code(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with 10 new ones; the plain codes are shown once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, single use
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(code)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code once, marking it used."""
    if not code.strip():
        return False
    recovery = db.session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is None:
        return False
    recovery.used_at = utcnow()
    db.session.flush()
    return True


def remaining_recovery_codes(user: User) -> int:
    """How many recovery codes the user has left."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def reset(user: User) -> None:
    """Forget the user's second factor: they enrol again at the next sign-in."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_timestep = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
