"""Admin API bearer tokens: 401 without a valid one, 403 outside the token's collections."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serving.settings import AdminToken

_bearer = HTTPBearer(auto_error=False, description="An admin token from server.admin_tokens.")


def _match(presented: str, tokens: list[AdminToken]) -> AdminToken | None:
    found = None
    for candidate in tokens:  # compare against all of them: no timing hint of which matched
        if hmac.compare_digest(presented.encode(), candidate.token.get_secret_value().encode()):
            found = candidate
    return found


def admin_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AdminToken:
    """FastAPI dependency: the caller's token, or 401."""
    tokens: list[AdminToken] = request.app.state.settings.server.admin_tokens
    token = _match(credentials.credentials, tokens) if credentials else None
    if token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a valid admin bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token


AdminAuth = Annotated[AdminToken, Depends(admin_token)]


def require_collection(token: AdminToken, collection: str) -> None:
    if token.collections is not None and collection not in token.collections:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"token {token.name!r} may not use collection {collection!r}",
        )


def may_see(token: AdminToken, collection: str) -> bool:
    return token.collections is None or collection in token.collections
