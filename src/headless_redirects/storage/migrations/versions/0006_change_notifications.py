"""change notifications: on PostgreSQL, a change to sites, apps, API keys or signing keys
notifies channel ``headless_redirects_changes`` with the table's name (``storage.changes``)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLES = ("sites", "apps", "api_keys", "signing_keys")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one machine, caches expire on their own (see storage.changes)
    # A trigger, not the application, sends the notification: a change made by the CLI, by
    # another instance or by hand in SQL reaches every instance all the same. NOTIFY is
    # delivered when the transaction commits, and only then.
    op.execute("""
        CREATE OR REPLACE FUNCTION headless_redirects_notify_change() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('headless_redirects_changes', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
    """)
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION headless_redirects_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS headless_redirects_notify_change()")
