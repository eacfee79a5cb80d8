"""Encryption at rest (DESIGN.md §4): round trips, storage, tampering, keys, blind indexes, logs.

Every encrypted attribute registers itself in ENCRYPTED_FIELDS, so a new one is round-tripped
here without editing this file (its model needs a factory in tests/factories.py).
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import os
import re
import shutil
import subprocess
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import factory.alchemy
import flask_migrate
import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from register.crypto import blind, envelope, keyring
from register.crypto.datakeys import DataKey, DataKeyManager
from register.crypto.errors import DecryptionError, KeyringError
from register.crypto.fields import (
    ENCRYPTED_FIELDS,
    BlindIndex,
    Encrypted,
    EncryptedBytes,
    decrypt,
    encrypt,
    manager,
    set_manager,
)
from register.models import ActivityEntry, Notification, User
from register.services import tokens
from register.services.accounts import find_by_email
from tests import factories
from tests.conftest import KEYS_FILE, ON_POSTGRES, ensure_data_key
from tests.factories import TEST_PASSWORD, HolderFactory, StaffFactory, UserFactory

GOOD_PASSWORD = "a long and unusual passphrase"
# Kyrgyz letters (өүң) in both cases, and characters outside the Basic Multilingual Plane.
UNICODE_VALUE = "Айгүл Өмүрбекова — ңүө ҢҮӨ 🙂🇰🇬"
FIELD_IDS = [f"{field.table}.{field.name}" for field in ENCRYPTED_FIELDS]


@pytest.fixture(autouse=True)
def crypto_manager(app):
    """The session app's data-key manager, with empty caches, before and after each test.

    It is also installed as the process-wide fallback (fields.set_manager), which the last app
    built (make_app) would otherwise have replaced.
    """
    keys = app.extensions["crypto"]
    set_manager(keys)
    keys.forget()
    yield keys
    set_manager(keys)
    keys.forget()


def active_key_id(db) -> uuid.UUID:
    """The active data key's id, read from the database (not from the manager's cache)."""
    key_id = db.session.scalar(sa.select(DataKey.id).where(DataKey.active_marker == 1))
    assert key_id is not None
    return key_id


def stored(db, model, column: str, row_id) -> bytes:
    """The raw bytes of `column` of a row, read with Core (no descriptor, no cache)."""
    table = model.__table__
    value = db.session.execute(sa.select(table.c[column]).where(table.c.id == row_id)).scalar_one()
    return bytes(value) if value is not None else None


def overwrite(db, model, row_id, **values) -> None:
    """Write raw column values with Core, as someone with database access could."""
    table = model.__table__
    db.session.execute(sa.update(table).where(table.c.id == row_id).values(**values))
    db.session.commit()


def fresh(db, model, row_id):
    """A new instance of the row (nothing decrypted yet, no plaintext cached)."""
    db.session.expunge_all()
    instance = db.session.get(model, row_id)
    assert instance is not None
    return instance


def sign_up(client, email: str, name: str, password: str = GOOD_PASSWORD):
    response = client.post_form(
        "/auth/sign-up",
        {"full_name": name, "email": email, "password": password, "password_confirm": password},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] == "/auth/check-email"
    return response


def factory_for(model) -> type | None:
    """The factory in tests/factories.py that makes `model` (the most basic one), if any."""
    found = [
        candidate
        for _, candidate in inspect.getmembers(factories, inspect.isclass)
        if issubclass(candidate, factory.alchemy.SQLAlchemyModelFactory)
        and candidate._meta.model is model
    ]
    return min(found, key=lambda candidate: len(candidate.__mro__), default=None)


# -- round trip -------------------------------------------------------------------------------


def test_every_encrypted_field_is_found():
    assert {"users.email", "users.full_name", "users.totp_secret"} <= set(FIELD_IDS)


@pytest.mark.parametrize("field", ENCRYPTED_FIELDS, ids=FIELD_IDS)
def test_round_trip_of_every_encrypted_field(db, field):
    owner = field.owner
    maker = factory_for(owner)
    if maker is None:
        pytest.skip(
            f"no factory in tests/factories.py makes {owner.__name__} ({field.table}): "
            f"add one so that {field.table}.{field.name} is round-tripped here"
        )
    instance = maker()
    text = f"{UNICODE_VALUE} {field.name} {uuid.uuid4().hex}"
    value: str | bytes = text.encode() if isinstance(field, EncryptedBytes) else text
    plain = value if isinstance(value, bytes) else value.encode()
    setattr(instance, field.name, value)
    db.session.commit()
    db.session.expire_all()
    assert getattr(instance, field.name) == value

    again = fresh(db, owner, instance.id)
    assert getattr(again, field.name) == value  # decrypted anew, not from a cache

    raw = stored(db, owner, field.column, instance.id)
    assert isinstance(raw, bytes)
    assert raw[0] == envelope.VERSION == 1
    assert raw[1 : envelope.HEADER_LENGTH] == active_key_id(db).bytes
    assert plain not in raw
    assert len(raw) == envelope.MINIMUM_LENGTH + len(plain)
    if field.blind_index is not None:
        index = stored(db, owner, field.index_column, instance.id)
        assert index == field.index_of(value)
        assert len(index) == field.blind_index.length_bytes

    # A fresh random nonce every time: the same value never encrypts alike.
    setattr(again, field.name, value)
    db.session.commit()
    assert stored(db, owner, field.column, instance.id) != raw
    assert getattr(fresh(db, owner, instance.id), field.name) == value


def test_round_trip_through_another_manager_and_another_app(db, make_app, app, monkeypatch):
    user = UserFactory(full_name=UNICODE_VALUE)
    sealed = encrypt("экинчи воркерге ңүө 🙂", "users", "full_name_encrypted", user.id)

    loads = []

    def load_keys():
        loads.append(KEYS_FILE)
        return keyring.load(KEYS_FILE)

    other = DataKeyManager(load_keys, lambda: db.session)
    monkeypatch.setitem(app.extensions, "crypto", other)  # as in another worker process
    assert manager() is other
    assert decrypt(sealed, "users", "full_name_encrypted", user.id) == "экинчи воркерге ңүө 🙂"
    assert loads == [KEYS_FILE]  # it unwrapped the data key itself, from the key file
    assert fresh(db, User, user.id).full_name == UNICODE_VALUE
    # ...and what it encrypts, the first manager decrypts.
    back = encrypt("обратно", "users", "email_encrypted", user.id)
    monkeypatch.undo()
    assert manager() is not other
    assert decrypt(back, "users", "email_encrypted", user.id) == "обратно"

    second = make_app()
    with second.app_context():
        assert manager() is second.extensions["crypto"] is not app.extensions["crypto"]
        assert fresh(db, User, user.id).full_name == UNICODE_VALUE


def test_each_app_encrypts_with_its_own_manager(app, make_app):
    """An app built later (on another database, say) must not take over the first app's fields:
    its manager caches the active key id of its own database."""
    second = make_app()  # create_app also installs its manager as the process-wide fallback
    assert manager() is app.extensions["crypto"]
    with second.app_context():
        assert manager() is second.extensions["crypto"]
    assert manager() is app.extensions["crypto"]


# -- nothing in storage -----------------------------------------------------------------------


def _sentinels(*values: str) -> list[bytes]:
    forms = set()
    for value in values:
        forms.update({value, value.casefold(), value.strip().casefold()})
    return [form.encode() for form in forms]


def _dump_postgres(url: str) -> bytes:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    parsed = make_url(url)
    environ = dict(os.environ)
    if parsed.password:
        environ["PGPASSWORD"] = str(parsed.password)
    command = [pg_dump, "--data-only", "-h", parsed.host or "127.0.0.1", "-d", parsed.database]
    command += ["-p", str(parsed.port or 5432), "-U", parsed.username or "postgres"]
    result = subprocess.run(command, capture_output=True, env=environ, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def _sqlite_files(url: str) -> bytes:
    path = Path(make_url(url).database)
    data = path.read_bytes()
    wal = Path(f"{path}-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data


def _assert_only_ciphertext(
    db, url: str, forbidden: list[bytes], ciphertexts: list[bytes | None]
) -> None:
    """No sentinel in the stored database (SQLite file and WAL, or pg_dump), each ciphertext is."""
    if ON_POSTGRES:
        dumps = [_dump_postgres(url)]
    else:
        dumps = [_sqlite_files(url)]  # committed: in the WAL
        db.engine.dispose()  # closing checkpoints the WAL into the database file
        dumps.append(_sqlite_files(url))
    for dump in dumps:
        assert [sentinel.decode() for sentinel in forbidden if sentinel in dump] == []
        for ciphertext in ciphertexts:
            assert ciphertext is not None
            # The write happened: each ciphertext is there (bytea is dumped as hex).
            assert (ciphertext.hex().encode() if ON_POSTGRES else ciphertext) in dump


def test_sentinels_never_reach_the_database(make_app, scratch_database_url, db):
    marker = uuid.uuid4().hex[:12]
    holder_email = f"Sentinel.Өмүр.{marker}@Example.KG"
    holder_name = f"Сентинел Ңүөбек {marker} 🙂"
    staff_email = f"Staff.Sentinel.{marker}@Agency.Example.KG"
    staff_name = f"Инспектор Үңөр {marker}"

    scratch = make_app(TEST_DATABASE_URL=scratch_database_url)
    # This app must really commit to its own database, not to the test's transaction.
    db.session.remove()
    db.session.configure(bind=None)
    try:
        with scratch.app_context():
            flask_migrate.upgrade()
            ensure_data_key(scratch)
            StaffFactory(
                email=staff_email.casefold(),
                full_name=staff_name,
                totp_secret=None,
                totp_enrolled_at=None,
            )

        client = scratch.test_client()
        sign_up(client, holder_email, holder_name)

        # The staff member's TOTP secret is stored by the app's own enrolment.
        staff = scratch.test_client()
        step = staff.post_form("/auth/sign-in", {"email": staff_email, "password": TEST_PASSWORD})
        assert step.headers["Location"] == "/auth/two-factor/setup"
        page = staff.get("/auth/two-factor/setup").get_data(as_text=True)
        secret = re.search(r'class="secret-key">([A-Z2-7]+)<', page).group(1)
        enrolled = staff.post_form("/auth/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
        assert enrolled.status_code == 200

        with scratch.app_context():
            holder = find_by_email(holder_email)
            staff_user = find_by_email(staff_email)
            assert holder is not None and holder.full_name == holder_name
            assert staff_user is not None and staff_user.totp_secret == secret
            ciphertexts = [
                stored(db, User, column, row.id)
                for row in (holder, staff_user)
                for column in ("email_encrypted", "full_name_encrypted")
            ] + [stored(db, User, "totp_secret_encrypted", staff_user.id)]
            db.session.remove()

            forbidden = _sentinels(holder_email, holder_name, staff_email, staff_name, secret)
            _assert_only_ciphertext(db, scratch_database_url, forbidden, ciphertexts)
    finally:
        with scratch.app_context():
            db.session.remove()
            db.engine.dispose()


def test_breach_reports_and_complaints_leave_no_plaintext_in_the_database(
    make_app, scratch_database_url, db
):
    """A breach report (its description, details, contact, reason for lateness, a follow-up)
    and a complaint (the complainant's name and contact, what happened), filed through their
    forms, are not readable in the SQLite file or in pg_dump."""
    marker = uuid.uuid4().hex[:12]
    description = f"Сентинел утечка Өмүр {marker}"
    details = f"Sentinel salaries of staff {marker}"
    contact_name = f"Контакт Ңүө {marker}"
    contact_email = f"Breach.Contact.{marker}@Example.KG"
    late_reason = f"Sentinel late reason {marker}"
    follow_up = f"Sentinel follow-up {marker}"
    complainant = f"Арыз ээси Үңөр {marker}"
    complainant_email = f"Complainant.{marker}@Example.KG"
    phone_digits = f"555{int(marker[:6], 16) % 1000000:06d}"
    what_happened = f"Sentinel passport posted {marker}"

    scratch = make_app(TEST_DATABASE_URL=scratch_database_url)
    db.session.remove()
    db.session.configure(bind=None)
    try:
        with scratch.app_context():
            flask_migrate.upgrade()
            ensure_data_key(scratch)
            membership = factories.MembershipFactory()
            organisation_id = membership.organisation_id
            holder_id = membership.user.get_id()
        holder = scratch.test_client()
        with holder.session_transaction() as session:
            session["_user_id"] = holder_id
        filed = holder.post_form(
            f"/organisation/{organisation_id}/breaches/new",
            {
                "occurred_at": "2020-01-01T10:00",
                "detected_at": "2020-01-01T11:00",
                "nature_codes": ["confidentiality"],
                "description": description,
                "data_details": details,
                "subjects_told": "no",
                "contact_name": contact_name,
                "contact_email": contact_email,
                "late_reason": late_reason,
            },
        )
        assert filed.status_code == 302, filed.get_data(as_text=True)[:500]
        added = holder.post_form(
            filed.headers["Location"] + "/follow-up", {"information": follow_up}
        )
        assert added.status_code == 302
        public = scratch.test_client()
        complained = public.post_form(
            "/complaints/new",
            {
                "holder": "unregistered",
                "processor_name": "Sentinel Processor",
                "what_happened": what_happened,
                "complainant_name": complainant,
                "complainant_email": complainant_email,
                "complainant_phone": f"0{phone_digits}",
                "consents_to_contact": "y",
                "action": "submit",
            },
        )
        assert complained.status_code == 302

        with scratch.app_context():
            from register.models import BreachReport, Complaint

            report = db.session.scalars(sa.select(BreachReport)).one()
            complaint = db.session.scalars(sa.select(Complaint)).one()
            assert report.description == description
            assert (report.contact_email or "").casefold() == contact_email.casefold()
            assert report.filed_late and report.late_reason == late_reason
            assert complaint.complainant_name == complainant
            assert (complaint.complainant_email or "").casefold() == complainant_email.casefold()
            assert complaint.complainant_phone is not None
            ciphertexts = [
                stored(db, BreachReport, "description_encrypted", report.id),
                stored(db, Complaint, "complainant_name_encrypted", complaint.id),
            ]
            db.session.remove()
            forbidden = _sentinels(
                description,
                details,
                contact_name,
                contact_email,
                late_reason,
                follow_up,
                complainant,
                complainant_email,
                what_happened,
                phone_digits,
                f"{phone_digits[:3]} {phone_digits[3:5]} {phone_digits[5:7]} {phone_digits[7:]}",
            )
            _assert_only_ciphertext(db, scratch_database_url, forbidden, ciphertexts)
    finally:
        with scratch.app_context():
            db.session.remove()
            db.engine.dispose()


def test_confirmation_link_waiting_in_the_database_does_not_carry_the_email(client, db):
    """The link waits in notifications.link until mailed; its token must not hold the address.

    itsdangerous tokens are signed, not encrypted: their payload is plain base64 JSON.
    """
    email = f"waiting.link.{uuid.uuid4().hex[:8]}@example.kg"
    sign_up(client, email, "Link Holder")
    user = find_by_email(email)
    links = db.session.scalars(
        sa.select(Notification.link).where(Notification.recipient_id == user.id)
    ).all()
    assert any(link and "token=" in link for link in links)
    serializer = tokens._serializer(tokens.EMAIL_CONFIRMATION)
    for link in links:
        token = link.split("token=", 1)[1].split("&", 1)[0]
        payload_part = token.rsplit(".", 2)[0]
        payload = json.dumps(serializer.load_payload(payload_part.encode()), ensure_ascii=False)
        assert email not in payload.casefold()


# -- copied and altered values ----------------------------------------------------------------


def test_ciphertext_copied_to_another_row_does_not_decrypt(db):
    first_id = UserFactory(email="first.row@example.kg", full_name="Бириччи Ңүө").id
    second_id = UserFactory(email="second.row@example.kg", full_name="Экинчи Ңүө").id
    key_id = active_key_id(db)
    overwrite(db, User, second_id, email_encrypted=stored(db, User, "email_encrypted", first_id))
    victim = fresh(db, User, second_id)
    with pytest.raises(DecryptionError) as caught:
        _ = victim.email
    error = caught.value
    message = str(error)
    assert (error.table, error.column, error.row_id) == ("users", "email_encrypted", str(second_id))
    assert error.key_id == str(key_id)
    for part in ("users.email_encrypted", str(second_id), str(key_id)):
        assert part in message
    for plaintext in ("first.row@example.kg", "second.row@example.kg", "Бириччи", "Экинчи"):
        assert plaintext not in message
        assert plaintext not in "".join(traceback.format_exception(error))
    assert error.__cause__ is None and error.__suppress_context__
    assert fresh(db, User, first_id).email == "first.row@example.kg"  # the original still does


def test_ciphertext_copied_to_another_column_does_not_decrypt(db):
    user_id = UserFactory(email="column.move@example.kg", full_name="Ордун алмаштыруу").id
    overwrite(
        db,
        User,
        user_id,
        full_name_encrypted=stored(db, User, "email_encrypted", user_id),
        totp_secret_encrypted=stored(db, User, "full_name_encrypted", user_id),
    )
    moved = fresh(db, User, user_id)
    assert moved.email == "column.move@example.kg"
    for name, column in (
        ("full_name", "full_name_encrypted"),
        ("totp_secret", "totp_secret_encrypted"),
    ):
        with pytest.raises(DecryptionError) as caught:
            getattr(moved, name)
        assert caught.value.column == column
        assert f"users.{column}" in str(caught.value)
        assert str(user_id) in str(caught.value)
        assert "column.move@example.kg" not in str(caught.value)
        assert "Ордун" not in str(caught.value)


def _flip(value: bytes, index: int) -> bytes:
    changed = bytearray(value)
    changed[index] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize(
    ("part", "index"),
    [
        ("nonce first byte", envelope.HEADER_LENGTH),
        ("nonce last byte", envelope.HEADER_LENGTH + envelope.NONCE_LENGTH - 1),
        ("ciphertext", envelope.HEADER_LENGTH + envelope.NONCE_LENGTH),
        ("tag first byte", -envelope.TAG_LENGTH),
        ("tag last byte", -1),
    ],
)
def test_one_flipped_byte_fails_authentication(db, part, index):
    user = UserFactory(email="flipped.byte@example.kg")
    key_id = active_key_id(db)
    original = stored(db, User, "email_encrypted", user.id)
    tampered = _flip(original, index)
    assert tampered != original
    with pytest.raises(DecryptionError) as caught:
        decrypt(tampered, "users", "email_encrypted", user.id)
    message = str(caught.value)
    assert "authentication failed" in message
    assert caught.value.key_id == str(key_id) and str(key_id) in message
    assert str(user.id) in message and "users.email_encrypted" in message
    assert "flipped.byte" not in message

    # The same through the model, as a page would meet it.
    overwrite(db, User, user.id, email_encrypted=tampered)
    with pytest.raises(DecryptionError, match="authentication failed"):
        _ = fresh(db, User, user.id).email


def test_flipped_key_id_names_the_unknown_key(db):
    user = UserFactory(email="flipped.key@example.kg")
    original = stored(db, User, "email_encrypted", user.id)
    for index in (1, envelope.HEADER_LENGTH - 1):
        tampered = _flip(original, index)
        wrong_key = uuid.UUID(bytes=tampered[1 : envelope.HEADER_LENGTH])
        assert wrong_key != active_key_id(db)
        with pytest.raises(DecryptionError) as caught:
            decrypt(tampered, "users", "email_encrypted", user.id)
        assert caught.value.key_id == str(wrong_key)
        assert f"data key {wrong_key} does not exist" in str(caught.value)
        assert str(user.id) in str(caught.value)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_format_version_says_so(db, version):
    user = UserFactory()
    tampered = bytes([version]) + stored(db, User, "email_encrypted", user.id)[1:]
    with pytest.raises(DecryptionError) as caught:
        decrypt(tampered, "users", "email_encrypted", user.id)
    assert f"unknown format version {version}" in str(caught.value)
    assert "users.email_encrypted" in str(caught.value) and str(user.id) in str(caught.value)


@pytest.mark.parametrize("length", [0, 1, envelope.MINIMUM_LENGTH - 1])
def test_truncated_value_is_refused(db, length):
    user = UserFactory()
    truncated = stored(db, User, "email_encrypted", user.id)[:length]
    with pytest.raises(DecryptionError, match="too short"):
        decrypt(truncated, "users", "email_encrypted", user.id)


# -- keys -------------------------------------------------------------------------------------


def test_missing_data_key_names_it(db, crypto_manager):
    user = UserFactory(email="lost.key@example.kg")
    key_id = active_key_id(db)
    db.session.execute(sa.delete(DataKey).where(DataKey.id == key_id))
    db.session.commit()
    crypto_manager.forget()
    with pytest.raises(DecryptionError) as caught:
        _ = fresh(db, User, user.id).email
    assert caught.value.key_id == str(key_id)
    assert f"data key {key_id} does not exist" in str(caught.value)
    assert "lost.key" not in str(caught.value)


def test_data_key_wrapped_by_a_key_missing_from_the_file_names_both(app, db, tmp_path, monkeypatch):
    user = UserFactory(email="other.file@example.kg")
    key_id = active_key_id(db)
    kek_id = db.session.get(DataKey, key_id).kek_id
    other_file = tmp_path / "other-keys.json"
    keyring.create_file(other_file)
    other = DataKeyManager(lambda: keyring.load(other_file), lambda: db.session)
    monkeypatch.setitem(app.extensions, "crypto", other)
    with pytest.raises(DecryptionError) as caught:
        _ = fresh(db, User, user.id).email
    message = str(caught.value)
    assert str(key_id) in message and repr(kek_id) in message and str(other_file) in message


def test_wrong_key_encryption_key_under_the_same_id_is_an_error(app, db, tmp_path, monkeypatch):
    user = UserFactory(email="wrong.kek@example.kg")
    key_id = active_key_id(db)
    data = json.loads(KEYS_FILE.read_text())
    data["key_encryption_keys"] = {
        kek_id: base64.b64encode(os.urandom(32)).decode() for kek_id in data["key_encryption_keys"]
    }
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    forged.chmod(0o600)
    forged_keys = DataKeyManager(lambda: keyring.load(forged), lambda: db.session)
    monkeypatch.setitem(app.extensions, "crypto", forged_keys)
    with pytest.raises(DecryptionError) as caught:
        _ = fresh(db, User, user.id).email
    assert f"data key {key_id} does not unwrap" in str(caught.value)


def test_missing_key_file_names_it(tmp_path):
    missing = tmp_path / "nowhere" / "keys.json"
    with pytest.raises(KeyringError, match=re.escape(str(missing))):
        keyring.load(missing)
    keys = DataKeyManager(lambda: keyring.load(missing), lambda: None)
    with pytest.raises(KeyringError, match="does not exist"):
        _ = keys.keyring


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o700 | 0o004])
def test_key_file_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "keys.json"
    keyring.create_file(path)
    assert keyring.load(path).audit_key  # mode 0600 as created: accepted
    path.chmod(mode)
    with pytest.raises(KeyringError) as caught:
        keyring.load(path)
    assert str(path) in str(caught.value) and "owner only" in str(caught.value)


@pytest.mark.parametrize("missing", ["audit_key", "blind_index_key"])
def test_key_file_without_a_key_names_it(tmp_path, missing):
    path = tmp_path / "keys.json"
    data = json.loads(KEYS_FILE.read_text())
    del data[missing]
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    with pytest.raises(KeyringError) as caught:
        keyring.load(path)
    assert f"{path}: {missing} is missing" in str(caught.value)


def test_created_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys.json"
    created = keyring.create_file(path)
    assert created is not None
    assert path.stat().st_mode & 0o777 == 0o600
    before = path.read_bytes()
    assert keyring.create_file(path) is None
    assert path.read_bytes() == before


# -- blind index ------------------------------------------------------------------------------


class _ScratchBase(DeclarativeBase):
    """A registry of its own: nothing declared here reaches the app's metadata."""


@pytest.fixture
def collision_model(tmp_path) -> Iterator[tuple[type, sa.Engine]]:
    """A throwaway model whose encrypted value has a 1-byte, non-unique blind index."""
    before = list(ENCRYPTED_FIELDS)

    class Secret(_ScratchBase):
        __tablename__ = f"crypto_collisions_{uuid.uuid4().hex[:8]}"

        id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
        value = Encrypted(nullable=False, blind_index=BlindIndex("email", length_bytes=1))

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'collisions.sqlite3'}")
    Secret.metadata.create_all(engine, tables=[Secret.__table__])
    try:
        yield Secret, engine
    finally:
        engine.dispose()
        ENCRYPTED_FIELDS[:] = before  # keys verify/reencrypt must not walk it
        _ScratchBase.metadata.remove(Secret.__table__)


