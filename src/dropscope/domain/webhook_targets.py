"""Where webhooks may be delivered: the SSRF policy, applied to URLs and resolved addresses.

A webhook URL must be `https` (plain `http` only when the operator allows it), carry no
credentials, and name a host. Every address it resolves to must be a public unicast
address: loopback, private (RFC 1918, unique-local), link-local (incl. the cloud metadata
address 169.254.169.254), carrier-grade NAT (100.64/10), multicast, unspecified, reserved,
documentation and benchmarking ranges are refused, in IPv4 and IPv6 alike, and an
IPv4-mapped / NAT64 / 6to4 IPv6 address is judged by the IPv4 address inside it. Networks
in `allowed` (an operator setting; the tests allow 127.0.0.0/8) are accepted anyway.

The URL is checked when an endpoint is saved; the addresses when each delivery connects
(the dispatcher resolves the name, checks every address and connects to the checked one).
Pure: resolution is the caller's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dropscope.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_EXTRA_FORBIDDEN: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT
        "169.254.0.0/16",  # link-local, cloud metadata
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "64:ff9b:1::/48",  # local-use NAT64
    )
)
MAX_URL_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_http: bool = False
    allowed: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def of(cls, allow_http: bool, allowed: Sequence[str]) -> TargetPolicy:
        try:
            nets = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)
        except ValueError as exc:
            raise InvalidInput(f"webhook allowlist: {exc}") from None
        return cls(allow_http, nets)


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 well-known prefix
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why `ip` may not receive webhooks, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            reason = forbidden_reason(inner)
            return None if reason is None else f"{reason} (embedded in {ip})"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (any(ip in n for n in _EXTRA_FORBIDDEN if n.version == ip.version), "special-purpose"),
        (not ip.is_global, "not globally routable"),
    )
    for bad, why in checks:
        if bad:
            return f"{ip} is a {why} address"
    return None


def check_address(policy: TargetPolicy, ip: IPAddress) -> None:
    """`InvalidInput` unless `ip` may receive webhooks under `policy`."""
    if any(ip.version == n.version and ip in n for n in policy.allowed):
        return
    reason = forbidden_reason(ip)
    if reason is not None:
        raise InvalidInput(f"webhook target refused: {reason}")


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # lowercase, without brackets
    port: int
    ip: IPAddress | None  # when the host is an address literal


def check_url(policy: TargetPolicy, url: str) -> Target:
    """The parsed target of a webhook URL; `InvalidInput` saying what is wrong with it."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"a webhook URL is at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"webhook URL is not valid: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and policy.allow_http):
        allowed = "https" + (" or http" if policy.allow_http else "")
        raise InvalidInput(f"a webhook URL must use {allowed}, not {scheme or 'nothing'!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("a webhook URL may not carry a user name or password")
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidInput("a webhook URL needs a host")
    if parts.fragment:
        raise InvalidInput("a webhook URL may not have a #fragment")
    if "%" in host:
        raise InvalidInput("a webhook URL may not name a network interface (%zone)")
    ip: IPAddress | None = None
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        last = host.rstrip(".").rsplit(".", 1)[-1]
        if last.isdigit() or last.startswith("0x"):  # 2130706433, 0x7f000001, 127.1, 0177.0.0.1
            raise InvalidInput(
                f"webhook target refused: {host} is an address in a non-standard form; "
                "write it as a.b.c.d or use a host name"
            ) from None
        local = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
        if local and not policy.allowed:
            raise InvalidInput(f"webhook target refused: {host} is a local name") from None
    if ip is not None:
        check_address(policy, ip)
    return Target(scheme, host, port or (443 if scheme == "https" else 80), ip)
