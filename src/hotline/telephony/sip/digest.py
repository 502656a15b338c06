"""HTTP Digest authentication for SIP (RFC 3261 §22; RFC 2617; RFC 7616).

Both sides: as a registrar and UAS we challenge operators' phones and check
their answers; as a client we answer a trunk's challenge when we register to
it. MD5 and SHA-256, ``qop=auth`` (and the ``-sess`` variants when a peer asks).

Theory of operation:

Rule 1. Nonces are stateless: ``<hex seconds>.<32 hex of HMAC-SHA256(secret,
"<hex seconds>:<realm>")>``. Any process holding ``secret`` can tell a nonce
it issued from a forged one, and how old it is, with nothing stored — so a
REGISTER can be challenged by one node and verified by another.

Rule 2. Nothing here reads a clock or draws a random number: the server
passes ``now`` and ``secret``, the client passes ``cnonce`` and ``nc``.

Rule 3. We store ``ha1`` — H(username:realm:password) — per operator, never
the password; :func:`verify` needs only that.

Rule 4. Secrets are compared with :func:`hmac.compare_digest`, in constant
time, so response timing tells an attacker nothing.

Rule 5. Nonce replay within ``max_age`` is not detected: there is no state to
remember which ``nc`` values were used. Keep ``max_age`` short (300 s).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from hotline.telephony.sip.errors import LocalSipError, RemoteSipError
from hotline.telephony.sip.uri import quote_string, read_quoted

__all__ = [
    "Challenge",
    "Credentials",
    "DigestVerdict",
    "authorization",
    "ha1",
    "make_challenge",
    "parse_challenge",
    "parse_credentials",
    "verify",
]


def _md5(data: bytes) -> str:
    # RFC 2617 / RFC 3261 §22.4 mandate MD5 here; it is protocol, not our choice.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# RFC 7616 §3.3: the algorithms we compute, by their base name.
_HASHES: Final[Mapping[str, Callable[[bytes], str]]] = {"MD5": _md5, "SHA-256": _sha256}
_HEX_LENGTH: Final[Mapping[str, int]] = {"MD5": 32, "SHA-256": 64}
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_NC_RE: Final = re.compile(r"[0-9A-Fa-f]{8}")
_NONCE_RE: Final = re.compile(r"([0-9a-f]{1,16})\.([0-9a-f]{32})")


class DigestVerdict(enum.Enum):
    """What :func:`verify` concluded, and what the server should answer."""

    #: The response is right and the nonce fresh: let the request through.
    OK = "ok"
    #: The response is right but the nonce too old: challenge again with
    #: ``stale=true`` (RFC 2617 §3.2.1), so the phone retries without asking
    #: its user.
    STALE = "stale"
    #: Not a nonce we issued for this realm, or an algorithm other than the
    #: stored ``ha1``'s: challenge again (401/407).
    BAD_NONCE = "bad_nonce"
    #: The response is wrong, i.e. the password: answer 403 (RFC 3261 §22.3
    #: allows it) rather than challenging forever.
    WRONG = "wrong"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An Authorization or Proxy-Authorization value (RFC 2617 §3.2.2), unquoted."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    cnonce: str | None = None
    #: The nonce count exactly as sent (8 hex digits): it enters the hash as text.
    nc: str | None = None
    qop: str | None = None
    opaque: str | None = None


@dataclass(frozen=True, slots=True)
class Challenge:
    """A WWW-Authenticate or Proxy-Authenticate value (RFC 2617 §3.2.1), unquoted."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    #: The qop options offered (``("auth",)``); empty for an RFC 2069 challenge.
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password) in hex: what we store per operator (RFC 2617 §3.2.2.2).

    ``algorithm`` is ``MD5`` or ``SHA-256`` (a ``-sess`` suffix is ignored:
    the session key is derived from this one per nonce).
    """
    return _hash(_base(algorithm))(f"{username}:{realm}:{password}".encode())


def make_challenge(
    realm: str,
    *,
    now: float,
    secret: bytes,
    stale: bool = False,
    algorithm: str = "MD5",
) -> str:
    """A WWW-Authenticate / Proxy-Authenticate value with a fresh stateless nonce (Rule 1).

    Always offers ``qop="auth"`` (RFC 7616 §3.3); ``stale=True`` when
    :func:`verify` said :attr:`DigestVerdict.STALE`.
    """
    _base(algorithm)
    if now < 0:
        raise LocalSipError(f"now must be seconds since the epoch, not {now}")
    stamp = f"{int(now):x}"
    parts = [
        f"realm={quote_string(realm)}",
        f'nonce="{stamp}.{_nonce_mac(secret, stamp, realm)}"',
        f"algorithm={algorithm}",
        'qop="auth"',
    ]
    if stale:
        parts.append("stale=true")
    return "Digest " + ", ".join(parts)


def parse_credentials(value: str) -> Credentials:
    """Parse an Authorization / Proxy-Authorization value; 400 if it is malformed.

    username, realm, nonce, uri and response are required; with ``qop``,
    ``cnonce`` and an 8-hex-digit ``nc`` are too (RFC 2617 §3.2.2).
    """
    params = _parse_digest(value, "Authorization")
    missing = [n for n in ("username", "realm", "nonce", "uri", "response") if n not in params]
    if missing:
        raise RemoteSipError(f"Authorization lacks {', '.join(missing)} (RFC 2617 §3.2.2)")
    qop = params.get("qop")
    nc = params.get("nc")
    if qop is not None and ("cnonce" not in params or nc is None):
        raise RemoteSipError("Authorization has qop but no cnonce or nc (RFC 2617 §3.2.2)")
    if nc is not None and not _NC_RE.fullmatch(nc):
        raise RemoteSipError(f"Authorization nc {nc[:20]!r} is not 8 hex digits (RFC 2617)")
    return Credentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"],
        algorithm=params.get("algorithm", "MD5"),
        cnonce=params.get("cnonce"),
        nc=nc,
        qop=qop,
        opaque=params.get("opaque"),
    )


def verify(
    credentials: Credentials,
    *,
    method: str,
    ha1: str,
    realm: str,
    now: float,
    secret: bytes,
    max_age: float = 300,
) -> DigestVerdict:
    """Check ``credentials`` for a request with ``method`` against the stored ``ha1``.

    ``ha1`` is the stored key of the algorithm we offered; an answer with
    another algorithm (its hash length differs from ``ha1``'s) gets BAD_NONCE,
    so the peer is challenged again rather than refused. A nonce older than
    ``max_age`` seconds gives STALE, never OK. We challenge with
    ``qop="auth"``, but a response without qop (RFC 2069, allowed by RFC 2617
    §3.2.2.1) is accepted: with stateless nonces it is no weaker. The
    digest-uri is not compared with the Request-URI (proxies rewrite it);
    the response hash covers it anyway.
    """
    if credentials.realm != realm:
        return DigestVerdict.BAD_NONCE
    stamp = _check_nonce(credentials.nonce, realm, secret)
    algorithm = credentials.algorithm.upper()
    if stamp is None or not _base(algorithm, strict=False):
        return DigestVerdict.BAD_NONCE
    if len(ha1) != _HEX_LENGTH[_base(algorithm)]:
        # The peer answered with another algorithm than the one our stored
        # ha1 is for (so not the one we offered): challenge again.
        return DigestVerdict.BAD_NONCE
    if credentials.qop is not None and credentials.qop.lower() != "auth":
        return DigestVerdict.WRONG
    expected = _response(
        algorithm,
        ha1.lower(),
        nonce=credentials.nonce,
        method=method,
        uri=credentials.uri,
        qop=credentials.qop,
        nc=credentials.nc,
        cnonce=credentials.cnonce,
    )
    if not hmac.compare_digest(expected.encode(), credentials.response.lower().encode()):
        return DigestVerdict.WRONG
    # A nonce from the future comes from a node whose clock runs ahead; treat
    # it like an old one rather than let it live longer than max_age.
    if abs(now - stamp) > max_age:
        return DigestVerdict.STALE
    return DigestVerdict.OK


def parse_challenge(value: str) -> Challenge:
    """Parse a WWW-Authenticate / Proxy-Authenticate value; 400 if malformed.

    realm and nonce are required (RFC 2617 §3.2.1).
    """
    params = _parse_digest(value, "challenge")
    missing = [name for name in ("realm", "nonce") if name not in params]
    if missing:
        raise RemoteSipError(f"Digest challenge lacks {', '.join(missing)} (RFC 2617 §3.2.1)")
    qop = tuple(option.strip().lower() for option in params.get("qop", "").split(","))
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        algorithm=params.get("algorithm", "MD5"),
        qop=tuple(option for option in qop if option),
        opaque=params.get("opaque"),
        stale=params.get("stale", "").lower() == "true",
    )


def authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nc: int,
) -> str:
    """The Authorization / Proxy-Authorization value that answers ``challenge``.

    ``uri`` is the Request-URI of the request being authorised (RFC 3261
    §22.4); ``cnonce`` a fresh random token and ``nc`` the count of requests
    made with this nonce, starting at 1. Chooses ``qop=auth`` when offered;
    an RFC 2069 challenge (no qop) gets an RFC 2069 answer. A challenge we
    cannot answer (only ``auth-int``, an unknown algorithm) raises
    :class:`RemoteSipError`.
    """
    algorithm = challenge.algorithm.upper()
    if not _base(algorithm, strict=False):
        raise RemoteSipError(f"Digest algorithm {challenge.algorithm!r} is not supported")
    qop: str | None = None
    if challenge.qop:
        if "auth" not in challenge.qop:
            raise RemoteSipError(f"Digest qop {','.join(challenge.qop)} offers no 'auth'")
        qop = "auth"
    if not 1 <= nc <= 0xFFFFFFFF:
        raise LocalSipError(f"nc must be 1..2**32-1, not {nc}")
    nc_text = f"{nc:08x}"
    response = _response(
        algorithm,
        ha1(username, challenge.realm, password, algorithm),
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce,
    )
    parts = [
        f"username={quote_string(username)}",
        f"realm={quote_string(challenge.realm)}",
        f"nonce={quote_string(challenge.nonce)}",
        f"uri={quote_string(uri)}",
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if qop is not None:
        parts += [f"cnonce={quote_string(cnonce)}", f"qop={qop}", f"nc={nc_text}"]
    if challenge.opaque is not None:
        parts.append(f"opaque={quote_string(challenge.opaque)}")
    return "Digest " + ", ".join(parts)


def _response(
    algorithm: str,
    ha1: str,
    *,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    nc: str | None,
    cnonce: str | None,
) -> str:
    # RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1: KD(secret, data) = H(secret:data).
    hash_ = _hash(_base(algorithm))
    if algorithm.endswith("-SESS"):
        # RFC 2617 §3.2.2.2: the session key binds the client nonce too.
        ha1 = hash_(f"{ha1}:{nonce}:{cnonce or ''}".encode())
    ha2 = hash_(f"{method}:{uri}".encode())
    if qop is None:
        return hash_(f"{ha1}:{nonce}:{ha2}".encode())
    return hash_(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())


def _nonce_mac(secret: bytes, stamp: str, realm: str) -> str:
    # The ":" keeps the stamp and the realm apart (no "1a"+"bc" = "1ab"+"c").
    return hmac.new(secret, f"{stamp}:{realm}".encode(), hashlib.sha256).hexdigest()[:32]


def _check_nonce(nonce: str, realm: str, secret: bytes) -> int | None:
    match = _NONCE_RE.fullmatch(nonce)
    if match is None:
        return None
    expected = _nonce_mac(secret, match[1], realm)
    if not hmac.compare_digest(expected.encode(), match[2].encode()):
        return None
    return int(match[1], 16)


def _base(algorithm: str, *, strict: bool = True) -> str:
    name = algorithm.upper().removesuffix("-SESS")
    if name in _HASHES:
        return name
    if strict:
        raise LocalSipError(f"Digest algorithm {algorithm!r}: use MD5 or SHA-256 (RFC 7616)")
    return ""


def _hash(base: str) -> Callable[[bytes], str]:
    return _HASHES[base]


def _parse_digest(value: str, what: str) -> dict[str, str]:
    # credentials / challenge = "Digest" LWS digest-param *(COMMA digest-param),
    # digest-param = token "=" ( token / quoted-string ) (RFC 2617 §1.2, §3.2).
    text = value.strip(" \t")
    scheme = text.split(None, 1)[0] if text else ""
    if scheme.lower() != "digest":
        raise RemoteSipError(f"{what} scheme {scheme[:20]!r} is not Digest (RFC 3261 §22.4)")
    params: dict[str, str] = {}
    pos, end = len(scheme), len(text)
    while True:
        while pos < end and text[pos] in " \t,":
            pos += 1
        if pos == end:
            return params
        name_match = _TOKEN_RE.match(text, pos)
        if name_match is None:
            raise RemoteSipError(f"bad {what}: parameter name expected at {text[pos:][:20]!r}")
        name = name_match[0].lower()
        pos = name_match.end()
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos == end or text[pos] != "=":
            raise RemoteSipError(f"bad {what}: '=' expected after {name!r}")
        pos += 1
        while pos < end and text[pos] in " \t":
            pos += 1
        if text.startswith('"', pos):
            param_value, pos = read_quoted(text, pos, what=what)
        else:
            stop = pos
            while stop < end and text[stop] not in " \t,":
                stop += 1
            param_value, pos = text[pos:stop], stop
            if not param_value:
                raise RemoteSipError(f"bad {what}: no value for {name!r}")
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos < end and text[pos] != ",":
            raise RemoteSipError(f"bad {what}: ',' expected after {name!r}")
        if name in params:
            raise RemoteSipError(f"bad {what}: {name!r} appears twice")
        params[name] = param_value