def _find(session: Session, model, field: Encrypted, value: str):
    """accounts.find_by_email's rule: candidates by blind index, then decrypt and compare."""
    candidates = session.scalars(sa.select(model).where(field.matches(value))).all()
    return candidates, next((row for row in candidates if field.equal(row, value)), None)


def test_blind_index_lookup_among_forced_collisions(collision_model):
    model, engine = collision_model
    field = model.value
    root_key = manager().keyring.blind_index_key
    buckets: dict[bytes, list[str]] = {}
    for n in range(600):  # 600 values in 256 one-byte buckets: some bucket holds three
        value = f"person{n}@example.kg"
        index = blind.blind_index(
            root_key, model.__tablename__, "value_index", blind.normalise_email(value), 1
        )
        assert index == field.index_of(value) and len(index) == 1
        buckets.setdefault(index, []).append(value)
    first, second, absent = next(values for values in buckets.values() if len(values) >= 3)[:3]
    other = next(values[0] for index, values in buckets.items() if index != field.index_of(first))

    with Session(engine) as session:
        for value in (first, second, other):
            row = model(id=uuid.uuid4())
            row.value = value
            session.add(row)
        session.commit()

    with Session(engine) as session:
        candidates, found = _find(session, model, field, first)
        assert len(candidates) == 2
        assert {row.value for row in candidates} == {first, second}
        assert found is not None and found.value == first

        candidates, found = _find(session, model, field, f"  {second.upper()} ")
        assert len(candidates) == 2
        assert found is not None and found.value == second

        candidates, found = _find(session, model, field, absent)
        assert len(candidates) == 2  # same index as the two stored values...
        assert found is None  # ...but neither decrypts to it

        candidates, found = _find(session, model, field, other)
        assert [row.value for row in candidates] == [other] and found is candidates[0]


