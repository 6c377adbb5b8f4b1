"""Where webhooks may be delivered: the SSRF policy, applied to URLs and resolved addresses.

A webhook URL must be `https` (plain `http` only when the operator allows it), carry no
credentials and no control characters, and name a host. The host is judged in the form DNS
and the connection will use (`normalise_host`): mapped by IDNA / UTS-46 (so full-width
dots, full-width digits and letters such as `ⓛⓞⓒⓐⓛⓗⓞⓢⓣ` become what they stand for),
lowercased, one trailing dot dropped. Local names (`localhost`, `*.local`, `*.internal`)
and single-label names (no dot: `metadata`, `intranet`, resolved through a search domain)
are refused unless the operator allows some networks (`allowed`), as on an internal
deployment; their addresses are still checked at delivery.

Every address a URL names or resolves to must be a public unicast address: loopback,
private (RFC 1918, unique-local), link-local (incl. the cloud metadata address
169.254.169.254), carrier-grade NAT (100.64/10), multicast, unspecified, reserved,
documentation and benchmarking ranges are refused, in IPv4 and IPv6 alike, and an
IPv4-mapped / NAT64 / 6to4 IPv6 address is judged by the IPv4 address inside it. Networks
in `allowed` (an operator setting; the tests allow 127.0.0.0/8) are accepted anyway.

The URL is checked when an endpoint is saved, and again (with the addresses) when each
delivery connects (the dispatcher resolves the normalised name, checks every address and
connects to the checked one; a refusal there fails the delivery at once). Pure:
resolution is the caller's.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import idna

from dropscope.domain.text import check_no_controls
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
MAX_HOST_LENGTH = 253
# A DNS label as it reaches the resolver: letters, digits, hyphens inside (underscores are
# allowed too: some real service names have them).
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


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


def normalise_host(host: str) -> str:
    """`host` as DNS sees it: IDNA / UTS-46 mapped to ASCII (A-labels) when it is not ASCII,
    lowercase, one trailing dot dropped; `InvalidInput` when it is no valid host name.
    `Ｌocalhost`, `ⓛⓞⓒⓐⓛⓗⓞⓢⓣ` and `localhost.` all give `localhost`; `127。0。0。1` (ideographic
    full stops) gives `127.0.0.1`."""
    name = host.removesuffix(".") if host.endswith(".") else host
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidInput(f"webhook URL host is not a valid host name: {exc}") from None
        name = name.removesuffix(".")  # a mapped trailing dot (e.g. `localhost。`)
    name = name.lower()
    labels = name.split(".")
    if len(name) > MAX_HOST_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(f"webhook URL host {name!r} is not a valid host name")
    return name


def check_url(policy: TargetPolicy, url: str) -> Target:
    """The parsed target of a webhook URL; `InvalidInput` saying what is wrong with it."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"a webhook URL is at most {MAX_URL_LENGTH} characters")
    url = check_no_controls("url", url.strip())  # urlsplit would drop TAB, CR and LF inside
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"webhook URL is not valid: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and policy.allow_http):
        allowed = "https" + (" or http" if policy.allow_http else "")
        raise InvalidInput(f"a webhook URL must use {allowed}, not {scheme or 'nothing'!r}")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("a webhook URL may not carry a user name or password")
    raw = parts.hostname or ""
    if not raw:
        raise InvalidInput("a webhook URL needs a host")
    if parts.fragment:
        raise InvalidInput("a webhook URL may not have a #fragment")
    if "%" in raw:
        raise InvalidInput("a webhook URL may not name a network interface (%zone)")
    ip: IPAddress | None = None
    if parts.netloc.rsplit("@", 1)[-1].startswith("["):  # an IPv6 literal
        try:
            ip = ipaddress.IPv6Address(raw)
        except ValueError:
            raise InvalidInput(f"webhook URL host [{raw}] is not an IPv6 address") from None
        host = raw.lower()
    else:
        host = normalise_host(raw)
        try:
            ip = ipaddress.IPv4Address(host)
        except ValueError:
            _check_name(policy, host)
    if ip is not None:
        check_address(policy, ip)
    return Target(scheme, host, port or (443 if scheme == "https" else 80), ip)


def _check_name(policy: TargetPolicy, host: str) -> None:
    """Refuse address forms that are not a.b.c.d, and (unless the operator allows some
    networks) local and single-label names."""
    last = host.rsplit(".", 1)[-1]
    if last.isdigit() or last.startswith("0x"):  # 2130706433, 0x7f000001, 127.1, 0177.0.0.1
        raise InvalidInput(
            f"webhook target refused: {host} is an address in a non-standard form; "
            "write it as a.b.c.d or use a host name"
        )
    if policy.allowed:  # an internal deployment: the addresses are checked at delivery
        return
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidInput(f"webhook target refused: {host} is a local name")
    if "." not in host:
        raise InvalidInput(
            f"webhook target refused: {host} is a single-label name (no dot), resolved by "
            "local search domains; use a fully qualified name"
        )
