"""session versions: ``redirect_sessions.version``, one more on every change, so that a change is
written only from the version it was read at (``domain.lifecycle``, ``storage.unit_of_work``)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("redirect_sessions") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("redirect_sessions") as batch:
        batch.drop_column("version")
