"""Migrations: the head matches the models, and upgrade → downgrade → upgrade keeps working."""

from __future__ import annotations

import uuid

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from register.database import include_in_migrations
from register.extensions import db as _db
from register.services.accounts import find_by_email
from tests.conftest import ON_POSTGRES, ensure_data_key


def table_names(engine: sa.Engine) -> set[str]:
    """The tables the models describe (not Alembic's, not the hand-made search tables)."""
    names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    return {name for name in names if include_in_migrations(name, "table", {})}


def test_migration_head_matches_the_models(make_app, scratch_database_url):
    app = make_app(TEST_DATABASE_URL=scratch_database_url)
    with app.app_context():
        flask_migrate.upgrade()
        with _db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_name": include_in_migrations,
                },
            )
            differences = compare_metadata(context, _db.metadata)
        _db.engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


BEFORE_ENCRYPTION = "f6d31054a443"


def insert_plain_user(connection: sa.Connection, email: str, name: str) -> uuid.UUID:
    """A user row as it was before e-mails and names were encrypted."""
    user_id = uuid.uuid4()
    connection.execute(
        sa.text(
            "INSERT INTO users (id, email, full_name, role, locale, is_active_account,"
            " created_at, updated_at, failed_sign_ins, session_version, totp_secret)"
            " VALUES (:id, :email, :name, 'inspector', 'ky', :yes, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP, 0, 1, 'JBSWY3DPEHPK3PXP')"
        ),
        {"id": user_id if ON_POSTGRES else user_id.hex, "email": email, "name": name, "yes": True},
    )
    connection.execute(
        sa.text(
            "INSERT INTO notifications (id, recipient_id, kind, subject, body, created_at,"
            " delivery_status, attempts, sensitive) VALUES (:id, :user, 'k', 's', 'b',"
            " CURRENT_TIMESTAMP, 'pending', 0, :no)"
        ),
        {
            "id": uuid.uuid4() if ON_POSTGRES else uuid.uuid4().hex,
            "user": user_id if ON_POSTGRES else user_id.hex,
            "no": False,
        },
    )
    return user_id


def test_upgrade_downgrade_upgrade_on_a_database_with_rows(make_app, scratch_database_url, db):
    app = make_app(TEST_DATABASE_URL=scratch_database_url)
    # This test commits for real on its own database: db.session must not join the test's.
    db.session.remove()
    db.session.configure(bind=None)
    with app.app_context():
        engine = _db.engine
        flask_migrate.upgrade(revision=BEFORE_ENCRYPTION)
        with engine.begin() as connection:
            user_id = insert_plain_user(connection, "Aibek@Example.kg", "Айбек Өмүров")

        # The data migration encrypts the existing rows.
        flask_migrate.upgrade()
        assert table_names(engine) == set(_db.metadata.tables)
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT * FROM users")).mappings().one()
        assert "email" not in stored and b"Aibek" not in bytes(stored["email_encrypted"])
        user = find_by_email("aibek@example.kg")
        assert user is not None and user.id == user_id
        assert (user.email, user.full_name) == ("Aibek@Example.kg", "Айбек Өмүров")
        assert user.totp_secret == "JBSWY3DPEHPK3PXP"
        _db.session.remove()

        # Down to the plain columns (decrypted back), down to nothing, and up again.
        flask_migrate.downgrade(revision=BEFORE_ENCRYPTION)
        with engine.connect() as connection:
            plain = connection.execute(sa.text("SELECT email, full_name FROM users")).one()
        assert tuple(plain) == ("Aibek@Example.kg", "Айбек Өмүров")
        flask_migrate.downgrade(revision="base")
        assert table_names(engine) == set()
        flask_migrate.upgrade()
        assert table_names(engine) == set(_db.metadata.tables)
        with engine.connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one()
        engine.dispose()


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(
                    sa.select(sa.func.count()).select_from(sa.table(name))
                ).scalar_one()
            )
            for name in sorted(table_names(engine))
        }


def test_rebuilding_a_table_loses_no_row_of_its_children(make_app, scratch_database_url, db):
    """Batch mode rebuilds tables on SQLite: their children (ON DELETE CASCADE) must survive.

    With the demo's data in every table, step down through the latest revisions and up again:
    every table keeps every row.
    """
    from register.demo import seed

    app = make_app(TEST_DATABASE_URL=scratch_database_url)
    db.session.remove()
    db.session.configure(bind=None)
    with app.app_context(), app.test_request_context():
        flask_migrate.upgrade()
        ensure_data_key(app)
        seed()
        _db.session.commit()
        before = row_counts(_db.engine)
        assert before["register_entry_versions"] and before["certificates"]
        assert before["declaration_versions"] and before["review_comments"]
        # One step down (rebuilds register_entries): every table keeps every row, but for the
        # tables of later revisions, which the downgrade drops with their rows (breach reports,
        # complaints).
        flask_migrate.downgrade(revision="d11437b169d6")
        kept = table_names(_db.engine)
        flask_migrate.upgrade()
        one_step = row_counts(_db.engine)
        # Down past the review (rebuilds declarations): their children keep every row.
        flask_migrate.downgrade(revision="30f33e7bbca7")
        flask_migrate.upgrade()
        after = row_counts(_db.engine)
        _db.session.remove()
        _db.engine.dispose()
    assert {name: count for name, count in one_step.items() if name in kept} == {
        name: count for name, count in before.items() if name in kept
    }
    assert before["breach_reports"] and before["complaints"]  # the later tables had rows
    review_tables = {
        "register_entries",
        "register_search_terms",
        "register_entry_versions",
        "register_entry_events",
        "registration_sequences",
        "certificates",
    }
    assert {
        name: count for name, count in after.items() if name not in review_tables and name in kept
    } == {
        name: count for name, count in before.items() if name not in review_tables and name in kept
    }
