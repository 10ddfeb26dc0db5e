"""revocation notifications: on PostgreSQL, a change to ``revocations`` notifies channel
``headless_redirects_changes`` too, so that every instance forgets the revocations it answers
from memory (``storage.tokens``) as the change commits

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: no notifications; the memory lasts under a second (storage.tokens)
    # The function of migration 0006: the table's name, delivered when the transaction commits.
    op.execute("CREATE TRIGGER revocations_changed AFTER INSERT OR UPDATE OR DELETE ON revocations "
               "FOR EACH STATEMENT EXECUTE FUNCTION headless_redirects_notify_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS revocations_changed ON revocations")
