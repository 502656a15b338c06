"""Dialogs (RFC 3261 §12): creation on both sides, in-dialog requests, CSeq rules.

The end-to-end tests pass messages between a UAC and a UAS as bytes
(``serialize`` then ``parse``), so each message we build is also checked to be
one our own parser accepts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.telephony.sip import (
    Dialog,
    DialogId,
    LocalSipError,
    RemoteSipError,
    SipMessage,
    SipRequest,
    SipResponse,
    build_ack_for_2xx,
    build_cancel,
    build_dialog_response,
    build_in_dialog_request,
    build_response,
    check_in_dialog_request,
    dialog_as_uac,
    dialog_as_uas,
    new_request,
    parse,
    parse_cseq,
    parse_name_addr,
    parse_uri,
    refresh_remote_target,
    serialize,
    uac_dialog_id,
    uas_dialog_id,
)

GOLDEN = Path(__file__).parent / "golden"
SDP = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
UAC_VIA = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{};rport"
UAS_VIA = "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK{}"
UAC_CONTACT = "<sip:hotline@192.0.2.1:5060>"
UAS_CONTACT = "<sip:op7@192.0.2.9:5060;transport=udp>"


def wire(message: SipMessage) -> SipMessage:
    """What the peer sees: the message serialized, then parsed again."""
    return parse(serialize(message))


def wire_request(message: SipRequest) -> SipRequest:
    parsed = wire(message)
    assert isinstance(parsed, SipRequest)
    return parsed


def wire_response(message: SipResponse) -> SipResponse:
    parsed = wire(message)
    assert isinstance(parsed, SipResponse)
    return parsed


def golden_request(name: str) -> SipRequest:
    message = parse((GOLDEN / name).read_bytes())
    assert isinstance(message, SipRequest)
    return message


def golden_response(name: str) -> SipResponse:
    message = parse((GOLDEN / name).read_bytes())
    assert isinstance(message, SipResponse)
    return message


def invite(*, route_set: tuple[str, ...] = (), body: bytes = SDP) -> SipRequest:
    return new_request(
        "INVITE",
        "sip:op7@192.0.2.9:5060;transport=udp",
        from_='"Support" <sip:support@hotline.example>;tag=ourtag1',
        to="<sip:op7@hotline.example>",
        call_id="call-1@192.0.2.1",
        cseq=10,
        via=UAC_VIA.format("inv1"),
        contact=UAC_CONTACT,
        body=body,
        content_type="application/sdp",
        route_set=route_set,
    )


def with_record_route(request: SipRequest, *values: str) -> SipRequest:
    headers = request.headers
    for value in values:
        headers = headers.with_added("Record-Route", value)
    return SipRequest(request.method, request.uri, headers, request.body)


# --- the UAS side (§12.1.1) ----------------------------------------------------


def test_uas_dialog_from_baresip_invite() -> None:
    dialog = dialog_as_uas(golden_request("baresip_invite.sip"), "ourtag")
    assert dialog == Dialog(
        call_id="901f01599f14ed59",
        local_tag="ourtag",
        remote_tag="633b2e09cd951a52",
        local_uri="<sip:hotline@127.0.0.1:15090;transport=udp>",
        remote_uri="<sip:alice@127.0.0.1:15090>",
        remote_target=parse_uri("sip:alice-0x55c8068441d0@127.0.0.1:15091"),
        route_set=(),
        local_cseq=0,
        remote_cseq=29145,
        transport="UDP",
        secure=False,
    )
    assert dialog.id == DialogId("901f01599f14ed59", "ourtag", "633b2e09cd951a52")


def test_uas_dialog_from_sipp_invite_with_addr_spec_contact() -> None:
    dialog = dialog_as_uas(golden_request("sipp_uac_invite.sip"), "t")
    assert str(dialog.remote_target) == "sip:sipp@127.0.0.1:5060"
    assert dialog.remote_uri == '"sipp" <sip:sipp@127.0.0.1:5060>'
    assert dialog.local_uri == '"service" <sip:service@127.0.0.1:33508>'


def test_uas_route_set_is_record_route_in_order() -> None:
    request = with_record_route(invite(), "<sip:p1.example.com;lr>, <sip:p2.example.com;lr>")
    request = with_record_route(request, "<sip:p3.example.com;lr>")
    dialog = dialog_as_uas(wire_request(request), "uastag")
    assert dialog.route_set == (
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
        "<sip:p3.example.com;lr>",
    )


def test_dialog_response_copies_record_route_adds_contact_and_length() -> None:
    request = with_record_route(invite(), "<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>")
    response = build_dialog_response(
        request,
        200,
        to_tag="uastag",
        contact=UAS_CONTACT,
        body=SDP,
        content_type="application/sdp",
        extra_headers=[("Server", "hotline")],
    )
    assert response.status == 200 and response.reason == "OK"
    assert response.headers.get_all("Record-Route") == [
        "<sip:p1.example.com;lr>",
        "<sip:p2.example.com;lr>",
    ]
    assert response.headers.get("To") == "<sip:op7@hotline.example>;tag=uastag"
    assert response.headers.get("Contact") == UAS_CONTACT
    assert response.headers.get("Content-Type") == "application/sdp"
    assert response.headers.get("Content-Length") == str(len(SDP))
    assert [name for name, _ in response.headers][-2:] == ["Content-Type", "Content-Length"]
    assert wire_response(response) == response


def test_dialog_response_without_body() -> None:
    response = build_dialog_response(invite(), 180, to_tag="t", contact=UAS_CONTACT)
    assert response.headers.get("Content-Length") == "0"
    assert "Content-Type" not in response.headers


def test_dialog_response_rejects_what_creates_no_dialog() -> None:
    with pytest.raises(LocalSipError, match="creates no dialog"):
        build_dialog_response(invite(), 486, to_tag="t", contact=UAS_CONTACT)
    with pytest.raises(LocalSipError, match="content_type"):
        build_dialog_response(invite(), 200, to_tag="t", contact=UAS_CONTACT, body=SDP)


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("Contact", None, "0 Contact values"),
        ("Contact", "<sip:a@b>, <sip:c@d>", "2 Contact values"),
        ("Contact", "<tel:+15551234>", "must be a SIP or SIPS URI"),
        ("Contact", "<sip:a@b", "without '>'"),
        ("From", "<sip:a@b>;tag=", "no value"),
    ],
)
def test_uas_dialog_needs_one_good_contact(header: str, value: str | None, message: str) -> None:
    request = invite()
    headers = request.headers.without(header)
    if value is not None:
        headers = headers.with_added(header, value)
    with pytest.raises(RemoteSipError) as caught:
        dialog_as_uas(SipRequest("INVITE", request.uri, headers, request.body), "t")
    assert message in caught.value.reason
    assert caught.value.status_hint == 400


def test_secure_flag_needs_sips_and_tls() -> None:
    request = golden_request("baresip_invite.sip")
    tls_headers = request.headers.with_replaced("Via", "SIP/2.0/TLS h:5061;branch=z9hG4bKx")
    assert dialog_as_uas(SipRequest("INVITE", "sips:a@h", tls_headers), "t").secure
    assert not dialog_as_uas(SipRequest("INVITE", "sip:a@h", tls_headers), "t").secure


# --- the UAC side (§12.1.2) ----------------------------------------------------


def test_uac_dialog_from_sipp_200_ok() -> None:
    request = golden_request("sipp_uac_invite.sip")
    dialog = dialog_as_uac(request, golden_response("sipp_uas_200_ok_sdp.sip"))
    assert dialog.id == DialogId("1-9151@127.0.0.1", "9151SIPpTag001", "11110SIPpTag011")
    assert str(dialog.remote_target) == "sip:127.0.0.1:15071;transport=UDP"
    assert (dialog.local_cseq, dialog.remote_cseq) == (1, None)
    assert dialog.local_uri == '"sipp" <sip:sipp@127.0.0.1:5060>'
    assert dialog.remote_uri == '"service" <sip:service@127.0.0.1:33508>'
    assert dialog.route_set == ()


def test_uac_route_set_is_record_route_reversed() -> None:
    response = golden_response("proxied_200_ok_multi_via.sip")
    request = new_request(
        "INVITE",
        "sip:bob@example.com",
        from_=response.headers.get("From") or "",
        to="Bob <sip:bob@example.com>",
        call_id=response.headers.get("Call-ID") or "",
        cseq=314159,
        via="SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds",
        contact="<sip:john@pc33.example.com>",
    )
    dialog = dialog_as_uac(request, response)
    assert dialog.route_set == ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")
    assert dialog.remote_tag == "a6c85cf"
    assert dialog.remote_target == parse_uri("sip:bob@192.0.2.4")
    assert dialog.local_cseq == 314159


def test_uac_early_dialog_without_contact_targets_the_request_uri() -> None:
    request = invite()
    ringing = build_response(request, 180, to_tag="early")
    dialog = dialog_as_uac(request, ringing)
    assert dialog.remote_target == parse_uri(request.uri)
    with pytest.raises(RemoteSipError, match="0 Contact values"):
        dialog_as_uac(request, build_response(request, 200, to_tag="early"))


def test_uac_dialog_needs_a_to_tag_and_a_dialog_status() -> None:
    request = invite()
    untagged = build_response(request, 100)
    with pytest.raises(LocalSipError, match="creates no dialog"):
        dialog_as_uac(request, untagged)
    with pytest.raises(LocalSipError, match="creates no dialog"):
        dialog_as_uac(request, build_response(request, 486, to_tag="x"))
    ringing = SipResponse(180, "Ringing", untagged.headers)
    with pytest.raises(RemoteSipError, match="no To tag"):
        dialog_as_uac(request, ringing)


# --- requests in a dialog (§12.2.1.1) ---------------------------------------------


def make_pair(
    record_route: tuple[str, ...] = (),
) -> tuple[Dialog, Dialog, SipRequest, SipResponse]:
    """A UAC and a UAS that completed INVITE/200 over the wire: (uac, uas, invite, ok)."""
    request = wire_request(with_record_route(invite(), *record_route))
    uas = dialog_as_uas(request, "uastag", local_cseq=500)
    ok = wire_response(
        build_dialog_response(
            request,
            200,
            to_tag="uastag",
            contact=UAS_CONTACT,
            body=SDP,
            content_type="application/sdp",
        )
    )
    uac = dialog_as_uac(invite(), ok)
    return uac, uas, request, ok


def test_both_sides_agree_on_the_dialog() -> None:
    uac, uas, _, _ = make_pair()
    assert uac.call_id == uas.call_id == "call-1@192.0.2.1"
    assert (uac.local_tag, uac.remote_tag) == (uas.remote_tag, uas.local_tag)
    assert uac.local_uri == uas.remote_uri
    assert uac.remote_uri == uas.local_uri
    assert str(uac.remote_target) == "sip:op7@192.0.2.9:5060;transport=udp"
    assert str(uas.remote_target) == "sip:hotline@192.0.2.1:5060"


def test_bye_from_uac_passes_the_uas_checks() -> None:
    uac, uas, _, _ = make_pair()
    bye = wire_request(build_in_dialog_request(uac, "BYE", via=UAC_VIA.format("bye"), contact=None))
    assert bye.uri == "sip:op7@192.0.2.9:5060;transport=udp"
    assert parse_cseq(bye.headers.get("CSeq") or "") == (11, "BYE")
    assert uac.local_cseq == 11
    assert bye.headers.get("Max-Forwards") == "70"
    assert bye.headers.get("Content-Length") == "0"
    assert "Contact" not in bye.headers
    assert uas_dialog_id(bye) == uas.id
    check_in_dialog_request(uas, bye)
    assert uas.remote_cseq == 11


def test_bye_from_uas_starts_at_its_own_cseq_and_passes_the_uac_checks() -> None:
    uac, uas, _, _ = make_pair()
    bye = wire_request(build_in_dialog_request(uas, "BYE", via=UAS_VIA.format("b"), contact=None))
    assert parse_cseq(bye.headers.get("CSeq") or "").number == 501
    assert bye.uri == "sip:hotline@192.0.2.1:5060"
    assert bye.headers.get("From") == "<sip:op7@hotline.example>;tag=uastag"
    assert bye.headers.get("To") == '"Support" <sip:support@hotline.example>;tag=ourtag1'
    check_in_dialog_request(uac, bye)
    assert uac.remote_cseq == 501


def test_route_set_becomes_route_headers_uri_stays_remote_target() -> None:
    uac, uas, _, _ = make_pair(record_route=("<sip:p1.example.com;lr>, <sip:p2.example.com;lr>",))
    assert uas.route_set == ("<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>")
    assert uac.route_set == ("<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>")
    bye = build_in_dialog_request(uac, "BYE", via=UAC_VIA.format("r"), contact=None)
    assert bye.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    assert bye.uri == str(uac.remote_target)


def test_ack_for_2xx_has_the_invite_cseq_and_leaves_the_dialog_cseq() -> None:
    uac, uas, _, _ = make_pair()
    ack = wire_request(build_ack_for_2xx(uac, 10, via=UAC_VIA.format("ack")))
    assert parse_cseq(ack.headers.get("CSeq") or "") == (10, "ACK")
    assert uac.local_cseq == 10
    assert ack.uri == str(uac.remote_target)
    check_in_dialog_request(uas, ack)  # same number as the INVITE: in order
    assert uas.remote_cseq == 10


def test_in_dialog_ack_and_cancel_keep_the_cseq() -> None:
    uac, _, _, _ = make_pair()
    ack = build_in_dialog_request(uac, "ACK", via=UAC_VIA.format("a"), contact=None)
    assert parse_cseq(ack.headers.get("CSeq") or "") == (10, "ACK")
    cancel = build_in_dialog_request(uac, "CANCEL", via=UAC_VIA.format("a"), contact=None)
    assert parse_cseq(cancel.headers.get("CSeq") or "") == (10, "CANCEL")
    assert uac.local_cseq == 10


def test_reinvite_with_body_and_target_refresh() -> None:
    uac, uas, _, _ = make_pair()
    reinvite = wire_request(
        build_in_dialog_request(
            uac,
            "INVITE",
            via=UAC_VIA.format("re"),
            contact="<sip:hotline@192.0.2.77:5060>",
            body=SDP,
            content_type="application/sdp",
            extra_headers=[("Subject", "hold")],
        )
    )
    assert reinvite.body == SDP
    assert reinvite.headers.get("Content-Length") == str(len(SDP))
    assert reinvite.headers.get("Subject") == "hold"
    check_in_dialog_request(uas, reinvite)
    refresh_remote_target(uas, reinvite)
    assert str(uas.remote_target) == "sip:hotline@192.0.2.77:5060"
    ok = build_dialog_response(reinvite, 200, to_tag="uastag", contact="<sip:op7@192.0.2.99>")
    refresh_remote_target(uac, wire_response(ok))
    assert str(uac.remote_target) == "sip:op7@192.0.2.99"
    refresh_remote_target(uac, build_response(reinvite, 200, to_tag="uastag"))
    assert str(uac.remote_target) == "sip:op7@192.0.2.99"


def test_request_building_mistakes_are_ours() -> None:
    uac, _, _, _ = make_pair()
    with pytest.raises(LocalSipError, match="content_type"):
        build_in_dialog_request(uac, "INFO", via=UAC_VIA.format("i"), contact=None, body=b"x")
    with pytest.raises(LocalSipError, match="needs a Contact"):
        build_in_dialog_request(uac, "INVITE", via=UAC_VIA.format("i"), contact=None)
    uac.local_cseq = 2**31 - 1
    with pytest.raises(LocalSipError, match="cannot grow"):
        build_in_dialog_request(uac, "BYE", via=UAC_VIA.format("i"), contact=None)


# --- requests arriving in a dialog (§12.2.2) ----------------------------------------


def test_lower_cseq_is_rejected_with_500() -> None:
    uac, uas, _, _ = make_pair()
    first = build_in_dialog_request(uac, "INFO", via=UAC_VIA.format("1"), contact=None)
    second = build_in_dialog_request(uac, "INFO", via=UAC_VIA.format("2"), contact=None)
    check_in_dialog_request(uas, second)
    with pytest.raises(RemoteSipError) as caught:
        check_in_dialog_request(uas, first)
    assert caught.value.status_hint == 500
    assert "out of order" in caught.value.reason
    assert uas.remote_cseq == 12


def test_first_request_from_the_callee_sets_the_empty_remote_cseq() -> None:
    uac, uas, _, _ = make_pair()
    assert uac.remote_cseq is None
    check_in_dialog_request(uac, build_in_dialog_request(uas, "INFO", via="x", contact=None))
    assert uac.remote_cseq == 501


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Call-ID", "another-call@192.0.2.1"),
        ("To", "<sip:op7@hotline.example>;tag=othertag"),
        ("From", '"Support" <sip:support@hotline.example>;tag=stranger'),
        ("To", "<sip:op7@hotline.example>"),
    ],
)
def test_request_of_another_dialog_is_481(header: str, value: str) -> None:
    uac, uas, _, _ = make_pair()
    bye = build_in_dialog_request(uac, "BYE", via=UAC_VIA.format("x"), contact=None)
    stray = SipRequest("BYE", bye.uri, bye.headers.with_replaced(header, value))
    with pytest.raises(RemoteSipError) as caught:
        check_in_dialog_request(uas, stray)
    assert caught.value.status_hint == 481
    assert uas.remote_cseq == 10


def test_dialog_ids_of_messages() -> None:
    uac, _, request, ok = make_pair()
    assert uac_dialog_id(ok) == uac.id
    assert uas_dialog_id(request) == DialogId("call-1@192.0.2.1", "", "ourtag1")


# --- requests outside a dialog and CANCEL ---------------------------------------------


def test_new_request_layout() -> None:
    request = invite(route_set=("<sip:outbound.example;lr>",))
    assert [name for name, _ in request.headers] == [
        "Via",
        "Max-Forwards",
        "Route",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Content-Type",
        "Content-Length",
    ]
    assert request.headers.get("CSeq") == "10 INVITE"
    assert request.headers.get("Content-Length") == str(len(SDP))
    assert wire_request(request) == request


def test_new_register_and_options() -> None:
    register = new_request(
        "REGISTER",
        parse_uri("sip:trunk.example.net"),
        from_="<sip:hotline@trunk.example.net>;tag=r1",
        to="<sip:hotline@trunk.example.net>",
        call_id="reg-1",
        cseq=1,
        via=UAC_VIA.format("reg"),
        contact="<sip:hotline@192.0.2.1:5060>;expires=3600",
        extra_headers=[("Expires", "3600")],
    )
    assert register.uri == "sip:trunk.example.net"
    assert register.headers.get("Expires") == "3600"
    options = new_request(
        "OPTIONS",
        "sip:op7@192.0.2.9",
        from_="<sip:hotline@h>;tag=o1",
        to="<sip:op7@h>",
        call_id="o-1",
        cseq=1,
        via=UAC_VIA.format("o"),
    )
    assert "Contact" not in options.headers
    assert wire_request(options) == options


def test_new_request_mistakes_are_ours() -> None:
    with pytest.raises(LocalSipError, match="needs a tag"):
        new_request(
            "OPTIONS", "sip:a@b", from_="<sip:h@h>", to="<sip:a@b>", call_id="c", cseq=1, via="v"
        )
    with pytest.raises(LocalSipError, match="does not parse"):
        new_request(
            "OPTIONS", "sip:a@b", from_="<sip:h@h", to="<sip:a@b>", call_id="c", cseq=1, via="v"
        )
    with pytest.raises(LocalSipError, match="needs a Contact"):
        new_request(
            "INVITE",
            "sip:a@b",
            from_="<sip:h@h>;tag=1",
            to="<sip:a@b>",
            call_id="c",
            cseq=1,
            via="v",
        )
    with pytest.raises(LocalSipError, match="CSeq"):
        new_request(
            "OPTIONS",
            "sip:a@b",
            from_="<sip:h@h>;tag=1",
            to="<sip:a@b>",
            call_id="c",
            cseq=2**31,
            via="v",
        )


def test_cancel_matches_the_invite_per_9_1() -> None:
    request = invite(route_set=("<sip:outbound.example;lr>",))
    forwarded = request.headers.with_added("Via", "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower")
    cancel = wire_request(build_cancel(SipRequest("INVITE", request.uri, forwarded, request.body)))
    assert cancel.method == "CANCEL"
    assert cancel.uri == request.uri
    for name in ("Call-ID", "From", "To"):
        assert cancel.headers.get(name) == request.headers.get(name)
    assert cancel.headers.get("CSeq") == "10 CANCEL"
    assert cancel.headers.get_all("Via") == [UAC_VIA.format("inv1")]
    assert cancel.headers.get_all("Route") == ["<sip:outbound.example;lr>"]
    assert cancel.headers.get("Content-Length") == "0"
    assert cancel.body == b""


def test_response_to_the_invite_that_sipp_answered_round_trips() -> None:
    # build_dialog_response on a golden INVITE gives a response our parser accepts.
    request = golden_request("baresip_invite.sip")
    response = build_dialog_response(
        request,
        200,
        to_tag="hl1",
        contact="<sip:hotline@127.0.0.1:15090>",
        body=SDP,
        content_type="application/sdp",
    )
    assert wire_response(response) == response
    assert parse_name_addr(response.headers.get("To") or "").tag == "hl1"
    assert response.headers.get("Via") == request.headers.get("Via")
