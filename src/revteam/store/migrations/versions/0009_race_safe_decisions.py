"""race-safe decisions and ingestion: one open handoff per contact and kind (partial unique index), the
touch-reaction queue (rescoring and hand-over owed to a committed touch batch) and remembered
Idempotency-Key requests

Before the index is created, duplicate open handoffs that earlier races left behind are closed: of each
contact's open handoffs of one kind, the first handed over stays open and the others are marked rejected
as duplicates (reason ``duplicate``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

import revteam.store.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OPEN = "status IN ('pending', 'unassigned')"


def upgrade() -> None:
    op.execute(sa.text(
        "UPDATE handoffs SET status = 'rejected', reject_reason = 'duplicate', "
        "reject_note = 'closed by migration 0009: a second open handoff of the same lead' "
        f"WHERE {OPEN} AND EXISTS (SELECT 1 FROM handoffs AS earlier WHERE earlier.contact_id = handoffs.contact_id "
        "AND earlier.kind = handoffs.kind AND earlier.status IN ('pending', 'unassigned') AND earlier.id < handoffs.id)"
    ))
    op.create_index('uq_handoffs_open_contact_kind', 'handoffs', ['contact_id', 'kind'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_table('touch_reactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_system', sa.String(length=40), nullable=False),
    sa.Column('contact_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', revteam.store.types.UTCDateTime(), nullable=False),
    sa.Column('done_at', revteam.store.types.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_touch_reactions'))
    )
    op.create_index(op.f('ix_touch_reactions_done_at'), 'touch_reactions', ['done_at'], unique=False)
    op.create_table('idempotent_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('started_at', revteam.store.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', revteam.store.types.UTCDateTime(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_requests')),
    sa.UniqueConstraint('caller', 'key', name=op.f('uq_idempotent_requests_caller_key'))
    )
    op.create_index(op.f('ix_idempotent_requests_started_at'), 'idempotent_requests', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_idempotent_requests_started_at'), table_name='idempotent_requests')
    op.drop_table('idempotent_requests')
    op.drop_index(op.f('ix_touch_reactions_done_at'), table_name='touch_reactions')
    op.drop_table('touch_reactions')
    op.drop_index('uq_handoffs_open_contact_kind', table_name='handoffs')
