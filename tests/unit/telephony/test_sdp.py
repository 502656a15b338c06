"""SDP: the golden captures' bodies, offer/answer choices, hold, rejection, writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.telephony.sdp import (
    AudioChoice,
    Connection,
    Origin,
    RtpMap,
    SessionDescription,
    build_answer,
    build_offer,
    build_sdp,
    negotiate_audio,
    parse_sdp,
)
from hotline.telephony.sip import LocalSipError, RemoteSipError, parse

GOLDEN = Path(__file__).parent / "golden"


def golden_body(name: str) -> bytes:
    return parse((GOLDEN / name).read_bytes()).body


def sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


# RFC 3264 §8.4: the RFC 2543 hold address (a connection address, not a bind).
HOLD_ADDRESS = "0.0.0.0"  # noqa: S104
HEAD = ("v=0", "o=- 1 1 IN IP4 192.0.2.7", "s=-", "t=0 0")


def offer(*lines: str, connection: str = "c=IN IP4 192.0.2.7") -> SessionDescription:
    return parse_sdp(sdp(*HEAD[:3], connection, HEAD[3], *lines))


# --- parsing the golden bodies ------------------------------------------------------


def test_baresip_invite_sdp() -> None:
    session = parse_sdp(golden_body("baresip_invite.sip"))
    assert session.origin == Origin("-", 2701772487, 181077421, "IN", "IP4", "192.0.2.2")
    assert session.session_name == "-"
    assert session.connection == Connection("IN", "IP4", "192.0.2.2")
    assert session.attributes == (("tool", "baresip 1.0.0"),)
    (audio,) = session.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio",
        21192,
        "RTP/AVP",
        ("0", "8", "101"),
    )
    assert audio.connection is None
    assert audio.rtpmap == {
        0: RtpMap("PCMU", 8000),
        8: RtpMap("PCMA", 8000),
        101: RtpMap("telephone-event", 8000),
    }
    assert audio.fmtp == {101: "0-15"}
    assert (audio.direction, audio.ptime) == ("sendrecv", 20)
    assert ("ssrc", "913033407 cname:sip:alice@127.0.0.1:15090") in audio.attributes
    assert ("rtcp-rsize", None) in audio.attributes


def test_baresip_offer_negotiates_pcmu_with_dtmf() -> None:
    choice = negotiate_audio(parse_sdp(golden_body("baresip_invite.sip")))
    assert choice == AudioChoice(
        codec=0,
        payload_type=0,
        dtmf_payload_type=101,
        host="192.0.2.2",
        port=21192,
        direction="sendrecv",
        ptime=20,
        media_index=0,
    )
    assert (choice.encoding, choice.send_allowed, choice.receive_allowed) == ("PCMU", True, True)


@pytest.mark.parametrize(
    "name", ["sipp_uac_invite.sip", "sipp_uas_200_ok_sdp.sip", "compact_forms_invite.sip"]
)
def test_sipp_and_trunk_bodies_negotiate_pcmu_without_dtmf(name: str) -> None:
    choice = negotiate_audio(parse_sdp(golden_body(name)))
    assert (choice.codec, choice.payload_type, choice.dtmf_payload_type) == (0, 0, None)
    assert choice.direction == "sendrecv"
    assert choice.ptime is None


def test_sipp_bodies_address() -> None:
    choice = negotiate_audio(parse_sdp(golden_body("sipp_uac_invite.sip")))
    assert (choice.host, choice.port) == ("127.0.0.1", 6000)
    trunk = negotiate_audio(parse_sdp(golden_body("compact_forms_invite.sip")))
    assert (trunk.host, trunk.port) == ("192.0.2.4", 3456)


def test_baresip_200_to_options_advertises_port_9() -> None:
    # baresip answers OPTIONS with m=audio 9 (the discard port): a capability, not a stream.
    choice = negotiate_audio(parse_sdp(golden_body("baresip_options_200_ok.sip")))
    assert (choice.port, choice.codec) == (9, 0)


# --- codec choice (RFC 3264 §6.1) ----------------------------------------------------


def test_offerers_order_decides_among_codecs_we_take() -> None:
    assert negotiate_audio(offer("m=audio 4000 RTP/AVP 8 0")).codec == 8
    assert negotiate_audio(offer("m=audio 4000 RTP/AVP 18 0 8")).codec == 0
    golden = parse_sdp(golden_body("baresip_invite.sip"))
    assert negotiate_audio(golden, prefer=(8,)).codec == 8


def test_g711_by_rtpmap_name_on_a_dynamic_type() -> None:
    choice = negotiate_audio(
        offer(
            "m=audio 4000 RTP/AVP 96 97",
            "a=rtpmap:96 pcma/8000/1",
            "a=rtpmap:97 TELEPHONE-EVENT/8000",
        )
    )
    assert (choice.codec, choice.payload_type, choice.dtmf_payload_type) == (8, 96, 97)
    assert choice.encoding == "PCMA"


def test_rtpmap_wins_over_the_static_table() -> None:
    with pytest.raises(RemoteSipError) as caught:
        negotiate_audio(offer("m=audio 4000 RTP/AVP 0", "a=rtpmap:0 opus/48000/2"))
    assert caught.value.status_hint == 488


def test_telephone_event_at_another_clock_rate_is_not_our_dtmf() -> None:
    choice = negotiate_audio(
        offer("m=audio 4000 RTP/AVP 0 100", "a=rtpmap:100 telephone-event/16000")
    )
    assert choice.dtmf_payload_type is None


NO_MATCH = [
    ("only G.729", ("m=audio 4000 RTP/AVP 18",), "no common codec: offered 18"),
    ("only video", ("m=video 5000 RTP/AVP 96", "a=rtpmap:96 H264/90000"), "no audio stream"),
    ("audio rejected", ("m=audio 0 RTP/AVP 0",), "no audio stream"),
    ("SRTP only", ("m=audio 4000 RTP/SAVP 0",), "SRTP is not supported"),
    ("no m= lines", (), "no audio stream"),
]


@pytest.mark.parametrize(
    ("lines", "message"), [m[1:] for m in NO_MATCH], ids=[m[0] for m in NO_MATCH]
)
def test_nothing_in_common_is_488(lines: tuple[str, ...], message: str) -> None:
    with pytest.raises(RemoteSipError) as caught:
        negotiate_audio(offer(*lines))
    assert caught.value.status_hint == 488
    assert message in caught.value.reason
    assert caught.value.reason.startswith("no common codec")


def test_port_zero_stream_is_skipped_for_the_next_audio_stream() -> None:
    choice = negotiate_audio(
        offer(
            "m=audio 0 RTP/AVP 0",
            "m=video 5000 RTP/AVP 96",
            "m=audio 4002 RTP/AVP 8",
            "c=IN IP4 198.51.100.3",
        )
    )
    assert (choice.media_index, choice.port, choice.codec, choice.host) == (
        2,
        4002,
        8,
        "198.51.100.3",
    )


# --- directions and hold (RFC 3264 §6.1, §8.4) ----------------------------------------


@pytest.mark.parametrize(
    ("attribute", "ours", "send", "receive"),
    [
        ("a=sendrecv", "sendrecv", True, True),
        ("a=sendonly", "recvonly", False, True),
        ("a=recvonly", "sendonly", True, False),
        ("a=inactive", "inactive", False, False),
    ],
)
def test_direction_is_mirrored(attribute: str, ours: str, send: bool, receive: bool) -> None:
    choice = negotiate_audio(offer("m=audio 4000 RTP/AVP 0", attribute))
    assert (choice.direction, choice.send_allowed, choice.receive_allowed) == (ours, send, receive)


@pytest.mark.parametrize(
    ("attribute", "ours"),
    [("a=sendrecv", "recvonly"), ("a=sendonly", "recvonly"), ("a=recvonly", "inactive")],
)
def test_rfc2543_hold_address_means_we_do_not_send(attribute: str, ours: str) -> None:
    held = offer("m=audio 4000 RTP/AVP 0", attribute, connection=f"c=IN IP4 {HOLD_ADDRESS}")
    choice = negotiate_audio(held)
    assert choice.direction == ours
    assert not choice.send_allowed
    assert choice.host == HOLD_ADDRESS


def test_session_level_direction_applies_unless_the_media_says_otherwise() -> None:
    session = offer("a=sendonly", "m=audio 4000 RTP/AVP 0")
    assert session.direction == "sendonly"
    assert negotiate_audio(session).direction == "recvonly"
    overridden = offer("a=sendonly", "m=audio 4000 RTP/AVP 0", "a=sendrecv")
    assert negotiate_audio(overridden).direction == "sendrecv"


def test_media_connection_wins_over_session_connection_and_one_is_needed() -> None:
    choice = negotiate_audio(offer("m=audio 4000 RTP/AVP 0", "c=IN IP4 203.0.113.5/127"))
    assert choice.host == "203.0.113.5"
    bare = parse_sdp(sdp(*HEAD, "m=audio 4000 RTP/AVP 0"))
    with pytest.raises(RemoteSipError) as caught:
        negotiate_audio(bare)
    assert caught.value.status_hint == 400
    assert "no c= line" in caught.value.reason


# --- malformed bodies ---------------------------------------------------------------

MALFORMED = [
    ("empty", b"", "must start with v=0"),
    ("no v=", sdp(*HEAD[1:]), "must start with v=0"),
    ("v=1", sdp("v=1", *HEAD[1:]), "must start with v=0"),
    ("no o=", sdp("v=0", "s=-", "t=0 0"), "no o= line"),
    ("short o=", sdp("v=0", "o=- 1 1 IN IP4", "s=-"), "bad o= line"),
    ("o= not numeric", sdp("v=0", "o=- x 1 IN IP4 h", "s=-"), "bad o= line"),
    ("not type=value", sdp(*HEAD, "garbage"), "is not <type>=<value>"),
    ("space before =", sdp(*HEAD, "m =audio 1 RTP/AVP 0"), "is not <type>=<value>"),
    ("bad c=", sdp(*HEAD, "c=IN IP4"), "bad c= line"),
    ("short m=", sdp(*HEAD, "m=audio 4000 RTP/AVP"), "bad m= line"),
    ("port text", sdp(*HEAD, "m=audio port RTP/AVP 0"), "bad port"),
    ("port > 65535", sdp(*HEAD, "m=audio 70000 RTP/AVP 0"), "bad port"),
    ("bad port count", sdp(*HEAD, "m=audio 4000/x RTP/AVP 0"), "bad port"),
    ("bad rtpmap", sdp(*HEAD, "m=audio 4000 RTP/AVP 0", "a=rtpmap:0 PCMU"), "bad a=rtpmap"),
    ("rtpmap pt 200", sdp(*HEAD, "m=audio 1 RTP/AVP 0", "a=rtpmap:200 X/8000"), "bad a=rtpmap"),
    ("bad ptime", sdp(*HEAD, "m=audio 4000 RTP/AVP 0", "a=ptime:soon"), "bad a=ptime"),
    ("latin-1", "v=0\r\no=J\xf6rg 1 1 IN IP4 h\r\n".encode("latin-1"), "not UTF-8"),
]


@pytest.mark.parametrize(
    ("body", "message"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_sdp_is_400(body: bytes, message: str) -> None:
    with pytest.raises(RemoteSipError) as caught:
        parse_sdp(body)
    assert caught.value.status_hint == 400
    assert message in caught.value.reason


def test_lone_lf_line_ends_and_unknown_lines_are_accepted() -> None:
    body = (
        b"v=0\no=- 1 2 IN IP6 2001:db8::7\ns=call\ni=info\nb=AS:64\nc=IN IP6 2001:db8::7\nt=0 0\n"
    )
    body += b"m=audio 4000/2 RTP/AVP 0\nb=TIAS:64000\na=ptime:30.0\n\n"
    session = parse_sdp(body)
    assert session.origin.session_version == 2
    assert session.media[0].port_count == 2
    choice = negotiate_audio(session)
    assert (choice.host, choice.ptime) == ("2001:db8::7", 30)


# --- writing --------------------------------------------------------------------------


def test_build_sdp_answer_bytes() -> None:
    body = build_sdp(
        session_id=42,
        version=1,
        host="192.0.2.1",
        port=30000,
        codec=8,
        dtmf_payload_type=101,
        direction="recvonly",
    )
    assert body == (
        b"v=0\r\n"
        b"o=- 42 1 IN IP4 192.0.2.1\r\n"
        b"s=-\r\n"
        b"c=IN IP4 192.0.2.1\r\n"
        b"t=0 0\r\n"
        b"m=audio 30000 RTP/AVP 8 101\r\n"
        b"a=rtpmap:8 PCMA/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\n"
        b"a=fmtp:101 0-16\r\n"
        b"a=ptime:20\r\n"
        b"a=recvonly\r\n"
    )


def test_build_sdp_without_dtmf_and_on_ipv6() -> None:
    body = build_sdp(
        session_id=1, version=2, host="2001:db8::1", port=4000, codec=0, dtmf_payload_type=None
    )
    session = parse_sdp(body)
    assert session.connection == Connection("IN", "IP6", "2001:db8::1")
    assert session.media[0].formats == ("0",)
    assert b"telephone-event" not in body


def test_build_sdp_mistakes_are_ours() -> None:
    with pytest.raises(LocalSipError, match="codec must be"):
        build_sdp(session_id=1, version=1, host="h", port=1, codec=18, dtmf_payload_type=None)
    with pytest.raises(LocalSipError, match="direction must be"):
        build_sdp(
            session_id=1,
            version=1,
            host="h",
            port=1,
            codec=0,
            dtmf_payload_type=None,
            direction="hold",
        )


def test_our_offer_is_what_baresip_offers_and_negotiates_back() -> None:
    body = build_offer(session_id=7, version=1, host="192.0.2.1", port=30002)
    session = parse_sdp(body)
    audio = session.media[0]
    assert audio.formats == ("0", "8", "101")
    assert audio.rtpmap[101] == RtpMap("telephone-event", 8000)
    assert audio.fmtp == {101: "0-16"}
    choice = negotiate_audio(session)
    assert (choice.codec, choice.dtmf_payload_type, choice.host, choice.port) == (
        0,
        101,
        "192.0.2.1",
        30002,
    )


def test_answer_round_trip_from_the_callers_side() -> None:
    # The caller offers (baresip); we answer; the caller reads our answer.
    choice = negotiate_audio(parse_sdp(golden_body("baresip_invite.sip")))
    answer = parse_sdp(
        build_sdp(
            session_id=9,
            version=1,
            host="192.0.2.1",
            port=30004,
            codec=choice.codec,
            dtmf_payload_type=choice.dtmf_payload_type,
            direction=choice.direction,
        )
    )
    seen_by_caller = negotiate_audio(answer)
    assert (seen_by_caller.codec, seen_by_caller.dtmf_payload_type) == (0, 101)
    assert (seen_by_caller.host, seen_by_caller.port) == ("192.0.2.1", 30004)


def test_build_answer_keeps_every_offered_m_line() -> None:
    session = offer(
        "m=video 5000 RTP/AVP 96",
        "a=rtpmap:96 H264/90000",
        "m=audio 4000 RTP/AVP 96 101",
        "a=rtpmap:96 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=sendonly",
        "a=ptime:30",
        "m=audio 4002 RTP/AVP 0",
    )
    choice = negotiate_audio(session)
    assert (choice.media_index, choice.payload_type, choice.codec) == (1, 96, 0)
    answer = parse_sdp(
        build_answer(session, choice, session_id=5, version=1, host="192.0.2.1", port=31000)
    )
    assert [(m.media, m.port) for m in answer.media] == [
        ("video", 0),
        ("audio", 31000),
        ("audio", 0),
    ]
    audio = answer.media[1]
    assert audio.formats == ("96", "101")
    assert audio.rtpmap[96] == RtpMap("PCMU", 8000)
    assert (audio.direction, audio.ptime) == ("recvonly", 30)
