"""Passwords: argon2id hashing (cheap parameters in tests only) and the password policy."""

from __future__ import annotations

import contextlib
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    """The argon2id hasher with this app's parameters."""
    config = current_app.config
    return _hasher(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST_KIB"], config["ARGON2_PARALLELISM"]
    )


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("not a real password, ever")


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; an account without a password costs the same time."""
    config = current_app.config
    if password_hash is None:
        # Spend the same effort as a real check, so timing does not tell accounts apart.
        password_hash = _dummy_hash(
            config["ARGON2_TIME_COST"],
            config["ARGON2_MEMORY_COST_KIB"],
            config["ARGON2_PARALLELISM"],
        )
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher().verify(password_hash, password)
        return False
    try:
        return bool(hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's."""
    return bool(hasher().check_needs_rehash(password_hash))


def password_problems(password: str, email: str) -> list[str]:
    """What is wrong with a new password (empty when it is acceptable)."""
    problems: list[str] = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(str(_l("Password must be at least %(n)d characters long", n=minimum)))
    email = email.strip().casefold()
    local_part = email.split("@", 1)[0]
    folded = password.casefold()
    if email and (email in folded or (len(local_part) >= 4 and local_part in folded)):
        problems.append(str(_l("Password must not contain your e-mail address")))
    return problems