def test_blind_index_differs_per_column_and_key():
    root = os.urandom(32)
    value = blind.normalise_email("same@example.kg")
    by_column = {
        blind.blind_index(root, table, column, value, 32)
        for table, column in (
            ("users", "email_index"),
            ("users", "other_index"),
            ("t", "email_index"),
        )
    }
    assert len(by_column) == 3
    assert blind.blind_index(os.urandom(32), "users", "email_index", value, 32) not in by_column


# -- normalisation ----------------------------------------------------------------------------


def test_sign_in_finds_the_address_in_another_case_or_with_spaces(client, db):
    user = HolderFactory(email="айгүл.өмүрбекова@example.kg")
    for typed in ("  АЙГҮЛ.ӨМҮРБЕКОВА@Example.KG  ", "Айгүл.Өмүрбекова@EXAMPLE.kg"):
        found = find_by_email(typed)
        assert found is not None and found.id == user.id
    response = client.post_form(
        "/auth/sign-in",
        {"email": "  АЙГҮЛ.ӨМҮРБЕКОВА@Example.KG ", "password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox/"
    assert find_by_email("айгүл.өмүрбекова@example.org") is None


def test_two_sign_ups_differing_only_in_case_make_one_account(client, db):
    sign_up(client, "Бакыт.Ңүө@Example.KG", "Бакыт Биринчи")
    other = client.application.test_client()
    sign_up(other, "  бакыт.ңүө@example.kg ", "Бакыт Экинчи")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    user = find_by_email("БАКЫТ.ҢҮӨ@EXAMPLE.KG")
    assert user is not None
    assert user.email == "бакыт.ңүө@example.kg"
    assert user.full_name == "Бакыт Биринчи"
    kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.recipient_id == user.id)
    ).all()
    assert "account.sign_up_attempt" in kinds  # the owner is told of the second attempt


