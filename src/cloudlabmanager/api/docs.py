"""/docs: Swagger UI served from the package, so it works offline and under our CSP.

FastAPI's default page loads Swagger UI from a CDN and starts it with an inline
script; both are refused by the Content-Security-Policy every page carries. The
assets come from the `swagger-ui-py` package instead, and the start-up code
is a file of ours.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PAGE_DIR = Path(__file__).parent / "docs_page"
# Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes), shipped by swagger-ui-py.
SWAGGER_DIR = Path(swagger_ui.__file__).parent / "static"


def mount_docs(app: FastAPI) -> None:
    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")
    app.mount("/docs/start", StaticFiles(directory=PAGE_DIR), name="docs-start")
    page = (PAGE_DIR / "index.html").read_text(encoding="utf-8")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)
