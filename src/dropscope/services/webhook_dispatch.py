"""The webhook dispatcher: delivers the outbox at least once, with retries.

Each round claims due deliveries (a lease, `storage/repositories/webhooks.py`), POSTs them
concurrently and settles each in its own transaction: 2xx delivered; 410 failed and the
endpoint disabled; a target the SSRF policy refuses (its URL, or every address its name
resolves to) failed at once, the reason in the attempt log (a replay tries again, e.g. once
the operator changed the policy); anything else (other statuses, timeouts, refused
connections, names that do not resolve) retried after an exponential, jittered delay that
honours `Retry-After`, until the message is older than the give-up limit. Every attempt is
logged with its status, latency and error.

Each delivery resolves the endpoint's host, checks every address against the SSRF policy
and connects to the first allowed one (the URL's host is replaced by that address; `Host`
and TLS SNI / certificate checks keep the name), so a name cannot be re-pointed between
check and connect. Redirects are not followed; at most `webhook_max_response_bytes` of the
answer are read; the whole exchange is bounded by `webhook_timeout`.

`run` loops until asked to stop, running the deadline-reminder `scan` every
`webhook_scan_seconds`. `dropscope webhooks dispatch` runs it; so can `dropscope serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import random
import socket
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx

from dropscope import __version__
from dropscope.clock import Clock, system_clock
from dropscope.config import Settings
from dropscope.domain.webhook_targets import IPAddress, TargetPolicy, check_address, check_url
from dropscope.domain.webhooks import (
    Attempt,
    Delivery,
    DeliveryState,
    Endpoint,
    RetryPolicy,
    parse_retry_after,
    retry_delay,
    sign_headers,
)
from dropscope.errors import DropscopeError, InvalidInput
from dropscope.services.database import Database
from dropscope.services.events import scan
from dropscope.services.webhooks import retry_policy, target_policy

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
log = logging.getLogger(__name__)
MAX_POOLS = 256  # https host names with a connection pool of their own


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (TCP), in the resolver's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    out: list[IPAddress] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    return out


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    policy: TargetPolicy
    retry: RetryPolicy
    timeout: float
    max_response_bytes: int
    lease: timedelta
    concurrency: int
    poll_seconds: float
    scan_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> DispatchConfig:
        if settings.webhook_lease_seconds <= settings.webhook_timeout:
            raise InvalidInput("webhook_lease_seconds must be longer than webhook_timeout")
        return cls(
            policy=target_policy(settings),
            retry=retry_policy(settings),
            timeout=settings.webhook_timeout,
            max_response_bytes=settings.webhook_max_response_bytes,
            lease=timedelta(seconds=settings.webhook_lease_seconds),
            concurrency=settings.webhook_concurrency,
            poll_seconds=settings.webhook_poll_seconds,
            scan_seconds=settings.webhook_scan_seconds,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after: str | None
    latency_ms: float
    refused: bool = False  # by the SSRF policy: not retried


class Dispatcher:
    """One dispatcher (a worker id of its own); several may share a database."""

    def __init__(
        self,
        db: Database,
        config: DispatchConfig,
        *,
        clock: Clock = system_clock,
        resolver: Resolver = resolve,
        unit: Callable[[], float] = random.random,
        worker: str | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.resolver = resolver
        self.unit = unit
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.delivered = 0
        self.verify = verify  # certificate checks: the system's CAs, or a given context
        # Connections are pooled by (scheme, address, port). Over TLS a connection is
        # verified for one host name, so each https host name gets a pool of its own (two
        # names on one address never share a connection); plain http shares one pool.
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._open = False

    async def __aenter__(self) -> Dispatcher:
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    async def _client_for(self, scheme: str, host: str) -> httpx.AsyncClient:
        assert self._open, "use the dispatcher as `async with`"
        key = host if scheme == "https" else ""
        client = self._clients.pop(key, None)
        if client is not None:
            self._clients[key] = client  # most recently used last
        else:
            if len(self._clients) >= MAX_POOLS:  # forget the least recently used pool
                oldest = next(iter(self._clients))
                await self._clients.pop(oldest).aclose()
            client = self._clients[key] = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,
                verify=self.verify,
                timeout=httpx.Timeout(self.config.timeout),
                limits=httpx.Limits(max_connections=self.config.concurrency * 2),
                headers={"user-agent": f"dropscope-webhooks/{__version__}"},
            )
        return client

    # --- one round -----------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, attempt them concurrently, then settle them all
        in one transaction (a dispatcher that dies before that leaves them to be claimed
        again when the lease ends: at least once); how many were claimed."""
        now = self.clock()
        batch = await asyncio.to_thread(self._claim, now)
        if not batch:
            return 0
        gate = asyncio.Semaphore(self.config.concurrency)
        gone: set[str] = set()  # endpoints that answered 410 in this round
        done: list[tuple[Delivery, Endpoint, Attempt, Outcome]] = []
        skipped: list[Delivery] = []

        async def one(delivery: Delivery, endpoint: Endpoint) -> None:
            async with gate:
                if endpoint.id in gone:
                    skipped.append(delivery)  # given back: it waits for the endpoint
                    return
                started = self.clock()
                outcome = await self._post(delivery, endpoint, started)
                attempt = Attempt(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts + 1,
                    at=started,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    error=outcome.error,
                    worker=self.worker,
                )
                done.append((delivery, endpoint, attempt, outcome))
                if attempt.status_code == 410:
                    gone.add(endpoint.id)

        await asyncio.gather(*(one(d, e) for d, e in batch))
        await asyncio.to_thread(self._settle, done, skipped)
        return len(batch)

    def _claim(self, now: datetime) -> list[tuple[Delivery, Endpoint]]:
        with self.db.unit_of_work() as uow:
            return uow.webhooks.claim(
                now, self.config.lease, self.config.concurrency * 4, self.worker
            )

    def _settle(
        self,
        done: list[tuple[Delivery, Endpoint, Attempt, Outcome]],
        skipped: list[Delivery],
    ) -> None:
        """Log every attempt and move each delivery on: delivered (2xx), failed (410, or
        too old to retry) or pending again after the backoff."""
        now = self.clock()
        with self.db.unit_of_work() as uow:
            for delivery, endpoint, attempt, outcome in done:
                next_at: datetime | None = None
                if attempt.succeeded:
                    state = DeliveryState.DELIVERED
                elif attempt.status_code == 410:
                    state = DeliveryState.FAILED
                    uow.webhooks.disable(endpoint.id, "the endpoint answered 410 Gone", now)
                elif outcome.refused:
                    state = DeliveryState.FAILED
                else:
                    wait = retry_delay(
                        self.config.retry,
                        attempt.attempt,
                        self.unit(),
                        parse_retry_after(outcome.retry_after, now),
                    )
                    next_at = now + timedelta(seconds=wait)
                    age = (next_at - delivery.created_at).total_seconds()
                    too_old = age > self.config.retry.give_up_after
                    state = DeliveryState.FAILED if too_old else DeliveryState.PENDING
                uow.webhooks.finish(attempt, state, next_at)
                if state is DeliveryState.DELIVERED:
                    self.delivered += 1
            for delivery in skipped:
                uow.webhooks.release(delivery.id, self.worker)

    async def _post(self, delivery: Delivery, endpoint: Endpoint, now: datetime) -> Outcome:
        t0 = time.perf_counter()

        def failed(error: str, refused: bool = False) -> Outcome:
            latency = (time.perf_counter() - t0) * 1000
            return Outcome(None, error[:500], None, latency, refused)

        try:
            target = check_url(self.config.policy, endpoint.url)
            if target.ip is not None:
                addresses = [target.ip]
            else:
                addresses = await asyncio.wait_for(
                    self.resolver(target.host, target.port), self.config.timeout
                )
            ip = _first_allowed(self.config.policy, addresses)
        except InvalidInput as exc:  # the SSRF policy refuses the URL or every address
            return failed(f"{exc.message} (not retried)", refused=True)
        except DropscopeError as exc:
            return failed(exc.message)
        except (OSError, TimeoutError) as exc:
            return failed(f"cannot resolve the host: {exc or type(exc).__name__}")
        parts = urlsplit(endpoint.url.strip())
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        headers = {
            "content-type": "application/json",
            "host": _host_header(target.host, target.ip, parts.port),
            **sign_headers(
                endpoint.signing_secrets(now),
                delivery.message_id,
                int(now.timestamp()),
                delivery.body,
            ),
        }
        extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
        try:
            async with asyncio.timeout(self.config.timeout):
                client = await self._client_for(parts.scheme, target.host)
                async with client.stream(
                    "POST", pinned, content=delivery.body, headers=headers, extensions=extensions
                ) as response:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= self.config.max_response_bytes:
                            break
                    latency = (time.perf_counter() - t0) * 1000
                    code = response.status_code
                    error = None
                    if not 200 <= code < 300:
                        error = f"HTTP {code}" + (
                            " (redirects are not followed)" if 300 <= code < 400 else ""
                        )
                    return Outcome(code, error, response.headers.get("retry-after"), latency)
        except TimeoutError:
            return failed(f"no answer within {self.config.timeout:g} s")
        except httpx.HTTPError as exc:
            return failed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    # --- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: rounds back to back while there is work, otherwise a
        nap of `poll_seconds` (or until the next delivery is due); a reminder scan every
        `scan_seconds`."""
        last_scan: float | None = None
        while not stop.is_set():
            nap = self.config.poll_seconds
            try:
                scan_every = self.config.scan_seconds
                if scan_every and (last_scan is None or time.monotonic() - last_scan >= scan_every):
                    last_scan = time.monotonic()
                    await asyncio.to_thread(scan, self.db, self.clock())
                if await self.run_once():
                    continue
                due = await asyncio.to_thread(self._next_due)
                if due is not None:
                    nap = min(nap, max((due - self.clock()).total_seconds(), 0.0))
            except Exception:  # e.g. the database is restarting: log it, try again later
                log.exception("webhook dispatcher round failed; retrying in %s s", nap)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(nap, 0.01))

    def _next_due(self) -> datetime | None:
        with self.db.unit_of_work(read_only=True) as uow:
            return uow.webhooks.next_due()


def _first_allowed(policy: TargetPolicy, addresses: list[IPAddress]) -> IPAddress:
    """The first address the policy allows; `InvalidInput` (the first reason) when it allows
    none, `DropscopeError` when there are none."""
    if not addresses:
        raise DropscopeError("the host resolves to no address")
    problems = []
    for ip in addresses:
        try:
            check_address(policy, ip)
        except InvalidInput as exc:
            problems.append(exc.message)
            continue
        return ip
    raise InvalidInput(problems[0])


def _host_header(host: str, ip: IPAddress | None, port: int | None) -> str:
    """`Host` for the checked host (normalised: ASCII, no trailing dot), with the URL's
    explicit port."""
    name = f"[{host}]" if ip is not None and ip.version == 6 else host
    return name if port is None else f"{name}:{port}"


async def deliver_pending(db: Database, settings: Settings, *, clock: Clock = system_clock) -> int:
    """Attempt every delivery due now, once (a single round; `dropscope webhooks dispatch
    --once`); how many were attempted."""
    async with Dispatcher(db, DispatchConfig.of(settings), clock=clock) as d:
        total = 0
        while n := await d.run_once():
            total += n
        return total