# -- guard rails ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "misuse",
    [
        lambda: User.email == "x",
        lambda: User.email != "x",
        lambda: User.email.like("%x%"),
        lambda: sa.select(User).order_by(User.email),
        lambda: sa.select(User).order_by(User.full_name.desc()),
        lambda: sa.select(User).order_by(User.email.asc()),
        lambda: sa.select(User).where(sa.func.lower(User.email) == "x"),
        lambda: sa.select(User.email),
        lambda: sa.select(User).filter_by(email="x"),
    ],
    ids=[
        "eq",
        "ne",
        "like",
        "order_by",
        "order_by_desc",
        "order_by_asc",
        "func",
        "select_column",
        "filter_by",
    ],
)
def test_sql_on_an_encrypted_attribute_raises_type_error(misuse):
    with pytest.raises(TypeError, match="encrypted"):
        misuse()


def test_the_index_lookup_is_the_way_to_query(db):
    user = UserFactory(email="guard.rails@example.kg")
    clause = User.email.matches("Guard.Rails@example.kg ")
    assert db.session.scalars(sa.select(User).where(clause)).all() == [user]


def test_encrypted_fields_can_be_kept_in_lists_and_sets():
    fields = list(ENCRYPTED_FIELDS)
    assert fields[-1] in fields  # list membership compares with == before reaching it
    assert fields.index(fields[-1]) == len(fields) - 1
    assert len(set(fields)) == len(fields)


