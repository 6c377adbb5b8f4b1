"""The rate limiter's Redis client (`services.redis_wire`): the RESP codec on its own, then
against the real Redis server (order under pipelining, errors, SELECT, AUTH, a killed
connection), and against a peer that accepts but never answers (timeouts)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from dropscope.services.redis_wire import (
    RedisReplyError,
    RedisUnavailable,
    RedisWire,
    encode,
    parse,
    parse_url,
)
from tests.ratelimit.conftest import redis_url

pytestmark = pytest.mark.anyio

INCOMPLETE = parse(bytearray(b"$5\r\nab"), 0)[0]  # the parser's "not all here yet" marker


def test_encode_is_a_resp_array_of_bulk_strings() -> None:
    assert encode((b"SET", "k", 12)) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n"
    assert encode(("ECHO", "é")) == b"*2\r\n$4\r\nECHO\r\n$2\r\n\xc3\xa9\r\n"


def test_parse_each_reply_type() -> None:
    assert parse(bytearray(b"+OK\r\n"), 0) == ("OK", 5)
    assert parse(bytearray(b":-42\r\n"), 0) == (-42, 6)
    assert parse(bytearray(b"$-1\r\n"), 0) == (None, 5)
    assert parse(bytearray(b"$0\r\n\r\n"), 0) == (b"", 6)
    assert parse(bytearray(b"*2\r\n$1\r\na\r\n:1\r\n"), 0) == ([b"a", 1], 15)
    error, _ = parse(bytearray(b"-NOSCRIPT No matching script\r\n"), 0)
    assert isinstance(error, RedisReplyError)
    assert error.code == "NOSCRIPT"
    with pytest.raises(RedisUnavailable, match="unexpected reply type"):
        parse(bytearray(b"?what\r\n"), 0)


REPLIES = st.recursive(
    st.one_of(
        st.binary(max_size=40).map(lambda b: b"$%d\r\n%b\r\n" % (len(b), b)),
        st.integers(-(2**62), 2**62).map(lambda i: b":%d\r\n" % i),
        st.just(b"+OK\r\n"),
        st.just(b"$-1\r\n"),
    ),
    lambda inner: st.lists(inner, max_size=4).map(
        lambda items: b"*%d\r\n" % len(items) + b"".join(items)
    ),
    max_leaves=8,
)


@given(replies=st.lists(REPLIES, min_size=1, max_size=6), cuts=st.lists(st.integers(0, 400)))
def test_replies_split_anywhere_parse_the_same(replies: list[bytes], cuts: list[int]) -> None:
    """Fed in arbitrary chunks (as TCP delivers them), the parser yields the same replies
    as from one buffer, and never a partial one."""
    stream = b"".join(replies)
    whole, pos = [], 0
    buf = bytearray(stream)
    while pos < len(buf):
        reply, pos = parse(buf, pos)
        whole.append(reply)
    assert len(whole) == len(replies)
    chunked, buf, pos = [], bytearray(), 0
    bounds = sorted({c % (len(stream) + 1) for c in cuts} | {len(stream)})
    start = 0
    for end in bounds:
        buf += stream[start:end]
        start = end
        while True:
            reply, after = parse(buf, pos)
            if reply is INCOMPLETE:
                break
            chunked.append(reply)
            pos = after
    assert chunked == whole


def test_parse_url_forms() -> None:
    a = parse_url("redis://u:p%40ss@example.org:6380/3")
    assert (a.host, a.port, a.db, a.username, a.password, a.tls) == (
        "example.org",
        6380,
        3,
        "u",
        "p@ss",
        False,
    )
    assert parse_url("rediss://h").tls
    assert parse_url("redis://h?db=2&password=x").db == 2
    assert parse_url("redis://h?password=x").password == "x"
    u = parse_url("unix:///run/redis.sock?db=4")
    assert (u.path, u.db) == ("/run/redis.sock", 4)
    with pytest.raises(ValueError, match="unsupported"):
        parse_url("http://h")


@pytest.fixture
async def wire() -> AsyncIterator[RedisWire]:
    client = RedisWire(redis_url())
    try:
        yield client
    finally:
        await client.aclose()


def unique_key() -> str:
    return f"dropscope_test_{os.getpid()}_{uuid.uuid4().hex[:8]}:wire"


@pytest.mark.redis
async def test_concurrent_calls_get_their_own_replies_in_order(wire: RedisWire) -> None:
    key = unique_key()
    try:
        results = await asyncio.gather(*(wire.call("INCR", key) for _ in range(500)))
        assert results == list(range(1, 501))  # written in call order, answered in order
        assert wire.sent == 500
        assert await wire.call("GET", key) == b"500"
        assert await wire.call("PING") == "PONG"
    finally:
        await wire.call("DEL", key)


@pytest.mark.redis
async def test_an_error_reply_fails_only_its_own_call(wire: RedisWire) -> None:
    key = unique_key()
    try:
        ok, bad, after = await asyncio.gather(
            wire.call("SET", key, "x"),
            wire.call("INCR", key),  # not an integer: an error reply
            wire.call("GET", key),
            return_exceptions=True,
        )
        assert ok == "OK"
        assert isinstance(bad, RedisReplyError)
        assert bad.code == "ERR"
        assert after == b"x"
    finally:
        await wire.call("DEL", key)


@pytest.mark.redis
async def test_a_killed_connection_fails_then_reconnects(wire: RedisWire) -> None:
    own_id = await wire.call("CLIENT", "ID")
    admin = redis.Redis.from_url(redis_url())
    try:
        admin.client_kill_filter(_id=own_id)
    finally:
        admin.close()
    await asyncio.sleep(0.1)  # the close reaches us
    assert await wire.call("PING") == "PONG"  # a new connection
    assert await wire.call("CLIENT", "ID") != own_id


@pytest.mark.redis
async def test_select_uses_the_database_in_the_url() -> None:
    key = unique_key()
    in_five = redis_url().rsplit("/", 1)[0] + "/5"
    client = RedisWire(in_five)
    sync = redis.Redis.from_url(in_five)
    try:
        assert await client.call("SET", key, "in-five") == "OK"
        assert sync.get(key) == b"in-five"
    finally:
        sync.delete(key)
        sync.close()
        await client.aclose()


@pytest.mark.redis
async def test_auth_with_user_and_password() -> None:
    user, password = f"dropscope_test_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    base = redis_url().split("://", 1)[1]
    admin = redis.Redis.from_url(redis_url())
    admin.acl_setuser(user, enabled=True, passwords=[f"+{password}"], commands=["+ping"])
    good = RedisWire(f"redis://{user}:{password}@{base}")
    bad = RedisWire(f"redis://{user}:wrong@{base}")
    try:
        assert await good.call("PING") == "PONG"
        with pytest.raises(RedisUnavailable, match="refused the connection setup"):
            await bad.call("PING")
    finally:
        await good.aclose()
        await bad.aclose()
        admin.acl_deluser(user)
        admin.close()


async def test_nothing_listening_fails_fast() -> None:
    client = RedisWire("redis://127.0.0.1:1/0", timeout=0.5)
    with pytest.raises(RedisUnavailable, match="cannot connect"):
        await client.call("PING")
    await client.aclose()


async def test_a_peer_that_never_answers_times_out_every_waiting_call() -> None:
    """A hung Redis (accepts, reads, says nothing): each pending call fails within about
    `timeout`, and the connection is dropped."""
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(1 << 16)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RedisWire(f"redis://127.0.0.1:{port}/0", timeout=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        results = await asyncio.gather(
            *(client.call("PING") for _ in range(5)), return_exceptions=True
        )
    finally:
        await client.aclose()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert all(isinstance(r, RedisUnavailable) for r in results)
    assert "no reply from Redis within 0.3 s" in str(results[0])
    assert loop.time() - started < 2


@pytest.mark.redis
async def test_published_messages_go_to_on_push_and_replies_to_their_callers() -> None:
    """A subscribed connection: each message reaches `on_push` (in order), while PING's
    reply still goes to its caller; a lost connection is reported to `on_lost`, and with
    `reconnect=False` not replaced by a new one."""
    channel = f"dropscope_test_{uuid.uuid4().hex[:8]}"
    pushed: list[tuple[bytes, bytes]] = []
    lost: list[bool] = []
    wire = RedisWire(
        redis_url(),
        on_push=lambda channel, data: pushed.append((channel, data)),
        on_lost=lambda: lost.append(True),
        reconnect=False,
    )
    admin = redis.Redis.from_url(redis_url())
    try:
        own_id = await wire.call("CLIENT", "ID")
        assert await wire.call("SUBSCRIBE", channel) == [b"subscribe", channel.encode(), 1]
        for n in range(3):
            admin.publish(channel, str(n))
        assert await wire.call("PING") == [b"pong", b""]
        assert pushed == [(channel.encode(), str(n).encode()) for n in range(3)]
        assert not lost
        admin.client_kill_filter(_id=own_id)
        await asyncio.sleep(0.1)
        assert lost
        with pytest.raises(RedisUnavailable):  # no new, unsubscribed connection
            await wire.call("PING")
    finally:
        admin.close()
        await wire.aclose()
