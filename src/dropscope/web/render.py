"""The Jinja2 environment (autoescape always on), page responses and their headers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse, Response

from dropscope import __version__
from dropscope.web.fmt import FILTERS

# Pages are public and read-only: nothing loads from elsewhere, nothing inline runs; the
# only requests scripts make are to this origin (the Ask page's answer stream).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
PAGE_CACHE_CONTROL = "no-cache"  # revalidate every time: cheap with the ETag

# The navigation; an entry is (path, label).
NAV: tuple[tuple[str, str], ...] = (
    ("/", "Board"),
    ("/compare", "Compare"),
    ("/history", "Past airdrops"),
    ("/investors", "Investors"),
    ("/ask", "Ask"),
)


@cache
def build_id() -> str:
    """A digest of the code version and of every template and static file: part of each
    ETag and of the asset URLs, so an upgrade is never answered with a stale page."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=6)
    root = resources.files("dropscope.web")
    for folder in ("templates", "static"):
        for item in sorted((root / folder).iterdir(), key=lambda i: i.name):
            if item.is_file():
                digest.update(item.name.encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dropscope.web", "templates"),
        autoescape=True,  # every template, whatever its name; nothing is marked safe by hand
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals.update(nav=NAV, version=__version__, build=build_id())
    return env


def render(template: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(context)


def page_etag(*parts: object) -> str:
    """A weak ETag from what the page depends on (data version, day, URL, code version)."""
    raw = "|".join(str(p) for p in (build_id(), *parts)).encode()
    return 'W/"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    all_headers = {**SECURITY_HEADERS, **(headers or {})}
    return HTMLResponse(body, status_code=status, headers=all_headers)


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"etag": etag, "cache-control": PAGE_CACHE_CONTROL})
