"""One's own API tokens over the API: list them (``read``), revoke one (``full`` tokens only).

Tokens are created on the API tokens page or with the CLI, never over the API: a token must not be able
to mint a broader or longer-lived one. An admin's ``full`` token may revoke anyone's token."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from revteam.services.people.users import revoke_token, tokens_of
from revteam.web.api.models import ERROR_RESPONSES, IdPath, not_found
from revteam.web.deps import CurrentUser, NowDep, SessionDep

router = APIRouter(responses=ERROR_RESPONSES)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.get("/me/tokens", name="api.tokens.list", response_model=list[TokenOut])
def list_my_tokens(db: SessionDep, me: CurrentUser) -> list[TokenOut]:
    """Your API tokens, newest first (revoked and expired ones included)."""
    return [TokenOut.model_validate(t, from_attributes=True) for t in tokens_of(db, me.id)]


@router.delete("/tokens/{token_id}", name="api.tokens.revoke", response_model=TokenOut,
               responses={**not_found("No such token (or not yours)")})
def revoke(db: SessionDep, me: CurrentUser, now: NowDep, token_id: IdPath) -> TokenOut:
    """Revoke one of your tokens (an admin: anyone's). Calls with it get 401 from then on."""
    return TokenOut.model_validate(revoke_token(db, token_id, by=me, now=now), from_attributes=True)