def test_reprs_show_no_plaintext_and_no_key(db, crypto_manager):
    secret = pyotp.random_base32()
    user = StaffFactory(email="repr.person@example.kg", full_name="Репр Ңүөбек", totp_secret=secret)
    for text in (repr(user), str(user)):
        for plaintext in ("repr.person", "Репр", secret):
            assert plaintext not in text
        assert str(user.id) in text
    keys = crypto_manager.keyring
    secrets_b64 = [
        base64.b64encode(key).decode()
        for key in (keys.blind_index_key, keys.audit_key, *keys.key_encryption_keys.values())
    ]
    for text in (repr(keys), repr(crypto_manager), str(keys)):
        assert not any(key in text for key in secrets_b64)


# -- logs and pages ---------------------------------------------------------------------------


def _log_text(caplog) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def test_logs_of_sign_up_confirmation_and_sign_ins_hold_no_plaintext(client, db, caplog, capfd):
    marker = uuid.uuid4().hex[:8]
    holder_email = f"Log.Өмүр.{marker}@Example.KG"
    holder_name = f"Журнал Ңүөбек {marker}"
    staff_email = f"log.staff.{marker}@agency.example.kg"
    staff_name = f"Инспектор Журнал {marker}"
    secret = pyotp.random_base32()
    StaffFactory(email=staff_email, full_name=staff_name, totp_secret=secret)
    totp = pyotp.TOTP(secret)
    codes: list[str] = []

    caplog.set_level(logging.DEBUG)
    sign_up(client, holder_email, holder_name)
    holder = find_by_email(holder_email)
    link = db.session.scalar(
        sa.select(Notification.link).where(
            Notification.recipient_id == holder.id, Notification.kind == "account.confirm_email"
        )
    )
    assert client.get(link).status_code == 302
    wrong = client.post_form("/auth/sign-in", {"email": holder_email, "password": "wrong" * 4})
    assert wrong.status_code == 200
    signed_in = client.post_form(
        "/auth/sign-in", {"email": holder_email, "password": GOOD_PASSWORD}
    )
    assert signed_in.headers["Location"] == "/inbox/"
    assert holder_name in client.get("/inbox/").get_data(as_text=True)

    staff = client.application.test_client()
    step = staff.post_form("/auth/sign-in", {"email": staff_email, "password": TEST_PASSWORD})
    assert step.headers["Location"] == "/auth/two-factor"
    codes.append(totp.now())
    assert staff.post_form("/auth/two-factor", {"code": codes[-1]}).status_code == 302
    assert staff.get("/inbox/").status_code == 200

    logged = _log_text(caplog)
    captured = capfd.readouterr()
    streams = captured.out + captured.err
    assert "/auth/sign-up" in logged and "/auth/two-factor" in logged  # logs were captured
    assert "/auth/sign-in" in streams  # and so was the stderr handler
    forbidden = [holder_email, holder_name, staff_email, staff_name, secret, GOOD_PASSWORD]
    forbidden += [value.casefold() for value in forbidden]
    for text in (logged, streams):
        for plaintext in forbidden:
            assert plaintext not in text
        for code in codes:
            assert not re.search(rf"(?<!\d){code}(?!\d)", text)


