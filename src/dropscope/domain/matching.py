"""Matching what a source names to our projects and investors.

A source record names a project in its own way: a CoinGecko id, a slug, a name, a website.
`ProjectIndex.match` tries them in that order of reliability and returns the project slug
with how it matched, or None (no match, or an ambiguous name shared by two projects).
Names are compared with `normalise_name` ("zkSync Era" → "zksyncera"), websites by host
without "www.".

`InvestorIndex` resolves investor names as written by sources to investor slugs through
names and the aliases in data/investors.yaml; an unknown name becomes a new investor whose
slug is the slugified name, so "Paradigm" and "paradigm " are the same investor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from dropscope.domain.models import Investor, Project
from dropscope.domain.text import normalise_name, slugify


def url_host(url: str | None) -> str | None:
    """'https://www.Starknet.io/en/' → 'starknet.io'; None for no URL or no host."""
    if not url:
        return None
    text = url.strip()
    if "//" not in text:
        text = "https://" + text
    host = (urlsplit(text).hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None


def on_domain(url: str | None, domains: Iterable[str]) -> bool:
    """True when `url`'s host is one of `domains` or a subdomain of one."""
    host = url_host(url)
    if host is None:
        return False
    for d in domains:
        d = d.lower().removeprefix("www.")
        if host == d or host.endswith("." + d):
            return True
    return False


def official_domains(project: Project) -> tuple[str, ...]:
    """The project's official domains, plus its website's host."""
    hosts = [d.lower() for d in project.official_domains]
    site = url_host(project.website)
    if site is not None and site not in hosts:
        hosts.append(site)
    return tuple(hosts)


@dataclass(frozen=True, slots=True)
class Match:
    slug: str
    how: str  # coingecko-id | slug | website | name


class ProjectIndex:
    """Look-ups from what sources know to project slugs."""

    def __init__(self, projects: Iterable[Project]) -> None:
        self.projects = {p.slug: p for p in projects}
        self._gecko: dict[str, str] = {}
        self._hosts: dict[str, set[str]] = {}
        self._names: dict[str, set[str]] = {}
        for p in self.projects.values():
            if p.token.coingecko_id:
                self._gecko[p.token.coingecko_id] = p.slug
            for host in official_domains(p):
                self._hosts.setdefault(host, set()).add(p.slug)
            for name in (p.slug, p.name, *p.aliases):
                key = normalise_name(name)
                if key:
                    self._names.setdefault(key, set()).add(p.slug)

    def add_coingecko_id(self, coingecko_id: str, slug: str) -> None:
        """Learn a project's CoinGecko id from a source (e.g. a matched DefiLlama listing)."""
        self._gecko.setdefault(coingecko_id, slug)

    def match(
        self,
        *,
        names: Iterable[str | None] = (),
        slugs: Iterable[str | None] = (),
        url: str | None = None,
        coingecko_id: str | None = None,
    ) -> Match | None:
        """The project these identifiers name; see the module docstring for the order."""
        if coingecko_id and coingecko_id in self._gecko:
            return Match(self._gecko[coingecko_id], "coingecko-id")
        for s in slugs:
            if s and s in self.projects:
                return Match(s, "slug")
        host = url_host(url)
        if host is not None:
            found = self._hosts.get(host, set())
            if len(found) == 1:
                return Match(next(iter(found)), "website")
        for n in (*names, *slugs):
            if not n:
                continue
            found = self._names.get(normalise_name(n), set())
            if len(found) == 1:
                return Match(next(iter(found)), "name")
        return None


class InvestorIndex:
    """Investor names → slugs, creating investors for names never seen before."""

    def __init__(self, investors: Iterable[Investor]) -> None:
        self._by_key: dict[str, str] = {}
        self._slugs: set[str] = set()
        self.created: dict[str, Investor] = {}
        for inv in investors:
            self._slugs.add(inv.slug)
            for name in (inv.slug, inv.name, *inv.aliases):
                self._by_key.setdefault(normalise_name(name), inv.slug)

    def resolve(self, name: str) -> str | None:
        """The slug of investor `name`, creating one if needed; None for a blank name."""
        key = normalise_name(name)
        if not key:
            return None
        found = self._by_key.get(key)
        if found is not None:
            return found
        base = slugify(name) or key
        slug, n = base, 2
        while slug in self._slugs:
            slug, n = f"{base}-{n}", n + 1
        self._slugs.add(slug)
        self._by_key[key] = slug
        self.created[slug] = Investor(slug=slug, name=" ".join(name.split()))
        return slug

    def resolve_all(self, names: Iterable[str], exclude: Iterable[str] = ()) -> tuple[str, ...]:
        """Slugs of `names`, de-duplicated, in order, leaving out those in `exclude`."""
        seen = dict.fromkeys(exclude)
        out: list[str] = []
        for name in names:
            slug = self.resolve(name)
            if slug is not None and slug not in seen:
                seen[slug] = None
                out.append(slug)
        return tuple(out)
