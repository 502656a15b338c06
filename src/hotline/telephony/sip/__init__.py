"""SIP, sans-I/O (RFC 3261): messages as values, parsed from and written to bytes.

What is here takes bytes and returns values (and back); it never opens a
socket, reads a clock or draws a random number, so every rule can be tested
with plain data. Transactions (§17), dialogs (§12) and digest authentication
will join it; the asyncio shells live in ``hotline.telephony``.
"""

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError, SipError
from hotline.telephony.sip.framing import StreamFramer
from hotline.telephony.sip.headers import COMPACT_FORMS, HeaderField, Headers, header_key
from hotline.telephony.sip.message import (
    SIP_VERSION,
    CSeq,
    SipMessage,
    SipRequest,
    SipResponse,
    build_response,
    parse,
    parse_cseq,
    response_to_malformed,
    serialize,
    stateless_to_tag,
)
from hotline.telephony.sip.status import REASON_PHRASES

__all__ = [
    "COMPACT_FORMS",
    "REASON_PHRASES",
    "SIP_VERSION",
    "CSeq",
    "HeaderField",
    "Headers",
    "LocalSipError",
    "RemoteSipError",
    "SipError",
    "SipMessage",
    "SipRequest",
    "SipResponse",
    "StreamFramer",
    "build_response",
    "header_key",
    "parse",
    "parse_cseq",
    "response_to_malformed",
    "serialize",
    "stateless_to_tag",
]
