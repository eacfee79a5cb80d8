"""Alembic environment for Flask-Migrate: the app's engine and metadata, batch mode for SQLite.

Logging is the application's own (no fileConfig here), so running migrations inside a process
(the tests, `make run`) does not reset its loggers.
"""

import logging

from alembic import context
from flask import current_app
from sqlalchemy import types as sa_types

from register.database import UTCDateTime

config = context.config
logger = logging.getLogger("alembic.env")
target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write the app's column types as plain SQLAlchemy types: revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, sa_types.Uuid):
        return "sa.Uuid()"
    return False


def run_migrations_offline():
    """Emit SQL for the configured database without connecting."""
    context.configure(
        url=target_db.engine.url,
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations over the app's engine."""

    def process_revision_directives(context, revision, directives):
        # Do not write an empty revision when autogenerate finds nothing to do.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("render_item", render_item)

    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by copying it and dropping the old one; with foreign
            # keys on, that DROP would cascade into every child table (ON DELETE CASCADE) and
            # empty it. Foreign keys go off for the migration (outside any transaction, where
            # SQLite honours the pragma) and every reference is checked afterwards.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        applied = []
        conf_args.setdefault("on_version_apply", lambda **step: applied.append(step))
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        # Nothing applied, nothing to check (the check reads every row of every table: minutes
        # on a register of a million holders, at every start of `make run`).
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
        if sqlite and applied:
            raw = connection.connection.driver_connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left broken references: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
