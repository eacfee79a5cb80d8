"""Benchmark of the crypto layer: field encrypt+decrypt, blind index, `keys reencrypt` throughput.

    .venv/bin/python bench/crypto.py [--values 50000] [--iterations 20000]

Prints figures and asserts nothing. Targets: encrypt+decrypt ≤ 20 µs median with a warm cache;
re-encryption ≥ 5,000 values/s. Runs on a temporary SQLite database and, when
BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test) answers, on a scratch
PostgreSQL database created next to it and dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from config import TestingConfig
from register import create_app
from register.crypto import fields, keyring, rotation
from register.extensions import db
from register.models import Role, User

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
USERS = cast(sa.Table, User.__table__)


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """Median and 95th percentile, in microseconds."""
    ordered = sorted(samples_ns)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) / 1000, p95 / 1000


def timed(function: Callable[[], object], iterations: int) -> list[int]:
    """Nanoseconds per call of `function`, after a warm-up."""
    for _ in range(min(1000, iterations)):
        function()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        start = clock()
        function()
        samples.append(clock() - start)
    return samples


def build_app(directory: Path, database_url: str) -> Flask:
    """An app on `database_url` with a new key file, migrated, with an active data key."""
    keys_file = directory / "keys.json"
    if not keys_file.exists():
        keyring.create_file(keys_file)
    environ = {
        "REGISTER_INSTANCE_PATH": str(directory),
        "TEST_DATABASE_URL": database_url,
        "REGISTER_KEYS_FILE": str(keys_file),
        "MAIL_OUTBOX_DIR": str(directory / "outbox"),
        "LOG_LEVEL": "WARNING",
    }
    app = create_app(TestingConfig(environ))
    with app.app_context():
        flask_migrate.upgrade()
        rotation.rotate_data(db.session, app.extensions["crypto"], if_missing=True)
    return app


def field_figures(app: Flask, iterations: int) -> None:
    """Encrypt+decrypt of one field and the blind index, with a warm key cache."""
    with app.app_context():
        row_id = uuid.uuid4()
        value = "Айгерим Токтогулова, ул. Киевская 96, Бишкек"

        def round_trip() -> None:
            stored = fields.encrypt(value, "users", "full_name_encrypted", row_id)
            fields.decrypt(stored, "users", "full_name_encrypted", row_id)

        def encrypt_only() -> None:
            fields.encrypt(value, "users", "full_name_encrypted", row_id)

        def index() -> None:
            User.email.index_of("Aigerim.Toktogulova@Example.KG")

        for label, function in (
            ("encrypt+decrypt one field", round_trip),
            ("encrypt one field", encrypt_only),
            ("blind index (e-mail)", index),
        ):
            median, p95 = percentiles(timed(function, iterations))
            print(f"  {label:<28} median {median:6.1f} µs   p95 {p95:6.1f} µs")


def populate(app: Flask, values: int) -> None:
    """Insert users with e-mail and name encrypted: `values` values in all, in bulk."""
    with app.app_context():
        rows: list[dict[str, Any]] = []
        for number in range(values // 2):
            user_id = uuid.uuid4()
            email = f"person{number}@example.kg"
            rows.append(
                {
                    "id": user_id,
                    "email_encrypted": fields.encrypt(email, "users", "email_encrypted", user_id),
                    "email_index": User.email.index_of(email),
                    "full_name_encrypted": fields.encrypt(
                        f"Person {number}", "users", "full_name_encrypted", user_id
                    ),
                    "role": Role.HOLDER,
                }
            )
            if len(rows) == 5000:
                db.session.execute(sa.insert(USERS), rows)
                rows.clear()
        if rows:
            db.session.execute(sa.insert(USERS), rows)
        db.session.commit()


def reencrypt_figures(app: Flask, values: int, batch_size: int) -> None:
    """Time `keys reencrypt` of `values` values after `keys rotate --data`."""
    populate(app, values)
    with app.app_context():
        manager = app.extensions["crypto"]
        rotation.rotate_data(db.session, manager)
        start = time.perf_counter()
        progress = rotation.reencrypt(db.session, manager, batch_size=batch_size)
        elapsed = time.perf_counter() - start
        print(
            f"  reencrypt {progress.moved} values in {elapsed:.2f} s (batch {batch_size}):"
            f" {progress.moved / elapsed:,.0f} values/s"
        )
        start = time.perf_counter()
        report = rotation.verify(db.session, manager, batch_size=batch_size)
        elapsed = time.perf_counter() - start
        print(
            f"  verify {report.checked} values in {elapsed:.2f} s:"
            f" {report.checked / elapsed:,.0f} values/s ({report.failure_count} failures)"
        )
        db.session.remove()
        db.engine.dispose()


@contextmanager
def scratch_postgres(url: str) -> Iterator[str | None]:
    """A new empty database next to `url`, dropped afterwards; None when it does not answer."""
    base = make_url(url).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(
        base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"bench_crypto_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL ({base.render_as_string()}) does not answer: {error.orig}")
        admin.dispose()
        yield None
        return
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    """Run every figure on SQLite, then the re-encryption on PostgreSQL when it answers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=50_000)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crypto-") as temporary:
        directory = Path(temporary)
        sqlite_app = build_app(directory, f"sqlite:///{directory / 'bench.sqlite3'}")
        print(f"Crypto layer (Python {sys.version.split()[0]}), {options.iterations} iterations")
        field_figures(sqlite_app, options.iterations)
        print(f"SQLite, {options.values} values")
        reencrypt_figures(sqlite_app, options.values, options.batch_size)
        with scratch_postgres(os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES) as url:
            if url is not None:
                print(f"PostgreSQL, {options.values} values")
                reencrypt_figures(build_app(directory, url), options.values, options.batch_size)


if __name__ == "__main__":
    main()
