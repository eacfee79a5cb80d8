"""The activity log: a hash chain that shows tampering, security events that outlive a rolled-back
request, concurrent appends without forks, the CLI and the agency's page."""

from __future__ import annotations

import hashlib
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_datetime
from flask import Blueprint, abort

from register.extensions import db as _db
from register.models import ActivityChainHead, ActivityEntry, Role, User
from register.models.activity import CHAIN_HEAD_ID, GENESIS_HASH
from register.services.activity import (
    ActivityChainError,
    Checkpoint,
    canonical,
    checkpoint,
    compute_hash,
    compute_mac,
    record,
    record_security_event,
    verify,
)
from register.services.activity_search import PAGE_SIZE
from tests.conftest import Auth
from tests.factories import UserFactory

ENTRIES = ActivityEntry.__table__
HEADS = ActivityChainHead.__table__


def actions(session) -> list[str]:
    return list(session.scalars(sa.select(ActivityEntry.action).order_by(ActivityEntry.seq)))


def make_chain(db, count: int) -> list[ActivityEntry]:
    entries = [
        record("test.step", object_type="thing", object_id=f"thing-{n}", details={"n": n})
        for n in range(count)
    ]
    db.session.commit()
    return entries


# -- the chain --------------------------------------------------------------------------------


def test_record_builds_a_valid_chain(db):
    start = checkpoint(db.session)
    user = UserFactory(role=Role.INSPECTOR)
    details = {"count": 3, "name": "Айгерим", "ratio": 0.5, "flag": True, "nothing": None}
    first = record(
        "test.created", actor=user, object_type="user", object_id=user.id, details=details
    )
    second = record("test.changed")

    assert (first.seq, second.seq) == (start.seq + 1, start.seq + 2)
    assert first.prev_hash == start.hash
    assert second.prev_hash == first.entry_hash
    assert (first.actor_id, first.actor_label) == (user.id, "inspector")
    assert (second.actor_id, second.actor_label) == (None, "system")  # outside a request
    assert first.object_id == str(user.id)
    assert first.ip is None and first.request_id is None
    assert checkpoint(db.session) == Checkpoint(second.seq, second.entry_hash)

    db.session.commit()
    db.session.expire_all()
    # Read back from the database: the stored fields (JSON, timestamps) give the same hashes.
    stored = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.seq == first.seq)
    ).one()
    assert stored.details == details
    assert stored.entry_hash == first.entry_hash
    assert verify(db.session).ok
    result = verify(db.session)
    assert (result.checked, result.head) == (second.seq, Checkpoint(second.seq, second.entry_hash))
    assert result.first_broken_seq is None and result.reason is None


def test_the_canonical_encoding_is_deterministic():
    when = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)
    fields = {
        "seq": 7,
        "occurred_at": when,
        "actor_id": uuid.UUID(int=5),
        "actor_label": "admin",
        "action": "test.encoded",
        "object_type": "user",
        "object_id": "abc",
        "ip": "127.0.0.1",
        "request_id": "r1",
        "details": {"b": 1, "a": "Ө"},
        "prev_hash": GENESIS_HASH,
        "not_covered": "ignored",
    }
    encoded = canonical(fields)
    assert (
        encoded
        == (
            '{"action":"test.encoded","actor_id":"00000000-0000-0000-0000-000000000005",'
            '"actor_label":"admin","details":{"a":"Ө","b":1},"ip":"127.0.0.1",'
            '"object_id":"abc","object_type":"user","occurred_at":"2026-03-04T05:06:07.000089+00:00",'
            f'"prev_hash":"{GENESIS_HASH}","request_id":"r1","seq":7}}'
        ).encode()
    )
    # The same instant in another zone, keys in another order: the same bytes and hash.
    bishkek = timezone(timedelta(hours=6))
    shuffled = dict(reversed(list(fields.items())), occurred_at=when.astimezone(bishkek))
    assert canonical(shuffled) == encoded
    assert compute_hash(fields) == hashlib.sha256(encoded).hexdigest()
    with pytest.raises(ValueError):
        canonical({**fields, "occurred_at": when.replace(tzinfo=None)})


def test_an_entry_is_rolled_back_with_its_transaction(db):
    start = checkpoint(db.session)
    record("test.undone")
    db.session.rollback()
    assert checkpoint(db.session) == start
    assert "test.undone" not in actions(db.session)
    assert verify(db.session).ok


