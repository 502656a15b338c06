"""The registrar's bindings (RFC 3261 §10.3) and the B2BUA's pure request checks."""

from __future__ import annotations

import pytest

from hotline.telephony.registrar import (
    DEFAULT_EXPIRES,
    MAX_EXPIRES,
    Binding,
    Registrar,
    granted_expires,
)
from hotline.telephony.sip.errors import RemoteSipError
from hotline.telephony.sip.message import SipRequest, parse
from hotline.telephony.uas import phone_address, refusal, via_readable

SOURCE = ("192.0.2.10", 5062)


def register(
    registrar: Registrar,
    contacts: list[tuple[str, int]],
    *,
    now: float,
    cseq: int = 1,
    call_id: str = "reg-1",
    remove_all: bool = False,
) -> list[Binding]:
    return registrar.update(
        "anna", contacts, remove_all=remove_all, call_id=call_id, cseq=cseq,
        source=SOURCE, transport="udp", now=now,
    )  # fmt: skip


def test_given_a_registration_then_lookup_finds_it_until_it_expires() -> None:
    registrar = Registrar()
    bindings = register(registrar, [("sip:anna@192.0.2.10:5062", 300)], now=1000.0)
    assert [b.contact for b in bindings] == ["sip:anna@192.0.2.10:5062"]
    assert bindings[0].expires_at == 1300.0
    assert registrar.next_deadline() == 1300.0
    assert registrar.lookup("anna", 1299.0)
    assert registrar.lookup("anna", 1300.0) == []  # expired at its time, not after
    registrar.expire(1300.0)
    assert len(registrar) == 0
    assert registrar.lookup("nobody", 0.0) == []


def test_given_expires_zero_or_star_then_bindings_are_removed() -> None:
    registrar = Registrar()
    register(registrar, [("sip:a@h", 300), ("sip:b@h", 300)], now=0.0)
    assert len(register(registrar, [("sip:a@h", 0)], now=1.0, cseq=2)) == 1
    assert register(registrar, [], now=2.0, cseq=3, remove_all=True) == []
    assert len(registrar) == 0


def test_given_an_older_cseq_of_the_same_call_id_then_it_is_ignored() -> None:
    registrar = Registrar()
    register(registrar, [("sip:a@h", 300)], now=0.0, cseq=5)
    # §10.3 step 7: a delayed REGISTER (lower CSeq) must not undo a newer one
    after = register(registrar, [("sip:a@h", 0)], now=1.0, cseq=4)
    assert [b.contact for b in after] == ["sip:a@h"]


def test_given_a_refreshed_binding_then_its_old_expiry_does_not_remove_it() -> None:
    registrar = Registrar()
    register(registrar, [("sip:a@h", 100)], now=0.0, cseq=1)
    register(registrar, [("sip:a@h", 100)], now=90.0, cseq=2)
    registrar.expire(100.0)  # the first registration's deadline
    assert [b.expires_at for b in registrar.lookup("anna", 100.0)] == [190.0]


def test_granted_expires() -> None:
    assert granted_expires(None) == DEFAULT_EXPIRES
    assert granted_expires(10**6) == MAX_EXPIRES
    assert granted_expires(600) == 600


@pytest.mark.parametrize(
    ("contact", "source", "transport", "expected"),
    [
        ("sip:anna@192.0.2.10:5080", ("192.0.2.10", 5062), "udp", ("192.0.2.10", 5080)),
        ("sip:anna@10.0.0.5:5060", ("203.0.113.7", 40123), "udp", ("203.0.113.7", 40123)),
        ("sip:anna@192.0.2.10", ("192.0.2.10", 5062), "udp", ("192.0.2.10", 5060)),
        ("sip:anna@192.0.2.10:5080", ("192.0.2.10", 5062), "tcp", ("192.0.2.10", 5062)),
    ],
    ids=["same-host-other-port", "behind-nat", "default-port", "tcp-connection"],
)
def test_phone_address_follows_the_contact_unless_nat_rewrote_it(
    contact: str, source: tuple[str, int], transport: str, expected: tuple[str, int]
) -> None:
    binding = Binding("anna", contact, source, transport, 100.0, "c", 1)
    assert phone_address(binding) == expected


def _request(first_line: str, *extra: str) -> SipRequest:
    text = "\r\n".join(
        [
            first_line,
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1",
            "From: <sip:a@192.0.2.1>;tag=1",
            "To: <sip:b@192.0.2.2>",
            "Call-ID: c1",
            f"CSeq: 1 {first_line.split()[0]}",
            *extra,
            "Content-Length: 0",
            "",
            "",
        ]
    )
    message = parse(text.encode())
    assert isinstance(message, SipRequest)
    return message


def test_uas_checks_of_section_8_2() -> None:
    assert refusal(_request("OPTIONS sip:b@192.0.2.2 SIP/2.0")) is None
    assert refusal(_request("FOO sip:b@192.0.2.2 SIP/2.0"))[0] == 501  # type: ignore[index]
    assert refusal(_request("OPTIONS isbn:1234 SIP/2.0"))[0] == 416  # type: ignore[index]
    required = refusal(_request("OPTIONS sip:b@192.0.2.2 SIP/2.0", "Require: foo"))
    assert required == (420, (("Unsupported", "foo"),))
    # ACK and CANCEL never fail on Require (§8.2.2.3)
    assert refusal(_request("CANCEL sip:b@192.0.2.2 SIP/2.0", "Require: foo")) is None
    with pytest.raises(RemoteSipError):
        refusal(_request("OPTIONS <sip:b@192.0.2.2> SIP/2.0"))


@pytest.mark.parametrize(
    ("via", "readable"),
    [
        ("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1;rport", True),
        ("SIP/2.0/TCP host.example.com;branch=z9hG4bK-x@y", True),  # lenient on branch
        ("SIP / 2.0 / UDP 192.0.2.1", True),
        ("SIP/2.0/UDP 192.0.2.15;;", False),
        ("SIP/2.0/UDP 192.0.2.15;", False),
        ("", False),
        ("HTTP/1.1 192.0.2.1", False),
    ],
)
def test_via_readable(via: str, readable: bool) -> None:
    assert via_readable(via) is readable
