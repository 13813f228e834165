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