def test_the_orm_refuses_to_change_or_delete_an_entry(db):
    (entry,) = make_chain(db, 1)
    entry.details = {"n": 42}
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ActivityEntry, entry.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()


@pytest.mark.parametrize(
    "key",
    ["password", "new_password", "resetToken", "totp_secret", "code", "recovery_left", "OTP", "x"],
)
def test_secret_looking_detail_keys_are_refused(db, key):
    if key == "x":  # a control: an ordinary key is accepted
        assert record("test.ok", details={key: "fine"}).details == {"x": "fine"}
        return
    start = checkpoint(db.session)
    with pytest.raises(ValueError, match="no secrets"):
        record("test.leak", details={key: "hunter2"})
    with pytest.raises(ValueError, match="no secrets"):
        record_security_event("test.leak", details={key: "hunter2"})
    assert checkpoint(db.session) == start


@pytest.mark.parametrize(
    "details", [{"nested": {"a": 1}}, {"items": [1, 2]}, {"raw": b"x"}, {"nan": float("nan")}]
)
def test_details_must_be_plain_scalars(db, details):
    with pytest.raises(ValueError):
        record("test.bad", details=details)


@pytest.mark.parametrize("action", ["", "signin", "Auth.SignIn", "auth.", "a." + "b" * 64])
def test_actions_are_dotted_names(db, action):
    with pytest.raises(ValueError, match="dotted name"):
        record(action)


def test_the_head_is_created_when_missing_but_never_over_entries(db):
    db.session.execute(sa.delete(ENTRIES))
    db.session.execute(sa.delete(HEADS))
    entry = record("test.first")
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)
    assert db.session.get(ActivityChainHead, CHAIN_HEAD_ID).seq == 1
    assert verify(db.session).ok

    db.session.execute(sa.delete(HEADS))
    with pytest.raises(ActivityChainError):
        record("test.second")
    result = verify(db.session)
    assert (result.ok, result.first_broken_seq, result.reason) == (
        False,
        1,
        "the chain head is missing",
    )


# -- tampering ----------------------------------------------------------------------------------


def test_an_edited_entry_is_detected(db):
    entries = make_chain(db, 5)
    db.session.execute(sa.update(ENTRIES).where(ENTRIES.c.seq == entries[2].seq).values(details={}))
    result = verify(db.session)
    assert not result.ok
    assert result.first_broken_seq == entries[2].seq
    assert result.reason == "its content does not match its hash"
    assert result.checked == entries[1].seq


def test_an_edited_entry_with_a_recomputed_hash_fails_its_audit_mac(db):
    entries = make_chain(db, 4)
    target = entries[1]
    fields = {column: getattr(target, column) for column in ENTRIES.c.keys()}  # noqa: SIM118
    fields["details"] = {"n": 999}
    db.session.execute(
        sa.update(ENTRIES)
        .where(ENTRIES.c.seq == target.seq)
        .values(details={"n": 999}, entry_hash=compute_hash(fields))
    )
    result = verify(db.session)
    assert (result.first_broken_seq, result.reason) == (
        target.seq,
        "its audit MAC is wrong (not written with the audit key)",
    )


def test_a_chain_rewritten_with_correct_hashes_but_without_the_audit_key_is_detected(db):
    """Someone with write access rewrites an entry and every later hash, and moves the head."""
    entries = make_chain(db, 4)
    previous_hash = entries[0].entry_hash
    for position, entry in enumerate(entries[1:], start=1):
        fields = {column: getattr(entry, column) for column in ENTRIES.c.keys()}  # noqa: SIM118
        if position == 1:
            fields["details"] = {"n": "forged"}
        fields["prev_hash"] = previous_hash
        new_hash = compute_hash(fields)
        forged_mac = hashlib.sha256(b"no audit key" + new_hash.encode()).hexdigest()
        db.session.execute(
            sa.update(ENTRIES)
            .where(ENTRIES.c.seq == entry.seq)
            .values(
                details=fields["details"],
                prev_hash=previous_hash,
                entry_hash=new_hash,
                mac=forged_mac,
            )
        )
        previous_hash = new_hash
    db.session.execute(
        sa.update(ActivityChainHead.__table__).values(seq=entries[-1].seq, last_hash=previous_hash)
    )
    result = verify(db.session)
    assert not result.ok
    assert result.first_broken_seq == entries[1].seq
    assert result.reason == "its audit MAC is wrong (not written with the audit key)"


