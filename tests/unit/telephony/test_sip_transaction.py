"""SIP transactions (RFC 3261 §17, RFC 6026) told in virtual time.

Each test feeds a :class:`TransactionLayer` messages and times and reads what
it sends and reports, as a timeline of ``(time, what)``. The requests and
responses come from the golden captures (SIPp, baresip) where they fit.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.telephony.sip import (
    AckTimedOut,
    Address,
    CancelReceived,
    ClientKey,
    Headers,
    LocalSipError,
    RequestReceived,
    ResponseReceived,
    ServerKey,
    SipMessage,
    SipRequest,
    SipResponse,
    TransactionLayer,
    TransactionTimedOut,
    Transmit,
    TuEvent,
    build_cancel,
    build_response,
    make_branch,
    parse,
    serialize,
)

GOLDEN = Path(__file__).parent / "golden"
UAC: Address = ("192.0.2.10", 5060)
UAS: Address = ("192.0.2.20", 5060)
SIPP: Address = ("127.0.0.1", 5060)  # where the golden SIPp INVITE says it is


def golden(name: str) -> SipMessage:
    return parse((GOLDEN / name).read_bytes())


def golden_request(name: str) -> SipRequest:
    message = golden(name)
    assert isinstance(message, SipRequest)
    return message


def golden_response(name: str) -> SipResponse:
    message = golden(name)
    assert isinstance(message, SipResponse)
    return message


def request(
    method: str = "INVITE",
    *,
    branch: str = "z9hG4bK-tx-1",
    sent_by: str = "192.0.2.10:5060",
    call_id: str = "call-1@192.0.2.10",
    cseq: int = 1,
    cseq_method: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> SipRequest:
    headers = Headers.from_pairs(
        [
            ("Via", f"SIP/2.0/UDP {sent_by};branch={branch}"),
            *extra,
            ("Max-Forwards", "70"),
            ("From", "<sip:caller@example.com>;tag=from-1"),
            ("To", "<sip:support@hotline.example.com>"),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} {cseq_method or method}"),
            ("Content-Length", "0"),
        ]
    )
    return SipRequest(method, "sip:support@hotline.example.com", headers)


def ack_for_2xx(invite: SipRequest, ok: SipResponse, branch: str = "z9hG4bK-ack-2xx") -> SipRequest:
    """The TU's ACK to a 2xx (§13.2.2.4): a new branch, the 2xx's To."""
    cseq_number = (invite.headers.get("CSeq") or "").split()[0]
    headers = Headers.from_pairs(
        [
            ("Via", f"SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
            ("Max-Forwards", "70"),
            ("From", invite.headers.get("From") or ""),
            ("To", ok.headers.get("To") or ""),
            ("Call-ID", invite.headers.get("Call-ID") or ""),
            ("CSeq", f"{cseq_number} ACK"),
            ("Content-Length", "0"),
        ]
    )
    return SipRequest("ACK", invite.uri, headers)


def start_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode()


def sent(layer: TransactionLayer) -> list[str]:
    return [start_line(t.data) for t in layer.transmits()]


def run_timers(layer: TransactionLayer, until: float) -> list[tuple[float, str | TuEvent]]:
    """Fire every timer up to ``until``; return what was sent (start lines) and reported."""
    log: list[tuple[float, str | TuEvent]] = []
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        layer.handle_timer(deadline)
        log += [(deadline, start_line(t.data)) for t in layer.transmits()]
        log += [(deadline, event) for event in layer.events()]
    return log


def times_of(log: list[tuple[float, str | TuEvent]], what: str) -> list[float]:
    return [time for time, item in log if item == what]


def server_with_invite(
    invite: SipRequest | None = None, transport: str = "udp"
) -> tuple[TransactionLayer, SipRequest, ServerKey]:
    layer = TransactionLayer()
    invite = invite or golden_request("sipp_uac_invite.sip")
    layer.receive(invite, SIPP, transport, 0.0)
    [event] = layer.events()
    assert isinstance(event, RequestReceived)
    assert sent(layer) == ["SIP/2.0 100 Trying"]
    return layer, event.request, event.key


# --- keys and helpers --------------------------------------------------------


def test_make_branch_prefixes_the_magic_cookie_and_refuses_non_tokens() -> None:
    assert make_branch("a1b2") == "z9hG4bKa1b2"
    with pytest.raises(LocalSipError):
        make_branch("two words")


def test_build_cancel_copies_what_section_9_1_asks() -> None:
    invite = request(branch="z9hG4bK-c", extra=(("Route", "<sip:p1.example.com;lr>"),))
    invite = SipRequest(
        invite.method,
        invite.uri,
        invite.headers.with_added("Via", "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-below"),
    )
    cancel = build_cancel(invite)
    assert cancel.method == "CANCEL"
    assert cancel.uri == invite.uri
    assert cancel.headers.get_all("Via") == ["SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-c"]
    for name in ("From", "To", "Call-ID", "Route"):
        assert cancel.headers.get(name) == invite.headers.get(name)
    assert cancel.headers.get("CSeq") == "1 CANCEL"


# --- client INVITE (Figure 5) ------------------------------------------------


def test_client_invite_over_udp_retransmits_with_timer_a_doubling_until_timer_b() -> None:
    layer = TransactionLayer()
    key = layer.request(request(), UAS, "udp", 0.0)
    assert key == ClientKey("z9hG4bK-tx-1", "INVITE")
    assert layer.transmits() == [Transmit(serialize(request()), UAS, "udp")]
    assert layer.next_deadline() == 0.5
    log = run_timers(layer, 100.0)
    # RFC 3261 §17.1.1.2: Timer A doubles without a cap (unlike E and G), so
    # 0.5, 1, 2, 4, 8, 16 s between sends; Timer B ends it at 64*T1 = 32 s.
    invite_line = "INVITE sip:support@hotline.example.com SIP/2.0"
    assert times_of(log, invite_line) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert log[-1] == (32.0, TransactionTimedOut(key))
    assert len(layer) == 0
    assert layer.next_deadline() is None


def test_client_invite_acks_a_486_itself_with_the_headers_of_section_17_1_1_3() -> None:
    layer = TransactionLayer()
    route = (("Route", "<sip:p1.example.com;lr>"), ("Route", "<sip:p2.example.com;lr>"))
    invite = request(extra=route)
    invite = SipRequest(
        invite.method,
        invite.uri,
        invite.headers.with_added("Via", "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK-below"),
    )
    key = layer.request(invite, UAS, "udp", 0.0)
    layer.transmits()
    busy = build_response(invite, 486, to_tag="uas-tag")
    layer.receive(busy, UAS, "udp", 0.2)
    assert layer.events() == [ResponseReceived(busy, key)]
    [transmit] = layer.transmits()
    assert transmit.destination == UAS
    ack = parse(transmit.data)
    assert isinstance(ack, SipRequest)
    assert ack.method == "ACK"
    assert ack.uri == invite.uri
    assert ack.headers.get_all("Via") == ["SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-tx-1"]
    assert ack.headers.get_all("Route") == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    assert ack.headers.get("From") == invite.headers.get("From")
    assert ack.headers.get("Call-ID") == invite.headers.get("Call-ID")
    assert ack.headers.get("To") == "<sip:support@hotline.example.com>;tag=uas-tag"
    assert ack.headers.get("CSeq") == "1 ACK"
    assert ack.body == b""


def test_client_invite_absorbs_a_retransmitted_486_by_acking_again_until_timer_d() -> None:
    layer = TransactionLayer()
    invite = request()
    key = layer.request(invite, UAS, "udp", 0.0)
    busy = build_response(invite, 486, to_tag="uas-tag")
    layer.receive(busy, UAS, "udp", 0.2)
    layer.transmits()
    layer.events()
    assert layer.next_deadline() == pytest.approx(32.2)  # Timer D: 32 s over UDP
    layer.receive(busy, UAS, "udp", 1.0)
    assert sent(layer) == ["ACK sip:support@hotline.example.com SIP/2.0"]
    assert layer.events() == []  # the TU saw the 486 once
    assert run_timers(layer, 100.0) == []
    assert len(layer) == 0
    layer.receive(busy, UAS, "udp", 40.0)  # now a stray: dropped
    assert layer.transmits() == [] and layer.events() == []
    assert key == ClientKey("z9hG4bK-tx-1", "INVITE")


def test_client_invite_over_tcp_sends_once_and_ends_at_once_after_a_non_2xx() -> None:
    layer = TransactionLayer()
    invite = request()
    key = layer.request(invite, UAS, "tcp", 0.0)
    assert [t.transport for t in layer.transmits()] == ["tcp"]
    assert layer.next_deadline() == 32.0  # Timer B only: no Timer A over TCP
    layer.receive(build_response(invite, 603, to_tag="t"), UAS, "tcp", 3.0)
    assert sent(layer) == ["ACK sip:support@hotline.example.com SIP/2.0"]
    assert [type(e) for e in layer.events()] == [ResponseReceived]
    assert len(layer) == 0  # Timer D is 0 over TCP
    assert layer.next_deadline() is None
    assert key.method == "INVITE"


@pytest.mark.parametrize("method", ["INVITE", "OPTIONS"])
def test_nothing_is_retransmitted_over_tcp_but_timer_b_and_f_still_fire(method: str) -> None:
    layer = TransactionLayer()
    key = layer.request(request(method), UAS, "tcp", 0.0)
    layer.transmits()
    assert run_timers(layer, 100.0) == [(32.0, TransactionTimedOut(key))]


def test_client_invite_passes_every_2xx_up_for_64_t1_as_rfc_6026_says() -> None:
    layer = TransactionLayer()
    invite = golden_request("sipp_uac_invite.sip")
    key = layer.request(invite, UAS, "udp", 0.0)
    ringing = golden_response("sipp_uas_180_ringing.sip")
    ok = golden_response("sipp_uas_200_ok_sdp.sip")
    layer.receive(ringing, UAS, "udp", 0.1)
    layer.receive(ringing, UAS, "udp", 0.6)  # the UAS re-sent it: not passed up twice
    layer.receive(ok, UAS, "udp", 2.0)
    layer.receive(ok, UAS, "udp", 2.5)  # our ACK was lost: the TU must ACK again
    assert layer.events() == [
        ResponseReceived(ringing, key),
        ResponseReceived(ok, key),
        ResponseReceived(ok, key),
    ]
    assert layer.transmits()[1:] == []  # the layer never ACKs a 2xx
    assert len(layer) == 1  # Accepted
    assert run_timers(layer, 100.0) == []  # 1xx moved it out of Calling: no Timer A
    assert len(layer) == 0  # Timer M at 2 + 32 s
    layer.receive(ok, UAS, "udp", 40.0)
    assert layer.events() == []


def test_client_transactions_are_matched_by_branch_and_cseq_method() -> None:
    layer = TransactionLayer()
    invite = request()
    invite_key = layer.request(invite, UAS, "udp", 0.0)
    cancel_key = layer.request(build_cancel(invite), UAS, "udp", 1.0)
    assert cancel_key == ClientKey(invite_key.branch, "CANCEL")
    assert len(layer) == 2
    layer.transmits()
    cancel_ok = build_response(build_cancel(invite), 200, to_tag="t")
    layer.receive(cancel_ok, UAS, "udp", 1.1)
    assert layer.events() == [ResponseReceived(cancel_ok, cancel_key)]
    other_branch = request(branch="z9hG4bK-someone-else")
    layer.receive(build_response(other_branch, 200, to_tag="t"), UAS, "udp", 1.2)
    assert layer.events() == []
    terminated = build_response(invite, 487, to_tag="t")
    layer.receive(terminated, UAS, "udp", 1.3)
    assert layer.events() == [ResponseReceived(terminated, invite_key)]


# --- client non-INVITE (Figure 6) ---------------------------------------------


def test_client_non_invite_over_udp_caps_timer_e_at_t2_until_timer_f() -> None:
    layer = TransactionLayer()
    options = golden_request("sipp_options.sip")
    key = layer.request(options, UAS, "udp", 0.0)
    layer.transmits()
    log = run_timers(layer, 100.0)
    # §17.1.2.2: 0.5, 1, 2, then T2 = 4 s between sends, Timer F at 32 s.
    expected = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert times_of(log, start_line(serialize(options))) == expected
    assert log[-1] == (32.0, TransactionTimedOut(key))
    assert len(layer) == 0


def test_client_non_invite_retransmits_every_t2_after_a_provisional() -> None:
    layer = TransactionLayer()
    register = golden_request("baresip_register.sip")
    layer.request(register, UAS, "udp", 0.0)
    layer.transmits()
    assert times_of(run_timers(layer, 1.0), start_line(serialize(register))) == [0.5]
    layer.receive(build_response(register, 100), UAS, "udp", 1.0)
    assert [type(e) for e in layer.events()] == [ResponseReceived]
    log = run_timers(layer, 14.0)
    # Timer E keeps its course (next at 1.5), then fires every T2 (§17.1.2.2).
    assert times_of(log, start_line(serialize(register))) == [1.5, 5.5, 9.5, 13.5]
    ok = build_response(register, 200, to_tag="t")
    layer.receive(ok, UAS, "udp", 14.0)
    assert layer.events() == [
        ResponseReceived(ok, ClientKey("z9hG4bK5d684e778c3577d6", "REGISTER"))
    ]
    layer.receive(ok, UAS, "udp", 14.5)  # retransmitted final: absorbed in Completed
    assert layer.events() == []
    assert run_timers(layer, 100.0) == []
    assert len(layer) == 0  # Timer K (T4) ended it


# --- server INVITE (Figure 7) -------------------------------------------------


def test_server_invite_sends_100_trying_and_absorbs_retransmissions() -> None:
    layer, invite, key = server_with_invite()
    assert key == ServerKey("z9hG4bK-9151-1-0", "127.0.0.1:5060", "INVITE")
    layer.receive(invite, SIPP, "udp", 0.5)  # retransmission: the last provisional again
    assert sent(layer) == ["SIP/2.0 100 Trying"]
    layer.respond(key, build_response(invite, 180, to_tag="uas-1"), 0.6)
    assert sent(layer) == ["SIP/2.0 180 Ringing"]
    layer.receive(invite, SIPP, "udp", 1.5)
    assert sent(layer) == ["SIP/2.0 180 Ringing"]
    assert layer.events() == []  # the TU saw the INVITE once
    assert layer.next_deadline() is None  # Proceeding has no timer: the TU answers


def test_server_invite_retransmits_a_non_2xx_with_timer_g_until_the_ack_absorbs_it() -> None:
    layer, invite, key = server_with_invite()
    busy = build_response(invite, 486, to_tag="uas-1")
    layer.respond(key, busy, 0.0)
    assert layer.transmits() == [Transmit(serialize(busy), SIPP, "udp")]
    log = run_timers(layer, 4.0)
    assert times_of(log, "SIP/2.0 486 Busy Here") == [0.5, 1.5, 3.5]  # Timer G
    layer.receive(invite, SIPP, "udp", 4.0)  # a late INVITE copy gets the final again
    assert sent(layer) == ["SIP/2.0 486 Busy Here"]
    ack = SipRequest(
        "ACK",
        invite.uri,
        invite.headers.with_replaced("CSeq", "1 ACK").with_replaced(
            "To", busy.headers.get("To") or ""
        ),
    )
    layer.receive(ack, SIPP, "udp", 5.0)
    layer.receive(ack, SIPP, "udp", 5.1)  # Confirmed absorbs ACK copies too
    assert layer.events() == [] and layer.transmits() == []
    assert layer.next_deadline() == 10.0  # Timer I = T4 after the ACK
    assert run_timers(layer, 100.0) == []
    assert len(layer) == 0


def test_server_invite_without_ack_times_out_with_timer_h() -> None:
    layer, invite, key = server_with_invite()
    layer.respond(key, build_response(invite, 404, to_tag="uas-1"), 0.0)
    layer.transmits()
    log = run_timers(layer, 100.0)
    expected = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]  # G capped at T2
    assert times_of(log, "SIP/2.0 404 Not Found") == expected
    assert log[-1] == (32.0, TransactionTimedOut(key))
    assert len(layer) == 0


def test_server_invite_over_tcp_sends_the_final_once_and_ends_on_the_ack() -> None:
    layer, invite, key = server_with_invite(transport="tcp")
    layer.respond(key, build_response(invite, 480, to_tag="uas-1"), 0.0)
    assert [t.transport for t in layer.transmits()] == ["tcp"]
    assert layer.next_deadline() == 32.0  # Timer H only, no Timer G
    ack = SipRequest("ACK", invite.uri, invite.headers.with_replaced("CSeq", "1 ACK"))
    layer.receive(ack, SIPP, "tcp", 0.1)
    assert len(layer) == 0  # Timer I is 0 over TCP
    assert layer.events() == []


def test_server_2xx_is_retransmitted_until_the_ack_which_the_tu_still_gets() -> None:
    layer, invite, key = server_with_invite()
    ok = build_response(invite, 200, to_tag="uas-1")
    layer.respond(key, ok, 0.0)
    layer.transmits()
    assert times_of(run_timers(layer, 2.0), "SIP/2.0 200 OK") == [0.5, 1.5]
    layer.receive(invite, SIPP, "udp", 2.0)  # RFC 6026: absorbed in Accepted
    assert layer.transmits() == [] and layer.events() == []
    ack = ack_for_2xx(invite, ok)
    layer.receive(ack, SIPP, "udp", 2.5)
    [event] = layer.events()
    assert isinstance(event, RequestReceived)
    assert event.request == ack
    assert event.key == ServerKey("z9hG4bK-ack-2xx", "192.0.2.10:5060", "INVITE")
    assert run_timers(layer, 100.0) == []  # no more 200s, no AckTimedOut
    assert len(layer) == 0  # Timer L
    layer.receive(ack, SIPP, "udp", 50.0)  # a late ACK still goes to the TU
    assert [type(e) for e in layer.events()] == [RequestReceived]


def test_server_2xx_without_ack_reports_ack_timed_out_after_64_t1() -> None:
    layer, invite, key = server_with_invite()
    layer.respond(key, build_response(invite, 200, to_tag="uas-1"), 0.0)
    layer.transmits()
    log = run_timers(layer, 100.0)
    expected = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]  # §13.3.1.4
    assert times_of(log, "SIP/2.0 200 OK") == expected
    assert log[-1] == (32.0, AckTimedOut(key))
    assert len(layer) == 0


def test_server_2xx_is_retransmitted_over_tcp_too() -> None:
    # §13.3.1.4: "independent of whatever transport protocols are used": the
    # 2xx goes end to end and a hop beyond the first may be UDP.
    layer, invite, key = server_with_invite(transport="tcp")
    layer.respond(key, build_response(invite, 200, to_tag="uas-1"), 0.0)
    layer.transmits()
    log = run_timers(layer, 2.0)
    assert times_of(log, "SIP/2.0 200 OK") == [0.5, 1.5]


# --- CANCEL (§9.2) ------------------------------------------------------------


def test_cancel_of_a_proceeding_invite_gets_200_and_tells_the_tu() -> None:
    layer, invite, key = server_with_invite()
    layer.respond(key, build_response(invite, 180, to_tag="uas-1"), 0.1)
    layer.transmits()
    cancel = build_cancel(invite)
    layer.receive(cancel, SIPP, "udp", 1.0)
    [transmit] = layer.transmits()
    answer = parse(transmit.data)
    assert isinstance(answer, SipResponse)
    assert (answer.status, answer.headers.get("CSeq")) == (200, "1 CANCEL")
    assert answer.headers.get("To") == "service <sip:service@127.0.0.1:33508>;tag=uas-1"
    assert layer.events() == [CancelReceived(cancel, key)]
    layer.receive(cancel, SIPP, "udp", 1.5)  # CANCEL retransmitted: same answer, no event
    assert sent(layer) == ["SIP/2.0 200 OK"]
    assert layer.events() == []
    layer.respond(key, build_response(invite, 487, to_tag="uas-1"), 1.6)
    assert sent(layer) == ["SIP/2.0 487 Request Terminated"]


def test_cancel_matching_nothing_gets_481_and_no_event() -> None:
    layer = TransactionLayer()
    cancel = build_cancel(request())
    layer.receive(cancel, UAC, "udp", 0.0)
    assert sent(layer) == ["SIP/2.0 481 Call/Transaction Does Not Exist"]
    assert layer.events() == []
    assert len(layer) == 1  # the CANCEL's own transaction answers its copies
    assert run_timers(layer, 100.0) == []
    assert len(layer) == 0


def test_cancel_after_the_final_response_gets_200_and_no_event() -> None:
    layer, invite, key = server_with_invite()
    layer.respond(key, build_response(invite, 200, to_tag="uas-1"), 0.0)
    layer.transmits()
    layer.receive(build_cancel(invite), SIPP, "udp", 0.1)
    assert sent(layer) == ["SIP/2.0 200 OK"]
    assert layer.events() == []


# --- server non-INVITE (Figure 8) ----------------------------------------------


def test_server_non_invite_resends_its_final_on_retransmission_until_timer_j() -> None:
    layer = TransactionLayer()
    options = golden_request("sipp_options.sip")
    source = ("127.0.0.1", 15070)
    layer.receive(options, source, "udp", 0.0)
    [event] = layer.events()
    assert isinstance(event, RequestReceived)
    assert layer.transmits() == []  # no 100 Trying for a non-INVITE
    layer.receive(options, source, "udp", 0.5)  # Trying: a copy is just absorbed
    assert layer.transmits() == [] and layer.events() == []
    layer.respond(event.key, build_response(options, 200, to_tag="t"), 0.6)
    assert sent(layer) == ["SIP/2.0 200 OK"]
    layer.receive(options, source, "udp", 1.0)
    assert sent(layer) == ["SIP/2.0 200 OK"]
    assert layer.next_deadline() == pytest.approx(32.6)  # Timer J = 64*T1
    assert run_timers(layer, 100.0) == []
    assert len(layer) == 0


def test_server_non_invite_over_tcp_ends_when_it_answers() -> None:
    layer = TransactionLayer()
    options = golden_request("sipp_options.sip")
    layer.receive(options, ("127.0.0.1", 40000), "tcp", 0.0)
    [event] = layer.events()
    assert isinstance(event, RequestReceived)
    layer.respond(event.key, build_response(options, 200, to_tag="t"), 0.1)
    assert layer.transmits() == [
        Transmit(serialize(build_response(options, 200, to_tag="t")), ("127.0.0.1", 40000), "tcp")
    ]
    assert len(layer) == 0  # Timer J is 0 over TCP


# --- addresses (§18.2, RFC 3581) -------------------------------------------------


def test_responses_go_to_the_source_and_the_top_via_gets_received_and_rport() -> None:
    layer = TransactionLayer()
    invite = golden_request("baresip_invite.sip")  # Via ... 127.0.0.1:15091;...;rport
    nat = ("203.0.113.7", 40123)
    layer.receive(invite, nat, "udp", 0.0)
    [event] = layer.events()
    assert isinstance(event, RequestReceived)
    assert event.request.headers.get("Via") == (
        "SIP/2.0/UDP 127.0.0.1:15091;branch=z9hG4bKa46530da080a851e;rport=40123"
        ";received=203.0.113.7"
    )
    assert event.request.body == invite.body
    [trying] = layer.transmits()
    assert trying.destination == nat
    assert b";rport=40123;received=203.0.113.7\r\n" in trying.data


def test_a_request_from_its_sent_by_address_is_passed_up_unchanged() -> None:
    layer, invite, _ = server_with_invite()
    assert invite == golden_request("sipp_uac_invite.sip")
    assert len(layer) == 1


# --- misuse and garbage --------------------------------------------------------


def test_tu_misuse_raises_local_sip_error() -> None:
    layer, invite, key = server_with_invite()
    layer.respond(key, build_response(invite, 486, to_tag="t"), 0.0)
    with pytest.raises(LocalSipError, match="one final response"):
        layer.respond(key, build_response(invite, 200, to_tag="t"), 0.1)
    with pytest.raises(LocalSipError, match="no server transaction"):
        layer.respond(
            ServerKey("z9hG4bKnope", "h:1", "INVITE"), build_response(invite, 200, to_tag="t"), 0.1
        )
    with pytest.raises(LocalSipError, match="z9hG4bK"):
        layer.request(request(branch="old-style"), UAS, "udp", 0.0)
    with pytest.raises(LocalSipError, match="send_stateless"):
        layer.request(request("ACK"), UAS, "udp", 0.0)
    layer.request(request(), UAS, "udp", 0.0)
    with pytest.raises(LocalSipError, match="already in use"):
        layer.request(request(), UAS, "udp", 0.0)
    with pytest.raises(LocalSipError, match="transport"):
        layer.request(request(branch="z9hG4bK-2"), UAS, "sctp", 0.0)
    with pytest.raises(LocalSipError, match="CSeq method"):
        layer.request(request(branch="z9hG4bK-3", cseq_method="BYE"), UAS, "udp", 0.0)
    with pytest.raises(LocalSipError, match="bad CSeq"):
        build_cancel(SipRequest("INVITE", "sip:x@y", request().headers.with_replaced("CSeq", "x")))
    with pytest.raises(LocalSipError):
        TransactionLayer(t1=5.0, t2=4.0)


def test_what_the_peer_sends_never_raises() -> None:
    layer = TransactionLayer()
    stray = golden_response("proxied_200_ok_multi_via.sip")
    layer.receive(stray, UAS, "udp", 0.0)  # matches no client transaction
    no_via = SipRequest("OPTIONS", "sip:x@y", request("OPTIONS").headers.without("Via"))
    layer.receive(no_via, UAC, "udp", 0.0)
    bad_via = SipRequest(
        "OPTIONS", "sip:x@y", request("OPTIONS").headers.with_replaced("Via", "garbage")
    )
    layer.receive(bad_via, UAC, "udp", 0.0)
    bad_cseq = SipRequest("ACK", "sip:x@y", request("ACK").headers.with_replaced("CSeq", "x"))
    layer.receive(bad_cseq, UAC, "udp", 0.0)
    assert layer.transmits() == [] and layer.events() == [] and len(layer) == 0
    # An ACK to nothing goes to the TU (it may be the ACK to a 2xx we forgot).
    layer.receive(request("ACK"), UAC, "udp", 0.0)
    assert [type(e) for e in layer.events()] == [RequestReceived]


def test_an_ack_before_any_final_response_is_dropped() -> None:
    layer, invite, _ = server_with_invite()
    ack = SipRequest("ACK", invite.uri, invite.headers.with_replaced("CSeq", "1 ACK"))
    layer.receive(ack, SIPP, "udp", 0.1)
    assert layer.events() == [] and layer.transmits() == []


def test_a_request_without_the_magic_cookie_is_still_matched() -> None:
    layer = TransactionLayer()
    old = request(branch="1234")  # RFC 2543 style
    layer.receive(old, UAC, "udp", 0.0)
    [event] = layer.events()
    assert isinstance(event, RequestReceived)
    assert event.key.method == "INVITE"
    layer.receive(old, UAC, "udp", 0.5)
    assert sent(layer) == ["SIP/2.0 100 Trying", "SIP/2.0 100 Trying"]
    layer.receive(build_cancel(old), UAC, "udp", 1.0)
    assert sent(layer) == ["SIP/2.0 200 OK"]
    assert [type(e) for e in layer.events()] == [CancelReceived]


def test_send_stateless_just_sends() -> None:
    layer = TransactionLayer()
    ack = request("ACK")
    layer.send_stateless(ack, UAS, "tcp")
    assert layer.transmits() == [Transmit(serialize(ack), UAS, "tcp")]
    assert len(layer) == 0 and layer.next_deadline() is None


# --- two layers over a lossy link -------------------------------------------------


@dataclass
class SipPair:
    """A UAC layer and a UAS layer joined by a link that loses the first ``lose`` datagrams.

    Both TUs are scripted: the UAS answers each INVITE 200 OK at once, the UAC
    ACKs every 2xx. ``log`` is the timeline of what crossed the link.
    """

    lose: int
    uac: TransactionLayer = field(default_factory=TransactionLayer)
    uas: TransactionLayer = field(default_factory=TransactionLayer)
    log: list[tuple[float, str, str]] = field(default_factory=list)
    events: list[tuple[float, str, TuEvent]] = field(default_factory=list)
    invite: SipRequest = field(default_factory=request)

    def pump(self, now: float) -> None:
        moving = True
        while moving:
            moving = False
            for name, layer, peer, source in (
                ("uac", self.uac, self.uas, UAC),
                ("uas", self.uas, self.uac, UAS),
            ):
                for transmit in layer.transmits():
                    moving = True
                    lost = self.lose > 0
                    self.lose -= lost
                    self.log.append(
                        (now, f"{name}>" + ("lost " if lost else ""), start_line(transmit.data))
                    )
                    if not lost:
                        peer.receive(parse(transmit.data), source, transmit.transport, now)
                for event in layer.events():
                    moving = True
                    self.events.append((now, name, event))
                    self.act(name, event, now)

    def act(self, name: str, event: TuEvent, now: float) -> None:
        if (
            name == "uas"
            and isinstance(event, RequestReceived)
            and event.request.method == "INVITE"
        ):
            self.uas.respond(event.key, build_response(event.request, 200, to_tag="uas-1"), now)
        if name == "uac" and isinstance(event, ResponseReceived) and event.response.status == 200:
            self.uac.send_stateless(ack_for_2xx(self.invite, event.response), UAS, "udp")

    def run(self) -> None:
        self.uac.request(self.invite, UAS, "udp", 0.0)
        self.pump(0.0)
        while True:
            deadlines = [
                d for d in (self.uac.next_deadline(), self.uas.next_deadline()) if d is not None
            ]
            if not deadlines:
                return
            now = min(deadlines)
            self.uac.handle_timer(now)
            self.uas.handle_timer(now)
            self.pump(now)


def test_sip_pair_completes_an_invite_over_a_link_that_loses_the_first_two_datagrams() -> None:
    pair = SipPair(lose=2)
    pair.run()
    invite = "INVITE sip:support@hotline.example.com SIP/2.0"
    assert pair.log == [
        (0.0, "uac>lost ", invite),
        (0.5, "uac>lost ", invite),
        (1.5, "uac>", invite),  # Timer A saved the call
        (1.5, "uas>", "SIP/2.0 100 Trying"),
        (1.5, "uas>", "SIP/2.0 200 OK"),
        (1.5, "uac>", "ACK sip:support@hotline.example.com SIP/2.0"),
    ]
    kinds = [(time, name, type(event).__name__) for time, name, event in pair.events]
    assert kinds == [
        (1.5, "uas", "RequestReceived"),
        (1.5, "uac", "ResponseReceived"),
        (1.5, "uac", "ResponseReceived"),
        (1.5, "uas", "RequestReceived"),  # the ACK
    ]
    assert len(pair.uac) == 0 and len(pair.uas) == 0  # Timers M and L ran out


# --- next_deadline --------------------------------------------------------------

_OPS = st.lists(
    st.tuples(
        st.sampled_from(["invite", "options", "respond", "answer", "ack", "wait"]),
        st.sampled_from(["udp", "tcp"]),
        st.sampled_from([100, 180, 200, 486]),
        st.integers(0, 8),
    ),
    max_size=40,
)


def advance(layer: TransactionLayer, now: float, until: float) -> None:
    """Fire ``layer``'s timers up to ``until`` as a shell would, checking each deadline.

    Nothing may happen just before ``next_deadline()`` and something must
    happen at it (every timer sends, reports or ends a transaction), which
    holds exactly when the answer is the earliest timer.
    """
    layer.transmits()
    layer.events()
    while (deadline := layer.next_deadline()) is not None and deadline <= until:
        assert deadline > now
        before = len(layer)
        layer.handle_timer(max(now, deadline - 1e-6))
        assert (layer.transmits(), layer.events(), len(layer)) == ([], [], before)
        layer.handle_timer(deadline)
        outcome = (layer.transmits(), layer.events(), len(layer))
        assert outcome != ([], [], before)
        now = deadline


@settings(max_examples=200, deadline=None)
@given(_OPS)
def test_next_deadline_is_always_the_earliest_timer(ops: list[tuple[str, str, int, int]]) -> None:
    client = TransactionLayer()
    server = TransactionLayer()
    now = 0.0
    requests: list[tuple[SipRequest, str]] = []
    received: list[tuple[ServerKey, SipRequest]] = []
    for number, (op, transport, status, pick) in enumerate(ops):
        if op in ("invite", "options"):
            message = request(op.upper(), branch=f"z9hG4bK-{number}", call_id=f"c{number}")
            client.request(message, UAS, transport, now)
            requests.append((message, transport))
            server.receive(message, UAC, transport, now)
            [event] = [e for e in server.events() if isinstance(e, RequestReceived)][-1:]
            received.append((event.key, event.request))
        elif op == "respond" and requests:
            message, transport = requests[pick % len(requests)]
            response = build_response(message, status, to_tag=None if status == 100 else "t")
            client.receive(response, UAS, transport, now)
        elif op == "answer" and received:
            key, message = received[pick % len(received)]
            with contextlib.suppress(LocalSipError):  # a second final, or an ended transaction
                server.respond(key, build_response(message, status, to_tag="t"), now)
        elif op == "ack" and received:
            key, message = received[pick % len(received)]
            ok = build_response(message, 200, to_tag="t")
            server.receive(ack_for_2xx(message, ok, f"z9hG4bK-a{number}"), UAC, "udp", now)
            # and the ACK to a non-2xx, on the INVITE's branch
            ack = SipRequest("ACK", message.uri, message.headers.with_replaced("CSeq", "1 ACK"))
            server.receive(ack, UAC, "udp", now)
        elif op == "wait":
            until = now + 2**pick / 8  # 1/8 s to 32 s
            advance(client, now, until)
            advance(server, now, until)
            now = until
    advance(client, now, 1e9)
    advance(server, now, 1e9)
    assert client.next_deadline() is None and server.next_deadline() is None
