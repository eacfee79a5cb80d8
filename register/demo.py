"""Demonstration data for `make run`; every later feature adds its part here. Idempotent."""

from __future__ import annotations

import pyotp
from flask_babel import lazy_gettext as _l

from register.database import utcnow
from register.demo_breaches import seed_breaches, seed_complaints
from register.demo_declarations import seed_declarations
from register.demo_inspections import seed_inspections
from register.demo_organisations import DEMO_HOLDER_EMAIL, seed_organisations
from register.extensions import db
from register.models import Role, User
from register.services import two_factor
from register.services.accounts import find_by_email
from register.services.notifications import notify
from register.services.passwords import hash_password, verify_password

# Demo only: these accounts exist on development machines, never in production (refused there).
DEMO_USERS = [
    ("clerk@demo.example", "Aigerim Clerk", Role.HOLDER, "demo-holder-pass-2026"),
    ("inspector@demo.example", "Bakyt Inspector", Role.INSPECTOR, "demo-inspector-pass-2026"),
    ("supervisor@demo.example", "Cholpon Supervisor", Role.SUPERVISOR, "demo-supervisor-pass-2026"),
    ("admin@demo.example", "Daniyar Admin", Role.ADMIN, "demo-admin-pass-2026"),
]


def _ensure_user(email: str, name: str, role: Role, password: str) -> User:
    user = find_by_email(email)
    if user is None:
        user = User(email=email, full_name=name, role=role, locale="en")
        db.session.add(user)
        db.session.flush()
        notify(
            user,
            "welcome",
            _l("Welcome to the Register of Personal Data Holders"),
            _l("This is your inbox. Messages about your files will appear here."),
            link="/inbox/",
            email=False,
        )
    # Keep the printed sign-ins working even if someone changed them on the demo.
    if not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)
        user.password_changed_at = utcnow()
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    user.is_active_account = True
    user.locked_until = None
    user.failed_sign_ins = 0
    if role.is_staff and not user.two_factor_enrolled:
        user.totp_secret = two_factor.new_secret()
        user.totp_enrolled_at = utcnow()
        two_factor.new_recovery_codes(user)
    return user


def seed() -> str:
    """Create what is missing of the demo and describe what the demo holds."""
    lines = ["Demo sign-ins (development only):"]
    for email, name, role, password in DEMO_USERS:
        user = _ensure_user(email, name, role, password)
        line = f"  {role.value:<10} {email:<26} password {password}"
        if user.totp_secret:
            line += (
                f"  TOTP secret {user.totp_secret} (code now: {pyotp.TOTP(user.totp_secret).now()})"
            )
        lines.append(line)
    db.session.flush()
    lines.append("  Staff: add the TOTP secret to an authenticator app, or compute a code with")
    lines.append("  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('SECRET').now())\"")
    lines.extend(seed_organisations(find_by_email(DEMO_HOLDER_EMAIL)))
    lines.extend(seed_declarations(find_by_email(DEMO_HOLDER_EMAIL)))
    lines.extend(seed_breaches(find_by_email(DEMO_HOLDER_EMAIL)))
    lines.extend(seed_complaints())
    lines.extend(seed_inspections(find_by_email(DEMO_HOLDER_EMAIL)))
    return "\n".join(lines)
