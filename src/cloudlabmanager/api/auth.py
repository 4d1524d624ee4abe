"""Routes of /api/auth: first-boot setup, login, logout, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from cloudlabmanager.api.deps import SESSION_COOKIE, Context, CurrentUser, Session, client_address
from cloudlabmanager.api.schemas import CleanStr, StrictBody
from cloudlabmanager.auth.users import User
from cloudlabmanager.lab.vault import store_vault_password

router = APIRouter(prefix="/api/auth", tags=["auth"])


class AuthStatusRead(BaseModel):
    setup_complete: bool


class SetupCreate(StrictBody):
    username: CleanStr = Field(max_length=64)
    password: CleanStr = Field(max_length=1024)
    vault_password: CleanStr | None = Field(None, max_length=1024)


class LoginCreate(StrictBody):
    username: CleanStr = Field(max_length=256)
    password: CleanStr = Field(max_length=1024)


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


class UserRead(BaseModel):
    username: str
    is_admin: bool


class LogoutRead(BaseModel):
    status: str = "logged_out"


def _set_session_cookie(response: Response, ctx: Context, token: str) -> None:
    # An answer that carries a token is never stored by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ctx.settings.token_ttl_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
        path="/",
    )


@router.get("/status")
async def auth_status(ctx: Context) -> AuthStatusRead:
    complete = await run_in_threadpool(ctx.users.setup_complete)
    return AuthStatusRead(setup_complete=complete)


@router.post(
    "/setup", responses={400: {"description": "Invalid"}, 409: {"description": "Done already"}}
)
async def setup(body: SetupCreate, response: Response, ctx: Context) -> TokenRead:
    token = await run_in_threadpool(
        ctx.users.setup,
        body.username,
        body.password,
        body.vault_password,
        lambda password: store_vault_password(ctx, password),
    )
    _set_session_cookie(response, ctx, token)
    return TokenRead(access_token=token)


@router.post("/login", responses={401: {"description": "Wrong"}, 429: {"description": "Throttled"}})
async def login(body: LoginCreate, request: Request, response: Response, ctx: Context) -> TokenRead:
    token = await run_in_threadpool(
        ctx.users.login, body.username, body.password, client_address(request)
    )
    _set_session_cookie(response, ctx, token)
    return TokenRead(access_token=token)


@router.post("/logout", responses={401: {"description": "Not signed in"}})
async def logout(session: Session, response: Response, ctx: Context) -> LogoutRead:
    await run_in_threadpool(ctx.users.logout, session[1])
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return LogoutRead()


@router.get("/me", responses={401: {"description": "Not signed in"}})
async def me(user: CurrentUser) -> UserRead:
    return _user_read(user)


def _user_read(user: User) -> UserRead:
    return UserRead(username=user.username, is_admin=user.is_admin)
