"""API keys as values: format and checksum (every single-character typo is caught),
hashing, state at a moment, roll grace, allowlists, and the anomaly rules."""

from __future__ import annotations

import hmac
import random
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dropscope.domain.access import DEFAULT_PLANS, Scope
from dropscope.domain.key_anomaly import RateTracker, SpreadTracker
from dropscope.domain.keys import (
    ALPHABET,
    BODY_LEN,
    KEY_LEN,
    PREFIX,
    ApiKey,
    KeyHasher,
    KeyState,
    KeyStatus,
    Peppers,
    caller_of,
    checksum,
    compile_allowlist,
    display,
    generate_key,
    hash_key,
    ip_allowed,
    key_status,
    network_of,
    parse_allowlist,
    parse_key,
    parse_scopes,
    roll_grace_end,
)
from dropscope.errors import InvalidInput

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
bodies = st.text(alphabet=ALPHABET, min_size=BODY_LEN, max_size=BODY_LEN)
keys = bodies.map(lambda b: PREFIX + b + checksum(b))


def test_a_generated_key_has_the_documented_shape() -> None:
    key = generate_key()
    assert len(key) == KEY_LEN == 42
    assert key.startswith("dsk_")
    assert parse_key(key) == key
    assert display(key) == key[:8]
    assert generate_key() != key


def test_the_checksum_is_base62_crc32_zero_padded() -> None:
    body = "0" * BODY_LEN
    assert len(checksum(body)) == 6
    assert checksum(body) == checksum(body)
    assert set(checksum("a" * BODY_LEN)) <= set(ALPHABET)


@given(keys)
def test_every_well_formed_key_parses(key: str) -> None:
    assert parse_key(key) == key


@given(keys, st.data())
def test_any_single_character_typo_is_detected(key: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(key) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET + "_-+/=. "))
    if key[position] == replacement:
        return
    typo = key[:position] + replacement + key[position + 1 :]
    assert parse_key(typo) is None


@given(keys, st.integers(min_value=len(PREFIX), max_value=KEY_LEN - 2))
def test_swapping_two_neighbours_is_detected(key: str, i: int) -> None:
    if key[i] == key[i + 1]:
        return
    swapped = key[:i] + key[i + 1] + key[i] + key[i + 2 :]
    assert parse_key(swapped) is None


@given(st.text(max_size=60))
def test_arbitrary_text_is_refused_unless_it_is_a_key(text: str) -> None:
    parsed = parse_key(text)
    assert parsed is None or (parsed == text and len(text) == KEY_LEN)


@pytest.mark.parametrize(
    "text",
    ["", "dsk_", "dsk_" + "a" * 37, "dsk_" + "a" * 39, "DSK_" + "a" * 38, "sk_live_" + "a" * 34],
)
def test_malformed_keys_are_refused(text: str) -> None:
    assert parse_key(text) is None


def test_hashing_is_keyed_by_the_pepper_and_versioned() -> None:
    key = generate_key()
    assert hash_key(b"pepper-a", key) != hash_key(b"pepper-b", key)
    assert len(hash_key(b"p", key)) == 64
    peppers = Peppers(current=2, secrets={1: b"old", 2: b"new"})
    assert peppers.hash(key) == (2, hash_key(b"new", key))
    assert peppers.candidates(key) == {hash_key(b"old", key): 1, hash_key(b"new", key): 2}
    with pytest.raises(InvalidInput):
        Peppers(current=3, secrets={1: b"x"})


def _key(**changes: object) -> ApiKey:
    values: dict[str, object] = {
        "id": "key_1",
        "account_id": "acct_1",
        "name": "k",
        "display": "dsk_abcd",
        "scopes": frozenset({Scope.READ}),
        "plan": "free",
        "state": KeyState.ACTIVE,
        "created_at": T0,
        **changes,
    }
    return ApiKey(**values)  # type: ignore[arg-type]


times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@given(st.sampled_from(KeyState), st.none() | times, st.none() | times, times)
def test_state_at_a_moment(
    state: KeyState, expires: datetime | None, grace: datetime | None, now: datetime
) -> None:
    key = _key(state=state, expires_at=expires, grace_until=grace)
    status = key.status_at(now)
    ends = [t for t in (expires, grace) if t is not None]
    if state is KeyState.REVOKED:
        assert status is KeyStatus.REVOKED
    elif state is KeyState.DISABLED:
        assert status is KeyStatus.DISABLED
    elif ends and now >= min(ends):
        assert status is KeyStatus.EXPIRED
    else:
        assert status is KeyStatus.ACTIVE
    assert key.valid_until == (min(ends) if ends else None)


