"""Migration 0010 on a database with tokens from before scopes: a token an admin (or the CLI) minted for
someone else is revoked, with an audit entry; a token its owner minted for themselves is kept, with scope
``full`` and an expiry 90 days ahead."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text

from tests.conftest import empty_database, upgrade_to

AT = datetime(2026, 3, 2, 15, 0)


def test_pre_upgrade_tokens_not_minted_by_their_owner_are_revoked(engine: Engine) -> None:
    empty_database(engine)
    upgrade_to(engine, "0009")
    with engine.begin() as c:
        for uid, email, role in ((1, "ada@revteam.test", "admin"), (2, "maya@revteam.test", "sdr"),
                                 (3, "sam@revteam.test", "ae")):
            c.execute(text("INSERT INTO users (id, email, name, role, is_active, created_at) "
                           "VALUES (:id, :email, :email, :role, :active, :at)"),
                      {"id": uid, "email": email, "role": role, "active": True, "at": AT})
        # 10: Ada for herself (page); 11: Ada for Maya (page); 12: the CLI for Sam; 13: already revoked
        for tid, uid in ((10, 1), (11, 2), (12, 3), (13, 2)):
            c.execute(text("INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, revoked_at) "
                           "VALUES (:id, :uid, 'api', 'rvt_x', :hash, :at, :revoked)"),
                      {"id": tid, "uid": uid, "hash": f"{tid:064d}", "at": AT, "revoked": AT if tid == 13 else None})
            c.execute(text("INSERT INTO audit_log (at, actor, actor_user_id, action, entity, entity_id) "
                           "VALUES (:at, :actor, :uid, 'token.issued', 'api_token', :tid)"),
                      {"at": AT, "actor": f"user:{uid}", "uid": None, "tid": str(tid)})
        for tid in (10, 11, 13):
            c.execute(text("INSERT INTO audit_log (at, actor, actor_user_id, action, entity, entity_id) "
                           "VALUES (:at, 'user:1', 1, 'token.issued_for', 'api_token', :tid)"),
                      {"at": AT, "tid": str(tid)})
    upgrade_to(engine, "head")
    with engine.connect() as c:
        rows = {r.id: r for r in c.execute(text("SELECT id, scope, revoked_at, expires_at FROM api_tokens"))}
        revoked_by_migration = set(c.execute(text(
            "SELECT entity_id FROM audit_log WHERE action = 'token.revoked' AND actor = 'migration:0010'")).scalars())
    assert rows[10].revoked_at is None and rows[10].scope == "full" and rows[10].expires_at is not None
    assert rows[11].revoked_at is not None and rows[12].revoked_at is not None
    assert rows[13].revoked_at is not None
    assert revoked_by_migration == {"11", "12"}  # the one revoked before is not revoked twice
