"""erased external ids: the tombstones of an erased person's CRM records (hashed source system + external id)

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-04 18:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import revteam.store.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erased_external_ids',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('erased_at', revteam.store.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_erased_external_ids'))
    )


def downgrade() -> None:
    op.drop_table('erased_external_ids')
