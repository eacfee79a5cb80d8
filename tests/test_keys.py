"""`keys` commands: generate, status, rotate --kek/--data, reencrypt (resumable), verify, retire.

Most tests run on their own migrated database holding 10,000 encrypted values (5,000 users, each
e-mail and name, inserted in bulk) and their own copy of the key file, because the commands
commit and rotate --kek / retire --kek rewrite the file.
"""

from __future__ import annotations

import base64
import os
import queue
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from click.testing import CliRunner as ClickRunner
from flask import Flask

from register.crypto import envelope, fields, keyring, rotation
from register.crypto.datakeys import DataKey, unwrap
from register.database import utcnow
from register.extensions import db as _db
from register.keys_cli import standalone
from register.models import ActivityEntry, Role, User
from register.services import activity
from tests.conftest import KEYS_FILE, ensure_data_key

BASE_DIR = Path(__file__).resolve().parent.parent
USERS = 5000
COLUMNS = ("email_encrypted", "full_name_encrypted")
Written = dict[tuple[uuid.UUID, str], str]


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    """A copy of the suite's key file that this test may change."""
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    ring = keyring.load(KEYS_FILE)
    ring.path = directory / "keys.json"
    keyring.save(ring)
    return ring.path


@pytest.fixture
def keyed_app(
    app: Flask, make_app: Any, scratch_database_url: str, keys_file: Path, db: Any
) -> Iterator[Flask]:
    """An app on its own migrated database and key file; db.session unbound from the test's."""
    application = make_app(
        TEST_DATABASE_URL=scratch_database_url,
        REGISTER_KEYS_FILE=str(keys_file),
        SQLITE_BUSY_TIMEOUT_MS="5000",
    )
    _db.session.remove()
    _db.session.configure(bind=None)
    with application.app_context():
        flask_migrate.upgrade()
        ensure_data_key(application)
    try:
        yield application
    finally:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()
        # make_app installed its own manager for the encrypted fields: put the suite's back.
        fields.set_manager(app.extensions["crypto"])
        app.extensions["crypto"].forget()


def invoke(application: Flask, *args: str) -> Any:
    """Run `flask --app register keys …` in the application."""
    return application.test_cli_runner().invoke(args=["keys", *args])


def populate(users: int = USERS) -> Written:
    """Insert `users` users (e-mail and name encrypted) in one statement; the plaintexts."""
    written: Written = {}
    rows = []
    for number in range(users):
        user_id = uuid.uuid4()
        email, name = f"person{number}@example.kg", f"Person Number {number}"
        written[(user_id, "email_encrypted")] = email
        written[(user_id, "full_name_encrypted")] = name
        rows.append(
            {
                "id": user_id,
                "email_encrypted": fields.encrypt(email, "users", "email_encrypted", user_id),
                "email_index": User.email.index_of(email),
                "full_name_encrypted": fields.encrypt(
                    name, "users", "full_name_encrypted", user_id
                ),
                "role": Role.HOLDER,
            }
        )
    _db.session.execute(sa.insert(User.__table__), rows)
    _db.session.commit()
    return written


def stored() -> dict[tuple[uuid.UUID, str], bytes]:
    """Every stored encrypted value of users, as bytes."""
    table = User.__table__
    values = {}
    for row in _db.session.execute(sa.select(table.c.id, *(table.c[c] for c in COLUMNS))):
        for index, column in enumerate(COLUMNS, start=1):
            values[(row.id, column)] = bytes(row[index])
    return values


def counts_by_key() -> dict[uuid.UUID | None, int]:
    """Stored values per data key, as `keys status` counts them (SQL)."""
    return dict(rotation.total_by_key(rotation.count_values_by_key(_db.session)))


def active_key() -> uuid.UUID:
    """The active data key's id."""
    row = rotation.active_data_key(_db.session)
    assert row is not None
    return row.id


