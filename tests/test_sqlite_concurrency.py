"""Two gunicorn workers writing to one SQLite file at once, without "database is locked".

Each request reads and then writes in one transaction: with a deferred BEGIN the read lock
cannot be upgraded once another worker has committed, which is the failure this guards against.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import pytest

from tests.conftest import KEYS_FILE, ON_POSTGRES

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(ON_POSTGRES, reason="SQLite locking: the session runs on PostgreSQL"),
]

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_MODULE = "tests.support.concurrency_app"
WORKERS = 2
THREADS = 8
REQUESTS_PER_THREAD = 25
EMAIL = "writer@example.kg"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environ(instance: Path, database: Path) -> dict[str, str]:
    """The environment of the app's processes: testing config on the SQLite file."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GUNICORN", "FLASK_", "MAIL_")) and key != "WEB_CONCURRENCY"
    }
    url = f"sqlite:///{database}"
    environ.update(
        REGISTER_CONFIG="testing",
        DATABASE_URL=url,
        TEST_DATABASE_URL=url,
        REGISTER_INSTANCE_PATH=str(instance),
        REGISTER_KEYS_FILE=str(KEYS_FILE),
        LOG_LEVEL="INFO",
    )
    return environ


def count_notifications(database: Path) -> int:
    """How many notifications the file holds (read with the standard library)."""
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT count(*) FROM notifications").fetchone()[0])


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A migrated SQLite file with one user; returns (instance folder, database file)."""
    instance = tmp_path_factory.mktemp("concurrency")
    database = instance / "register.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", APP_MODULE, "db", "upgrade"],
        cwd=REPO_ROOT,
        env=server_environ(instance, database),
        check=True,
        capture_output=True,
        timeout=60,
    )
    create_user = (
        "from tests.support.concurrency_app import app\n"
        "from register.extensions import db\n"
        "from register.models import Role, User\n"
        "with app.app_context():\n"
        f"    db.session.add(User(email={EMAIL!r}, full_name='Concurrent Writer',"
        " role=Role.HOLDER))\n"
        "    db.session.commit()\n"
    )
    for command in (
        [sys.executable, "-m", "flask", "--app", APP_MODULE, "keys", "rotate", "--data"],
        [sys.executable, "-c", create_user],
    ):
        subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=server_environ(instance, database),
            check=True,
            capture_output=True,
            timeout=60,
        )
    return instance, database


@pytest.fixture
def gunicorn(sqlite_file: tuple[Path, Path]) -> Iterator[tuple[str, IO[str]]]:
    """A gunicorn with two workers serving the app; yields its base URL and its log file."""
    instance, database = sqlite_file
    port = free_port()
    log_path = instance / f"gunicorn-{port}.log"
    with log_path.open("w+", encoding="utf-8") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn",
                "--workers", str(WORKERS),
                "--bind", f"127.0.0.1:{port}",
                "--graceful-timeout", "5",
                f"{APP_MODULE}:app",
            ],
            cwd=REPO_ROOT,
            env=server_environ(instance, database),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_healthy(base_url, process, log)
            yield base_url, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    """Return once /healthz answers; fail with the server's log if it dies or takes 20 s."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    log.seek(0)
    pytest.fail(f"gunicorn did not answer /healthz within 20 s:\n{log.read()}")


def post_write(base_url: str) -> tuple[int, dict[str, Any]]:
    """POST /_test/write for the test user; return the status and the JSON answer."""
    data = urllib.parse.urlencode({"email": EMAIL}).encode()
    request = urllib.request.Request(f"{base_url}/_test/write", data=data, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - http URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {"error": error.read().decode(errors="replace")[:500]}


def writer(base_url: str) -> list[tuple[int, dict[str, Any]]]:
    """One client thread: REQUESTS_PER_THREAD writes, one after another."""
    return [post_write(base_url) for _ in range(REQUESTS_PER_THREAD)]


def test_two_gunicorn_workers_write_concurrently_without_locking_errors(sqlite_file, gunicorn):
    _, database = sqlite_file
    base_url, log = gunicorn
    before = count_notifications(database)
    total = THREADS * REQUESTS_PER_THREAD

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        batches = list(pool.map(writer, [base_url] * THREADS))

    results = [result for batch in batches for result in batch]
    failures = [result for result in results if result[0] not in (200, 201)]
    assert failures == []
    assert len(results) == total
    assert count_notifications(database) - before == total
    # Each request's read saw every earlier write: the transactions were serialised.
    assert sorted(answer["before"] for _, answer in results) == list(range(before, before + total))
    # Control: both workers took part, on a file in WAL mode (the setting under test).
    assert len({answer["pid"] for _, answer in results}) == WORKERS
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    log.seek(0)
    server_log = log.read()
    assert "database is locked" not in server_log
    assert "Traceback" not in server_log


def test_control_deferred_read_then_write_is_locked_on_this_file(sqlite_file):
    """Without BEGIN IMMEDIATE the same read-then-write fails, so the test above can fail."""
    _, database = sqlite_file
    reader = sqlite3.connect(database, isolation_level=None, timeout=2)
    other = sqlite3.connect(database, isolation_level=None, timeout=2)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM notifications").fetchone()
        other.execute("BEGIN IMMEDIATE")
        # A write that changes nothing may leave the file as it was: change a value.
        other.execute("UPDATE users SET last_seen_at = ?", (str(time.time_ns()),))
        other.execute("COMMIT")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            reader.execute("UPDATE users SET last_seen_at = NULL")
    finally:
        reader.close()
        other.close()
