"""Standard Reason-Phrases of SIP status codes (RFC 3261 §21 and extensions).

A Reason-Phrase is for humans only (§7.2); peers act on the code. These are
the phrases a response gets when its builder names none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["REASON_PHRASES"]

REASON_PHRASES: Final[Mapping[int, str]] = {
    # §21.1 Provisional 1xx
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    # §21.2 Successful 2xx
    200: "OK",
    202: "Accepted",  # RFC 3265 §3.3.1 (obsoleted by RFC 6665, still sent)
    # §21.3 Redirection 3xx
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    # §21.4 Request Failure 4xx
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",  # RFC 4028 §6
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",  # RFC 6665 §8.3.1
    491: "Request Pending",
    493: "Undecipherable",
    # §21.5 Server Failure 5xx
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    # §21.6 Global Failures 6xx
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}
