"""members, browser sessions, authorization codes, rate limits

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('authorization_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=True),
    sa.Column('scope', sa.String(length=512), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=True),
    sa.Column('nonce', sa.String(length=512), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('redeemed_at', sa.BigInteger(), nullable=True),
    sa.Column('grant_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('code_hash'),
    sqlite_with_rowid=False
    )
    op.create_table('browser_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('visitor_id', sa.String(length=36), nullable=True),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('member_site_id', sa.String(length=36), nullable=True),
    sa.Column('member_since_ms', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash'),
    sqlite_with_rowid=False
    )
    op.create_table('members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'email', name='uq_members_site_email')
    )
    op.create_table('rate_limits',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key'),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('redirect_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bound_browser', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('redirect_sessions', schema=None) as batch_op:
        batch_op.drop_column('bound_browser')

    op.drop_table('rate_limits')
    op.drop_table('members')
    op.drop_table('browser_sessions')
    op.drop_table('authorization_codes')
