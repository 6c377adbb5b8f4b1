"""/docs, the API's Swagger UI, over ASGI: served with its assets by the app itself (no CDN,
no other origin) under a Content-Security-Policy that allows no external origin and no
inline script but the page's own, by hash. (test_browser.py renders it in Chromium.)"""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

pytestmark = pytest.mark.anyio

_TAG = re.compile(r"<(script|link)\b([^>]*)>", re.I)
_URL_ATTR = re.compile(r'\b(?:src|href)="([^"]*)"')
_INLINE = re.compile(r"<script>(.*?)</script>", re.S)


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def sha256_source(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def assert_no_external_origin(policy: str) -> None:
    for name, sources in directives(policy).items():
        for source in sources:
            allowed = source in ("'self'", "'none'", "data:") or source.startswith("'sha256-")
            assert allowed, f"{name} allows {source}"


async def test_docs_load_nothing_from_elsewhere(web: httpx.AsyncClient) -> None:
    r = await web.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    lowered = r.text.lower()
    for outside in ("cdn", "jsdelivr", "unpkg", "http:", "https:", "//"):
        assert outside not in lowered, outside
    urls = [u for _, attrs in _TAG.findall(r.text) for u in _URL_ATTR.findall(attrs)]
    assert len(urls) == 3  # the bundle, its stylesheet, the favicon
    for url in urls:
        assert url.startswith("/docs/assets/"), url
    assert "url: '/v1/openapi.json'" in r.text
    assert "ratelimit" not in r.headers


async def test_the_assets_the_docs_name_are_served_by_the_app(web: httpx.AsyncClient) -> None:
    page = (await web.get("/docs")).text
    urls = [u for _, attrs in _TAG.findall(page) for u in _URL_ATTR.findall(attrs)]
    types = {}
    for url in urls:
        r = await web.get(url)
        assert r.status_code == 200, url
        assert r.headers["x-content-type-options"] == "nosniff"
        types[url.split("?")[0]] = r.headers["content-type"]
        assert (await web.get(url, headers={"if-none-match": r.headers["etag"]})).status_code == 304
    assert types == {
        "/docs/assets/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "/docs/assets/swagger-ui.css": "text/css; charset=utf-8",
        "/docs/assets/favicon.png": "image/png",
    }
    bundle = (await web.get("/docs/assets/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in bundle
    for other in ("/docs/assets/redoc.standalone.js", "/docs/assets/..%2F__init__.py"):
        assert (await web.get(other)).status_code == 404, other


async def test_the_docs_policy_allows_only_this_origin_and_the_pages_own_script(
    web: httpx.AsyncClient,
) -> None:
    r = await web.get("/docs")
    policy = r.headers["content-security-policy"]
    assert_no_external_origin(policy)
    found = directives(policy)
    inline = _INLINE.findall(r.text)
    assert len(inline) == 1
    assert "SwaggerUIBundle(" in inline[0]
    assert found["script-src"] == ["'self'", sha256_source(inline[0])]
    assert found["default-src"] == ["'none'"]
    assert found["connect-src"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_the_oauth2_redirect_page_is_kept_under_its_own_policy(
    web: httpx.AsyncClient,
) -> None:
    r = await web.get("/docs/oauth2-redirect")
    assert r.status_code == 200
    policy = r.headers["content-security-policy"]
    assert_no_external_origin(policy)
    inline = _INLINE.findall(r.text)
    assert len(inline) == 1
    assert directives(policy)["script-src"] == ["'self'", sha256_source(inline[0])]
