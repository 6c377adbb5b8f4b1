"""Which URLs the dashboard shows as links: only http(s), and for a project's own links
(website, programmes, claim pages) only hosts on one of its official domains."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def _host(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None  # https://official.org@evil.example/ must not pass as official
    return parts.hostname.lower().rstrip(".")


def web_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL with a host (never javascript:, data:, ...), else None."""
    if url is None:
        return None
    return url.strip() if _host(url) is not None else None


def on_official_domain(url: str | None, domains: Iterable[str]) -> bool:
    """True when `url` is http(s) and its host is one of `domains` or a subdomain of one."""
    if url is None:
        return False
    host = _host(url)
    if host is None:
        return False
    for domain in domains:
        d = domain.lower().strip().rstrip(".")
        if d and (host == d or host.endswith("." + d)):
            return True
    return False
