"""Pure checks and small decisions of the B2BUA's UAS side: which requests to refuse and
how (RFC 3261 §8.2), where a registered phone is reached, what an INFO digit says.

No sockets, no state: each function takes a message or a binding and returns a value.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Final

from hotline.telephony.registrar import Binding
from hotline.telephony.sip.errors import RemoteSipError
from hotline.telephony.sip.message import SipRequest
from hotline.telephony.sip.transaction import Address
from hotline.telephony.sip.uri import parse_uri

__all__ = [
    "ALLOW",
    "address_matches",
    "http_date",
    "info_digit",
    "int_or_none",
    "phone_address",
    "quote",
    "refusal",
    "via_readable",
]

ALLOW: Final = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO"

#: RFC 3261 §20.17: Allow-Events absent; we answer INFO only for DTMF (RFC 6086 legacy
#: "application/dtmf-relay" bodies, which phones still send when RFC 4733 is off).
_DTMF_RELAY: Final = "application/dtmf-relay"


def phone_address(binding: Binding) -> Address:
    """Where to send a request for a registered phone.

    A phone whose Contact names the address its REGISTER came from is reachable at its
    Contact (another process on the same host may take the calls: a different port).  A
    Contact naming another address is behind NAT (a private address we cannot reach):
    we answer the source address the registration came from, over the same transport —
    what Kamailio's ``fix_nated_register`` does, and RFC 5626 formalises.
    """
    if binding.transport == "tcp":
        return binding.source
    try:
        contact = parse_uri(binding.contact)
    except RemoteSipError:
        return binding.source
    if contact.bare_host == binding.source[0]:
        return (contact.bare_host, contact.port or 5060)
    return binding.source


def address_matches(host: str, pattern: str) -> bool:
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        return host == pattern


def int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 10 else None


def info_digit(request: SipRequest) -> str | None:
    if (request.headers.get("Content-Type") or "").split(";")[0].strip().lower() != _DTMF_RELAY:
        return None
    for line in request.body.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition("=")
        if name.strip().lower() == "signal":
            digit = value.strip().upper()
            if len(digit) == 1 and digit in "0123456789*#ABCD":
                return digit
    return None


def quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def http_date(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


#: RFC 3261 §8.2.1: methods we know but do not take here get 405; anything else is not
#: implemented (501).  The list is the methods of RFC 3261 and its common extensions.
_KNOWN_METHODS: Final = frozenset(
    {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "INFO", "PRACK", "SUBSCRIBE",
     "NOTIFY", "UPDATE", "MESSAGE", "REFER", "PUBLISH"}
)  # fmt: skip
_SCHEMES: Final = frozenset({"sip", "sips", "tel"})
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")  # RFC 3261 §25.1


def refusal(request: SipRequest) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """The UAS checks of RFC 3261 §8.2.1–8.2.2, in the RFC's order; None when they pass."""
    if request.method not in _KNOWN_METHODS:
        return 501, (("Allow", ALLOW),)
    for value in request.headers.get_all("Via"):
        if not via_readable(value):  # RFC 4475 §3.1.2.1: a Via we cannot read is a 400
            raise RemoteSipError(f"bad Via {value[:60]!r}: empty value or parameter")
    scheme, colon, _ = request.uri.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise RemoteSipError(f"bad Request-URI {request.uri[:60]!r}")  # e.g. in <> (§25.1)
    if scheme.lower() not in _SCHEMES:
        return 416, ()  # §8.2.2.1: Unsupported URI Scheme
    parse_uri(request.uri)
    if request.method not in ("ACK", "CANCEL"):
        required = [v.strip() for v in request.headers.get_all("Require") if v.strip()]
        if required:
            # §8.2.2.3: we support no option tags, so every required one is unsupported
            return 420, (("Unsupported", ", ".join(required)),)
    return None


# sent-protocol SP sent-by (RFC 3261 §20.42), read leniently: peers put all kinds of
# characters in branch values, and the transaction layer only needs them as opaque keys
_VIA_SHAPE: Final = re.compile(r"SIP\s*/\s*2\.0\s*/\s*[A-Za-z0-9.!%*_+`'~-]+\s+[^\s;,]+", re.I)


def via_readable(value: str) -> bool:
    text = value.strip()
    compact = "".join(text.split())
    return bool(_VIA_SHAPE.match(text)) and ";;" not in compact and not compact.endswith(";")
