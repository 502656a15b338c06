"""RFC 4733 telephone events: payloads, the sender's packets, one report per key press."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.rtp import (
    DTMF_DIGITS,
    DtmfPacket,
    DtmfReceiver,
    TelephoneEvent,
    digit_for_event,
    dtmf_packets,
    event_for_digit,
    parse_telephone_event,
)
from hotline.telephony.rtp.dtmf import END_TIMEOUT_S

# Digit 5, end bit, volume 10 (-10 dBm0), duration 800 (100 ms at 8 kHz): RFC 4733 §2.3.
FIVE_END = bytes.fromhex("058a0320")


def press(digit: str, timestamp: int, **kw: int) -> list[DtmfPacket]:
    return list(dtmf_packets(digit, timestamp, **kw))


def feed(receiver: DtmfReceiver, packets: list[DtmfPacket], now: float = 0.0) -> list[str]:
    digits: list[str] = []
    for packet in packets:
        digits += receiver.receive(packet.timestamp, packet.payload, now)
    return digits


def test_payload_round_trip() -> None:
    event = TelephoneEvent(event=5, end=True, volume=10, duration=800)
    assert event.to_bytes() == FIVE_END
    assert parse_telephone_event(FIVE_END) == event


def test_short_payload_is_not_an_event() -> None:
    assert parse_telephone_event(b"\x05\x8a\x03") is None


def test_digits_and_event_codes_follow_rfc_4733_table_3() -> None:
    assert [event_for_digit(d) for d in "09*#AD"] == [0, 9, 10, 11, 12, 15]
    assert event_for_digit("b") == 13
    assert [digit_for_event(e) for e in (0, 10, 11, 15, 16)] == ["0", "*", "#", "D", None]
    with pytest.raises(ValueError, match="not a DTMF digit"):
        event_for_digit("E")


def test_sender_emits_marker_first_growing_durations_and_three_end_packets() -> None:
    packets = press("7", 1234, duration_ms=100, interval_ms=20)
    events = [parse_telephone_event(p.payload) for p in packets]
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert {p.timestamp for p in packets} == {1234}
    assert [(e.event, e.end, e.duration) for e in events if e] == [
        (7, False, 160),
        (7, False, 320),
        (7, False, 480),
        (7, False, 640),
        (7, True, 800),
        (7, True, 800),
        (7, True, 800),
    ]


def test_a_very_short_press_is_only_end_packets_the_first_with_the_marker() -> None:
    packets = press("1", 0, duration_ms=20, interval_ms=20)
    assert [p.marker for p in packets] == [True, False, False]


def test_each_press_is_reported_once_on_its_first_end_packet() -> None:
    receiver = DtmfReceiver()
    packets = press("1", 1000)
    reports = [receiver.receive(p.timestamp, p.payload, 0.0) for p in packets]
    assert reports == [[], [], [], [], ["1"], [], []]


def test_a_sequence_of_presses_comes_out_in_order() -> None:
    receiver = DtmfReceiver()
    packets = [p for i, d in enumerate("0123456789*#ABCD") for p in press(d, 1000 + 2000 * i)]
    assert "".join(feed(receiver, packets)) == DTMF_DIGITS


def test_the_same_digit_twice_is_two_presses() -> None:
    receiver = DtmfReceiver()
    assert feed(receiver, press("5", 100) + press("5", 2100)) == ["5", "5"]


def test_lost_end_packets_report_the_press_when_the_next_one_starts() -> None:
    receiver = DtmfReceiver()
    first = press("4", 100)[:-3]  # All three end packets lost.
    second = press("2", 2100)
    assert feed(receiver, first) == []
    assert receiver.receive(second[0].timestamp, second[0].payload, 0.0) == ["4"]
    assert feed(receiver, second[1:]) == ["2"]


def test_lost_end_packets_report_the_last_press_after_a_timeout() -> None:
    receiver = DtmfReceiver()
    without_end = press("9", 100)[:4]
    assert feed(receiver, without_end, now=10.0) == []
    assert receiver.next_deadline() == 10.0 + END_TIMEOUT_S
    assert receiver.handle_timer(10.0 + END_TIMEOUT_S / 2) == []
    assert receiver.handle_timer(10.0 + END_TIMEOUT_S) == ["9"]
    assert receiver.next_deadline() is None
    # The end packets arriving after all are duplicates now.
    assert feed(receiver, press("9", 100)[4:]) == []


def test_a_straggler_of_an_ended_press_is_ignored() -> None:
    receiver = DtmfReceiver()
    one, two = press("1", 100), press("2", 2100)
    assert feed(receiver, [*one, two[0], one[2], *two[1:], one[-1]]) == ["1", "2"]


def test_sequence_numbers_and_ssrc_do_not_matter_only_timestamps() -> None:
    # SIPp's stock DTMF pcaps replay one SSRC and restart their sequence numbers; the
    # receiver never sees either, so nothing is discarded.
    receiver = DtmfReceiver()
    assert feed(receiver, press("3", 500) + press("6", 900) + press("3", 300)) == ["3", "6", "3"]


def test_a_replayed_capture_with_the_same_timestamp_but_another_digit_is_a_new_press() -> None:
    receiver = DtmfReceiver()
    assert feed(receiver, press("1", 800) + press("2", 800)) == ["1", "2"]


def test_events_that_are_not_dtmf_are_dropped() -> None:
    receiver = DtmfReceiver()
    flash = TelephoneEvent(16, True, 10, 800).to_bytes()
    assert receiver.receive(100, flash, 0.0) == []
    assert receiver.receive(100, b"\x01", 0.0) == []
    assert feed(receiver, press("8", 900)) == ["8"]


@given(
    digits=st.text(DTMF_DIGITS, min_size=1, max_size=6),
    duplicate=st.lists(st.booleans(), min_size=60, max_size=60),
    keep_ends=st.lists(st.integers(1, 3), min_size=6, max_size=6),
)
def test_duplicated_packets_and_lost_end_packets_still_give_each_digit_once(
    digits: str, duplicate: list[bool], keep_ends: list[int]
) -> None:
    receiver = DtmfReceiver()
    sent: list[DtmfPacket] = []
    for i, digit in enumerate(digits):
        packets = press(digit, 10_000 * i)
        sent += packets[: len(packets) - 3 + keep_ends[i]]  # Lose some of the 3 ends.
    noisy = [p for i, p in enumerate(sent) for _ in range(2 if duplicate[i % 60] else 1)]
    assert "".join(feed(receiver, noisy)) == digits
