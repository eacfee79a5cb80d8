"""Demonstration data for `make run`; every later feature adds its part here. Idempotent."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.models import Role, User
from register.services.notifications import notify

DEMO_USERS = [
    ("clerk@demo.example", "Aigerim Clerk", Role.HOLDER),
    ("inspector@demo.example", "Bakyt Inspector", Role.INSPECTOR),
    ("supervisor@demo.example", "Cholpon Supervisor", Role.SUPERVISOR),
    ("admin@demo.example", "Daniyar Admin", Role.ADMIN),
]


def seed() -> str:
    """Create what is missing of the demo and describe what the demo holds."""
    lines = ["Demo data:"]
    for email, name, role in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
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
        lines.append(f"  {role.value:<10} {email}")
    lines.append("  (signing in arrives with the accounts feature)")
    return "\n".join(lines)
