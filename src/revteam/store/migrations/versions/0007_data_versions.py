"""data versions: one counter per table the analytics read, bumped by every write (store/data_versions.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_versions',
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', name=op.f('pk_data_versions'))
    )


def downgrade() -> None:
    op.drop_table('data_versions')