@given(times, st.integers(min_value=0, max_value=10**7), st.none() | times)
def test_a_rolled_key_never_outlives_its_own_expiry(
    now: datetime, seconds: int, expires: datetime | None
) -> None:
    end = roll_grace_end(now, timedelta(seconds=seconds), expires)
    assert end <= now + timedelta(seconds=seconds)
    if expires is not None:
        assert end <= expires
    key = _key(expires_at=expires, grace_until=end)
    assert key.status_at(end) is KeyStatus.EXPIRED
    if end > now and (expires is None or now < expires):
        assert key.status_at(now) is KeyStatus.ACTIVE


def test_negative_grace_is_refused() -> None:
    with pytest.raises(InvalidInput):
        roll_grace_end(T0, timedelta(seconds=-1), None)


def test_revoked_and_disabled_win_over_expired() -> None:
    past = T0 - timedelta(days=1)
    assert key_status(KeyState.REVOKED, past, T0) is KeyStatus.REVOKED
    assert key_status(KeyState.DISABLED, past, T0) is KeyStatus.DISABLED


def test_allowlists() -> None:
    entries = parse_allowlist(["10.0.0.7", "192.168.1.0/24", "2001:db8::/32", "10.0.0.7"])
    assert entries == ("10.0.0.7/32", "192.168.1.0/24", "2001:db8::/32")
    nets = compile_allowlist(entries)
    assert ip_allowed(nets, "192.168.1.200")
    assert ip_allowed(nets, "::ffff:10.0.0.7")  # IPv4-mapped
    assert ip_allowed(nets, "2001:db8:1::5")
    assert not ip_allowed(nets, "10.0.0.8")
    assert not ip_allowed(nets, None)
    assert not ip_allowed(nets, "not an ip")
    assert ip_allowed((), None)  # no allowlist: anywhere
    with pytest.raises(InvalidInput, match=r"10\.0\.0\.300"):
        parse_allowlist(["10.0.0.300"])


def test_scopes_and_networks() -> None:
    assert parse_scopes(["read", "WRITE"]) == {Scope.READ, Scope.WRITE}
    with pytest.raises(InvalidInput, match="delete"):
        parse_scopes(["delete"])
    with pytest.raises(InvalidInput):
        parse_scopes([])
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:abcd:12ff::1") == "2001:db8:abcd:1200::/56"
    assert network_of(None) is None


def test_a_key_on_a_plan_no_longer_configured_gets_the_first_plan() -> None:
    assert caller_of(_key(plan="gold"), DEFAULT_PLANS).plan.name == "gold"
    assert caller_of(_key(plan="gone"), DEFAULT_PLANS).plan == DEFAULT_PLANS[0]


def test_rate_anomaly_needs_a_baseline_and_fires_once() -> None:
    tracker = RateTracker(factor=10, min_requests=50, min_history=5, cooldown=60)
    now = T0
    for _ in range(5):  # 5 minutes at 3 requests a minute
        for _ in range(3):
            assert tracker.hit("k", now) is None
        now += timedelta(minutes=1)
    found = [tracker.hit("k", now) for _ in range(60)]
    fired = [a for a in found if a is not None]
    assert len(fired) == 1
    assert fired[0].rule == "rate"
    assert fired[0].detail["requests_this_minute"] == 50  # > 10 x 3, and >= 50
    new = RateTracker(factor=10, min_requests=5, min_history=5)
    assert all(new.hit("n", T0) is None for _ in range(1000))  # a new key has no baseline


def test_spread_anomaly_counts_distinct_addresses() -> None:
    tracker = SpreadTracker(min_ips=5, window=10)
    results = [tracker.fail("k", f"10.0.0.{i % 7}", T0) for i in range(20)]
    assert sum(r is not None for r in results) == 1
    assert all(tracker.fail(None, "10.0.0.1", T0) is None for _ in range(50))  # one address


def test_random_keys_use_the_whole_alphabet() -> None:
    rng = random.Random(7)
    key = generate_key(rng.choice)
    assert set(key[len(PREFIX) :]) <= set(string.ascii_letters + string.digits)


@given(pepper=st.binary(min_size=1, max_size=200), message=st.binary(max_size=300))
def test_key_hasher_is_hmac_sha256(pepper: bytes, message: bytes) -> None:
    """The precomputed-state HMAC gives the same bytes as the standard library's, for short
    and long (> one block, hashed first) peppers alike."""
    assert KeyHasher(pepper).digest(message) == hmac.digest(pepper, message, "sha256")