def test_a_deleted_entry_is_detected(db):
    entries = make_chain(db, 5)
    db.session.execute(sa.delete(ENTRIES).where(ENTRIES.c.seq == entries[2].seq))
    result = verify(db.session)
    assert not result.ok
    assert result.first_broken_seq == entries[2].seq
    assert result.reason == f"the entry is missing (the next one is {entries[3].seq})"


def test_a_deleted_last_entry_is_caught_by_the_head(db):
    entries = make_chain(db, 3)
    db.session.execute(sa.delete(ENTRIES).where(ENTRIES.c.seq == entries[-1].seq))
    result = verify(db.session)
    assert not result.ok
    assert result.first_broken_seq == entries[-1].seq
    assert result.reason == f"the entry is missing (the chain head is at {entries[-1].seq})"


def test_an_inserted_forged_entry_is_detected(db):
    entries = make_chain(db, 3)
    last = entries[-1]
    forged = {
        "id": uuid.uuid4(),
        "seq": last.seq + 1,
        "occurred_at": datetime.now(UTC),
        "actor_id": None,
        "actor_label": "admin",
        "action": "auth.signed_in",
        "object_type": None,
        "object_id": None,
        "ip": None,
        "request_id": None,
        "details": {},
        "prev_hash": last.entry_hash,
        "entry_hash": "ab" * 32,  # made up
        "mac": "cd" * 32,  # made up
    }
    db.session.execute(sa.insert(ENTRIES).values(forged))
    result = verify(db.session)
    assert (result.ok, result.first_broken_seq) == (False, last.seq + 1)
    assert result.reason == "its content does not match its hash"

    # Even with a correct hash and MAC, an entry the log did not append is not under the head.
    db.session.execute(
        sa.update(ENTRIES)
        .where(ENTRIES.c.seq == last.seq + 1)
        .values(entry_hash=compute_hash(forged), mac=compute_mac(compute_hash(forged)))
    )
    result = verify(db.session)
    assert (result.ok, result.first_broken_seq) == (False, last.seq + 1)
    assert result.reason == "the entry is beyond the chain head (not appended by the log)"


def test_a_rewritten_chain_passes_alone_but_not_against_a_checkpoint(db):
    entries = make_chain(db, 4)
    kept = checkpoint(db.session)
    # Someone with write access AND the audit key edits entry 2, recomputes every later hash
    # and MAC, and moves the head: only a checkpoint kept elsewhere shows it.
    previous_hash = entries[0].entry_hash
    for entry in entries[1:]:
        fields = {column: getattr(entry, column) for column in ENTRIES.c.keys()}  # noqa: SIM118
        fields["prev_hash"] = previous_hash
        if entry is entries[1]:
            fields["details"] = {"n": "rewritten"}
        previous_hash = compute_hash(fields)
        db.session.execute(
            sa.update(ENTRIES)
            .where(ENTRIES.c.seq == entry.seq)
            .values(
                details=fields["details"],
                prev_hash=fields["prev_hash"],
                entry_hash=previous_hash,
                mac=compute_mac(previous_hash),
            )
        )
    db.session.execute(sa.update(HEADS).values(last_hash=previous_hash))

    assert verify(db.session).ok  # the chain and MACs alone cannot tell
    result = verify(db.session, against=kept)
    assert (result.ok, result.first_broken_seq) == (False, kept.seq)
    assert result.reason == "its hash differs from the checkpoint's"


# -- concurrency and security events on a real database ----------------------------------------


def test_concurrent_appends_leave_one_unbroken_chain(scratch_app):
    threads, appends = 8, 25
    start = threading.Barrier(threads)

    def append(thread_number: int) -> None:
        with scratch_app.app_context():
            start.wait()
            for number in range(appends):
                record("test.concurrent", details={"thread": thread_number, "number": number})
                _db.session.commit()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(append, range(threads)))

    with scratch_app.app_context():
        result = verify(_db.session)
        rows = _db.session.execute(
            sa.select(ActivityEntry.seq, ActivityEntry.details).order_by(ActivityEntry.seq)
        ).all()
    assert result.ok, result
    assert result.checked == threads * appends
    assert [row.seq for row in rows] == list(range(1, threads * appends + 1))
    assert {(row.details["thread"], row.details["number"]) for row in rows} == {
        (thread, number) for thread in range(threads) for number in range(appends)
    }