def test_undecryptable_value_gives_the_500_page_and_an_activity_entry(client, auth, db, caplog):
    user_id = HolderFactory(email="broken.name@example.kg", full_name="Сынган Ат").id
    overwrite(db, User, user_id, full_name_encrypted=stored(db, User, "email_encrypted", user_id))
    auth.login(fresh(db, User, user_id))
    with caplog.at_level(logging.ERROR):
        response = client.get("/inbox/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    incident = page.split('class="incident-id">', 1)[1].split("<", 1)[0]
    assert re.fullmatch(r"[0-9A-F]{12}", incident)
    assert incident in caplog.text
    for plaintext in ("broken.name", "Сынган", "Traceback", "DecryptionError"):
        assert plaintext not in page
    db.session.expire_all()
    entries = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.action == "crypto.decryption_failed")
    ).all()
    assert len(entries) == 1
    described = json.dumps([entries[0].object_id, entries[0].details], ensure_ascii=False)
    assert str(user_id) in described
    assert "broken.name" not in described and "Сынган" not in described


def test_encrypting_while_an_object_is_half_built_does_not_flush(db, app):
    """The active key is looked up without autoflush (the cache is forced cold here)."""
    import warnings

    from tests.factories import DeclarationFactory

    declaration = DeclarationFactory()
    app.extensions["crypto"].forget()  # the next encryption must ask the database
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from register.models import DeclarationVersion

        version = DeclarationVersion(
            declaration=declaration,
            organisation_id=declaration.organisation_id,
            number=1,
            public_snapshot={},
            confidential_snapshot="{}",
        )
    db.session.add(version)
    db.session.commit()
    assert version.confidential_snapshot == "{}"


