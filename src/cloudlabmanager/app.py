"""create_app(settings): the lifespan, the routers, the error handlers and the UI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cloudlabmanager import __version__, bootstrap
from cloudlabmanager.api import actions, auth, instances, jobs, services
from cloudlabmanager.api.docs import mount_docs
from cloudlabmanager.api.middleware import GuardMiddleware, HeadersAndLogMiddleware
from cloudlabmanager.api.openapi import describe_errors
from cloudlabmanager.config import Settings
from cloudlabmanager.errors import AppError
from cloudlabmanager.sandbox import create_sandbox_app

UI_DIR = Path(__file__).parent / "ui"
log = logging.getLogger("cloudlabmanager")


def _validation_message(exc: RequestValidationError) -> str:
    # Never echo the input back: only where the problem is and what is wrong.
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "Invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        body: dict[str, object] = {"detail": exc.detail, **exc.extra()}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(DataError)
    async def _bad_value(_request: Request, exc: DataError) -> JSONResponse:
        # A value the database refuses (NUL in a text for PostgreSQL, say) is bad input.
        log.warning("database refused a value of a request: %s", type(exc.orig).__name__)
        return JSONResponse({"detail": "The request holds a value that cannot be stored"}, 400)

    @app.exception_handler(OperationalError)
    async def _database_unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        # Locked (SQLite busy past its timeout) or unreachable: the client may retry.
        log.warning("database unavailable: %s", (str(exc.orig).splitlines() or [""])[0][:200])
        return JSONResponse(
            {"detail": "The database is busy or unavailable; try again shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return JSONResponse(
            {"detail": detail}, status_code=exc.status_code, headers=exc.headers or None
        )


def _describe_errors(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_ui(app: FastAPI) -> None:
    if not (UI_DIR / "index.html").exists():
        return
    app.mount("/assets", StaticFiles(directory=UI_DIR), name="assets")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(UI_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await bootstrap.prepare(settings, app)
        await bootstrap.start_background(ctx, app)
        app.state.context = ctx
        try:
            yield
        finally:
            await bootstrap.shutdown(ctx, app)

    app = FastAPI(
        title="CloudLab Manager",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    _install_error_handlers(app)
    _describe_errors(app)
    for router in (auth.router, services.router, instances.router, actions.router, jobs.router):
        app.include_router(router)
    _mount_ui(app)
    mount_docs(app)
    if settings.sandbox_enabled:
        sandbox_app = create_sandbox_app(
            settings.data_dir / "sandbox", faults=settings.sandbox_faults
        )
        app.state.sandbox_app = sandbox_app
        app.mount("/sandbox", sandbox_app, name="sandbox")
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(
        GuardMiddleware,
        max_body=settings.max_body_bytes,
        allowed_origins=settings.allowed_origins,
    )
    app.add_middleware(HeadersAndLogMiddleware)
    return app