def test_a_security_event_survives_the_requests_rollback(scratch_app):
    app = scratch_app
    client = app.test_client()
    with app.app_context():
        user = User(email="target@example.kg", full_name="Before", role=Role.HOLDER)
        _db.session.add(user)
        _db.session.commit()
        user_id = user.id
        Auth(client).login(user)
    failing = Blueprint("failing", __name__)

    @failing.post("/refuse")
    def refuse():
        # The request writes first: on SQLite it then holds the write lock, and after `record`
        # it holds the chain head; the security event must not wait for either.
        _db.session.get(User, user_id).full_name = "Changed"
        record("test.inside_request")
        record_security_event(
            "auth.access_refused", object_type="user", object_id=user_id, details={"why": "test"}
        )
        raise RuntimeError("the request fails after the event")

    app.register_blueprint(failing)
    app.config["WTF_CSRF_ENABLED"] = False

    response = client.post("/refuse")

    assert response.status_code == 500
    with app.app_context():
        entries = list(_db.session.scalars(sa.select(ActivityEntry).order_by(ActivityEntry.seq)))
        assert [entry.action for entry in entries] == ["auth.access_refused"]
        event = entries[0]
        assert (event.seq, event.actor_id, event.actor_label) == (1, user_id, "holder")
        assert (event.object_type, event.object_id) == ("user", str(user_id))
        assert event.details == {"why": "test"}
        assert event.ip == "127.0.0.1"
        assert event.request_id == response.headers["X-Request-ID"]
        assert _db.session.get(User, user_id).full_name == "Before"
        assert verify(_db.session).ok


def test_security_events_are_kept_and_ordinary_entries_dropped_on_a_refusal(make_app, db):
    app = make_app()
    user = UserFactory()
    refusing = Blueprint("refusing", __name__)

    @refusing.post("/look/<thing>")
    def look(thing):
        record("test.looked", object_type="thing", object_id=thing)
        record_security_event("test.look_refused", object_type="thing", object_id=thing)
        abort(403)

    app.register_blueprint(refusing)
    client = app.test_client()
    Auth(client).login(user)
    before = checkpoint(db.session)

    # A signed-in POST: the request's session holds the write lock on SQLite until it ends.
    assert client.post_form("/look/secret-file").status_code == 403

    entries = db.session.scalars(
        sa.select(ActivityEntry).where(ActivityEntry.seq > before.seq).order_by(ActivityEntry.seq)
    ).all()
    mine = [entry for entry in entries if entry.object_type == "thing"]
    assert [(entry.action, entry.object_id) for entry in mine] == [
        ("test.look_refused", "secret-file")
    ]
    assert (mine[0].actor_id, mine[0].actor_label) == (user.id, "holder")
    assert verify(db.session).ok


def test_a_security_event_outside_a_request_is_written_at_once(db):
    before = checkpoint(db.session)
    record_security_event("key.rotation_refused", details={"reason": "test"})
    assert checkpoint(db.session).seq == before.seq + 1
    assert actions(db.session)[-1] == "key.rotation_refused"


# -- the CLI ---------------------------------------------------------------------------------


def test_verify_command_prints_ok_and_the_head(db, runner):
    entries = make_chain(db, 3)
    result = runner.invoke(args=["activity", "verify"])
    assert result.exit_code == 0, result.output
    last = entries[-1]
    assert result.output.strip() == f"OK: {last.seq} entries, head {last.seq} {last.entry_hash}"


