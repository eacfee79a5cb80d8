"""Fixtures: `app`, `db` (each test in a transaction rolled back afterwards), `client`,
`runner`, `auth`, `make_app` (a separate app for tests that change settings) and query counting.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set; the schema
is built by the migrations, not by create_all, so the migrations are what the tests exercise.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.engine import make_url

from config import TestingConfig
from register import create_app
from register.crypto import keyring
from register.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

# One key file for the whole run (test apps share it), outside the repository, mode 0600.
KEYS_DIR = Path(tempfile.mkdtemp(prefix="register-test-keys-"))
KEYS_FILE = KEYS_DIR / "keys.json"
keyring.create_file(KEYS_FILE)
atexit.register(shutil.rmtree, KEYS_DIR, True)
ON_POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgres"))


def make_environ(instance_path: Path, **settings: str) -> dict[str, str]:
    """The environment a test app is built from: only what the test says, never the shell's."""
    environ = {
        "REGISTER_INSTANCE_PATH": str(instance_path),
        "MAIL_OUTBOX_DIR": str(instance_path / "outbox"),
        "REGISTER_KEYS_FILE": str(KEYS_FILE),
        "LOG_LEVEL": "INFO",
    }
    if TEST_DATABASE_URL:
        environ["TEST_DATABASE_URL"] = TEST_DATABASE_URL
    environ.update(settings)
    return environ


def reset_database(engine: sa.Engine) -> None:
    """Start from an empty database (PostgreSQL keeps its schema between runs)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    else:
        _db.drop_all()
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def ensure_data_key(application: Flask) -> None:
    """Give a freshly migrated database its first active data key, as `make run` does."""
    from register.crypto.datakeys import DataKey

    if _db.session.scalar(sa.select(DataKey.id).where(DataKey.active_marker == 1)) is None:
        application.extensions["crypto"].create_data_key(_db.session, activate=True)
        _db.session.commit()


class Client(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production.

    Without this, requests would share the test's app context, and with it `g` (Flask-Login
    caches the signed-in user there) and the database session.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Make the request outside the test's app context."""
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        """A valid CSRF token for this client's session, as a form page would embed it."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return str(serializer.dumps(raw))

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form with a valid CSRF token added."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=payload, **kwargs)


class CliRunner(FlaskCliRunner):
    """Runs a command in the runner's own app, outside the test's app context."""

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """Invoke the command as `flask --app register …` would."""
        return contextvars.Context().run(super().invoke, *args, **kwargs)


def _use_test_classes(application: Flask) -> Flask:
    application.test_client_class = Client
    application.test_cli_runner_class = CliRunner
    return application


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The application, with a freshly migrated database, shared by the session's tests."""
    instance_path = tmp_path_factory.mktemp("instance")
    application = _use_test_classes(create_app(TestingConfig(make_environ(instance_path))))
    with application.app_context():
        reset_database(_db.engine)
        flask_migrate.upgrade()
        ensure_data_key(application)
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def db(app: Flask) -> Iterator[Any]:
    """The database, inside a transaction that is rolled back after the test.

    Commits by the code under test become savepoint releases, so they are visible to the
    test's requests (same connection) and undone afterwards.
    """
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        _db.session.remove()
        _db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session.configure(bind=None)
            if transaction.is_active:
                transaction.rollback()
            connection.close()


@pytest.fixture(autouse=True)
def rate_limits(app: Flask) -> Iterator[None]:
    """Each test starts with empty rate-limit counters, in the session app's storage.

    The limiter is one object per process, as in production; a test app built with other
    settings (`make_app`) re-initialises it, so its storage is put back afterwards.
    """
    from register.extensions import limiter

    storage, strategy_limiter = limiter._storage, limiter._limiter
    limiter.reset()
    yield
    limiter._storage, limiter._limiter = storage, strategy_limiter
    limiter.reset()


@pytest.fixture
def client(app: Flask) -> Client:
    """A browser-like client (cookies kept, CSRF token helper)."""
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    """Runs `flask --app register …` commands in-process."""
    return app.test_cli_runner()


class Auth:
    """Signs a test client in: `login` sets the session directly, `sign_in` uses the form."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def login(self, user: Any) -> None:
        """Make the client's session that of `user` (past the second factor, for staff)."""
        with self.client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session["last_active"] = int(time.time())

    def sign_in(self, email: str, password: str, **extra: str) -> Any:
        """Sign in through the real form (the password step only, for staff)."""
        return self.client.post_form(
            "/auth/sign-in", {"email": email, "password": password, **extra}
        )

    def logout(self) -> None:
        """Forget the signed-in user."""
        with self.client.session_transaction() as session:
            session.pop("_user_id", None)


@pytest.fixture
def auth(client: Client) -> Auth:
    """Sign the `client` in and out."""
    return Auth(client)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """Build a separate app with extra settings (its database is the session's unless given)."""

    def factory(config_class: type[TestingConfig] = TestingConfig, **settings: str) -> Flask:
        return _use_test_classes(create_app(config_class(make_environ(tmp_path, **settings))))

    return factory


@contextmanager
def count_queries(engine: sa.Engine) -> Iterator[list[str]]:
    """Collect the SQL statements run on `engine` inside the block (for N+1 checks)."""
    statements: list[str] = []

    def before_cursor_execute(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before_cursor_execute)


@pytest.fixture
def query_counter(app: Flask) -> Callable[[], Any]:
    """`with query_counter() as statements:` counts the queries of the block."""
    return lambda: count_queries(_db.engine)


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind, dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    assert TEST_DATABASE_URL
    base = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg")
    name = f"test_migrations_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def scratch_app(make_app, scratch_database_url, db):
    """An app on its own migrated database, with db.session not joined to the test transaction."""
    # A short busy timeout: a write that waits for another connection's lock fails fast.
    app = make_app(TEST_DATABASE_URL=scratch_database_url, SQLITE_BUSY_TIMEOUT_MS="2000")
    db.session.remove()
    db.session.configure(bind=None)
    with app.app_context():
        flask_migrate.upgrade()
        ensure_data_key(app)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
