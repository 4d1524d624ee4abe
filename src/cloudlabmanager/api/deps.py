"""Dependencies shared by the routes: the app context and the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from cloudlabmanager.auth.tokens import TokenClaims
from cloudlabmanager.auth.users import User
from cloudlabmanager.context import AppContext
from cloudlabmanager.errors import ServiceUnavailable, Unauthorized

SESSION_COOKIE = "clm_session"


def get_context(request: Request) -> AppContext:
    ctx: AppContext | None = getattr(request.app.state, "context", None)
    if ctx is None:
        raise ServiceUnavailable("The server is starting.")
    return ctx


Context = Annotated[AppContext, Depends(get_context)]


def _token_from(request: Request) -> str:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'")
        return value.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    raise Unauthorized()


async def get_session(request: Request, ctx: Context) -> tuple[User, TokenClaims]:
    token = _token_from(request)
    if len(token) > 4096:
        raise Unauthorized("Invalid or expired token")
    return await run_in_threadpool(ctx.users.authenticate, token)


Session = Annotated[tuple[User, TokenClaims], Depends(get_session)]


async def get_user(session: Session) -> User:
    return session[0]


CurrentUser = Annotated[User, Depends(get_user)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
