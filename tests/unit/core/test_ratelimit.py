"""Login rate limiting in virtual time: `now` is a number we choose, nothing sleeps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.ratelimit import (
    CLIENT_IP_MAX_ATTEMPTS,
    MAX_KEYS,
    USERNAME_MAX_ATTEMPTS,
    WINDOW_SECONDS,
    SlidingWindowLimiter,
)


def test_defaults_are_the_documented_ones() -> None:
    limiter = SlidingWindowLimiter()
    assert (limiter.max_attempts, limiter.window_seconds, limiter.max_keys) == (5, 60.0, 100_000)
    assert (USERNAME_MAX_ATTEMPTS, CLIENT_IP_MAX_ATTEMPTS, WINDOW_SECONDS, MAX_KEYS) == (
        5,
        30,
        60.0,
        100_000,
    )


def test_blocks_after_max_attempts_until_the_oldest_failure_expires() -> None:
    limiter = SlidingWindowLimiter(5, 60.0)
    assert limiter.retry_after("user:ann", 0.0) == 0.0  # never seen
    for t in (0.0, 1.0, 2.0, 3.0):
        limiter.hit("user:ann", t)
    assert limiter.retry_after("user:ann", 3.0) == 0.0  # 4 failures: still allowed
    limiter.hit("user:ann", 4.0)
    # 5 failures at 0..4: blocked until the one at 0 expires at 0 + 60.
    assert limiter.retry_after("user:ann", 4.0) == 56.0
    assert limiter.retry_after("user:ann", 59.5) == 0.5
    assert limiter.retry_after("user:ann", 60.0) == 0.0  # a failure counts for [t, t + 60)


def test_the_window_slides() -> None:
    limiter = SlidingWindowLimiter(3, 10.0)
    for t in (0.0, 4.0, 8.0):
        limiter.hit("ip:10.0.0.1", t)
    assert limiter.retry_after("ip:10.0.0.1", 8.0) == 2.0  # the failure at 0 expires at 10
    limiter.hit("ip:10.0.0.1", 10.0)  # failures now at 4, 8, 10
    assert limiter.retry_after("ip:10.0.0.1", 10.0) == 4.0  # the one at 4 expires at 14
    assert limiter.retry_after("ip:10.0.0.1", 14.0) == 0.0


def test_reset_forgets_a_key_and_keys_are_independent() -> None:
    limiter = SlidingWindowLimiter(2, 60.0)
    for key in ("user:ann", "user:bob"):
        limiter.hit(key, 0.0)
        limiter.hit(key, 1.0)
    limiter.reset("user:ann")
    limiter.reset("user:nobody")  # unknown: ignored
    assert limiter.retry_after("user:ann", 1.0) == 0.0
    assert limiter.retry_after("user:bob", 1.0) == 59.0  # the failure at 0 expires at 60


def test_a_clock_stepping_back_counts_as_the_latest_time() -> None:
    limiter = SlidingWindowLimiter(2, 60.0)
    limiter.hit("user:ann", 10.0)
    limiter.hit("user:ann", 5.0)  # recorded at 10.0
    assert limiter.retry_after("user:ann", 10.0) == 60.0


def test_stale_keys_are_dropped_on_the_next_hit() -> None:
    limiter = SlidingWindowLimiter(5, 60.0)
    limiter.hit("user:ann", 0.0)
    limiter.hit("user:bob", 30.0)
    assert len(limiter) == 2
    limiter.hit("user:eve", 60.0)  # ann's only failure (at 0) expired at 60
    assert len(limiter) == 2
    limiter.hit("user:eve", 90.0)  # bob's (at 30) expired at 90
    assert len(limiter) == 1
    assert limiter.retry_after("user:bob", 90.0) == 0.0


def test_key_count_is_capped_by_evicting_the_least_recently_hit() -> None:
    limiter = SlidingWindowLimiter(1, 60.0, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.hit(key, 0.0)
    limiter.hit("a", 1.0)  # a is now the most recently hit; b the least
    limiter.hit("d", 2.0)
    assert len(limiter) == 3
    assert limiter.retry_after("b", 2.0) == 0.0  # evicted: forgotten
    assert limiter.retry_after("a", 2.0) == 59.0  # last failure at 1 (max_attempts=1)
    assert limiter.retry_after("c", 2.0) == 58.0
    assert limiter.retry_after("d", 2.0) == 60.0


def test_only_the_latest_failures_are_kept() -> None:
    limiter = SlidingWindowLimiter(3, 60.0)
    for t in range(1000):
        limiter.hit("user:ann", float(t))
    # Failures at 997, 998, 999 are the ones kept; blocked until 997 + 60.
    assert limiter.retry_after("user:ann", 999.0) == 58.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 60.0), "max_attempts must be an int >= 1, got 0"),
        ((True, 60.0), "max_attempts must be an int >= 1, got True"),
        ((2.5, 60.0), "max_attempts must be an int >= 1, got 2.5"),
        ((5, 0.0), "window_seconds must be finite and > 0, got 0.0"),
        ((5, -1.0), "window_seconds must be finite and > 0, got -1.0"),
        ((5, float("inf")), "window_seconds must be finite and > 0, got inf"),
        ((5, float("nan")), "window_seconds must be finite and > 0, got nan"),
    ],
)
def test_bad_settings_are_refused(args: tuple[float, float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        SlidingWindowLimiter(*args)  # type: ignore[arg-type]
    assert str(caught.value) == message


def test_bad_max_keys_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^max_keys must be an int >= 1, got 0$"):
        SlidingWindowLimiter(5, 60.0, max_keys=0)


events = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 5), st.booleans()), max_size=60
)


@given(
    max_attempts=st.integers(1, 4),
    window=st.integers(1, 20),
    script=events,
)
def test_matches_a_model_that_keeps_every_failure(
    max_attempts: int, window: int, script: list[tuple[str, int, bool]]
) -> None:
    """Against a naive model that keeps all failure times forever (no cap reached)."""
    limiter = SlidingWindowLimiter(max_attempts, float(window))
    failures: dict[str, list[int]] = {}
    now = 0
    for key, advance, is_hit in script:
        now += advance  # integer seconds: float arithmetic below is exact
        if is_hit:
            limiter.hit(key, float(now))
            failures.setdefault(key, []).append(now)
        counted = [t for t in failures.get(key, []) if t > now - window]
        # Blocked while max_attempts failures count; free once the oldest of the latest
        # max_attempts expires.
        expected = counted[-max_attempts] + window - now if len(counted) >= max_attempts else 0
        assert limiter.retry_after(key, float(now)) == expected


@given(
    max_keys=st.integers(1, 5),
    keys=st.lists(st.integers(0, 20).map(str), max_size=80),
)
def test_never_tracks_more_than_max_keys(max_keys: int, keys: list[str]) -> None:
    limiter = SlidingWindowLimiter(1, 60.0, max_keys=max_keys)
    for step, key in enumerate(keys):
        now = step / 10
        limiter.hit(key, now)
        assert len(limiter) <= max_keys
        assert limiter.retry_after(key, now) == 60.0  # the key just hit is never evicted
