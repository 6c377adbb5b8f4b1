"""/docs: the API's interactive documentation (Swagger UI), served entirely by this app
under a strict Content-Security-Policy: no file from a CDN, nothing from another origin.

People paste API keys into this page, so what runs on it must be exactly what was
installed. The Swagger UI files (`swagger-ui-bundle.js`, `swagger-ui.css`, byte for byte
those of the npm package `swagger-ui-dist`) and a favicon come from the `fastapi-offline`
distribution, a pinned dependency, and are served at `/docs/assets/<name>?v=<digest>`. The
page itself is FastAPI's (`get_swagger_ui_html`) with those URLs; its one inline script
(the `SwaggerUIBundle({...})` call) is allowed by its SHA-256 hash, computed here from the
page, so the policy needs no 'unsafe-inline'. The OAuth2 redirect page FastAPI serves with
its docs (`/docs/oauth2-redirect`) is kept, under a policy of its own made the same way.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dropscope.web.render import html

DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
ASSETS_PATH = "/docs/assets"
ASSETS_PACKAGE = "fastapi_offline"  # its static/ folder holds swagger-ui-dist's files
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
# Swagger UI options on top of FastAPI's defaults: no call to the public validator.
SWAGGER_UI_PARAMETERS: dict[str, object] = {"validatorUrl": None}

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)  # a <script> with no src


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    digest: str  # of the body: the ?v= of its URL and its ETag


@cache
def asset(name: str) -> Asset:
    data = (resources.files(ASSETS_PACKAGE) / "static" / name).read_bytes()
    digest = hashlib.blake2b(data, digest_size=8).hexdigest()
    return Asset(data, ASSET_TYPES[name], digest)


def asset_url(name: str) -> str:
    return f"{ASSETS_PATH}/{name}?v={asset(name).digest}"


def script_hashes(page: str) -> list[str]:
    """The CSP source (`'sha256-…'`) of each inline script of `page`: the SHA-256 of its
    exact text, between `<script>` and `</script>`."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.findall(page)
    ]


def content_security_policy(page: str) -> str:
    """Scripts from this origin plus the page's own inline ones (by hash), styles, images
    and fonts from this origin (and data: images, which Swagger UI's CSS uses), requests to
    this origin only (the OpenAPI document and "Try it out"), never framed."""
    scripts = " ".join(["'self'", *script_hashes(page)])
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


@cache
def docs_page(title: str, openapi_url: str) -> tuple[str, str]:
    """(the /docs page, its Content-Security-Policy)."""
    response = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} - Swagger UI",
        swagger_js_url=asset_url("swagger-ui-bundle.js"),
        swagger_css_url=asset_url("swagger-ui.css"),
        swagger_favicon_url=asset_url("favicon.png"),
        oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    page = bytes(response.body).decode()
    return page, content_security_policy(page)


@cache
def oauth2_redirect_page() -> tuple[str, str]:
    page = bytes(get_swagger_ui_oauth2_redirect_html().body).decode()
    return page, content_security_policy(page)


def docs_routes(*, title: str, openapi_url: str) -> list[BaseRoute]:
    """The routes of /docs, its OAuth2 redirect page and its assets, for the app (which
    sets `docs_url=None`, so FastAPI's CDN-loading page is not served)."""

    async def docs(_: Request) -> Response:
        page, policy = docs_page(title, openapi_url)
        return html(page, headers={"content-security-policy": policy, "cache-control": "no-cache"})

    async def oauth2_redirect(_: Request) -> Response:
        page, policy = oauth2_redirect_page()
        return html(page, headers={"content-security-policy": policy, "cache-control": "no-cache"})

    async def assets(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSET_TYPES:
            return Response("not found\n", 404, media_type="text/plain; charset=utf-8")
        found = asset(name)
        etag = f'"{found.digest}"'
        # URLs carry ?v=<digest>, so a long max-age is safe
        headers = {
            "etag": etag,
            "cache-control": "public, max-age=86400",
            "x-content-type-options": "nosniff",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)

    return [
        Route(DOCS_PATH, docs, name="docs"),
        Route(OAUTH2_REDIRECT_PATH, oauth2_redirect, name="docs-oauth2-redirect"),
        Route(ASSETS_PATH + "/{name}", assets, name="docs-assets"),
    ]
