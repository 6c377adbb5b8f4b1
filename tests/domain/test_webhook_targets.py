"""The SSRF policy for webhook URLs and resolved addresses."""

from __future__ import annotations

import ipaddress

import pytest

from dropscope.domain.webhook_targets import TargetPolicy, check_address, check_url
from dropscope.errors import InvalidInput

STRICT = TargetPolicy()

FORBIDDEN = [
    "127.0.0.1",
    "127.8.9.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "2002:7f00:1::",
]


@pytest.mark.parametrize("ip", FORBIDDEN)
def test_forbidden_addresses(ip: str) -> None:
    with pytest.raises(InvalidInput, match="refused"):
        check_address(STRICT, ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    "ip", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:93.184.215.14"]
)
def test_public_addresses(ip: str) -> None:
    check_address(STRICT, ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://example.com",
        "https://user:pw@example.com/",
        "https:///nohost",
        "https://127.0.0.1/hook",
        "https://[::1]:8443/",
        "https://localhost/x",
        "https://10.0.0.5/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:7f00:1]/",
        "https://example.com:99999/",
        "https://example.com/#frag",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://127.1/",
        "https://[fe80::1%25eth0]/",
        "https://localhost./",
        "https://localhost。/",
        "https://127。0。0。1/",
        "https://１２７．０．０．１/",
        "https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
        "https://Ｌocalhost/",
        "https://metadata/",
        "https://intranet/",
        "https://intranet./",
        "https://a..example/",
        "https://ex ample.com/",
        "https://hooks.example.com/\x1b[2J",
        "https://hooks.example.com/a\r\nb",
        "https://hooks.exa\tmple.com/",
        "https://hooks.example.com/\u202e",
    ],
)
def test_forbidden_urls(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(STRICT, url)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Hooks.Example.com./in", "hooks.example.com"),
        ("https://bücher.example/in", "xn--bcher-kva.example"),
        ("https://ＨＯＯＫＳ．example.com/", "hooks.example.com"),
        ("https://_svc.example.com/", "_svc.example.com"),
    ],
)
def test_the_host_is_judged_as_dns_sees_it(url: str, host: str) -> None:
    assert check_url(STRICT, url).host == host


def test_local_and_single_label_names_need_an_allowlist() -> None:
    """With networks allowed (an internal deployment) they may be saved: the addresses they
    resolve to are still checked at delivery."""
    loose = TargetPolicy.of(False, ["10.0.0.0/8"])
    assert check_url(loose, "https://intranet/").host == "intranet"
    assert check_url(loose, "https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ./").host == "localhost"
    with pytest.raises(InvalidInput, match="loopback"):
        check_url(loose, "https://127。0。0。1/")
    for url in ("https://intranet/", "https://localhost./"):
        with pytest.raises(InvalidInput, match=r"single-label|local name"):
            check_url(STRICT, url)


def test_allowed_url_and_allowlist() -> None:
    t = check_url(STRICT, "https://Hooks.Example.com/in?x=1")
    assert (t.host, t.port, t.ip) == ("hooks.example.com", 443, None)
    loose = TargetPolicy.of(True, ["127.0.0.0/8"])
    t = check_url(loose, "http://127.0.0.1:9000/hook")
    assert t.port == 9000
    assert str(t.ip) == "127.0.0.1"
    with pytest.raises(InvalidInput):  # the allowlist opens only what it lists
        check_url(loose, "http://10.0.0.1/")
    with pytest.raises(InvalidInput):
        TargetPolicy.of(False, ["not-a-network"])
