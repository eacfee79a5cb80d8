"""public search: a words table in results order

Revision ID: 5c1e0d7a9b21
Revises: 9e0cf8aaf208
Create Date: 2026-11-23 03:49:56.731671

On PostgreSQL the entries' sort name and number compare by code point (COLLATE "C"), as on
SQLite and in Python. `register_search_terms` holds every word of each entry's `search_text` with the entry's place in
the results' order (sort name, number) as the rest of its primary key, so a common word's first
page is one index range (services.registry). Triggers keep it in step with `register_entries`
on both databases (the same DDL as `register.search_terms`, copied here as it was). The words of
the entries already published are filled in one sorted INSERT before the entry index is made.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e0d7a9b21'
down_revision = '9e0cf8aaf208'
branch_labels = None
depends_on = None

TABLE = "register_search_terms"
_SQLITE_WORDS = """SELECT DISTINCT substr(value, 1, 100), {row}.sort_name,
    {row}.registration_number, {row}.id
  FROM json_each('["' || replace({row}.search_text, ' ', '","') || '"]') WHERE value <> ''"""
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER register_search_terms_insert AFTER INSERT ON register_entries BEGIN
  INSERT OR IGNORE INTO {TABLE} (term, sort_name, registration_number, entry_id)
  {_SQLITE_WORDS.format(row="new")};
END""",
    f"""CREATE TRIGGER register_search_terms_update
  AFTER UPDATE OF search_text, sort_name, registration_number ON register_entries BEGIN
  DELETE FROM {TABLE} WHERE entry_id = old.id;
  INSERT OR IGNORE INTO {TABLE} (term, sort_name, registration_number, entry_id)
  {_SQLITE_WORDS.format(row="new")};
END""",
    f"""CREATE TRIGGER register_search_terms_delete AFTER DELETE ON register_entries BEGIN
  DELETE FROM {TABLE} WHERE entry_id = old.id;
END""",
)
POSTGRES_FUNCTION = f"""CREATE OR REPLACE FUNCTION register_search_terms_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM {TABLE} WHERE entry_id = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO {TABLE} (term, sort_name, registration_number, entry_id)
    SELECT DISTINCT left(word, 100), NEW.sort_name, NEW.registration_number, NEW.id
    FROM unnest(string_to_array(NEW.search_text, ' ')) AS word
    WHERE word <> ''
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$"""
POSTGRES_TRIGGER = """CREATE TRIGGER register_search_terms_sync
  AFTER INSERT OR DELETE OR UPDATE OF search_text, sort_name, registration_number
  ON register_entries FOR EACH ROW EXECUTE FUNCTION register_search_terms_sync()"""
SQLITE_FILL = f"""INSERT OR IGNORE INTO {TABLE} (term, sort_name, registration_number, entry_id)
SELECT DISTINCT substr(j.value, 1, 100), e.sort_name, e.registration_number, e.id
FROM register_entries AS e,
     json_each('["' || replace(e.search_text, ' ', '","') || '"]') AS j
WHERE j.value <> ''
ORDER BY 1, 2, 3"""
POSTGRES_FILL = f"""INSERT INTO {TABLE} (term, sort_name, registration_number, entry_id)
SELECT DISTINCT left(word, 100), e.sort_name, e.registration_number, e.id
FROM register_entries AS e, unnest(string_to_array(e.search_text, ' ')) AS word
WHERE word <> ''
ORDER BY 1, 2, 3
ON CONFLICT DO NOTHING"""


C_500 = sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql')
C_40 = sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql')


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Results order is code-point order everywhere (SQLite's and Python's), whatever the
        # database's collation: search merges ordered ranges in Python.
        op.alter_column('register_entries', 'sort_name', type_=sa.String(500, collation='C'))
        op.alter_column('register_entries', 'registration_number', type_=sa.String(40, collation='C'))
    op.create_table('register_search_terms',
    sa.Column('term', sa.String(length=100).with_variant(sa.String(length=100, collation='C'), 'postgresql'), nullable=False),
    sa.Column('sort_name', C_500, nullable=False),
    sa.Column('registration_number', C_40, nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['register_entries.id'], name=op.f('fk_register_search_terms_entry_id_register_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'sort_name', 'registration_number', name=op.f('pk_register_search_terms')),
    sqlite_with_rowid=False
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(SQLITE_FILL if sqlite else POSTGRES_FILL)
    with op.batch_alter_table('register_search_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_search_terms_entry_id'), ['entry_id'], unique=False)
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS register_search_terms_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS register_search_terms_sync ON register_entries")
        op.execute("DROP FUNCTION IF EXISTS register_search_terms_sync()")
    with op.batch_alter_table('register_search_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_search_terms_entry_id'))

    op.drop_table('register_search_terms')
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('register_entries', 'sort_name', type_=sa.String(500))
        op.alter_column('register_entries', 'registration_number', type_=sa.String(40))