def test_verify_command_reports_the_first_broken_entry(db, runner):
    entries = make_chain(db, 3)
    db.session.execute(
        sa.update(ENTRIES).where(ENTRIES.c.seq == entries[1].seq).values(ip="10.0.0.1")
    )
    db.session.commit()
    result = runner.invoke(args=["activity", "verify"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"BROKEN at entry {entries[1].seq}: its content does not match its hash"
    )


def test_checkpoint_command_prints_the_head_and_verify_checks_against_it(db, runner):
    entries = make_chain(db, 2)
    result = runner.invoke(args=["activity", "checkpoint"])
    assert result.exit_code == 0
    seq, hash_, when = result.output.split()
    assert (int(seq), hash_) == (entries[-1].seq, entries[-1].entry_hash)
    assert abs(datetime.fromisoformat(when) - datetime.now(UTC)) < timedelta(minutes=5)

    kept = runner.invoke(args=["activity", "verify", "--checkpoint", seq, hash_])
    assert kept.exit_code == 0, kept.output
    forged = runner.invoke(args=["activity", "verify", "--checkpoint", seq, "0" * 64])
    assert forged.exit_code == 1
    assert forged.output.strip() == f"BROKEN at entry {seq}: its hash differs from the checkpoint's"


# -- the page --------------------------------------------------------------------------------

URL = "/agency/activity"


@pytest.mark.parametrize("role", [Role.HOLDER, Role.INSPECTOR])
def test_the_page_is_refused_to_holders_and_inspectors(client, auth, role):
    auth.login(UserFactory(role=role))
    assert client.get(URL).status_code == 403


def test_the_page_needs_signing_in(client):
    assert client.get(URL).status_code in (302, 401)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_see_the_log_in_the_agency_time_zone(client, auth, db, role):
    actor = UserFactory(role=Role.INSPECTOR, full_name="Nurlan Inspector")
    entry = record(
        "declaration.opened", actor=actor, object_type="person", object_id="p-17", details={"k": 1}
    )
    db.session.commit()
    auth.login(UserFactory(role=role))
    response = client.get(URL + "?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Activity log" in page
    assert "<code>declaration.opened</code>" in page
    assert "Nurlan Inspector" in page
    assert "(inspector)" in page
    assert "p-17" in page
    local = format_datetime(
        entry.occurred_at, "medium", tzinfo=ZoneInfo("Asia/Bishkek"), locale="en"
    )
    assert local in page


def shown_objects(page: str) -> set[str]:
    return {part.split("</code>", 1)[0] for part in page.split("thing <code>")[1:]}


def test_filters_narrow_the_log(client, auth, db):
    alice = UserFactory(role=Role.INSPECTOR, email="alice@agency.kg")
    bob = UserFactory(role=Role.SUPERVISOR)
    record("auth.signed_in", actor=alice, object_type="thing", object_id="alice-in")
    record("auth.sign_in_failed", actor=bob, object_type="thing", object_id="bob-failed")
    record("declaration.opened", actor=alice, object_type="thing", object_id="alice-opened")
    record("authority.changed", actor=bob, object_type="thing", object_id="bob-authority")
    record("declaration.opened", actor=bob, object_type="person", object_id="alice-opened")
    db.session.commit()
    auth.login(UserFactory(role=Role.ADMIN))

    def objects(**query):
        response = client.get(URL, query_string=query)
        assert response.status_code == 200
        return shown_objects(response.get_data(as_text=True))

    everything = {"alice-in", "bob-failed", "alice-opened", "bob-authority"}
    assert objects() == everything
    assert objects(actor="ALICE@agency.kg") == {"alice-in", "alice-opened"}
    assert objects(actor=str(bob.id)) == {"bob-failed", "bob-authority"}
    assert objects(action="auth") == {"alice-in", "bob-failed"}  # not "authority.changed"
    assert objects(action="auth.") == {"alice-in", "bob-failed"}
    assert objects(action="auth.signed_in") == {"alice-in"}
    assert objects(object_type="thing", object_id="alice-opened") == {"alice-opened"}
    assert objects(object_type="thing", action="declaration", actor=str(alice.id)) == {
        "alice-opened"
    }
    nobody = client.get(URL, query_string={"actor": "nobody@agency.kg"}).get_data(as_text=True)
    assert "No user has that e-mail address or id." in nobody
    assert shown_objects(nobody) == set()
    too_long = client.get(URL, query_string={"object_id": "x" * 65})
    assert too_long.status_code == 200
    assert "error-summary" in too_long.get_data(as_text=True)


def test_the_page_goes_back_in_time_a_page_at_a_time(client, auth, db):
    for number in range(PAGE_SIZE + 5):
        record("test.paged", object_type="thing", object_id=f"n{number}")
    db.session.commit()
    auth.login(UserFactory(role=Role.SUPERVISOR))

    first = client.get(URL, query_string={"action": "test.paged"}).get_data(as_text=True)
    assert shown_objects(first) == {f"n{number}" for number in range(5, PAGE_SIZE + 5)}
    assert first.index(">n54<") < first.index(">n5<")  # newest first
    older = first.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert "action=test.paged" in older
    second = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    assert shown_objects(second) == {f"n{number}" for number in range(5)}
    assert 'rel="next"' not in second


def test_the_page_loads_actors_without_n_plus_one(client, auth, db, query_counter):
    def statements_for(actor_count: int) -> int:
        for _ in range(actor_count):
            record("test.many", actor=UserFactory(role=Role.INSPECTOR))
        db.session.commit()
        with query_counter() as statements:
            response = client.get(URL)
        assert response.status_code == 200
        return len(statements)

    auth.login(UserFactory(role=Role.ADMIN))
    assert statements_for(2) == statements_for(20)
