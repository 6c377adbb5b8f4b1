"""HTTPS delivery to a pinned address: the dispatcher connects to the address it checked,
yet verifies the certificate against the URL's host name (TLS SNI); two names on one
address never share a verified connection. A receiver process with a certificate from a
test CA (made with `openssl`); names resolved at the process edge (a fake resolver)."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dropscope.domain.webhook_targets import IPAddress
from dropscope.services import webhooks as hooks
from dropscope.services.database import Database
from dropscope.services.keys import operator_account
from dropscope.services.webhook_dispatch import DispatchConfig, Dispatcher
from tests.services.webhook_helpers import RECEIVER, fast_settings, run

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """(port, log, CA file) of a TLS receiver whose certificate names only hooks.test."""
    d = tmp_path
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=dropscope test CA",
        cwd=d,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=hooks.test",
        cwd=d,
    )
    (d / "san.ext").write_text("subjectAltName=DNS:hooks.test\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        cwd=d,
    )
    log, control, port_file = d / "received.jsonl", d / "control.json", d / "port"
    control.write_text('{"mode": "ok"}')
    proc = subprocess.Popen(
        [
            sys.executable,
            str(RECEIVER),
            str(log),
            str(control),
            str(port_file),
            "0",
            str(d / "srv.pem"),
            str(d / "srv.key"),
        ]
    )
    deadline = time.monotonic() + 10
    while not port_file.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield int(port_file.read_text()), log, d / "ca.pem"
    finally:
        proc.terminate()
        proc.wait(5)


async def _to_loopback(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address("127.0.0.1")]


def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(
    database: Database, tls_receiver: tuple[int, Path, Path]
) -> None:
    port, log, ca = tls_receiver
    settings = fast_settings(database, webhook_allow_http=False)
    now = datetime.now(UTC)
    with database.unit_of_work() as uow:
        me = operator_account(uow, now).id
        good = hooks.create(uow, settings, me, f"https://hooks.test:{port}/hook", now)
        other = hooks.create(uow, settings, me, f"https://other.test:{port}/hook", now)
        hooks.ping(uow, me, good.endpoint.id, now)
        hooks.ping(uow, me, other.endpoint.id, now)

    async def one_round() -> None:
        context = ssl.create_default_context(cafile=str(ca))
        async with Dispatcher(
            database, DispatchConfig.of(settings), resolver=_to_loopback, verify=context
        ) as d:
            await d.run_once()

    run(one_round())
    with database.unit_of_work(read_only=True) as uow:
        (ok,) = uow.webhooks.deliveries(me, good.endpoint.id)
        (refused,) = uow.webhooks.deliveries(me, other.endpoint.id)
    assert (ok.state.value, ok.last_status) == ("delivered", 200)
    assert refused.state.value == "pending"
    assert refused.last_status is None
    assert "certificate" in (refused.last_error or "").lower()
    assert len(log.read_text().splitlines()) == 1  # only the verified host got a message