def logged(prefix: str = "keys.") -> list[ActivityEntry]:
    """Activity entries whose action starts with `prefix`, in order."""
    return list(
        _db.session.scalars(
            sa.select(ActivityEntry)
            .where(ActivityEntry.action.startswith(prefix))
            .order_by(ActivityEntry.seq)
        )
    )


def backdate_deactivation(key_id: uuid.UUID) -> None:
    """Pretend the key stopped being active long ago (past the workers' cache lifetime)."""
    row = _db.session.get(DataKey, key_id)
    assert row is not None
    row.deactivated_at = utcnow() - timedelta(hours=1)
    _db.session.commit()


# -- generate ---------------------------------------------------------------------------------


def test_generate_writes_a_new_key_file_and_prints_no_key(runner: Any, tmp_path: Path) -> None:
    out = tmp_path / "production" / "keys.json"
    result = runner.invoke(args=["keys", "generate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    ring = keyring.load(out)
    assert len(ring.key_encryption_keys) == 1
    assert result.output.splitlines() == [
        f"Created {out} (mode 0600).",
        f"Key-encryption key: {ring.active_kek_id}",
    ]
    for key in [*ring.key_encryption_keys.values(), ring.blind_index_key, ring.audit_key]:
        assert base64.b64encode(key).decode() not in result.output
    assert len({ring.active_kek, ring.blind_index_key, ring.audit_key}) == 3

    content = out.read_bytes()
    again = runner.invoke(args=["keys", "generate", "--out", str(out)])
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert out.read_bytes() == content


def test_generate_runs_without_the_application(tmp_path: Path) -> None:
    out = tmp_path / "keys.json"
    result = ClickRunner().invoke(standalone, ["generate", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert keyring.load(out).active_kek_id in result.output
    assert ClickRunner().invoke(standalone, ["generate", "--out", str(out)]).exit_code == 1


def test_rotate_needs_to_know_what(runner: Any) -> None:
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 2
    assert runner.invoke(args=["keys", "rotate", "--kek", "--data"]).exit_code == 2
    assert runner.invoke(args=["keys", "retire"]).exit_code == 2
    assert runner.invoke(args=["keys", "retire", "--data", "not-a-uuid"]).exit_code == 2


def test_commands_name_a_missing_key_file(app: Flask, make_app: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "keys.json"
    application = make_app(REGISTER_KEYS_FILE=str(missing))
    try:
        for args in (["status"], ["verify"], ["rotate", "--kek"], ["retire", "--kek", "k"]):
            result = invoke(application, *args)
            assert result.exit_code == 1, (args, result.output)
            assert f"Error: the key file {missing} does not exist" in result.output
            assert "Traceback" not in result.output
    finally:
        fields.set_manager(app.extensions["crypto"])


# -- rotate --kek -----------------------------------------------------------------------------


def test_rotate_kek_rewraps_the_data_keys_and_touches_no_value(
    keyed_app: Flask, keys_file: Path
) -> None:
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0
    with keyed_app.app_context():
        written = populate()
        before = stored()
        old_ring = keyring.load(keys_file)
        data_keys = list(_db.session.scalars(sa.select(DataKey)))
        assert len(data_keys) == 2
        plaintext_keys = {row.id: unwrap(old_ring, row) for row in data_keys}
        old_wrapped = {row.id: row.wrapped for row in data_keys}
        _db.session.rollback()

    result = invoke(keyed_app, "rotate", "--kek")
    assert result.exit_code == 0, result.output

    ring = keyring.load(keys_file)
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert set(ring.key_encryption_keys) == {old_ring.active_kek_id, ring.active_kek_id}
    assert ring.active_kek_id != old_ring.active_kek_id
    assert ring.active_kek_id in result.output
    assert "2 data key(s) re-wrapped" in result.output
    assert base64.b64encode(ring.active_kek).decode() not in result.output
    assert ring.blind_index_key == old_ring.blind_index_key
    assert ring.audit_key == old_ring.audit_key
    with keyed_app.app_context():
        for row in _db.session.scalars(sa.select(DataKey)):
            assert row.kek_id == ring.active_kek_id
            assert row.wrapped != old_wrapped[row.id]
            assert unwrap(ring, row) == plaintext_keys[row.id]
        assert stored() == before
        keyed_app.extensions["crypto"].forget()
        for (user_id, column), value in list(before.items())[:50]:
            assert fields.decrypt(value, "users", column, user_id) == written[(user_id, column)]
        [entry] = logged("keys.kek")
        assert entry.action == "keys.kek_rotated"
        assert entry.object_id == ring.active_kek_id
        assert entry.details["rewrapped"] == 2
        assert activity.verify(_db.session).ok


# -- rotate --data, reencrypt -----------------------------------------------------------------


def test_reencrypt_killed_half_way_resumes_and_moves_every_value(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        written = populate()
        old_key = active_key()
    result = invoke(keyed_app, "rotate", "--data")
    assert result.exit_code == 0, result.output

    class Killed(Exception):
        pass

    def kill(progress: rotation.ReencryptProgress) -> None:
        raise Killed

    with keyed_app.app_context():
        new_key = active_key()
        assert new_key != old_key and str(new_key) in result.output
        manager = keyed_app.extensions["crypto"]
        with pytest.raises(Killed):
            rotation.reencrypt(_db.session, manager, batch_size=1000, on_batch=kill)
        _db.session.rollback()
        assert counts_by_key() == {new_key: 2000, old_key: 8000}

    status = invoke(keyed_app, "status")
    assert status.exit_code == 0, status.output
    assert f"{new_key}  active" in status.output and "values 2000" in status.output
    assert f"{old_key}  inactive" in status.output and "values 8000" in status.output
    assert "Stored values: 10000" in status.output

    result = invoke(keyed_app, "reencrypt", "--batch-size", "700")
    assert result.exit_code == 0, result.output
    assert f"Re-encrypted 8000 value(s) under data key {new_key}" in result.output
    assert "batch 1," in result.output

    again = invoke(keyed_app, "reencrypt")
    assert again.exit_code == 0, again.output
    assert "Re-encrypted 0 value(s)" in again.output

    with keyed_app.app_context():
        assert counts_by_key() == {new_key: 10000}
        values = stored()
        assert len(values) == len(written) == 10000
        for (user_id, column), value in values.items():
            assert envelope.key_id_of(value) == new_key
            assert fields.decrypt(value, "users", column, user_id) == written[(user_id, column)]
        actions = [(entry.action, entry.details.get("values_moved")) for entry in logged()]
        assert actions == [
            ("keys.data_key_rotated", None),
            ("keys.reencrypted", 8000),
            ("keys.reencrypted", 0),
        ]
        assert activity.verify(_db.session).ok


def test_reencrypt_leaves_a_value_written_meanwhile(
    keyed_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with keyed_app.app_context():
        written = populate(20)
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0
    (victim, column), _ = next(iter(sorted(written.items(), key=lambda item: str(item[0][0]))))
    original = rotation.decrypt_bytes

    def decrypt_while_someone_writes(value: bytes, table: str, name: str, row_id: Any) -> str:
        if (row_id, name) == (victim, column):
            # The same transaction, so this works on SQLite too: as if a request had committed.
            newer = fields.encrypt("changed@example.kg", "users", column, victim)
            users = User.__table__
            _db.session.execute(
                sa.update(users).where(users.c.id == victim).values({column: newer})
            )
        return original(value, table, name, row_id)

    monkeypatch.setattr(rotation, "decrypt_bytes", decrypt_while_someone_writes)
    with keyed_app.app_context():
        progress = rotation.reencrypt(_db.session, keyed_app.extensions["crypto"])
        assert (progress.moved, progress.changed_meanwhile) == (39, 1)
        values = stored()
        assert fields.decrypt(values[(victim, column)], "users", column, victim) == (
            "changed@example.kg"
        )
        assert counts_by_key() == {active_key(): 40}


def test_reencrypt_starts_over_when_another_key_becomes_active(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        written = populate(300)
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0
    manager = keyed_app.extensions["crypto"]
    newest: list[uuid.UUID] = []

    def rotate_once(progress: rotation.ReencryptProgress) -> None:
        if not newest:
            row, _ = rotation.rotate_data(_db.session, manager)
            newest.append(row.id)

    with keyed_app.app_context():
        progress = rotation.reencrypt(_db.session, manager, batch_size=100, on_batch=rotate_once)
        assert progress.restarts == 1
        assert progress.target == newest[0] == active_key()
        assert counts_by_key() == {newest[0]: 600}
        for (user_id, column), value in stored().items():
            assert fields.decrypt(value, "users", column, user_id) == written[(user_id, column)]


def test_reencrypt_skips_and_names_a_value_it_cannot_decrypt(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        populate(200)
        users = User.__table__
        victim = _db.session.scalar(sa.select(users.c.id).order_by(users.c.id).offset(7).limit(1))
        # A value moved from another row: its associated data names the other row.
        other = _db.session.scalar(sa.select(users.c.email_encrypted).where(users.c.id != victim))
        _db.session.execute(
            sa.update(users).where(users.c.id == victim).values(email_encrypted=other)
        )
        _db.session.commit()
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0

    result = invoke(keyed_app, "reencrypt", "--batch-size", "50")
    assert result.exit_code == 1
    assert f"FAILED users.email_encrypted row {victim}" in result.output
    assert "Re-encrypted 399 value(s)" in result.output
    with keyed_app.app_context():
        assert sorted(counts_by_key().values()) == [1, 399]
        [entry] = logged("keys.reencrypted")
        assert entry.details["failures"] == 1


def test_rotate_data_if_missing_keeps_the_active_key(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        key = active_key()
    result = invoke(keyed_app, "rotate", "--data", "--if-missing")
    assert result.exit_code == 0, result.output
    assert f"Active data key {key} kept." in result.output
    with keyed_app.app_context():
        assert active_key() == key
        assert logged() == []


# -- verify -----------------------------------------------------------------------------------


def test_verify_counts_per_key_and_names_a_corrupted_value(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        populate()
        old_key = active_key()
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0
    with keyed_app.app_context():
        new_key = active_key()

        def stop(progress: rotation.ReencryptProgress) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            rotation.reencrypt(
                _db.session, keyed_app.extensions["crypto"], batch_size=500, on_batch=stop
            )
        _db.session.rollback()

    result = invoke(keyed_app, "verify")
    assert result.exit_code == 0, result.output
    assert f"data key {new_key}: 1000 value(s)" in result.output
    assert f"data key {old_key}: 9000 value(s)" in result.output
    assert "users.email_encrypted: 5000" in result.output
    assert "Checked 10000 value(s); 0 failure(s)." in result.output

    users = User.__table__
    with keyed_app.app_context():
        row = _db.session.execute(
            sa.select(users.c.id, users.c.full_name_encrypted)
            .order_by(users.c.id)
            .offset(1234)
            .limit(1)
        ).one()
        damaged = bytearray(row.full_name_encrypted)
        damaged[-3] ^= 0x01
        _db.session.execute(
            sa.update(users).where(users.c.id == row.id).values(full_name_encrypted=bytes(damaged))
        )
        _db.session.commit()
        damaged_key = envelope.key_id_of(bytes(damaged))

    result = invoke(keyed_app, "verify")
    assert result.exit_code == 1
    assert f"FAILED users.full_name_encrypted row {row.id} (data key {damaged_key})" in (
        result.output
    )
    assert "Checked 10000 value(s); 1 failure(s)." in result.output
    with keyed_app.app_context():
        entries = logged("keys.verified")
        assert [entry.details["failures"] for entry in entries] == [0, 1]
        assert [entry.details["ok"] for entry in entries] == [True, False]


def test_verify_fails_when_a_data_key_does_not_unwrap(keyed_app: Flask, keys_file: Path) -> None:
    with keyed_app.app_context():
        populate(10)
    # The key file loses the KEK that wraps the data key (say, a wrong file was deployed).
    ring = keyring.load(keys_file)
    lost = ring.active_kek_id
    ring.key_encryption_keys = {"kek-other": keyring.new_key()}
    ring.active_kek_id = "kek-other"
    keyring.save(ring)
    keyed_app.extensions["crypto"].forget()

    result = invoke(keyed_app, "verify")
    assert result.exit_code == 1
    assert f"key-encryption key {lost!r} is not in the key file" in result.output
    assert "FAILED users.email_encrypted row" in result.output
    status = invoke(keyed_app, "status")
    assert status.exit_code == 0, status.output
    assert "KEK NOT IN THE KEY FILE" in status.output


# -- retire -----------------------------------------------------------------------------------


def test_retire_data_key_refused_while_values_depend_on_it(keyed_app: Flask) -> None:
    with keyed_app.app_context():
        written = populate()
        old_key = active_key()
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0
    with keyed_app.app_context():
        new_key = active_key()

    just_now = invoke(keyed_app, "retire", "--data", str(old_key))
    assert just_now.exit_code == 1
    assert "workers may still have written under it" in just_now.output

    with keyed_app.app_context():
        backdate_deactivation(old_key)
    refused = invoke(keyed_app, "retire", "--data", str(old_key))
    assert refused.exit_code == 1
    assert f"10000 stored value(s) are still encrypted under data key {old_key}" in refused.output

    active = invoke(keyed_app, "retire", "--data", str(new_key))
    assert active.exit_code == 1
    assert "is the active data key" in active.output
    unknown = invoke(keyed_app, "retire", "--data", str(uuid.uuid4()))
    assert unknown.exit_code == 1 and "does not exist" in unknown.output

    assert invoke(keyed_app, "reencrypt").exit_code == 0
    retired = invoke(keyed_app, "retire", "--data", str(old_key))
    assert retired.exit_code == 0, retired.output

    with keyed_app.app_context():
        assert _db.session.get(DataKey, old_key) is None
        assert [entry.object_id for entry in logged("keys.data_key_retired")] == [str(old_key)]
        values = stored()
        for (user_id, column), value in list(values.items())[:100]:
            assert fields.decrypt(value, "users", column, user_id) == written[(user_id, column)]
    assert invoke(keyed_app, "verify").exit_code == 0


def test_retire_kek_refused_while_a_data_key_is_wrapped_by_it(
    keyed_app: Flask, keys_file: Path
) -> None:
    with keyed_app.app_context():
        populate(50)
    first = keyring.load(keys_file).active_kek_id
    refused = invoke(keyed_app, "retire", "--kek", first)
    assert refused.exit_code == 1 and "is the active one" in refused.output

    # A second KEK made active in the file without re-wrapping (as if rotate --kek had been
    # killed after saving the file): the first one still wraps the data key.
    ring = keyring.load(keys_file)
    second = "kek-test-second"
    ring.key_encryption_keys[second] = keyring.new_key()
    ring.active_kek_id = second
    keyring.save(ring)
    refused = invoke(keyed_app, "retire", "--kek", first)
    assert refused.exit_code == 1
    assert f"1 data key(s) are wrapped by key-encryption key {first!r}" in refused.output
    assert first in keyring.load(keys_file).key_encryption_keys

    assert invoke(keyed_app, "rotate", "--kek").exit_code == 0
    third = keyring.load(keys_file).active_kek_id
    for kek_id in (first, second):
        result = invoke(keyed_app, "retire", "--kek", kek_id)
        assert result.exit_code == 0, result.output
    assert set(keyring.load(keys_file).key_encryption_keys) == {third}
    assert invoke(keyed_app, "retire", "--kek", "kek-nonexistent").exit_code == 1
    assert invoke(keyed_app, "verify").exit_code == 0
    with keyed_app.app_context():
        assert [entry.object_id for entry in logged("keys.kek_retired")] == [first, second]
        assert activity.verify(_db.session).ok


def test_a_worker_that_read_the_old_key_file_unwraps_keys_under_a_new_kek(
    keyed_app: Flask, make_app: Any, scratch_database_url: str, keys_file: Path
) -> None:
    worker = make_app(
        TEST_DATABASE_URL=scratch_database_url,
        REGISTER_KEYS_FILE=str(keys_file),
        CRYPTO_ACTIVE_KEY_TTL_SECONDS="0",
    )
    with worker.app_context():
        fields.encrypt("probe", "users", "email_encrypted", uuid.uuid4())  # reads the key file
        _db.session.remove()
    assert invoke(keyed_app, "rotate", "--kek").exit_code == 0
    assert invoke(keyed_app, "rotate", "--data").exit_code == 0
    with keyed_app.app_context():
        new_key = active_key()
    assert len(worker.extensions["crypto"].keyring.key_encryption_keys) == 1  # still the old file
    with worker.app_context():
        row_id = uuid.uuid4()
        value = fields.encrypt("probe", "users", "email_encrypted", row_id)
        assert envelope.key_id_of(value) == new_key
        assert fields.decrypt(value, "users", "email_encrypted", row_id) == "probe"
        assert worker.extensions["crypto"].keyring.active_kek_id == (
            keyring.load(keys_file).active_kek_id
        )
        _db.session.remove()
        _db.engine.dispose()


# -- a running worker -------------------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys, time, uuid
    from register import create_app
    from register.crypto import envelope, fields

    app = create_app()
    deadline = time.monotonic() + float(sys.argv[1])
    while time.monotonic() < deadline:
        with app.app_context():  # one "request": its session ends with the context
            value = fields.encrypt("probe", "users", "email_encrypted", uuid.uuid4())
        print(envelope.key_id_of(value), flush=True)
        time.sleep(0.1)
    """
)


@pytest.mark.slow
def test_a_running_worker_picks_up_a_new_data_key(
    keyed_app: Flask, keys_file: Path, scratch_database_url: str, tmp_path: Path
) -> None:
    with keyed_app.app_context():
        old_key = active_key()
    environ = {
        **os.environ,
        "REGISTER_CONFIG": "testing",
        "TEST_DATABASE_URL": scratch_database_url,
        "REGISTER_INSTANCE_PATH": str(tmp_path / "worker"),
        "REGISTER_KEYS_FILE": str(keys_file),
        "CRYPTO_ACTIVE_KEY_TTL_SECONDS": "0.2",
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, "10"],
        cwd=BASE_DIR,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert worker.stdout is not None
        for line in worker.stdout:
            lines.put(line.strip())

    threading.Thread(target=read, daemon=True).start()

    def next_key(timeout: float) -> uuid.UUID:
        while True:
            try:
                return uuid.UUID(lines.get(timeout=timeout))
            except ValueError:
                continue

    try:
        assert next_key(timeout=8) == old_key
        result = invoke(keyed_app, "rotate", "--data")
        assert result.exit_code == 0, result.output
        with keyed_app.app_context():
            new_key = active_key()
        seen = [next_key(timeout=2) for _ in range(8)]
        assert seen[-1] == new_key, seen
        switched = seen.index(new_key)
        assert set(seen[:switched]) <= {old_key}
        assert set(seen[switched:]) == {new_key}
    finally:
        worker.kill()
        worker.wait(timeout=5)
