"""Migrations: the head matches the models, and upgrade → downgrade → upgrade keeps working."""

from __future__ import annotations

import uuid

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from register.extensions import db as _db
from tests.conftest import ON_POSTGRES


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_migration_head_matches_the_models(make_app, scratch_database_url):
    app = make_app(TEST_DATABASE_URL=scratch_database_url)
    with app.app_context():
        flask_migrate.upgrade()
        with _db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, _db.metadata)
        _db.engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_upgrade_downgrade_upgrade_on_a_database_with_rows(make_app, scratch_database_url):
    app = make_app(TEST_DATABASE_URL=scratch_database_url)
    with app.app_context():
        engine = _db.engine
        flask_migrate.upgrade()
        expected_tables = set(_db.metadata.tables)
        assert table_names(engine) == expected_tables

        user_id = uuid.uuid4()
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, email, full_name, role, locale, is_active_account,"
                    " created_at, updated_at) VALUES (:id, 'a@example.kg', 'A', 'holder', 'ky',"
                    " :yes, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": user_id if ON_POSTGRES else user_id.hex, "yes": True},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO notifications (id, recipient_id, kind, subject, body, created_at,"
                    " delivery_status, attempts) VALUES (:id, :user, 'k', 's', 'b',"
                    " CURRENT_TIMESTAMP, 'pending', 0)"
                ),
                {
                    "id": uuid.uuid4() if ON_POSTGRES else uuid.uuid4().hex,
                    "user": user_id if ON_POSTGRES else user_id.hex,
                },
            )

        flask_migrate.downgrade(revision="base")
        assert table_names(engine) == set()

        flask_migrate.upgrade()
        assert table_names(engine) == expected_tables
        with engine.connect() as connection:
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one()
        engine.dispose()
