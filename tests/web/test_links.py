"""Which URLs the dashboard will show as links."""

from __future__ import annotations

import pytest

from dropscope.web.links import on_official_domain, web_url

DOMAINS = ("starknet.io",)


@pytest.mark.parametrize(
    "url",
    [
        "https://starknet.io",
        "https://www.starknet.io/airdrop",
        "http://provisions.starknet.io/claim?x=1",
        "https://STARKNET.IO./",
    ],
)
def test_official_hosts_and_subdomains_pass(url: str) -> None:
    assert on_official_domain(url, DOMAINS)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "https://starknet.io.evil.example/claim",
        "https://evilstarknet.io/",
        "https://starknet.io@evil.example/",
        "https://user:pw@starknet.io/",
        "javascript:alert(1)//starknet.io",
        "ftp://starknet.io/",
        "//starknet.io/claim",
        "https://[::1/",
    ],
)
def test_lookalikes_and_other_schemes_fail(url: str | None) -> None:
    assert not on_official_domain(url, DOMAINS)


def test_web_url_keeps_only_http_urls() -> None:
    assert web_url(" https://example.org/a ") == "https://example.org/a"
    assert web_url("javascript:alert(1)") is None
    assert web_url("data:text/html,hi") is None
    assert web_url(None) is None
