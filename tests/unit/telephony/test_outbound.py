"""Outbound trunk URIs and dialable numbers: what ``hotline trunk add --outbound`` and the
transfer API accept, and the Request-URI our INVITE carries."""

from __future__ import annotations

import pytest

from hotline.telephony.outbound import OutboundRoute, dialable_number, parse_outbound_uri


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("sip:198.51.100.7", OutboundRoute("198.51.100.7", 5060, "udp")),
        ("sip:198.51.100.7:5080", OutboundRoute("198.51.100.7", 5080, "udp")),
        ("sip:198.51.100.7:5080;transport=TCP", OutboundRoute("198.51.100.7", 5080, "tcp")),
        (" sip:[2001:db8::1]:5070 ", OutboundRoute("2001:db8::1", 5070, "udp")),
    ],
)
def test_given_a_carrier_uri_when_parsed_then_host_port_and_transport(
    text: str, route: OutboundRoute
) -> None:
    assert parse_outbound_uri(text) == route


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sip:carrier.example.net", "must be an IP address"),
        ("sip:100@198.51.100.7", "without a user part"),
        ("sips:198.51.100.7", "use a sip: URI"),
        ("sip:198.51.100.7;transport=ws", "udp or tcp"),
        ("http://198.51.100.7", "not a SIP URI"),
    ],
)
def test_given_a_bad_carrier_uri_when_parsed_then_the_message_says_what(
    text: str, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_outbound_uri(text)


def test_given_a_route_then_the_request_uri_carries_the_number_as_a_phone_user() -> None:
    udp = OutboundRoute("198.51.100.7", 5060, "udp")
    tcp = OutboundRoute("198.51.100.7", 5060, "tcp")
    assert udp.request_uri("+74957770011") == "sip:+74957770011@198.51.100.7:5060;user=phone"
    assert tcp.request_uri("100").endswith(";user=phone;transport=tcp")


@pytest.mark.parametrize(
    ("text", "number"),
    [("+7 (495) 777-00-11", "+74957770011"), ("8.800.555.35.35", "88005553535"), ("*21#", "*21#")],
)
def test_given_a_number_as_people_write_it_then_it_is_dialled_plainly(
    text: str, number: str
) -> None:
    assert dialable_number(text) == number


@pytest.mark.parametrize("text", ["call me", "+", "1", "7" * 33, "+7495;user=x", "sip:100@x"])
def test_given_not_a_number_then_refused_with_the_rule(text: str) -> None:
    with pytest.raises(ValueError, match="not a telephone number"):
        dialable_number(text)
