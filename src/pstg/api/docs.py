"""/docs: Swagger UI served from this process, with no CDN.

A pump station's network has no internet: Swagger UI's script, style sheet and icon come
from the `fastapi-offline` package (it ships Swagger UI 5, which reads OpenAPI 3.1) and are
served under /docs/assets/. The page's own start-up script is a file too (/docs/assets/
init.js), so the Content-Security-Policy of /docs needs no inline script.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from pstg.api.security import TOKEN_URL

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")
"""What the page loads (all shipped in the package's static folder)."""


def assets_folder() -> Path:
    folder = Path(str(files("fastapi_offline") / "static"))
    missing = [name for name in ASSETS if not (folder / name).is_file()]
    if missing:  # a broken install: say so at start, not as a blank page
        raise RuntimeError(f"Swagger UI assets missing from {folder}: {', '.join(missing)}")
    return folder


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """GET /docs, its start-up script and the Swagger UI files, outside the OpenAPI schema."""
    page = _page(app.title)
    script = _init_script(openapi_url)

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{ASSETS_URL}/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(script, media_type="text/javascript")

    app.mount(ASSETS_URL, StaticFiles(directory=assets_folder()), name="docs-assets")


def _page(title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title} - API</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
<link rel="icon" href="{ASSETS_URL}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_URL}/init.js"></script>
</body>
</html>
"""


def _init_script(openapi_url: str) -> str:
    options = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        "persistAuthorization": False,
        "oauth2RedirectUrl": None,
    }
    return (
        f"// PSTG: Swagger UI for {TOKEN_URL} logins (the Authorize button).\n"
        f"const options = {json.dumps(options)};\n"
        "options.presets = [SwaggerUIBundle.presets.apis];\n"
        "window.ui = SwaggerUIBundle(options);\n"
    )
