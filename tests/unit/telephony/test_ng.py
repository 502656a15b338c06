"""rtpengine's ng protocol without a daemon: bencode, cookie framing, replies, DTMF events.

Reference encodings are BEP 3's own examples (bittorrent.org/beps/bep_0003.html) and a
request as rtpengine's log prints it (``d7:call-id2:L1...``), written by hand here.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.media import ng
from hotline.telephony.media.ng_client import DtmfEvent


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (b"spam", b"4:spam"),
        ("spam", b"4:spam"),
        (b"", b"0:"),
        (3, b"i3e"),
        (-3, b"i-3e"),
        (0, b"i0e"),
        ([b"spam", b"eggs"], b"l4:spam4:eggse"),
        ({"cow": b"moo", "spam": b"eggs"}, b"d3:cow3:moo4:spam4:eggse"),
        ({"spam": [b"a", b"b"]}, b"d4:spaml1:a1:bee"),
        ({}, b"de"),
        ("é", b"2:\xc3\xa9"),  # UTF-8 bytes are counted, not characters
    ],
)
def test_bep3_examples_encode_and_decode(value: object, encoded: bytes) -> None:
    assert ng.encode(value) == encoded
    decoded = ng.decode(encoded)
    expected = value.encode() if isinstance(value, str) else value
    assert decoded == expected


def test_dictionary_keys_are_sorted_as_raw_bytes() -> None:
    # "Z" (0x5a) sorts before "a" (0x61), "call-id" before "command" (a < o)
    assert ng.encode({"command": "ping", "call-id": "x", "Z": 1}) == (
        b"d1:Zi1e7:call-id1:x7:command4:pinge"
    )


_values = st.recursive(
    st.integers() | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_values)
def test_any_value_round_trips(value: ng.NgValue) -> None:
    assert ng.decode(ng.encode(value)) == value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "offset 0: unexpected end of data"),
        (b"i12", "offset 0: integer without its closing 'e'"),
        (b"i1x2e", r"offset 0: bad integer b'1x2'"),
        (b"i-0e", "bad integer"),
        (b"i03e", "bad integer"),
        (b"ie", "bad integer"),
        (b"5:abc", "offset 0: string of 5 bytes runs past the end"),
        (b"3abc", "offset 0: string length without ':'"),
        (b"l1:a", "offset 4: unexpected end of data"),
        (b"d3:cow", "offset 6: unexpected end of data"),
        (b"di1e1:ae", "offset 1: dictionary key is not a string"),
        (b"d2:\xff\xfe1:ae", "offset 1: dictionary key is not UTF-8"),
        (b"i1ei2e", "offset 3: 3 trailing bytes after the value"),
        (b"x", r"offset 0: unexpected byte b'x'"),
        (b"l" * 100 + b"e" * 100, "nested deeper than 64 levels"),
    ],
)
def test_malformed_bencode_is_rejected_with_its_offset(data: bytes, message: str) -> None:
    with pytest.raises(ng.BencodeError, match=message):
        ng.decode(data)


def test_what_bencode_cannot_carry_is_a_type_error_naming_where() -> None:
    with pytest.raises(TypeError, match=r"\$\.flags\[1\]: bencode has no booleans"):
        ng.encode({"flags": ["a", True]})
    with pytest.raises(TypeError, match=r"\$: dictionary key 1 is not a string"):
        ng.encode({1: 2})
    with pytest.raises(TypeError, match=r"\$\.x: cannot bencode float"):
        ng.encode({"x": 1.5})


def test_a_request_is_cookie_space_dictionary_with_the_command() -> None:
    datagram = ng.request_datagram("5d1e_7", "answer", {"call-id": "L1", "from-tag": "h"})
    assert datagram == b"5d1e_7 d7:call-id2:L17:command6:answer8:from-tag1:he"
    with pytest.raises(ValueError, match="without spaces"):
        ng.request_datagram("a b", "ping", {})


def test_a_reply_splits_into_cookie_and_body() -> None:
    assert ng.parse_reply(b"c1 d6:result4:ponge") == ("c1", b"d6:result4:ponge")
    with pytest.raises(ng.BencodeError, match="no 'COOKIE ' prefix"):
        ng.parse_reply(b"d6:result4:ponge")


def test_ok_replies_are_returned_and_errors_raise_with_the_daemons_reason() -> None:
    assert ng.reply_dict("ping", b"d6:result4:ponge") == {"result": b"pong"}
    reply = ng.reply_dict("play media", b"d8:durationi1000e6:result2:oke")
    assert reply == {"duration": 1000, "result": b"ok"}
    with pytest.raises(ng.NgError, match="rtpengine 'play media': Unknown call-ID") as caught:
        ng.reply_dict("play media", b"d12:error-reason15:Unknown call-ID6:result5:errore")
    assert (caught.value.command, caught.value.reason) == ("play media", "Unknown call-ID")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"d6:result4:pong", "malformed reply: offset 15: unexpected end of data"),
        (b"l2:oke", "malformed reply: not a dictionary"),
        (b"d3:sdp1:xe", "malformed reply: result is None"),
        (b"d6:result5:maybee", r"malformed reply: result is b'maybe'"),
        (b"d6:result5:errore", r"\(no error-reason\)"),
    ],
)
def test_malformed_replies_raise_ng_error(body: bytes, message: str) -> None:
    with pytest.raises(ng.NgError, match=message):
        ng.reply_dict("offer", body)


def test_text_reads_reply_strings() -> None:
    assert ng.text(b"caf\xc3\xa9") == "café"
    assert ng.text(None, "-") == "-"


def test_dtmf_log_lines_as_rtpengine_10_5_prints_them() -> None:
    # Captured from the daemon (--dtmf-log-dest) when a phone pressed 5 for 100 ms.
    line = (
        b'{"callid":"L2","source_tag":"p","tags":["h","p"],"type":"DTMF",'
        b'"timestamp":1795456596,"source_ip":"127.0.0.1","event":5,"duration":100,"volume":10}'
    )
    event = DtmfEvent.parse(line)
    assert event is not None
    assert (event.call_id, event.source_tag, event.event, event.duration) == ("L2", "p", 5, 100)
    for junk in (
        b"not json",
        b"[1]",
        b'{"callid":"L2"}',
        b'{"callid":"L2","source_tag":"p","event":"5"}',
        b'{"type":"other","callid":"a","source_tag":"p","event":1}',
    ):
        assert DtmfEvent.parse(junk) is None
