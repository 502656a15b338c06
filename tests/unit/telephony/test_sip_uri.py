"""SIP URIs, name-addr and Via values: RFC 3261 §19.1 examples, golden captures, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.sip import (
    NameAddr,
    RemoteSipError,
    SipUri,
    Via,
    parse,
    parse_name_addr,
    parse_uri,
    parse_via,
)

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_MESSAGES = [parse(path.read_bytes()) for path in sorted(GOLDEN.glob("*.sip"))]


# --- SipUri ------------------------------------------------------------------

# RFC 3261 §19.1.3 examples (those without a password), and what SIPp and
# baresip send; each is written back exactly as it came.
ROUND_TRIP_URIS = [
    "sip:alice@atlanta.com",
    "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
    "sip:+1-212-555-1212@gateway.com;user=phone",
    "sips:1212@gateway.com",
    "sip:alice@192.0.2.4",
    "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
    "sip:alice;day=tuesday@atlanta.com",
    "sip:hotline@127.0.0.1:15090;transport=udp",
    "sip:127.0.0.1:15071;transport=UDP",
    "sip:alice-0x55c8068441d0@127.0.0.1:15091",
    "sip:p1.example.com;lr",
    "sip:[2001:db8::10]:5070;transport=tcp;maddr=[2001:db8::1]",
    "sip:[::1]",
    "sip:bob@example.com.",
    "tel:+1-201-555-0123",
    "tel:7042;phone-context=example.com",
]


@pytest.mark.parametrize("text", ROUND_TRIP_URIS)
def test_uri_round_trips_as_written(text: str) -> None:
    assert str(parse_uri(text)) == text


def test_uri_parts() -> None:
    uri = parse_uri("sips:alice@atlanta.com:5061;transport=TLS;lr?subject=project%20x")
    assert uri == SipUri(
        scheme="sips",
        user="alice",
        host="atlanta.com",
        port=5061,
        params=(("transport", "TLS"), ("lr", None)),
        headers="subject=project%20x",
    )
    assert uri.transport == "tls"
    assert uri.has_param("LR") and uri.param("lr") is None
    assert uri.param("Transport") == "TLS"
    assert not uri.has_param("maddr")


def test_user_part_may_hold_semicolons_and_is_unescaped() -> None:
    # §19.1.1: user-unreserved allows ";" — the "@" decides where the user ends.
    assert parse_uri("sip:alice;day=tuesday@atlanta.com").user == "alice;day=tuesday"
    uri = parse_uri("SIP:%61lice%20b@atlanta.com")
    assert (uri.scheme, uri.user) == ("sip", "alice b")
    # Written back escaped only where it must be (§19.1.2).
    assert str(uri) == "sip:alice%20b@atlanta.com"


def test_ipv6_reference_keeps_brackets_and_bare_host_drops_them() -> None:
    uri = parse_uri("sip:alice@[2001:db8::10]:5070")
    assert (uri.host, uri.bare_host, uri.port) == ("[2001:db8::10]", "2001:db8::10", 5070)
    assert parse_uri("sip:alice@example.com").bare_host == "example.com"


def test_tel_uri_has_the_number_as_user_and_no_host() -> None:
    uri = parse_uri("tel:+1-201-555-0123;ext=1234")
    assert (uri.scheme, uri.user, uri.host, uri.param("ext")) == (
        "tel",
        "+1-201-555-0123",
        "",
        "1234",
    )


def test_param_edits_are_pure() -> None:
    uri = parse_uri("sip:bob@h;transport=udp")
    changed = uri.with_param("transport", "tcp").with_param("lr")
    assert str(changed) == "sip:bob@h;transport=tcp;lr"
    assert str(changed.without_param("TRANSPORT")) == "sip:bob@h;lr"
    assert str(uri) == "sip:bob@h;transport=udp"


BAD_URIS = [
    ("", "expected scheme"),
    ("alice@atlanta.com", "expected scheme"),
    ("sip:", "bad host"),
    ("sip:@atlanta.com", "bad user part"),
    ("sip:alice@", "bad host"),
    ("sip:alice@atlanta.com:99999", "above 65535"),
    ("sip:alice@atlanta.com:50x", "bad port"),
    ("sip:alice@atlanta.com:", "bad port"),
    ("sip:alice@[::zz]", "bad IPv6"),
    ("sip:alice@[::1", "bad IPv6"),
    ("sip:alice@999.1.1.1", "bad IPv4"),
    ("sip:alice@-bad-.com", "bad host"),
    ("sip:alice@atlanta.com;", "bad parameter"),
    ("sip:alice@atlanta.com;=x", "bad parameter"),
    ('sip:alice@atlanta.com;a="q"', "bad parameter"),
    ("sip:alice@atlanta.com?nothing", "bad headers"),
    ("sip:al ice@atlanta.com", "bad user part"),
    ("sip:alice@atlan ta.com", "bad host"),
    ("sip:a%zzb@atlanta.com", "bad user part"),
    ("sip:%ff@atlanta.com", "not UTF-8"),
    ("sip:alice:secretword@atlanta.com;transport=tcp", "password"),
    ("sip:+1-212-555-1212:1234@gateway.com;user=phone", "password"),
    ("tel:call-me", "bad tel URI"),
]


@pytest.mark.parametrize(("text", "message"), BAD_URIS)
def test_bad_uri_is_the_peers_fault_with_400(text: str, message: str) -> None:
    with pytest.raises(RemoteSipError) as caught:
        parse_uri(text)
    assert message in caught.value.reason
    assert caught.value.status_hint == 400


@pytest.mark.parametrize("text", ["mailto:alice@atlanta.com", "http://example.com/", "urn:x:y"])
def test_unknown_scheme_is_416(text: str) -> None:
    # RFC 3261 §21.4.17: 416 Unsupported URI Scheme.
    with pytest.raises(RemoteSipError) as caught:
        parse_uri(text)
    assert caught.value.status_hint == 416


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
# §25.1: the top label of a host name starts with a letter.
_top_label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_hosts = st.one_of(
    st.tuples(st.lists(_label, max_size=3), _top_label).map(lambda p: ".".join([*p[0], p[1]])),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{address}]"),
)
_param_names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
_param_values = st.none() | st.from_regex(r"[A-Za-z0-9\-_.!~*'()\[\]/:&+$]{1,10}", fullmatch=True)


@given(
    scheme=st.sampled_from(["sip", "sips"]),
    user=st.none() | st.text(st.characters(codec="utf-8"), min_size=1, max_size=20),
    host=_hosts,
    port=st.none() | st.integers(0, 65535),
    params=st.lists(st.tuples(_param_names, _param_values), max_size=3).map(tuple),
)
def test_any_uri_we_write_parses_back_to_itself(
    scheme: str,
    user: str | None,
    host: str,
    port: int | None,
    params: tuple[tuple[str, str | None], ...],
) -> None:
    uri = SipUri(scheme, user, host, port, params)
    assert parse_uri(str(uri)) == uri


# --- NameAddr (§20.10) ---------------------------------------------------------


def test_name_addr_forms() -> None:
    quoted = parse_name_addr('"Doe, John" <sip:john@example.com>;tag=1928301774')
    assert quoted.display_name == "Doe, John"
    assert quoted.uri == parse_uri("sip:john@example.com")
    assert quoted.tag == "1928301774"
    tokens = parse_name_addr("sipp <sip:sipp@127.0.0.1:5060>;tag=9151SIPpTag001")
    assert (tokens.display_name, tokens.tag) == ("sipp", "9151SIPpTag001")
    assert parse_name_addr("Mr  Bob Smith <sip:bob@h>").display_name == "Mr  Bob Smith"
    bare = parse_name_addr("<sip:service@127.0.0.1:58919>")
    assert (bare.display_name, bare.tag, bare.params) == (None, None, ())


def test_addr_spec_form_gives_trailing_params_to_the_header() -> None:
    # §20.10: without angle brackets, ";transport=udp;tag=x" are header params.
    value = parse_name_addr("sip:bob@biloxi.com;transport=udp;tag=x")
    assert value.uri == SipUri("sip", "bob", "biloxi.com")
    assert value.params == (("transport", "udp"), ("tag", "x"))
    assert value.tag == "x"
    assert parse_name_addr("sip:sipp@127.0.0.1:5060").uri.port == 5060


def test_uri_params_inside_brackets_stay_with_the_uri() -> None:
    value = parse_name_addr("<sip:bob@biloxi.com;transport=udp>;tag=x")
    assert value.uri.params == (("transport", "udp"),)
    assert value.params == (("tag", "x"),)


def test_quoted_display_name_escapes_and_quoted_param_values() -> None:
    value = parse_name_addr(
        '"The \\"Boss\\"" <sip:boss@h> ; +sip.instance="<urn:uuid:00000000-0000-1000>";expires=600'
    )
    assert value.display_name == 'The "Boss"'
    assert value.param("+sip.instance") == '"<urn:uuid:00000000-0000-1000>"'
    assert value.param("expires") == "600"
    assert str(value) == (
        '"The \\"Boss\\"" <sip:boss@h>;+sip.instance="<urn:uuid:00000000-0000-1000>";expires=600'
    )


def test_name_addr_writes_back_and_edits_its_tag() -> None:
    value = parse_name_addr("service <sip:service@127.0.0.1:33508>")
    assert str(value) == '"service" <sip:service@127.0.0.1:33508>'
    tagged = value.with_tag("abc")
    assert str(tagged) == '"service" <sip:service@127.0.0.1:33508>;tag=abc'
    assert parse_name_addr(str(tagged)) == tagged
    assert str(tagged.with_tag("def")) == '"service" <sip:service@127.0.0.1:33508>;tag=def'
    assert tagged.without_tag() == value


@pytest.mark.parametrize("name", ["From", "To", "Contact", "Record-Route"])
def test_every_golden_address_parses_and_survives_a_round_trip(name: str) -> None:
    values = [value for message in GOLDEN_MESSAGES for value in message.headers.get_all(name)]
    assert values or name == "Record-Route"
    for value in values:
        parsed = parse_name_addr(value)
        assert parse_name_addr(str(parsed)) == parsed


BAD_NAME_ADDRS = [
    ("*", "bad"),
    ('"unterminated <sip:a@b>', "unterminated"),
    ('"Bob" sip:bob@h', "'<' must follow"),
    ("<sip:bob@h", "without '>'"),
    ("<sip:bob@h> junk", "expected ';'"),
    ("<sip:bob@h>;=x", "parameter name expected"),
    ("<sip:bob@h>;tag=", "no value"),
    ('<sip:bob@h>;tag="x', "unterminated"),
    ("<mailto:bob@h>", "not supported"),
]


@pytest.mark.parametrize(("value", "message"), BAD_NAME_ADDRS)
def test_bad_name_addr_raises_remote_error(value: str, message: str) -> None:
    with pytest.raises(RemoteSipError) as caught:
        parse_name_addr(value)
    assert message in caught.value.reason


def test_display_name_scan_is_linear_on_hostile_input() -> None:
    # A nested repeat would backtrack exponentially on a long token run with no "<".
    with pytest.raises(RemoteSipError):
        parse_name_addr("a" * 50_000 + "!")


# --- Via (§20.42) --------------------------------------------------------------


def test_via_parts_from_baresip() -> None:
    via = parse_via("SIP/2.0/UDP 127.0.0.1:15091;branch=z9hG4bKa46530da080a851e;rport")
    assert via == Via(
        transport="UDP",
        host="127.0.0.1",
        port=15091,
        params=(("branch", "z9hG4bKa46530da080a851e"), ("rport", None)),
    )
    assert via.branch == "z9hG4bKa46530da080a851e"
    assert via.has_rport and via.rport is None
    assert via.received is None


def test_via_with_received_and_valued_rport() -> None:
    via = parse_via("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK74bf9;received=192.0.2.10;rport=5060")
    assert (via.received, via.rport, via.has_rport) == ("192.0.2.10", 5060, True)


def test_via_allows_linear_white_space_and_ipv6() -> None:
    via = parse_via("SIP / 2.0 / TCP [2001:db8::1] : 5060 ; branch = z9hG4bK1 ;ttl=16")
    assert (via.protocol, via.transport, via.host, via.port) == (
        "SIP/2.0",
        "TCP",
        "[2001:db8::1]",
        5060,
    )
    assert via.branch == "z9hG4bK1"
    assert str(via) == "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK1;ttl=16"


def test_every_golden_via_round_trips() -> None:
    values = [value for message in GOLDEN_MESSAGES for value in message.headers.get_all("Via")]
    assert len(values) >= 10
    for value in values:
        assert str(parse_via(value)) == value
        assert (parse_via(value).branch or "").startswith("z9hG4bK")


def test_with_received_follows_18_2_1_and_rfc_3581() -> None:
    plain = parse_via("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1")
    assert plain.with_received("192.0.2.1", 5060) == plain
    assert str(plain.with_received("198.51.100.9", 4000)) == (
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=198.51.100.9"
    )
    nat = parse_via("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK2;rport")
    assert str(nat.with_received("198.51.100.9", 40123)) == (
        "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK2;rport=40123;received=198.51.100.9"
    )
    # RFC 3581 §4: with rport, received is added even when the address matches.
    same = parse_via("SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bK3;rport")
    assert same.with_received("198.51.100.9", 5060).received == "198.51.100.9"


BAD_VIAS = [
    ("", "bad Via"),
    ("SIP/2.0/UDP", "bad Via"),
    ("SIP/2.0 127.0.0.1", "bad Via"),
    ("SIP/3.0/UDP 127.0.0.1", "not SIP/2.0"),
    ("SIP/2.0/UDP 127.0.0.1:70000", "above 65535"),
    ("SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1;", "parameter name expected"),
    ("SIP/2.0/UDP [::1;branch=x", "bad Via"),
]


@pytest.mark.parametrize(("value", "message"), BAD_VIAS)
def test_bad_via_raises_remote_error(value: str, message: str) -> None:
    with pytest.raises(RemoteSipError) as caught:
        parse_via(value)
    assert message in caught.value.reason


def test_values_are_frozen() -> None:
    uri = parse_uri("sip:a@b")
    with pytest.raises(AttributeError):
        uri.host = "c"  # type: ignore[misc]
    assert isinstance(parse_name_addr("<sip:a@b>"), NameAddr)
