"""A small reorder buffer keyed by RTP sequence number (RFC 3550 §A.1 arithmetic).

The recording path puts received packets back in order before it places their audio:
UDP may swap two packets or deliver one twice.  Live audio (a bridge) is not delayed by
it; only recordings, where 60 ms of latency costs nothing, go through it.

Rule 1. Packets come out in sequence order; the 16-bit number wraps (65535, 0, 1).
Rule 2. A duplicate of a waiting packet, or a packet older than the next one expected
(too late: a duplicate of one released, or one given up as lost), is dropped and
counted.  The first packet sets where counting starts.
Rule 3. At most ``depth`` packets wait for a missing one (3 packets, 60 ms of 20 ms
frames, by default); when one more arrives the gap is given up as lost and the
waiting packets are released.
Rule 4. A jump of more than :data:`MAX_DROPOUT` ahead or :data:`MAX_MISORDER` behind
means the sender restarted its numbering (RFC 3550 §A.1 uses the same two limits):
what waits is released and the buffer starts again from the new packet.
"""

from __future__ import annotations

from typing import Final, Generic, TypeVar

from hotline.telephony.rtp.packet import seq_distance

__all__ = ["MAX_DROPOUT", "MAX_MISORDER", "ReorderBuffer"]

#: RFC 3550 §A.1: the largest forward jump still read as loss, and the largest
#: backward one still read as misordering.
MAX_DROPOUT: Final = 3000
MAX_MISORDER: Final = 100

T = TypeVar("T")


class ReorderBuffer(Generic[T]):
    """Reorders items by 16-bit sequence number within a bounded depth (Rules 1-4).

    Pure and generic: the item is whatever the caller wants back (a packet, or a
    packet with its arrival time).  Counters: ``duplicates``, ``late``, ``lost``
    (missing numbers given up), ``restarts``.
    """

    __slots__ = ("_depth", "_held", "_next", "duplicates", "late", "lost", "restarts")

    def __init__(self, depth: int = 3) -> None:
        if depth < 0:
            raise ValueError(f"reorder depth {depth}: must be >= 0 (our configuration)")
        self._depth = depth
        self._held: dict[int, T] = {}
        self._next: int | None = None
        self.duplicates = 0
        self.late = 0
        self.lost = 0
        self.restarts = 0

    def __len__(self) -> int:
        return len(self._held)

    def next_in_line(self, seq: int) -> bool:
        """Take ``seq`` (0-65535) when it is the number expected and nothing waits: the
        usual case, as `push` would release it at once, but without an item or a list
        (the recording path runs this per packet).  False: `push` it."""
        if seq == self._next and not self._held:
            self._next = (seq + 1) & 0xFFFF
            return True
        return False

    def push(self, seq: int, item: T) -> list[T]:
        """Add one item; return those now in order, oldest first."""
        seq &= 0xFFFF
        if seq == self._next and not self._held:  # The usual case: next in line.
            self._next = (seq + 1) & 0xFFFF
            return [item]
        released: list[T] = []
        if self._next is None:
            self._next = seq
        distance = seq_distance(seq, self._next)
        if distance > MAX_DROPOUT or distance < -MAX_MISORDER:
            released = self.flush()  # Rule 4
            self.restarts += 1
            self._next = seq
        elif distance < 0:
            self.late += 1  # Rule 2: already released or given up.
            return released
        if seq in self._held:
            self.duplicates += 1
            return released
        self._held[seq] = item
        self._release_in_order(released)
        while len(self._held) > self._depth:  # Rule 3
            expected = self._next
            gaps = {seq_distance(held, expected): held for held in self._held}
            oldest = min(gaps)
            self.lost += oldest
            self._next = gaps[oldest]
            self._release_in_order(released)
        return released

    def flush(self) -> list[T]:
        """Release everything waiting, in order, and forget the expected number."""
        expected, self._next = self._next, None
        if expected is None:
            return []
        held = self._held
        released = [held[seq] for seq in sorted(held, key=lambda s: seq_distance(s, expected))]
        held.clear()
        return released

    def _release_in_order(self, released: list[T]) -> None:
        expected = self._next
        held = self._held
        while expected in held:
            released.append(held.pop(expected))
            expected = (expected + 1) & 0xFFFF
        self._next = expected
