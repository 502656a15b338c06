"""Calls out through a trunk (pure): where a trunk's ``outbound_uri`` sends our INVITEs,
and which numbers may be dialled.

Why IP hosts only: the transaction layer sends to addresses, and a DNS lookup (RFC 3263
NAPTR/SRV) on the call path would block or need its own resolver; carriers give SIP trunk
customers an IP (and trust ours), so that is what ``hotline trunk add --outbound`` takes.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

from hotline.telephony.sip.errors import RemoteSipError
from hotline.telephony.sip.uri import parse_uri

__all__ = ["OutboundRoute", "dialable_number", "parse_outbound_uri"]

#: E.164 (at most 15 digits after "+") plus room for a carrier prefix and extensions;
#: * and # for feature codes
_NUMBER: Final = re.compile(r"\+?[0-9*#]{2,32}")


@dataclass(frozen=True, slots=True)
class OutboundRoute:
    host: str
    port: int
    transport: str  # "udp" or "tcp"

    def request_uri(self, number: str) -> str:
        """The Request-URI of a call to ``number`` through this trunk (RFC 3261 §19.1.1:
        the number is the user part, ``user=phone`` since it is a telephone number)."""
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{number}@{self.host}:{self.port};user=phone{suffix}"


def parse_outbound_uri(text: str) -> OutboundRoute:
    """``sip:HOST[:PORT][;transport=udp|tcp]`` with an IP host; ``ValueError`` says what
    is wrong."""
    try:
        uri = parse_uri(text.strip())
    except RemoteSipError as exc:
        raise ValueError(f"{text!r} is not a SIP URI ({exc.reason})") from None
    if uri.scheme != "sip":
        raise ValueError(f"{text!r}: use a sip: URI (sips/TLS is not supported here)")
    if uri.user is not None:
        raise ValueError(f"{text!r}: give the carrier's address only, without a user part")
    host = uri.host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{text!r}: the host must be an IP address, not a name") from None
    params = {name.lower(): (value or "").lower() for name, value in uri.params}
    transport = params.get("transport", "udp")
    if transport not in ("udp", "tcp"):
        raise ValueError(f"{text!r}: transport must be udp or tcp, not {transport!r}")
    return OutboundRoute(host=host, port=uri.port or 5060, transport=transport)


def dialable_number(text: str) -> str:
    """The number as dialled (spaces, dashes and brackets removed), or ``ValueError``."""
    number = re.sub(r"[\s\-().]", "", text)
    if not _NUMBER.fullmatch(number):
        raise ValueError(
            f"{text!r} is not a telephone number: digits (2 to 32), an optional leading + "
            "and * or #"
        )
    return number
