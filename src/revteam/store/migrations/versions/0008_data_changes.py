"""data changes: what each write to a watched table changed, logged with its data version, so a kept analytics
snapshot reads only those rows (store/data_versions.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('column', sa.String(length=64), nullable=True),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_changes'))
    )
    op.create_index('ix_data_changes_table_name_version', 'data_changes', ['table_name', 'version'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_data_changes_table_name_version', table_name='data_changes')
    op.drop_table('data_changes')
