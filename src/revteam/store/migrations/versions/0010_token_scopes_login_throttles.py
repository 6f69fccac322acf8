"""token scopes and expiry, service accounts, log-in throttles (issue #10)

Existing tokens keep working with scope ``full`` and expire 90 days after this upgrade (they had no
expiry before); existing users are people, not service accounts.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 18:00:00.000000
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('is_service', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('scope', sa.String(length=20), server_default='full', nullable=False))
        batch.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    cutoff = (datetime.now(UTC) + timedelta(days=90)).replace(tzinfo=None)
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime()))
    op.execute(tokens.update().where(tokens.c.expires_at.is_(None)).values(expires_at=cutoff))
    op.create_table('login_throttles',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttles'))
    )


def downgrade() -> None:
    op.drop_table('login_throttles')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
        batch.drop_column('scope')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('is_service')
