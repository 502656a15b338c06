"""Login rate limiting: a pure sliding-window counter of failures per key.

The web adapter keeps two limiters and a login attempt goes ahead only when both allow it:

* per username — ``SlidingWindowLimiter(USERNAME_MAX_ATTEMPTS, WINDOW_SECONDS)``: 5 failures
  per 60 s, i.e. at most 7 200 guesses a day against one account. It throttles rather than
  locks out, since a lock-out would let anybody keep an operator from logging in; the cap of
  NIST SP 800-63B §5.2.2 (at most 100 consecutive failures per account) is a lock-out rule
  that the account store may add on top.
* per client IP — ``SlidingWindowLimiter(CLIENT_IP_MAX_ATTEMPTS, WINDOW_SECONDS)``: 30
  failures per 60 s. Higher than per username because a contact-centre floor reaches us
  through one NAT address, and one operator's typos must not lock out the whole shift.

Call `SlidingWindowLimiter.hit` after a failed login, `SlidingWindowLimiter.reset` for the
username after a successful one (not for the IP: other users share it), and
`SlidingWindowLimiter.retry_after` before checking a password (answer HTTP 429 with
``Retry-After`` when it is not 0).

Theory of operation: a failure at ``t`` counts during ``[t, t + window)``; a key is blocked
while ``max_attempts`` failures count. Only the latest ``max_attempts`` failure times of a
key matter, so at most that many are kept. Keys live in least-recently-hit order: a hit
drops keys whose failures have all expired from the front (amortised O(1)), and beyond
``max_keys`` the least recently hit key is evicted — it forgets that key's failures, a
price paid for bounded memory (measured with tracemalloc at 100 000 keys of 40
characters: about 31 MB with 5 attempts, 52 MB with 30); an attacker spraying usernames to
flush the table still meets the per-IP limit.

``now`` is seconds on a monotonic clock supplied by the caller; a ``now`` earlier than a key's
latest failure is treated as that failure's time.
"""

from __future__ import annotations

import math
from array import array
from collections import OrderedDict

__all__ = [
    "CLIENT_IP_MAX_ATTEMPTS",
    "MAX_KEYS",
    "USERNAME_MAX_ATTEMPTS",
    "WINDOW_SECONDS",
    "SlidingWindowLimiter",
]

USERNAME_MAX_ATTEMPTS = 5
CLIENT_IP_MAX_ATTEMPTS = 30
WINDOW_SECONDS = 60.0
MAX_KEYS = 100_000


class SlidingWindowLimiter:
    """At most ``max_attempts`` failures per key within any ``window_seconds`` (see module).

    Defaults are the per-username limit: 5 failures per 60 s, 100 000 keys.
    """

    __slots__ = ("_failures", "max_attempts", "max_keys", "window_seconds")

    def __init__(
        self,
        max_attempts: int = USERNAME_MAX_ATTEMPTS,
        window_seconds: float = WINDOW_SECONDS,
        *,
        max_keys: int = MAX_KEYS,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an int >= 1, got {max_attempts!r}")
        if not math.isfinite(window_seconds) or window_seconds <= 0:
            raise ValueError(f"window_seconds must be finite and > 0, got {window_seconds!r}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be an int >= 1, got {max_keys!r}")
        self.max_attempts = max_attempts
        self.window_seconds = float(window_seconds)
        self.max_keys = max_keys
        # key -> times of its latest failures (oldest first), keys least recently hit first
        self._failures: OrderedDict[str, array[float]] = OrderedDict()

    def __len__(self) -> int:
        """How many keys are tracked (including stale ones not yet dropped)."""
        return len(self._failures)

    def hit(self, key: str, now: float) -> None:
        """Record one failure for ``key`` at ``now``."""
        self._drop_stale(now)
        times = self._failures.get(key)
        if times is None:
            times = self._failures[key] = array("d")
        else:
            self._failures.move_to_end(key)
            now = max(now, times[-1])  # keep the times sorted if the clock steps back
        times.append(now)
        if len(times) > self.max_attempts:
            del times[0]  # array('d'): 8 bytes a time; a deque costs 600+ even when short
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again; 0.0 when it may try now."""
        times = self._failures.get(key)
        if times is None or len(times) < self.max_attempts:
            return 0.0
        # times[0] is the oldest of the latest max_attempts failures: once it expires, one
        # fewer than max_attempts count.
        return max(0.0, times[0] + self.window_seconds - now)

    def reset(self, key: str) -> None:
        """Forget ``key``'s failures (after a successful login); unknown keys are ignored."""
        self._failures.pop(key, None)

    def _drop_stale(self, now: float) -> None:
        expired_before = now - self.window_seconds
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if times[-1] > expired_before:
                break
            del self._failures[key]
