"""SIP message model: golden round trips, lookups, malformed input, responses, framing.

The golden files in ``golden/`` are real traffic captured on loopback from
SIPp 3.6.1 (``-sn uac``, ``-sn uas`` and ``tests/integration/sipp/options_uac.xml``)
and baresip 1.0.0 (REGISTER, INVITE, 200 to OPTIONS), plus two written by hand
for what those tools never send: a proxied response with several Via and
Record-Route values, and an INVITE in compact forms. They keep CRLF line
endings; git must not convert them (see the first test).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.sip import (
    COMPACT_FORMS,
    Headers,
    LocalSipError,
    RemoteSipError,
    SipRequest,
    SipResponse,
    StreamFramer,
    build_response,
    parse,
    response_to_malformed,
    serialize,
    stateless_to_tag,
)

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.sip"))
GOLDEN_BYTES = [path.read_bytes() for path in GOLDEN_FILES]

OPTIONS = (
    b"OPTIONS sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-1-0\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag001\r\n"
    b"To: <sip:service@127.0.0.1:5060>\r\n"
    b"Call-ID: 1-1@127.0.0.1\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def request(data: bytes = OPTIONS) -> SipRequest:
    message = parse(data)
    assert isinstance(message, SipRequest)
    return message


def without_line(data: bytes, prefix: bytes) -> bytes:
    return b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(prefix))


# --- golden round trips ------------------------------------------------------


def test_golden_files_exist_and_keep_crlf_line_endings() -> None:
    assert len(GOLDEN_FILES) >= 8
    for path, data in zip(GOLDEN_FILES, GOLDEN_BYTES, strict=True):
        assert b"\r\n\r\n" in data, f"{path.name}: CRLF lost (mark *.sip -text in .gitattributes)"
        assert data.count(b"\n") == data.count(b"\r\n"), f"{path.name}: bare LF"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_message_round_trips_byte_for_byte(path: Path) -> None:
    data = path.read_bytes()
    assert serialize(parse(data)) == data


def test_sipp_invite_keeps_its_padded_content_length_and_sdp_body() -> None:
    message = request((GOLDEN / "sipp_uac_invite.sip").read_bytes())
    assert message.method == "INVITE"
    assert message.uri.startswith("sip:service@127.0.0.1:")
    assert message.headers.get("Content-Length") == "129"
    assert message.headers.get("Content-Type") == "application/sdp"
    assert len(message.body) == 129
    assert message.body.startswith(b"v=0\r\n")


def test_baresip_invite_exposes_empty_supported_and_allow_list() -> None:
    message = request((GOLDEN / "baresip_invite.sip").read_bytes())
    # An empty list header is present but has no elements (RFC 3261 §20.37).
    assert "Supported" in message.headers
    assert message.headers.get_all("Supported") == []
    assert message.headers.field_values("Supported") == [""]
    assert message.headers.get_all("Allow")[:3] == ["INVITE", "ACK", "BYE"]
    assert message.headers.get("Via") == (
        "SIP/2.0/UDP 127.0.0.1:15091;branch=z9hG4bKa46530da080a851e;rport"
    )


def test_response_fields_and_comma_separated_vias_in_order() -> None:
    message = parse((GOLDEN / "proxied_200_ok_multi_via.sip").read_bytes())
    assert isinstance(message, SipResponse)
    assert (message.status, message.reason) == (200, "OK")
    vias = message.headers.get_all("Via")
    assert [via.split(";")[0] for via in vias] == [
        "SIP/2.0/UDP 10.0.0.1:5060",
        "SIP/2.0/TCP 10.0.0.2:5060",
        "SIP/2.0/UDP pc33.example.com",
    ]
    assert message.headers.get_all("Record-Route") == [
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
    ]
    # From is not a list header: the comma in the quoted display name is data.
    assert message.headers.get_all("From") == ['"Doe, John" <sip:john@example.com>;tag=1928301774']


# --- header lookups and compact forms (RFC 3261 §7.3.3) ----------------------


def test_compact_forms_are_found_by_their_long_names() -> None:
    message = request((GOLDEN / "compact_forms_invite.sip").read_bytes())
    headers = message.headers
    assert headers.get("Call-ID") == "3848276298220188511@trunk.example.net"
    assert headers.get("via") == headers.get("v")
    assert headers.get("From") == "<sip:+15551230000@trunk.example.net>;tag=9fxced76sl"
    assert headers.get("To") == "<sip:support@hotline.example.com>"
    assert headers.get("Contact") == "<sip:+15551230000@198.51.100.7:5060>"
    assert headers.get_all("Supported") == ["timer", "100rel"]
    assert headers.get("Subject") == "Support call"
    assert headers.get("Content-Type") == "application/sdp"
    assert int(headers.get("Content-Length") or "") == len(message.body)
    # The peer's spelling is kept for the round trip.
    assert [name for name, _ in headers][:4] == ["v", "f", "t", "i"]


@pytest.mark.parametrize(("short", "long"), sorted(COMPACT_FORMS.items()))
def test_every_compact_form_equals_its_long_form(short: str, long: str) -> None:
    headers = Headers.from_pairs([(short, "x")])
    assert headers.get(long) == "x"
    assert headers.get(long.upper()) == "x"
    assert long in headers


def test_list_splitting_respects_quotes_and_angle_brackets() -> None:
    headers = Headers.from_pairs(
        [
            ("Contact", '"Doe, \\"J\\", Jr" <sip:j@x;a=1,2>;q=0.5, <sip:k@y>'),
            ("WWW-Authenticate", 'Digest realm="a", nonce="b"'),
        ]
    )
    assert headers.get_all("m") == ['"Doe, \\"J\\", Jr" <sip:j@x;a=1,2>;q=0.5', "<sip:k@y>"]
    assert headers.get_all("WWW-Authenticate") == ['Digest realm="a", nonce="b"']


def test_headers_edits_are_pure_and_keep_order() -> None:
    headers = Headers.from_pairs([("Via", "a"), ("l", "5"), ("Via", "b")])
    replaced = headers.with_replaced("Content-Length", "0")
    assert list(replaced) == [("Via", "a"), ("Content-Length", "0"), ("Via", "b")]
    assert list(headers.without("v")) == [("l", "5")]
    assert list(headers) == [("Via", "a"), ("l", "5"), ("Via", "b")]
    with pytest.raises(LocalSipError, match="CR or LF"):
        headers.with_added("Subject", "x\r\nInjected: 1")


def test_folded_header_line_is_unfolded_to_one_space() -> None:
    data = OPTIONS.replace(
        b"Max-Forwards: 70\r\n", b"Subject: I know you're there,\r\n   pick up\r\n"
    )
    assert request(data).headers.get("Subject") == "I know you're there, pick up"


def test_leading_crlf_keepalives_before_start_line_are_ignored() -> None:
    assert request(b"\r\n\r\n" + OPTIONS).method == "OPTIONS"


def test_body_past_content_length_is_discarded_per_rfc3261_18_3() -> None:
    assert request(OPTIONS + b"trailing junk").body == b""


# --- malformed input: each says what is wrong --------------------------------

MALFORMED: list[tuple[str, bytes, str, int]] = [
    ("empty", b"", "empty message", 400),
    ("only keep-alives", b"\r\n\r\n", "empty message", 400),
    ("no blank line", OPTIONS[:-2], "no empty line after the header fields", 400),
    ("LF line endings", OPTIONS.replace(b"\r\n", b"\n"), "CRLF", 400),
    ("bare LF inside", OPTIONS.replace(b"70\r\n", b"70\nX: 1\r\n"), "bare CR or LF", 400),
    ("garbage start", b"HELLO\r\n\r\n", "neither a Request-Line nor a Status-Line", 400),
    ("two-word start", OPTIONS.replace(b" SIP/2.0\r\n", b"\r\n", 1), "neither", 400),
    ("method not token", OPTIONS.replace(b"OPTIONS sip", b"OPT@ONS sip", 1), "bad method", 400),
    ("uri not absolute", OPTIONS.replace(b"sip:service@127.0.0.1:5060", b"service"), "URI", 400),
    ("bad version", OPTIONS.replace(b" SIP/2.0\r\n", b" HTTP/1.1\r\n", 1), "bad SIP version", 400),
    ("SIP/3.0", OPTIONS.replace(b" SIP/2.0\r\n", b" SIP/3.0\r\n", 1), "not supported", 505),
    ("status 99", b"SIP/2.0 99 Odd\r\n\r\n", "status code must be 100..699", 400),
    ("no colon", OPTIONS.replace(b"Max-Forwards: 70", b"Max-Forwards 70"), "line 3", 400),
    ("bad name", OPTIONS.replace(b"Max-Forwards:", b"Max Forwards:"), "invalid header", 400),
    ("fold first", OPTIONS.replace(b"SIP/2.0\r\nVia", b"SIP/2.0\r\n Via"), "continuation", 400),
    ("no Via", without_line(OPTIONS, b"Via:"), "missing mandatory header field Via", 400),
    ("no From", without_line(OPTIONS, b"From:"), "missing mandatory header field From", 400),
    ("no To", without_line(OPTIONS, b"To:"), "missing mandatory header field To", 400),
    ("no Call-ID", without_line(OPTIONS, b"Call-ID:"), "missing mandatory header field Call", 400),
    ("no CSeq", without_line(OPTIONS, b"CSeq:"), "missing mandatory header field CSeq", 400),
    ("two To", OPTIONS.replace(b"To:", b"To: <sip:x@y>\r\nTo:"), "To appears 2 times", 400),
    ("CSeq no method", OPTIONS.replace(b"CSeq: 1 OPTIONS", b"CSeq: 1"), "bad CSeq", 400),
    ("CSeq 2**31", OPTIONS.replace(b"CSeq: 1 ", b"CSeq: 2147483648 "), "below 2**31", 400),
    (
        "CSeq mismatch",
        OPTIONS.replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE"),
        "does not match",
        400,
    ),
    ("length > body", OPTIONS.replace(b"Length: 0", b"Length: 10"), "body has only 0", 400),
    ("length text", OPTIONS.replace(b"Length: 0", b"Length: zero"), "bad Content-Length", 400),
    ("length huge", OPTIONS.replace(b"Length: 0", b"Length: " + b"9" * 5000), "Content-L", 400),
    ("two lengths", OPTIONS.replace(b"Length: 0", b"Length: 0\r\nl: 3"), "conflicting", 400),
    ("latin-1 header", OPTIONS.replace(b"sipp <", b"J\xf6rg <"), "not valid UTF-8 at byte", 400),
]


@pytest.mark.parametrize(
    ("data", "message", "status"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_input_raises_remote_error_saying_what_is_wrong(
    data: bytes, message: str, status: int
) -> None:
    with pytest.raises(RemoteSipError) as caught:
        parse(data)
    assert message in caught.value.reason
    assert caught.value.status_hint == status
    assert "\r" not in caught.value.reason and "\n" not in caught.value.reason


def test_non_utf8_body_is_fine_because_bodies_are_bytes() -> None:
    data = OPTIONS.replace(b"Length: 0", b"Length: 2") + b"\xff\xfe"
    assert request(data).body == b"\xff\xfe"


# --- responses (RFC 3261 §8.2.6) ---------------------------------------------


def test_build_response_copies_vias_from_to_call_id_cseq_and_adds_to_tag() -> None:
    invite = request((GOLDEN / "compact_forms_invite.sip").read_bytes())
    invite = SipRequest(
        invite.method,
        invite.uri,
        invite.headers.with_added("Via", "SIP/2.0/TCP b.example;branch=z9hG4bK2").with_added(
            "Timestamp", "54"
        ),
        invite.body,
    )
    response = build_response(invite, 486, to_tag="abc", extra_headers=[("Retry-After", "60")])
    assert (response.status, response.reason) == (486, "Busy Here")
    assert list(response.headers) == [
        ("Via", "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKnashds8"),
        ("Via", "SIP/2.0/TCP b.example;branch=z9hG4bK2"),
        ("From", "<sip:+15551230000@trunk.example.net>;tag=9fxced76sl"),
        ("To", "<sip:support@hotline.example.com>;tag=abc"),
        ("Call-ID", "3848276298220188511@trunk.example.net"),
        ("CSeq", "1 INVITE"),
        ("Timestamp", "54"),
        ("Retry-After", "60"),
        ("Content-Length", "0"),
    ]
    assert serialize(parse(serialize(response))) == serialize(response)


def test_build_response_keeps_an_existing_to_tag_and_skips_it_for_100() -> None:
    tagged = request(OPTIONS.replace(b"5060>\r\n", b"5060>;tag=old\r\n", 1))
    assert build_response(tagged, 200, to_tag="new").headers.get("To") == (
        "<sip:service@127.0.0.1:5060>;tag=old"
    )
    assert build_response(request(), 100).headers.get("To") == "<sip:service@127.0.0.1:5060>"
    assert build_response(request(), 200, "Fine", to_tag="t").reason == "Fine"


@pytest.mark.parametrize(
    ("status", "to_tag", "method", "message"),
    [
        (200, None, "OPTIONS", "needs a To tag"),
        (700, "t", "OPTIONS", "within 100..699"),
        (200, "t", "ACK", "ACK is never answered"),
    ],
)
def test_build_response_misuse_is_our_bug(
    status: int, to_tag: str | None, method: str, message: str
) -> None:
    ack = request(OPTIONS.replace(b"OPTIONS", method.encode()))
    with pytest.raises(LocalSipError, match=message):
        build_response(ack, status, to_tag=to_tag)


def test_stateless_to_tag_is_stable_per_request_and_differs_between_requests() -> None:
    first = request()
    other = request(OPTIONS.replace(b"Call-ID: 1-1", b"Call-ID: 2-1"))
    assert stateless_to_tag(first.headers) == stateless_to_tag(request().headers)
    assert stateless_to_tag(first.headers) != stateless_to_tag(other.headers)


def test_response_to_malformed_request_answers_its_via_with_the_reason() -> None:
    data = without_line(OPTIONS, b"Call-ID:")
    with pytest.raises(RemoteSipError) as caught:
        parse(data)
    response = response_to_malformed(data, caught.value)
    assert response is not None
    assert response.status == 400
    assert response.reason == "missing mandatory header field Call-ID (RFC 3261 §8.1.1)"
    assert response.headers.get("Via") == "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-1-0"
    assert (response.headers.get("To") or "").startswith("<sip:service@127.0.0.1:5060>;tag=")
    assert response.headers.get("Content-Length") == "0"


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\xffgarbage",
        without_line(OPTIONS, b"Via:").replace(b"Call-ID", b"X-Call"),
        OPTIONS.replace(b"OPTIONS", b"ACK").replace(b"CSeq: 1 ACK", b"CSeq: x"),
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\rX: y\r\n\r\n",
    ],
    ids=["garbage", "no Via", "ACK", "response", "CR in Via"],
)
def test_response_to_malformed_stays_silent_where_no_answer_is_allowed(data: bytes) -> None:
    assert response_to_malformed(data, RemoteSipError("bad")) is None


# --- stream framing (RFC 3261 §18.3) -----------------------------------------


def test_framer_returns_nothing_until_a_message_is_complete() -> None:
    framer = StreamFramer()
    invite = GOLDEN_BYTES[0]
    assert framer.feed(invite[:-1]) == []
    assert framer.buffered == len(invite) - 1
    assert framer.feed(invite[-1:]) == [invite]
    assert framer.buffered == 0


def test_framer_reads_compact_content_length() -> None:
    compact = (GOLDEN / "compact_forms_invite.sip").read_bytes()
    assert StreamFramer().feed(compact + compact) == [compact, compact]


def test_framer_requires_content_length_on_streams() -> None:
    with pytest.raises(RemoteSipError, match="Content-Length is missing"):
        StreamFramer().feed(without_line(OPTIONS, b"Content-Length"))


def test_framer_bounds_memory_with_513() -> None:
    framer = StreamFramer(max_head_bytes=64, max_body_bytes=10)
    with pytest.raises(RemoteSipError, match="exceeds our limit of 64") as caught:
        framer.feed(b"X" * 65)
    assert caught.value.status_hint == 513
    with pytest.raises(RemoteSipError, match="body of 11 bytes"):
        StreamFramer(max_body_bytes=10).feed(OPTIONS.replace(b"Length: 0", b"Length: 11"))


def test_framer_error_behind_good_message_surfaces_on_next_feed() -> None:
    framer = StreamFramer()
    bad = without_line(OPTIONS, b"Content-Length")
    assert framer.feed(OPTIONS + bad) == [OPTIONS]
    with pytest.raises(RemoteSipError, match="Content-Length is missing"):
        framer.feed(b"")


@given(
    picks=st.lists(st.integers(0, len(GOLDEN_BYTES) - 1), min_size=1, max_size=6),
    keepalives=st.lists(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"]), min_size=7, max_size=7),
    cuts=st.lists(st.integers(0, 4000), max_size=12),
)
def test_framer_recovers_messages_however_the_stream_is_cut(
    picks: list[int], keepalives: list[bytes], cuts: list[int]
) -> None:
    messages = [GOLDEN_BYTES[i] for i in picks]
    stream = b"".join(ka + message for ka, message in zip(keepalives, messages, strict=False))
    stream += keepalives[-1]
    bounds = sorted({0, len(stream), *(cut % (len(stream) + 1) for cut in cuts)})
    framer = StreamFramer()
    framed: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        framed += framer.feed(stream[start:end])
    assert framed == messages
    assert [serialize(parse(frame)) for frame in framed] == messages


# --- robustness: whatever arrives, only RemoteSipError comes out -------------


@st.composite
def damaged_messages(draw: st.DrawFn) -> bytes:
    """A golden message with one slice replaced by arbitrary bytes."""
    data = draw(st.sampled_from(GOLDEN_BYTES))
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 40)))
    return data[:start] + draw(st.binary(max_size=20)) + data[end:]


@given(data=st.binary(max_size=300) | damaged_messages())
def test_any_bytes_parse_or_raise_remote_error_and_the_error_answer_is_sane(data: bytes) -> None:
    try:
        message = parse(data)
    except RemoteSipError as exc:
        response = response_to_malformed(data, exc)
        if response is not None:
            assert b"\r\n\r\n" in serialize(response)
    else:
        assert serialize(message).endswith(message.body)
