"""The API's interactive documents, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from
this server: the pages' scripts, style and icon come from the ``fastapi-offline`` package's
files (a maintained copy of Swagger UI and ReDoc), mounted at ``/docs-assets``. Nothing is loaded
from elsewhere, so the documents work without internet (and without a CDN seeing who reads them).
Swagger UI's online validator badge is off: it would call out for every page view.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Swagger UI's and ReDoc's files, as the package ships them.
ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/docs-assets"


def register(app: FastAPI) -> None:
    """``/docs``, ``/docs/oauth2-redirect``, ``/redoc`` and their assets (the app must have been
    made with ``docs_url=None, redoc_url=None``)."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    redirect = "/docs/oauth2-redirect"

    def root(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        base = root(request)
        return get_swagger_ui_html(
            openapi_url=f"{base}{app.openapi_url}",
            title=f"{app.title} - API",
            oauth2_redirect_url=f"{base}{redirect}",
            swagger_js_url=f"{base}{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{base}{PREFIX}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )

    @app.get(redirect, include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = root(request)
        return get_redoc_html(
            openapi_url=f"{base}{app.openapi_url}",
            title=f"{app.title} - API",
            redoc_js_url=f"{base}{PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{PREFIX}/favicon.png",
            with_google_fonts=False,
        )