def test_inspection_findings_notes_violations_orders_and_answers_leave_no_plaintext(
    make_app, scratch_database_url, db
):
    """An inspection's findings and notes, a violation, an order, the holder's answer and the
    agency's grounds for returning it are not readable in the SQLite file or in pg_dump."""
    from datetime import timedelta

    from register.models import Inspection, InspectionKind, InspectionOrder, Role
    from register.services import inspections

    marker = uuid.uuid4().hex[:12]
    findings = f"Сентинел табылга Өмүр {marker}"
    notes = f"Sentinel inspector notes {marker}"
    violation = f"Sentinel violation Ңүө {marker}"
    requirement = f"Sentinel requirement {marker}"
    answer = f"Sentinel answer Үңөр {marker}"
    grounds = f"Sentinel return grounds {marker}"

    scratch = make_app(TEST_DATABASE_URL=scratch_database_url)
    db.session.remove()
    db.session.configure(bind=None)
    try:
        with scratch.app_context():
            flask_migrate.upgrade()
            ensure_data_key(scratch)
            membership = factories.MembershipFactory()
            supervisor = factories.StaffFactory(role=Role.SUPERVISOR)
            inspector = factories.StaffFactory(role=Role.INSPECTOR)
            db.session.commit()
            inspection = inspections.plan_inspection(
                membership.organisation,
                inspections.InspectionDetails(
                    kind=InspectionKind.PLANNED,
                    legal_ground="Plan",
                    planned_start=inspections.today(),
                    planned_end=inspections.today() + timedelta(days=3),
                    inspector_ids=[inspector.id],
                ),
                supervisor,
                None,
            )
            inspections.start(inspection, inspector, inspection.lock_version)
            inspections.save_record(inspection, inspector, inspection.lock_version, findings, notes)
            found = inspections.record_violation(inspection, inspector, "art_30", violation)
            order = inspections.issue_order(
                inspection, inspector, requirement, inspections.today(), found.id
            )
            inspections.answer_order(order, membership.user, order.lock_version, answer, [])
            inspections.return_answer(order, inspector, order.lock_version, grounds)
            db.session.commit()
            inspection_id, order_id = inspection.id, order.id
            db.session.remove()
            stored_inspection = db.session.get(Inspection, inspection_id)
            assert stored_inspection.findings == findings and stored_inspection.notes == notes
            assert db.session.get(InspectionOrder, order_id).requirement == requirement
            ciphertexts = [
                stored(db, Inspection, "findings_encrypted", inspection_id),
                stored(db, InspectionOrder, "requirement_encrypted", order_id),
            ]
            db.session.remove()
            forbidden = _sentinels(findings, notes, violation, requirement, answer, grounds)
            _assert_only_ciphertext(db, scratch_database_url, forbidden, ciphertexts)
    finally:
        with scratch.app_context():
            db.session.remove()
            db.engine.dispose()
