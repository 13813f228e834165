"""The SQL that makes the audit table append-only in the database itself."""

from __future__ import annotations

SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_no_update;", "DROP TRIGGER IF EXISTS audit_no_delete;"]
# Row triggers do not fire on TRUNCATE, which is how `flush` empties tables on PostgreSQL.
POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql;",
    "DROP TRIGGER IF EXISTS audit_no_update ON audit_auditentry;",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit_auditentry "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_no_update ON audit_auditentry;",
    "DROP FUNCTION IF EXISTS audit_append_only();",
]
CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}

# --- since migration 0004 (decision 0043): entries chained after commit by the sequencer ----
# An entry is inserted with ``seq`` NULL (pending) and its content final. The sequencer may then
# set its chain columns (seq, prev_hash, entry_hash) once, from pending to chained; any other
# update, a second chaining, and every delete are still refused. CREATE and DROP above are the
# triggers migration 0002 made (kept as they were: landed migrations import them).
CHAIN_COLUMNS = ("seq", "prev_hash", "entry_hash")
# Every other column of audit_auditentry: SQLite's trigger must name them (a test checks that
# this list is the table's columns less the chain columns, so a new column cannot slip by).
CONTENT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "area_id",
    "field",
    "reason",
    "changes",
    "ip",
    "channel",
    "user_agent",
)
_SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT_COLUMNS)
SQLITE_CHAINED_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_auditentry "
    f"WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR {_SQLITE_CHANGED} "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;",
]
_PG_CONTENT = "to_jsonb({row}) - 'seq' - 'prev_hash' - 'entry_hash'"
POSTGRES_CHAINED_CREATE = [
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ "
    "BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL "
    f"AND ({_PG_CONTENT.format(row='NEW')}) = ({_PG_CONTENT.format(row='OLD')}) "
    "THEN RETURN NEW; END IF; "
    "RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql;",
    "DROP TRIGGER IF EXISTS audit_no_update ON audit_auditentry;",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit_auditentry "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
]
CHAINED_CREATE = {"sqlite": SQLITE_CHAINED_CREATE, "postgresql": POSTGRES_CHAINED_CREATE}
CHAINED_DROP = DROP
