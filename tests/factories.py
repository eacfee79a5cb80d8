"""Factories for test data; each object is committed (a savepoint inside the test transaction)."""

from __future__ import annotations

import factory
import pyotp
from factory.alchemy import SQLAlchemyModelFactory

from register.database import utcnow
from register.extensions import db
from register.models import DeliveryStatus, Notification, Role, User
from register.services.passwords import hash_password


class BaseFactory(SQLAlchemyModelFactory):
    """Common settings: the app's session, committed so requests in the test can see the rows."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    """A holder's user unless a role is given."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.kg")
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    role = Role.HOLDER
    locale = "en"
    is_active_account = True


TEST_PASSWORD = "correct horse battery staple"


class StaffFactory(UserFactory):
    """An agency staff member with a password and two-factor enrolled (inspector by default)."""

    role = Role.INSPECTOR
    email = factory.Sequence(lambda n: f"staff{n}@agency.example.kg")
    password_hash = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))
    email_confirmed_at = factory.LazyFunction(utcnow)
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    totp_enrolled_at = factory.LazyFunction(utcnow)


class HolderFactory(UserFactory):
    """A holder's user with a confirmed e-mail address and a password."""

    password_hash = factory.LazyFunction(lambda: hash_password(TEST_PASSWORD))
    email_confirmed_at = factory.LazyFunction(utcnow)


class NotificationFactory(BaseFactory):
    """A message waiting to be e-mailed."""

    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    recipient_id = factory.SelfAttribute("recipient.id")
    kind = "test"
    subject = factory.Sequence(lambda n: f"Message {n}")
    body = "Something happened to your file."
    link = "/inbox/"
    delivery_status = DeliveryStatus.PENDING
    next_attempt_at = factory.LazyFunction(utcnow)
