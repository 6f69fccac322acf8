"""token scopes and expiry, service accounts, log-in throttles (issue #10)

Before this upgrade no token was ever created by its owner's consent: an admin minted it on the Users
page (audit ``token.issued_for``, ``actor_user_id`` the admin) or an operator with ``revteam users token``
(audit only ``token.issued``, nobody recorded). So every open token is **revoked** (audit ``token.revoked``
by ``migration:0010``) unless the audit log shows its owner minted it for themselves (``token.issued_for``
by the owner). The tokens kept get scope ``full`` and expire 90 days after this upgrade (they had no expiry
before); existing users are people, not service accounts. Re-issue integration tokens for service
accounts (docs/production.md, "Upgrading").

Revision ID: 0010
Revises: 0009
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
    # plain ADD COLUMN (no table copy on SQLite: copying users would trip its foreign keys once rows exist)
    with op.batch_alter_table('users', recreate='never') as batch:
        batch.add_column(sa.Column('is_service', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('api_tokens', recreate='never') as batch:
        batch.add_column(sa.Column('scope', sa.String(length=20), server_default='full', nullable=False))
        batch.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    now = datetime.now(UTC).replace(tzinfo=None)
    cutoff = now + timedelta(days=90)
    tokens = sa.table('api_tokens', sa.column('id', sa.Integer()), sa.column('user_id', sa.Integer()),
                      sa.column('revoked_at', sa.DateTime()), sa.column('expires_at', sa.DateTime()))
    audit = sa.table('audit_log', sa.column('at', sa.DateTime()), sa.column('actor_user_id', sa.Integer()),
                     sa.column('actor', sa.String()), sa.column('action', sa.String()), sa.column('entity', sa.String()),
                     sa.column('entity_id', sa.String()), sa.column('detail', sa.JSON()))
    conn = op.get_bind()
    minted_by = {str(entity_id): actor for entity_id, actor in conn.execute(
        sa.select(audit.c.entity_id, audit.c.actor_user_id)
        .where(audit.c.action == 'token.issued_for', audit.c.entity == 'api_token'))}
    open_tokens = conn.execute(sa.select(tokens.c.id, tokens.c.user_id).where(tokens.c.revoked_at.is_(None))).all()
    for token_id, owner in open_tokens:
        if minted_by.get(str(token_id)) == owner:
            continue  # the owner minted it for themselves: kept (scope full, 90 days)
        conn.execute(tokens.update().where(tokens.c.id == token_id).values(revoked_at=now))
        conn.execute(audit.insert().values(
            at=now, actor_user_id=None, actor='migration:0010', action='token.revoked', entity='api_token',
            entity_id=str(token_id), detail={'user_id': owner, 'reason': 'not minted by its owner before the upgrade'}))
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
