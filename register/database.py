"""The declarative base, column types, engine tuning and transaction helpers.

Every model has a UUID primary key made by the application before insert.

SQLite runs in WAL mode with a busy timeout and foreign keys on. Python's sqlite3 module is
told to keep its hands off transactions, and SQLAlchemy's "begin" emits BEGIN IMMEDIATE for
work that will write, so that a transaction never has to upgrade a read lock to a write lock
(the upgrade is what fails with "database is locked" when several gunicorn workers share one
file). Requests that only read (GET/HEAD/OPTIONS not marked with `writes_on_get`) begin a
plain deferred transaction and never block each other or the writers.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, Uuid, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

F = TypeVar("F", bound=Callable[..., Any])

# True (the default, used by CLI commands and tests) begins every SQLite transaction with
# BEGIN IMMEDIATE; read-only requests set it to False.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "register_write_intent", default=True
)


def set_write_intent(value: bool) -> contextvars.Token[bool]:
    """Declare whether the transactions begun from now on will write."""
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    """Undo `set_write_intent`."""
    _write_intent.reset(token)


@contextlib.contextmanager
def write_intent(value: bool) -> Iterator[None]:
    """Run a block with the given write intent."""
    token = set_write_intent(value)
    try:
        yield
    finally:
        reset_write_intent(token)


def writes_on_get(view: F) -> F:
    """Mark a view that writes to the database even on GET (e.g. logs who read what)."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Install WAL, busy timeout, foreign keys and BEGIN IMMEDIATE on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) emit BEGIN, so that we choose its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


class Session(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session, honouring an explicit `bind` (tests join a transaction)."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Any | None = None,
        **kwargs: Any,
    ) -> Any:
        """Use the session's own bind when one was configured, else route by bind key."""
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


# Deterministic constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Every model has a UUID `id` assigned in Python when the object is made.

    Ids exist before the row is inserted, because encrypted values are bound to their row's id.
    """

    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), uuid.UUID: Uuid()},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)

    def __init__(self, **kwargs: Any) -> None:
        # The id comes first: encrypted attributes set after it are bound to it.
        self.id = kwargs.pop("id", None) or uuid.uuid4()
        cls = type(self)
        for key, value in kwargs.items():
            if not hasattr(cls, key):
                raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
            setattr(self, key, value)

    def __repr__(self) -> str:
        # Only the class and id: a repr must never carry personal data into a log.
        return f"<{type(self).__name__} {self.id}>"


class TimestampMixin:
    """created_at / updated_at in UTC, set by the application."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Search structures the migrations make by hand, outside the models: SQLite's FTS5 table (and
# its shadow tables) and PostgreSQL's expression index. Autogenerate must neither drop nor add them.
SEARCH_OBJECTS_PREFIX = "register_entries_fts"
SEARCH_INDEX = "ix_register_entries_search_fts"


def include_in_migrations(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name`: leave out the hand-made search structures."""
    if type_ == "table" and name and name.startswith(SEARCH_OBJECTS_PREFIX):
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


def string_enum(enum_class: type[enum.Enum], length: int = 20) -> Enum:
    """An enum column stored as its members' values in a VARCHAR, checked on assignment.

    No native database enum: adding a member then needs no migration of a type.
    """
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [str(member.value) for member in members],
        validate_strings=True,
    )
