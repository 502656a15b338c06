"""SIP and tel URIs, name-addr values and Via values (RFC 3261 §19.1, §20.10, §20.42).

Values, not strings: the dialog layer reads a peer's Contact as a
:class:`SipUri`, its From as a :class:`NameAddr` and its top Via as a
:class:`Via`, and writes each back with ``str()``.

Theory of operation:

Rule 1. Parsing follows the ABNF of RFC 3261 §25.1 and raises
:class:`RemoteSipError` (400, or 416 for a scheme we do not speak, §21.4.17)
on anything else: what comes in here came off the wire.

Rule 2. Parsing normalises only what the RFC says carries no meaning: the
scheme is lower-cased and the user part is unescaped (``%61lice`` is
``alice``, §19.1.4). Hosts, parameters and URI headers stay as written, so
``str(parse_uri(text))`` gives back ``text`` for any URI without escapes in
its user part.

Rule 3. A host keeps the grammar's spelling: an IPv6 reference keeps its
brackets (``[::1]``, §25.1 IPv6reference); :attr:`SipUri.bare_host` drops
them for a socket.

Rule 4. Header parameters (``;tag=``, ``;branch=``, ``;expires=``) keep their
values raw, quotes included, so writing them back cannot change them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Final, TypeAlias
from urllib.parse import quote, unquote

from hotline.telephony.sip.errors import RemoteSipError

__all__ = [
    "NameAddr",
    "Param",
    "SipUri",
    "Via",
    "parse_name_addr",
    "parse_uri",
    "parse_via",
]

#: One ``;name=value`` parameter; ``value`` is ``None`` for a bare ``;lr``.
Param: TypeAlias = tuple[str, str | None]

# RFC 3261 §25.1 character classes.
_UNRESERVED: Final = r"A-Za-z0-9\-_.!~*'()"
_ESCAPED: Final = r"%[0-9A-Fa-f]{2}"
_TOKEN_CHARS: Final = r"A-Za-z0-9\-.!%*_+`'~"  # noqa: S105 (a character class)
# user = 1*( unreserved / escaped / user-unreserved )
_USER_RE: Final = re.compile(rf"(?:[{_UNRESERVED}&=+$,;?/]|{_ESCAPED})+")
_USER_SAFE: Final = "-_.!~*'()&=+$,;?/"
# paramchar = param-unreserved / unreserved / escaped
_PARAMCHAR: Final = rf"(?:[{_UNRESERVED}\[\]/:&+$]|{_ESCAPED})"
_URI_PARAM_RE: Final = re.compile(rf"({_PARAMCHAR}+)(?:=({_PARAMCHAR}+))?")
# headers = "?" header *( "&" header ); header = hname "=" hvalue
_HCHAR: Final = rf"(?:[{_UNRESERVED}\[\]/?:+$]|{_ESCAPED})"
_URI_HEADERS_RE: Final = re.compile(rf"{_HCHAR}+={_HCHAR}*(?:&{_HCHAR}+={_HCHAR}*)*")
_SCHEME_RE: Final = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
# domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum; "_" is not
# in the ABNF but appears in real host names, so we let it through.
_LABEL_RE: Final = re.compile(r"[A-Za-z0-9_\-]+")
# RFC 3966 §3: the digits of a tel URI, with visual separators.
_TEL_NUMBER_RE: Final = re.compile(r"\+?[0-9A-Fa-f*#\-.()]+")
_TOKEN_RE: Final = re.compile(rf"[{_TOKEN_CHARS}]+")
# gen-value = token / host / quoted-string (the host adds ":" "[" "]" for IPv6).
_GEN_VALUE_RE: Final = re.compile(rf"[{_TOKEN_CHARS}:\[\]]+")
# A display name in token form: *(token LWS), then the "<" of the name-addr
# (one flat class: a nested repeat would backtrack exponentially).
_DISPLAY_TOKENS_RE: Final = re.compile(rf"([{_TOKEN_CHARS} \t]*)<")
# via-parm = sent-protocol LWS sent-by; sent-protocol = name SLASH version SLASH transport
_VIA_RE: Final = re.compile(
    rf"([{_TOKEN_CHARS}]+)[ \t]*/[ \t]*([{_TOKEN_CHARS}]+)[ \t]*/[ \t]*([{_TOKEN_CHARS}]+)"
    r"[ \t]+(\[[^\]]*\]|[^;:\s\[]+)(?:[ \t]*:[ \t]*([0-9]+))?"
)
_MAX_PORT: Final = 65535


@dataclass(frozen=True, slots=True)
class SipUri:
    """A ``sip:``, ``sips:`` or ``tel:`` URI (RFC 3261 §19.1.1, RFC 3966).

    ``user`` is unescaped (``None`` if the URI has no user part); ``host``
    keeps IPv6 brackets; ``params`` are the ``;name=value`` URI parameters in
    order; ``headers`` is the raw text after ``?`` (``""`` if none). For a
    ``tel:`` URI the number is in ``user`` and ``host`` is ``""``. Passwords
    (``user:password@``) are refused: §19.1.1 says NOT RECOMMENDED and a URI
    that carries one is not ours to pass on.
    """

    scheme: str
    user: str | None
    host: str
    port: int | None = None
    params: tuple[Param, ...] = ()
    headers: str = ""

    def __str__(self) -> str:
        params = _write_params(self.params)
        if self.scheme == "tel":
            return f"tel:{self.user or ''}{params}"
        user = f"{quote(self.user, safe=_USER_SAFE)}@" if self.user is not None else ""
        port = f":{self.port}" if self.port is not None else ""
        headers = f"?{self.headers}" if self.headers else ""
        return f"{self.scheme}:{user}{self.host}{port}{params}{headers}"

    @property
    def bare_host(self) -> str:
        """The host as a socket wants it: an IPv6 reference without its brackets."""
        return self.host[1:-1] if self.host.startswith("[") else self.host

    @property
    def transport(self) -> str | None:
        """The ``transport`` URI parameter, lower-cased (§19.1.1), or ``None``."""
        value = self.param("transport")
        return value.lower() if value is not None else None

    def has_param(self, name: str) -> bool:
        """Whether the URI has parameter ``name`` (names compare case-insensitively)."""
        return _find_param(self.params, name) is not None

    def param(self, name: str) -> str | None:
        """The value of URI parameter ``name``; ``None`` if absent or valueless (``;lr``)."""
        found = _find_param(self.params, name)
        return found[1] if found is not None else None

    def with_param(self, name: str, value: str | None = None) -> SipUri:
        """A copy with parameter ``name`` set to ``value`` (replaced in place, else appended)."""
        return replace(self, params=_set_param(self.params, name, value))

    def without_param(self, name: str) -> SipUri:
        """A copy without parameter ``name``."""
        return replace(self, params=_drop_param(self.params, name))


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From, To, Contact, Route or Record-Route value (RFC 3261 §20.10).

    ``display_name`` is unquoted (``None`` if absent); ``params`` are the header
    parameters after the URI (``tag``, ``expires``, ``q``...), values raw.
    ``str()`` always writes the ``<...>`` form, which is valid everywhere.
    """

    display_name: str | None
    uri: SipUri
    params: tuple[Param, ...] = ()

    def __str__(self) -> str:
        display = f"{quote_string(self.display_name)} " if self.display_name is not None else ""
        return f"{display}<{self.uri}>{_write_params(self.params)}"

    @property
    def tag(self) -> str | None:
        """The ``tag`` parameter (§19.3), ``None`` if there is none."""
        return self.param("tag")

    def param(self, name: str) -> str | None:
        """The raw value of header parameter ``name``; ``None`` if absent or valueless."""
        found = _find_param(self.params, name)
        return found[1] if found is not None else None

    def with_tag(self, tag: str) -> NameAddr:
        """A copy whose ``tag`` parameter is ``tag``: how a UAS tags the To (§8.2.6.2)."""
        return replace(self, params=_set_param(self.params, "tag", tag))

    def without_tag(self) -> NameAddr:
        """A copy without a ``tag``: the dialog's local or remote URI (§12.1.1)."""
        return replace(self, params=_drop_param(self.params, "tag"))


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value (RFC 3261 §20.42): transport, sent-by and parameters.

    ``transport`` is as written (``UDP``, ``TCP``, ``TLS``...); ``host`` keeps
    IPv6 brackets; ``params`` keeps ``branch``, ``received``, ``rport`` and the
    rest in order, values raw.
    """

    transport: str
    host: str
    port: int | None = None
    params: tuple[Param, ...] = ()
    protocol: str = "SIP/2.0"

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.protocol}/{self.transport} {self.host}{port}{_write_params(self.params)}"

    @property
    def branch(self) -> str | None:
        """The ``branch`` parameter: the transaction id when it starts ``z9hG4bK`` (§8.1.1.7)."""
        return self.param("branch")

    @property
    def received(self) -> str | None:
        """The ``received`` parameter a server added (§18.2.1), or ``None``."""
        return self.param("received")

    @property
    def has_rport(self) -> bool:
        """Whether the client asked for or got ``rport`` (RFC 3581 §3), valued or not."""
        return _find_param(self.params, "rport") is not None

    @property
    def rport(self) -> int | None:
        """The port a server wrote into ``rport`` (RFC 3581 §4); ``None`` if bare or absent."""
        value = self.param("rport")
        return int(value) if value is not None and value.isdigit() else None

    def param(self, name: str) -> str | None:
        """The raw value of Via parameter ``name``; ``None`` if absent or valueless."""
        found = _find_param(self.params, name)
        return found[1] if found is not None else None

    def with_param(self, name: str, value: str | None = None) -> Via:
        """A copy with parameter ``name`` set to ``value`` (replaced in place, else appended)."""
        return replace(self, params=_set_param(self.params, name, value))

    def with_received(self, source_host: str, source_port: int) -> Via:
        """The Via as a server stamps it on receipt (§18.2.1, RFC 3581 §4).

        ``received`` is added when the packet's source address differs from
        sent-by, or always when the client sent ``rport``; a bare ``rport``
        is filled with the source port, so the response goes back through
        the client's NAT binding.
        """
        via = self
        host = _bare(self.host)
        if self.has_rport or host != source_host:
            via = via.with_param("received", source_host)
        if self.has_rport and self.rport is None:
            via = via.with_param("rport", str(source_port))
        return via


def parse_uri(text: str) -> SipUri:
    """Parse a SIP, SIPS or tel URI; raise :class:`RemoteSipError` on anything else.

    Another scheme (``mailto:``, ``urn:``) gets status hint 416 (Unsupported
    URI Scheme, §21.4.17); garbage gets 400.
    """
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME_RE.fullmatch(scheme):
        raise RemoteSipError(f"bad URI {text[:60]!r}: expected scheme ':' ... (RFC 3261 §19.1)")
    scheme = scheme.lower()
    if scheme == "tel":
        return _parse_tel(text, rest)
    if scheme not in ("sip", "sips"):
        raise RemoteSipError(
            f"URI scheme {scheme!r} is not supported: use sip, sips or tel", status_hint=416
        )
    user: str | None = None
    at = rest.find("@")
    if at >= 0:
        user = _parse_user(text, rest[:at])
        rest = rest[at + 1 :]
    rest, _, headers = rest.partition("?")
    hostport, semicolon, params_text = rest.partition(";")
    host, port = _parse_hostport(hostport, what=f"URI {text[:60]!r}")
    params = _parse_uri_params(params_text, text) if semicolon else ()
    if headers and not _URI_HEADERS_RE.fullmatch(headers):
        raise RemoteSipError(f"bad headers in URI {text[:60]!r} (RFC 3261 §19.1.1)")
    return SipUri(scheme, user, host, port, params, headers)


def parse_name_addr(value: str) -> NameAddr:
    """Parse a From, To, Contact or (Record-)Route value in either form of §20.10.

    ``"Bob" <sip:bob@h>;tag=x``, ``Bob <sip:bob@h>`` and the addr-spec form
    ``sip:bob@h;tag=x`` all work. In the addr-spec form every ``;`` parameter
    after the URI belongs to the header, not the URI (§20.10), which is why a
    URI with parameters must be written in angle brackets. A Contact of ``*``
    is not a name-addr; REGISTER handling checks for it first.
    """
    text = value.strip(" \t")
    display: str | None = None
    if text.startswith('"'):
        display, end = read_quoted(text, 0, what="display name")
        rest = text[end:].lstrip(" \t")
        if not rest.startswith("<"):
            raise RemoteSipError(f"bad name-addr {value[:60]!r}: '<' must follow the display name")
        text = rest
    elif (match := _DISPLAY_TOKENS_RE.match(text)) is not None:
        display = match[1].strip(" \t") or None
        text = text[match.end() - 1 :]
    if text.startswith("<"):
        close = text.find(">")
        if close < 0:
            raise RemoteSipError(f"bad name-addr {value[:60]!r}: '<' without '>' (§20.10)")
        uri = parse_uri(text[1:close].strip(" \t"))
        params = _parse_header_params(text[close + 1 :], what=f"name-addr {value[:60]!r}")
        return NameAddr(display, uri, params)
    # addr-spec form (§20.10): the URI ends at the first ";".
    uri_text, semicolon, params_text = text.partition(";")
    params = _parse_header_params(semicolon + params_text, what=f"name-addr {value[:60]!r}")
    # RFC 4475 §3.1.1.1 (wsinv): linear white space may come before the ";" (SEMI = SWS)
    return NameAddr(None, parse_uri(uri_text.rstrip(" \t")), params)


def parse_via(value: str) -> Via:
    """Parse one Via value such as ``SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport``.

    One value, as ``Headers.get_all("Via")`` returns them; the protocol must
    be SIP/2.0 (§8.2.2, anything else gets 400 as we cannot answer it).
    """
    text = value.strip(" \t")
    match = _VIA_RE.match(text)
    if match is None:
        raise RemoteSipError(
            f"bad Via {value[:60]!r}: expected SIP/2.0/transport host[:port] (RFC 3261 §20.42)"
        )
    name, version, transport, host_text, port_text = match.groups()
    protocol = f"{name}/{version}"
    if protocol.upper() != "SIP/2.0":
        raise RemoteSipError(f"Via protocol {protocol!r} is not SIP/2.0")
    host, port = _parse_hostport(
        host_text if port_text is None else f"{host_text}:{port_text}", what=f"Via {value[:60]!r}"
    )
    params = _parse_header_params(text[match.end() :], what=f"Via {value[:60]!r}")
    return Via(transport, host, port, params, protocol)


def _parse_user(text: str, userinfo: str) -> str:
    if ":" in userinfo:
        raise RemoteSipError(
            f"URI {text[:60]!r} carries a password: not supported (RFC 3261 §19.1.1)"
        )
    if not _USER_RE.fullmatch(userinfo):
        raise RemoteSipError(f"bad user part in URI {text[:60]!r} (RFC 3261 §25.1)")
    try:
        return unquote(userinfo, errors="strict")
    except UnicodeDecodeError:
        raise RemoteSipError(
            f"user part of URI {text[:60]!r} is not UTF-8 once unescaped"
        ) from None


def _parse_tel(text: str, rest: str) -> SipUri:
    number, semicolon, params_text = rest.partition(";")
    if not _TEL_NUMBER_RE.fullmatch(number):
        raise RemoteSipError(f"bad tel URI {text[:60]!r}: expected a number (RFC 3966 §3)")
    params = _parse_uri_params(params_text, text) if semicolon else ()
    return SipUri("tel", number, "", None, params)


def _parse_hostport(text: str, *, what: str) -> tuple[str, int | None]:
    if text.startswith("["):
        close = text.find("]")
        host, port_text = text[: close + 1], text[close + 1 :]
        try:
            ipaddress.IPv6Address(host[1:-1] if close > 0 else text)
        except ValueError:
            raise RemoteSipError(f"bad IPv6 reference {text[:50]!r} in {what}") from None
    else:
        host, colon, digits = text.partition(":")
        port_text = colon + digits
        if not _is_hostname(host):
            raise RemoteSipError(f"bad host {host[:50]!r} in {what} (RFC 3261 §25.1)")
        if re.fullmatch(r"[0-9.]+", host):
            try:
                ipaddress.IPv4Address(host)
            except ValueError:
                raise RemoteSipError(f"bad IPv4 address {host!r} in {what}") from None
    if not port_text:
        return host, None
    if not port_text.startswith(":") or not port_text[1:].isascii() or not port_text[1:].isdigit():
        raise RemoteSipError(f"bad port {port_text[:20]!r} in {what}")
    port = int(port_text[1:])
    if port > _MAX_PORT:
        raise RemoteSipError(f"port {port} in {what} is above {_MAX_PORT}")
    return host, port


def _parse_uri_params(text: str, uri: str) -> tuple[Param, ...]:
    params: list[Param] = []
    for part in text.split(";"):
        match = _URI_PARAM_RE.fullmatch(part)
        if match is None:
            raise RemoteSipError(f"bad parameter {part[:30]!r} in URI {uri[:60]!r} (§19.1.1)")
        params.append((match[1], match[2]))
    return tuple(params)


def _parse_header_params(text: str, *, what: str) -> tuple[Param, ...]:
    # *( SEMI generic-param ), SEMI = SWS ";" SWS, EQUAL = SWS "=" SWS (§25.1).
    params: list[Param] = []
    pos, end = 0, len(text)
    while True:
        pos = _skip_ws(text, pos)
        if pos == end:
            return tuple(params)
        if text[pos] != ";":
            raise RemoteSipError(f"bad {what}: expected ';' at {text[pos : pos + 20]!r}")
        pos = _skip_ws(text, pos + 1)
        name = _TOKEN_RE.match(text, pos)
        if name is None:
            raise RemoteSipError(f"bad {what}: parameter name expected at {text[pos:][:20]!r}")
        pos = _skip_ws(text, name.end())
        value: str | None = None
        if pos < end and text[pos] == "=":
            pos = _skip_ws(text, pos + 1)
            if text.startswith('"', pos):
                _, value_end = read_quoted(text, pos, what=f"{what} parameter")
                value, pos = text[pos:value_end], value_end
            else:
                match = _GEN_VALUE_RE.match(text, pos)
                if match is None:
                    raise RemoteSipError(f"bad {what}: no value for parameter {name[0]!r}")
                value, pos = match[0], match.end()
        params.append((name[0], value))


def read_quoted(text: str, start: int, *, what: str) -> tuple[str, int]:
    """Read the quoted-string starting at ``text[start]`` (a ``"``), RFC 3261 §25.1.

    Returns the unescaped content and the index just past the closing quote;
    raises :class:`RemoteSipError` naming ``what`` if it never closes. Shared
    with the Digest parser, whose quoting is the same (RFC 2617 §1.2).
    """
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
        elif char == '"':
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise RemoteSipError(f"unterminated quoted string in {what}: {text[start : start + 40]!r}")


def quote_string(text: str) -> str:
    """Write ``text`` as a quoted-string, escaping ``\\`` and ``"`` (RFC 3261 §25.1)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _is_hostname(host: str) -> bool:
    # hostname = *( domainlabel "." ) toplabel [ "." ] (§25.1)
    labels = (host[:-1] if host.endswith(".") else host).split(".")
    return all(
        _LABEL_RE.fullmatch(label) and label[0] != "-" and label[-1] != "-" for label in labels
    )


def _bare(host: str) -> str:
    return host[1:-1] if host.startswith("[") else host


def _write_params(params: tuple[Param, ...]) -> str:
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params)


def _find_param(params: tuple[Param, ...], name: str) -> Param | None:
    key = name.lower()
    return next((param for param in params if param[0].lower() == key), None)


def _set_param(params: tuple[Param, ...], name: str, value: str | None) -> tuple[Param, ...]:
    key = name.lower()
    if _find_param(params, name) is None:
        return (*params, (name, value))
    return tuple((n, value) if n.lower() == key else (n, v) for n, v in params)


def _drop_param(params: tuple[Param, ...], name: str) -> tuple[Param, ...]:
    key = name.lower()
    return tuple(param for param in params if param[0].lower() != key)
