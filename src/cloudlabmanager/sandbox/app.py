"""The sandbox as one ASGI app, the environment that points Ansible at it, and `serve`."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .cloudflare_api import build_cloudflare_router
from .dns import DnsService
from .errors import CloudflareError, VultrError
from .faults import FaultMiddleware, parse_faults
from .instances import InstanceService
from .ssh_keys import SshKeyService
from .store import StateStore
from .vultr_api import build_vultr_router

VULTR_PREFIX = "/vultr/v2"
CLOUDFLARE_PREFIX = "/cloudflare/client/v4"
DISKS_VARIABLE = "CLM_SANDBOX_DISKS"


def _cloudflare_error(status: int, code: int, message: str) -> JSONResponse:
    errors = [{"code": code, "message": message}]
    body = {"success": False, "errors": errors, "messages": [], "result": None}
    return JSONResponse(body, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VultrError)
    async def vultr_error(_: Request, exc: VultrError) -> JSONResponse:
        return JSONResponse({"error": exc.message, "status": exc.status}, status_code=exc.status)

    @app.exception_handler(CloudflareError)
    async def cloudflare_error(_: Request, exc: CloudflareError) -> JSONResponse:
        return _cloudflare_error(exc.status, exc.code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if CLOUDFLARE_PREFIX in request.url.path:
            return _cloudflare_error(exc.status_code, 7000, f"No route for that URI: {exc.detail}")
        return JSONResponse(
            {"error": str(exc.detail), "status": exc.status_code}, status_code=exc.status_code
        )


def create_sandbox_app(
    state_dir: Path, *, api_key: str = "sandbox", faults: str | None = None
) -> FastAPI:
    """The Vultr API under `/vultr/v2` and the Cloudflare API under `/cloudflare/client/v4`.

    `api_key` is both the Vultr API key and the Cloudflare API token. `faults`
    follows the syntax of `cloudlabmanager.sandbox.faults`; a malformed string
    raises ValueError here, before anything is served.
    """
    parsed_faults = parse_faults(faults)
    state_dir.mkdir(parents=True, exist_ok=True)
    store = StateStore(state_dir)
    store.ensure_initialised()
    instances = InstanceService(store, boot_seconds=parsed_faults.boot_s)

    app = FastAPI(
        title="CloudLab Manager sandbox cloud", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.include_router(
        build_vultr_router(api_key, instances, SshKeyService(store)), prefix=VULTR_PREFIX
    )
    app.include_router(
        build_cloudflare_router(api_key, DnsService(store)), prefix=CLOUDFLARE_PREFIX
    )
    _install_error_handlers(app)

    @app.get("/")
    def describe() -> dict[str, str]:
        return {"vultr": VULTR_PREFIX, "cloudflare": CLOUDFLARE_PREFIX}

    app.add_middleware(FaultMiddleware, faults=parsed_faults)
    app.state.sandbox_store = store
    return app


def sandbox_environment(base_url: str, state_dir: Path, api_key: str = "sandbox") -> dict[str, str]:
    """What an Ansible step needs to use the sandbox served at `base_url`.

    `base_url` is where `create_sandbox_app` is reachable, e.g.
    `http://127.0.0.1:8000/sandbox`. The keys:

    - `VULTR_API_ENDPOINT`, `VULTR_API_KEY`: read by the vultr.cloud collection.
    - `CLOUDFLARE_API_URL`: the Cloudflare API base (`…/client/v4`) the demo
      lab's DNS tasks and the manager's zone lookup call instead of
      `https://api.cloudflare.com/client/v4`.
    - `CLOUDFLARE_API_TOKEN`: the bearer token for it.
    - `CLM_SANDBOX_DISKS`: the directory holding each instance's disk
      (`<dir>/<instance id>`), which the demo lab's playbooks deploy into.
    """
    root = base_url.rstrip("/")
    return {
        "VULTR_API_ENDPOINT": root + VULTR_PREFIX,
        "VULTR_API_KEY": api_key,
        "CLOUDFLARE_API_URL": root + CLOUDFLARE_PREFIX,
        "CLOUDFLARE_API_TOKEN": api_key,
        DISKS_VARIABLE: str(StateStore.instances_dir_of(state_dir)),
    }


def serve(host: str, port: int, state_dir: Path, faults: str | None) -> None:
    """Run the sandbox alone (for lab authors); print the environment to use it."""
    import uvicorn

    app = create_sandbox_app(state_dir, faults=faults)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only
    environment = sandbox_environment(f"http://{shown_host}:{port}", state_dir)
    print("# Point Ansible at this sandbox with:")
    for key, value in environment.items():
        print(f"export {key}={json.dumps(value)}")
    uvicorn.run(app, host=host, port=port, log_level="info")
