"""The words table of public search (`register_search_terms`), kept in step by the database.

Every word of `register_entries.search_text` (already normalised, one space between words) is a
row (term, sort name, registration number, entry id). Triggers write the rows whenever an entry
is inserted, renamed or deleted, on SQLite (splitting the text with `json_each`: the text holds
only letters, digits and spaces, so it is a valid JSON array once quoted) and on PostgreSQL
(`string_to_array`), so every writer — the app, the legacy import, a bulk load — keeps it right.

A bulk load (`register.generator`) drops the triggers, writes its entries, then fills the words
of the new entries in one sorted INSERT (appending to the index instead of writing all over it)
and creates the triggers again. The DDL here is the one revision 5c1e0d7a9b21 created.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

SQLITE_TRIGGER_NAMES = (
    "register_search_terms_insert",
    "register_search_terms_update",
    "register_search_terms_delete",
)
POSTGRES_TRIGGER = "register_search_terms_sync"

SQLITE_TRIGGERS = (
    """CREATE TRIGGER register_search_terms_insert AFTER INSERT ON register_entries BEGIN
  INSERT OR IGNORE INTO register_search_terms
    (term, sort_name, registration_number, entry_id, region_code, sector_code, status,
    cross_border, special_categories)
  SELECT DISTINCT substr(value, 1, 100), new.sort_name, new.registration_number, new.id,
    new.region_code, new.sector_code, new.status, new.cross_border, new.special_categories
  FROM json_each('["' || replace(new.search_text, ' ', '","') || '"]') WHERE value <> '';
END""",
    """CREATE TRIGGER register_search_terms_update
  AFTER UPDATE OF search_text, sort_name, registration_number, region_code, sector_code, status,
    cross_border, special_categories ON register_entries BEGIN
  DELETE FROM register_search_terms WHERE entry_id = old.id;
  INSERT OR IGNORE INTO register_search_terms
    (term, sort_name, registration_number, entry_id, region_code, sector_code, status,
    cross_border, special_categories)
  SELECT DISTINCT substr(value, 1, 100), new.sort_name, new.registration_number, new.id,
    new.region_code, new.sector_code, new.status, new.cross_border, new.special_categories
  FROM json_each('["' || replace(new.search_text, ' ', '","') || '"]') WHERE value <> '';
END""",
    """CREATE TRIGGER register_search_terms_delete AFTER DELETE ON register_entries BEGIN
  DELETE FROM register_search_terms WHERE entry_id = old.id;
END""",
)

POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION register_search_terms_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM register_search_terms WHERE entry_id = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO register_search_terms
      (term, sort_name, registration_number, entry_id, region_code, sector_code, status,
      cross_border, special_categories)
    SELECT DISTINCT left(word, 100), NEW.sort_name, NEW.registration_number, NEW.id,
      NEW.region_code, NEW.sector_code, NEW.status, NEW.cross_border, NEW.special_categories
    FROM unnest(string_to_array(NEW.search_text, ' ')) AS word
    WHERE word <> ''
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$"""
POSTGRES_TRIGGER_DDL = """CREATE TRIGGER register_search_terms_sync
  AFTER INSERT OR DELETE OR UPDATE OF search_text, sort_name, registration_number, region_code,
    sector_code, status, cross_border, special_categories
  ON register_entries FOR EACH ROW EXECUTE FUNCTION register_search_terms_sync()"""

# The words of entries whose id lies in [:low, :high), sorted as the primary key.
SQLITE_FILL = """INSERT OR IGNORE INTO register_search_terms
  (term, sort_name, registration_number, entry_id, region_code, sector_code, status,
    cross_border, special_categories)
SELECT DISTINCT substr(j.value, 1, 100), e.sort_name, e.registration_number, e.id,
  e.region_code, e.sector_code, e.status, e.cross_border, e.special_categories
FROM register_entries AS e,
     json_each('["' || replace(e.search_text, ' ', '","') || '"]') AS j
WHERE j.value <> '' AND e.id >= :low AND e.id < :high
ORDER BY 1, 2, 3"""
POSTGRES_FILL = """INSERT INTO register_search_terms
  (term, sort_name, registration_number, entry_id, region_code, sector_code, status,
    cross_border, special_categories)
SELECT DISTINCT left(word, 100), e.sort_name, e.registration_number, e.id,
  e.region_code, e.sector_code, e.status, e.cross_border, e.special_categories
FROM register_entries AS e, unnest(string_to_array(e.search_text, ' ')) AS word
WHERE word <> '' AND e.id >= :low AND e.id < :high
ORDER BY 1, 2, 3
ON CONFLICT DO NOTHING"""


def create_triggers(connection: Any) -> None:
    """Create the triggers (on a Connection or Session, in its transaction)."""
    if _dialect(connection) == "sqlite":
        for statement in SQLITE_TRIGGERS:
            connection.execute(sa.text(statement))
    else:
        connection.execute(sa.text(POSTGRES_FUNCTION))
        connection.execute(sa.text(POSTGRES_TRIGGER_DDL))


def _dialect(connection: Any) -> str:
    bind = connection.get_bind() if hasattr(connection, "get_bind") else connection
    return str(bind.dialect.name)


def drop_triggers(connection: Any) -> None:
    """Drop the triggers (a bulk load fills the words itself, then creates them again)."""
    if _dialect(connection) == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            connection.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        connection.execute(
            sa.text(f"DROP TRIGGER IF EXISTS {POSTGRES_TRIGGER} ON register_entries")
        )


def triggers_present(connection: Any) -> bool:
    """Whether every trigger is there (a bulk load that was killed leaves them dropped)."""
    if _dialect(connection) == "sqlite":
        found = connection.execute(
            sa.text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE :p"),
            {"p": "register_search_terms_%"},
        ).scalar()
        return int(found or 0) == len(SQLITE_TRIGGER_NAMES)
    found = connection.execute(
        sa.text("SELECT count(*) FROM pg_trigger WHERE tgname = :name"), {"name": POSTGRES_TRIGGER}
    ).scalar()
    return int(found or 0) == 1


def fill(connection: Any, low: Any, high: Any) -> None:
    """Write the words of the entries whose id is in [low, high) (existing rows are kept)."""
    statement = SQLITE_FILL if _dialect(connection) == "sqlite" else POSTGRES_FILL
    column = sa.column("id", sa.Uuid())
    connection.execute(
        sa.text(statement).bindparams(
            sa.bindparam("low", type_=column.type), sa.bindparam("high", type_=column.type)
        ),
        {"low": low, "high": high},
    )
