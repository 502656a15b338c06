"""The reorder buffer of the recording path: order, wrap, duplicates, loss, restarts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.rtp import ReorderBuffer


def push_all(buffer: ReorderBuffer[int], seqs: list[int]) -> list[list[int]]:
    return [buffer.push(seq, seq) for seq in seqs]


def test_in_order_packets_pass_straight_through() -> None:
    assert push_all(ReorderBuffer(), [10, 11, 12]) == [[10], [11], [12]]


def test_a_swapped_pair_comes_out_in_order() -> None:
    assert push_all(ReorderBuffer(), [1, 3, 2, 4]) == [[1], [], [2, 3], [4]]


def test_numbers_wrap_at_16_bits() -> None:
    assert push_all(ReorderBuffer(), [65534, 0, 65535, 1]) == [[65534], [], [65535, 0], [1]]


def test_duplicates_and_late_packets_are_dropped_and_counted() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    assert push_all(buffer, [5, 5, 7, 7, 6, 4]) == [[5], [], [], [], [6, 7], []]
    # The second 5 came after the first was released: late; the second 7 while the
    # first waited: a duplicate.
    assert (buffer.duplicates, buffer.late) == (1, 2)


def test_a_lost_packet_is_given_up_when_more_than_depth_wait() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer(depth=3)
    assert push_all(buffer, [1, 3, 4, 5, 6]) == [[1], [], [], [], [3, 4, 5, 6]]
    assert buffer.lost == 1
    assert push_all(buffer, [2, 7]) == [[], [7]]  # 2 came too late.


def test_a_big_jump_restarts_the_numbering() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    assert push_all(buffer, [100, 102, 20000, 20001]) == [[100], [], [102, 20000], [20001]]
    assert buffer.restarts == 1
    assert push_all(buffer, [19990]) == [[]]  # Now behind the new numbering: late.


def test_flush_releases_what_waits_in_order() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer(depth=5)
    push_all(buffer, [1, 5, 3, 4])
    assert len(buffer) == 3
    assert buffer.flush() == [3, 4, 5]
    assert len(buffer) == 0
    assert buffer.push(40, 40) == [40]  # A fresh start.


@given(
    start=st.integers(0, 0xFFFF),
    count=st.integers(1, 60),
    swaps=st.lists(st.integers(0, 59), max_size=20),
    duplicates=st.lists(st.integers(0, 59), max_size=10),
)
def test_local_disorder_within_the_depth_loses_nothing(
    start: int, count: int, swaps: list[int], duplicates: list[int]
) -> None:
    seqs = [(start + i) & 0xFFFF for i in range(count)]
    arrival = list(seqs)
    moved: set[int] = set()
    # Swap disjoint neighbours, each packet at most one place away; never the first,
    # which is where the buffer starts counting.
    for i in swaps:
        if i > 0 and i + 1 < count and not {i, i + 1} & moved:
            arrival[i], arrival[i + 1] = arrival[i + 1], arrival[i]
            moved |= {i, i + 1}
    arrival += [arrival[i] for i in duplicates if i < count]
    buffer: ReorderBuffer[int] = ReorderBuffer(depth=3)
    released = [seq for out in push_all(buffer, arrival) for seq in out] + buffer.flush()
    assert released == seqs


@given(st.lists(st.integers(0, 40), max_size=80), st.integers(0xFFE0, 0xFFFF))
def test_next_in_line_then_push_releases_what_push_alone_releases(
    offsets: list[int], base: int
) -> None:
    # Any arrival order (wrapping numbers, gaps, duplicates, late ones): a caller that
    # asks next_in_line first and pushes only on False sees the same items, in the same
    # order, with the same counters, as one that always pushes.
    seqs = [(base + offset) & 0xFFFF for offset in offsets]
    plain: ReorderBuffer[int] = ReorderBuffer(depth=3)
    fast: ReorderBuffer[int] = ReorderBuffer(depth=3)
    expected = [seq for out in push_all(plain, seqs) for seq in out] + plain.flush()
    got: list[int] = []
    for seq in seqs:
        if fast.next_in_line(seq):
            got.append(seq)
        else:
            got += fast.push(seq, seq)
    got += fast.flush()
    assert got == expected
    counters = ("duplicates", "late", "lost", "restarts")
    assert [getattr(fast, c) for c in counters] == [getattr(plain, c) for c in counters]


def test_next_in_line_takes_only_the_expected_number_with_nothing_waiting() -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer()
    assert not buffer.next_in_line(7)  # Nothing expected yet: the first goes to push.
    assert buffer.push(7, 7) == [7]
    assert buffer.next_in_line(8)
    assert not buffer.next_in_line(10)  # A gap: push holds it...
    assert buffer.push(10, 10) == []
    assert not buffer.next_in_line(9)  # ...and 9 must go through push to release 10.
    assert buffer.push(9, 9) == [9, 10]
