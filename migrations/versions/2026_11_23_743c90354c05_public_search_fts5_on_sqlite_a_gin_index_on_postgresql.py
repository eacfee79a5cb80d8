"""public search: FTS5 on SQLite, a GIN index on PostgreSQL

Revision ID: 743c90354c05
Revises: d11437b169d6
Create Date: 2026-11-23 01:44:33.516767

Public search reads `register_entries.search_text` (names, TIN and number, normalised in Python).
On PostgreSQL a GIN index over `to_tsvector('simple', search_text)` serves it. On SQLite an FTS5
table `register_entries_fts` holds the same text under the row's `search_rowid`, kept in step by
triggers, so every way of writing an entry (the app, a bulk import) updates the index.

A later batch migration that rebuilds `register_entries` on SQLite drops these triggers: it must
create them again (`_create_sqlite_triggers`).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '743c90354c05'
down_revision = 'd11437b169d6'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER register_entries_fts_insert AFTER INSERT ON register_entries
       WHEN new.search_rowid IS NOT NULL BEGIN
         INSERT INTO register_entries_fts(rowid, search_text)
         VALUES (new.search_rowid, new.search_text);
       END""",
    """CREATE TRIGGER register_entries_fts_update AFTER UPDATE OF search_text, search_rowid
       ON register_entries BEGIN
         DELETE FROM register_entries_fts WHERE rowid = old.search_rowid;
         INSERT INTO register_entries_fts(rowid, search_text)
         SELECT new.search_rowid, new.search_text WHERE new.search_rowid IS NOT NULL;
       END""",
    """CREATE TRIGGER register_entries_fts_delete AFTER DELETE ON register_entries BEGIN
         DELETE FROM register_entries_fts WHERE rowid = old.search_rowid;
       END""",
)


def _create_sqlite_triggers():
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade():
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_rowid', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_register_entries_search_rowid'), ['search_rowid'])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE register_entries_fts USING fts5("
            "search_text, tokenize = 'unicode61 remove_diacritics 0')"
        )
        # Entries published before this revision get their search rowids, then the index.
        op.execute(
            "UPDATE register_entries SET search_rowid = "
            "(SELECT count(*) FROM register_entries AS earlier "
            " WHERE earlier.rowid <= register_entries.rowid)"
        )
        op.execute(
            "INSERT INTO register_entries_fts(rowid, search_text) "
            "SELECT search_rowid, search_text FROM register_entries"
        )
        _create_sqlite_triggers()
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_register_entries_search_fts ON register_entries "
            "USING gin (to_tsvector('simple', search_text))"
        )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS register_entries_fts_{name}")
        op.execute("DROP TABLE IF EXISTS register_entries_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_register_entries_search_fts")
    with op.batch_alter_table('register_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_register_entries_search_rowid'), type_='unique')
        batch_op.drop_column('search_rowid')
