"""/docs (Swagger UI) and /redoc served from this server, never from a CDN.

FastAPI's default pages load their JavaScript and CSS from cdn.jsdelivr.net: offline (and
nothing may leave the building) /docs is a blank page. The assets come from the
`fastapi-offline` wheel (its `static/` folder: swagger-ui-bundle.js, swagger-ui.css,
redoc.standalone.js, favicon.png), mounted at /api-docs-assets.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/api-docs-assets"
# ReDoc's footer shows a logo from cdn.redoc.ly: the page may take images from this server only
# (and data: URLs), so the browser never asks the CDN.
_ONLY_LOCAL_IMAGES = {"Content-Security-Policy": "img-src 'self' data:"}


def assets_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI) -> None:
    """Add /docs and /redoc over local assets (the app is made with docs_url=redoc_url=None)."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="api-docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _local_images(
            get_swagger_ui_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title=f"{title} · API",
                swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _local_images(
            get_redoc_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title=f"{title} · API",
                redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )


def _local_images(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(_ONLY_LOCAL_IMAGES)
    return page
