"""identity API (member status, single-use member tokens, mail outbox), registration policy,
apps' allowed origins

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sites') as batch:
        batch.add_column(sa.Column('registration_policy', sa.String(length=16), nullable=False,
                                   server_default='open'))
    with op.batch_alter_table('apps') as batch:
        batch.add_column(sa.Column('allowed_origins', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('updated_at', sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('members') as batch:
        batch.alter_column('password_hash', existing_type=sa.String(length=256), nullable=True)
        batch.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='APPROVED'))
        batch.add_column(sa.Column('email_verified', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('nickname', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('updated_at', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('last_login_at', sa.BigInteger(), nullable=True))
    op.create_table('member_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('used_at', sa.BigInteger(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash'),
    sqlite_with_rowid=False
    )
    op.create_table('mail_outbox',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=400), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_mail_outbox_created_at'), 'mail_outbox', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_mail_outbox_created_at'), table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_table('member_tokens')
    with op.batch_alter_table('members') as batch:
        for name in ('last_login_at', 'updated_at', 'language', 'nickname', 'email_verified', 'status'):
            batch.drop_column(name)
    with op.batch_alter_table('apps') as batch:
        batch.drop_column('updated_at')
        batch.drop_column('allowed_origins')
    with op.batch_alter_table('sites') as batch:
        batch.drop_column('registration_policy')
