"""Standard Webhooks signing and verification, and the retry schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from dropscope.domain.webhooks import (
    RetryPolicy,
    new_secret,
    parse_retry_after,
    retry_delay,
    secret_bytes,
    sign_headers,
    signature,
    verify,
)
from dropscope.errors import InvalidInput, Unauthorized

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
# The example secret of the Standard Webhooks reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signature_is_hmac_sha256_over_id_timestamp_body() -> None:
    body = b'{"test": 2432232314}'
    raw = base64.b64decode(SPEC_SECRET[6:])
    expected = base64.b64encode(
        hmac.new(
            raw, b"msg_p5jXN8AQM9LWM0D4loKWxJek." + str(TS).encode() + b"." + body, hashlib.sha256
        ).digest()
    ).decode()
    assert signature(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", TS, body) == "v1," + expected


def test_spec_vector() -> None:
    # From the Standard Webhooks spec's test vectors.
    sig = signature(
        SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_new_secret_round_trips_and_verifies() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_bytes(secret)) == 32
    headers = sign_headers((secret,), "evt_1", TS, b"{}")
    assert verify(secret, headers, b"{}", NOW) == "evt_1"


def test_rotation_sends_both_signatures_and_either_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = sign_headers((new, old), "evt_2", TS, b"x")
    assert len(headers["webhook-signature"].split()) == 2
    assert verify(old, headers, b"x", NOW) == "evt_2"
    assert verify(new, headers, b"x", NOW) == "evt_2"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h, b: (h, b + b" "), "no webhook-signature"),
        (lambda h, b: ({**h, "webhook-id": "evt_other"}, b), "no webhook-signature"),
        (lambda h, b: ({**h, "webhook-timestamp": str(TS - 301)}, b), "too far"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "whole number"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing"),
    ],
)
def test_verify_refuses(mutate, message) -> None:
    secret = new_secret()
    headers, body = mutate(sign_headers((secret,), "evt_3", TS, b"{}"), b"{}")
    with pytest.raises(Unauthorized, match=message):
        verify(secret, headers, body, NOW)


def test_verify_other_secret_refused() -> None:
    headers = sign_headers((new_secret(),), "evt_4", TS, b"{}")
    with pytest.raises(Unauthorized):
        verify(new_secret(), headers, b"{}", NOW)


@pytest.mark.parametrize(
    "bad", ["abc", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_bad_secrets(bad: str) -> None:
    with pytest.raises(InvalidInput):
        secret_bytes(bad)


def test_retry_schedule_spans_about_three_days() -> None:
    policy = RetryPolicy()
    delays = [retry_delay(policy, n, 0.5) for n in range(1, 13)]
    assert delays[:3] == [5.0, 20.0, 80.0]
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert max(delays) == policy.cap
    total = sum(delays)
    assert 2.5 * 86400 < total < 3.5 * 86400


def test_jitter_and_retry_after() -> None:
    policy = RetryPolicy()
    assert retry_delay(policy, 1, 0.0) == pytest.approx(4.0)
    assert retry_delay(policy, 1, 0.999) == pytest.approx(6.0, abs=0.01)
    assert retry_delay(policy, 1, 0.5, retry_after=120) == 120
    assert retry_delay(policy, 1, 0.5, retry_after=10**9) == policy.retry_after_cap


def test_parse_retry_after() -> None:
    assert parse_retry_after("30", NOW) == 30
    later = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, NOW) == 90
    assert parse_retry_after("nonsense", NOW) is None
    assert parse_retry_after(None, NOW) is None
