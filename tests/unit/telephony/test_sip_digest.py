"""Digest authentication: the RFCs' worked examples, client/server round trips, verdicts."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.sip import (
    Challenge,
    Credentials,
    DigestVerdict,
    LocalSipError,
    RemoteSipError,
    authorization,
    ha1,
    make_challenge,
    parse_challenge,
    parse_credentials,
    verify,
)

SECRET = b"k" * 32
REALM = "hotline.example"
NOW = 1_700_000_000.0
PASSWORD = "s3cret"

# --- RFC 2617 §3.5 ------------------------------------------------------------

RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int",'
    ' nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
RFC2617_AUTHORIZATION = (
    'Digest username="Mufasa", realm="testrealm@host.com",'
    ' nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth,'
    ' nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1",'
    ' opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def test_rfc2617_example_parses() -> None:
    challenge = parse_challenge(RFC2617_CHALLENGE)
    assert challenge == Challenge(
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        algorithm="MD5",
        qop=("auth", "auth-int"),
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
        stale=False,
    )
    assert parse_credentials(RFC2617_AUTHORIZATION) == Credentials(
        username="Mufasa",
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        uri="/dir/index.html",
        response="6629fae49393a05397450978507c4ef1",
        algorithm="MD5",
        cnonce="0a4f113b",
        nc="00000001",
        qop="auth",
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
    )


def test_rfc2617_example_client_computes_the_published_response() -> None:
    value = authorization(
        parse_challenge(RFC2617_CHALLENGE),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
        nc=1,
    )
    credentials = parse_credentials(value)
    assert credentials.response == "6629fae49393a05397450978507c4ef1"
    assert (credentials.qop, credentials.nc, credentials.cnonce) == ("auth", "00000001", "0a4f113b")
    assert credentials.opaque == "5ccc069c403ebaf9f0171e9517f40e41"


def test_ha1_is_h_of_user_realm_password() -> None:
    expected = hashlib.md5(
        b"Mufasa:testrealm@host.com:Circle Of Life", usedforsecurity=False
    ).hexdigest()
    assert ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == expected
    sha = hashlib.sha256(b"Mufasa:http-auth@example.org:Circle of Life").hexdigest()
    assert ha1("Mufasa", "http-auth@example.org", "Circle of Life", "SHA-256") == sha
    with pytest.raises(LocalSipError, match="MD5 or SHA-256"):
        ha1("a", "b", "c", "SHA-512")


# --- RFC 7616 §3.9.1 ------------------------------------------------------------

RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, response: str) -> None:
    challenge = parse_challenge(
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm},'
        f' nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
    )
    assert challenge.qop == ("auth", "auth-int")
    value = authorization(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce=RFC7616_CNONCE,
        nc=1,
    )
    credentials = parse_credentials(value)
    assert credentials.response == response
    assert credentials.algorithm == algorithm


# --- our server: stateless nonces and verdicts -------------------------------------


def answer(
    challenge_value: str,
    *,
    password: str = PASSWORD,
    username: str = "op7",
    method: str = "REGISTER",
    uri: str = "sip:hotline.example",
) -> Credentials:
    value = authorization(
        parse_challenge(challenge_value),
        method=method,
        uri=uri,
        username=username,
        password=password,
        cnonce="c0ffee",
        nc=1,
    )
    return parse_credentials(value)


def check(
    credentials: Credentials,
    *,
    now: float = NOW + 10,
    secret: bytes = SECRET,
    algorithm: str = "MD5",
    realm: str = REALM,
    password: str = PASSWORD,
) -> DigestVerdict:
    return verify(
        credentials,
        method="REGISTER",
        ha1=ha1(credentials.username, REALM, password, algorithm),
        realm=realm,
        now=now,
        secret=secret,
    )


def test_make_challenge_layout() -> None:
    value = make_challenge(REALM, now=NOW, secret=SECRET)
    assert re.fullmatch(
        r'Digest realm="hotline\.example", nonce="[0-9a-f]+\.[0-9a-f]{32}",'
        r' algorithm=MD5, qop="auth"',
        value,
    )
    challenge = parse_challenge(value)
    assert challenge.nonce.startswith(f"{int(NOW):x}.")
    assert challenge.qop == ("auth",)
    assert not challenge.stale
    stale = parse_challenge(make_challenge(REALM, now=NOW, secret=SECRET, stale=True))
    assert stale.stale
    # The same second, realm and secret give the same nonce: nothing random inside.
    assert make_challenge(REALM, now=NOW, secret=SECRET) == value
    with pytest.raises(LocalSipError):
        make_challenge(REALM, now=NOW, secret=SECRET, algorithm="SHA-1")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_round_trip_client_to_server_is_ok(algorithm: str) -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET, algorithm=algorithm))
    assert check(credentials, algorithm=algorithm) is DigestVerdict.OK


def test_round_trip_on_another_node_with_the_same_secret() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    assert check(credentials, secret=bytes(SECRET)) is DigestVerdict.OK


def test_old_nonce_with_a_good_response_is_stale() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    assert check(credentials, now=NOW + 300) is DigestVerdict.OK
    assert check(credentials, now=NOW + 301) is DigestVerdict.STALE
    # A nonce from the future (a node whose clock runs ahead) is no fresher.
    assert check(credentials, now=NOW - 301) is DigestVerdict.STALE


def test_wrong_password_is_wrong_even_with_an_old_nonce() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET), password="guess")
    assert check(credentials) is DigestVerdict.WRONG
    assert check(credentials, now=NOW + 1000) is DigestVerdict.WRONG


def test_nonce_we_did_not_issue_is_bad() -> None:
    forged = answer(make_challenge(REALM, now=NOW, secret=b"other secret"))
    assert check(forged) is DigestVerdict.BAD_NONCE
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    stamp, mac = credentials.nonce.split(".")
    # Moving the time stamp forward breaks the MAC: a nonce cannot be renewed.
    renewed = replace(credentials, nonce=f"{int(stamp, 16) + 999:x}.{mac}")
    assert check(renewed) is DigestVerdict.BAD_NONCE
    garbage = replace(credentials, nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")
    assert check(garbage) is DigestVerdict.BAD_NONCE


def test_nonce_for_another_realm_is_bad() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    assert check(credentials, realm="other.example") is DigestVerdict.BAD_NONCE


def test_answer_in_another_algorithm_than_the_stored_ha1_is_challenged_again() -> None:
    sha = answer(make_challenge(REALM, now=NOW, secret=SECRET, algorithm="SHA-256"))
    assert check(sha, algorithm="MD5") is DigestVerdict.BAD_NONCE
    odd = replace(sha, algorithm="SHA-512-256")
    assert check(odd) is DigestVerdict.BAD_NONCE


def test_qop_other_than_auth_is_wrong_and_rfc2069_answer_is_accepted() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    assert check(replace(credentials, qop="auth-int")) is DigestVerdict.WRONG
    # A client that ignores qop answers the RFC 2069 way (RFC 2617 §3.2.2.1).
    challenge = parse_challenge(make_challenge(REALM, now=NOW, secret=SECRET))
    old_style = Challenge(realm=challenge.realm, nonce=challenge.nonce)
    value = authorization(
        old_style,
        method="REGISTER",
        uri="sip:hotline.example",
        username="op7",
        password="s3cret",
        cnonce="unused",
        nc=1,
    )
    assert "qop" not in value and "cnonce" not in value and "nc=" not in value
    assert check(parse_credentials(value)) is DigestVerdict.OK


def test_response_in_upper_case_hex_is_accepted() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    upper = replace(credentials, response=credentials.response.upper())
    assert check(upper) is DigestVerdict.OK


def test_non_ascii_response_is_wrong_not_a_crash() -> None:
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    assert check(replace(credentials, response="é" * 32)) is DigestVerdict.WRONG


def test_sess_variant_round_trips() -> None:
    challenge = parse_challenge(make_challenge(REALM, now=NOW, secret=SECRET, algorithm="MD5-sess"))
    assert challenge.algorithm == "MD5-sess"
    value = authorization(
        challenge,
        method="REGISTER",
        uri="sip:h",
        username="op7",
        password="s3cret",
        cnonce="abc",
        nc=3,
    )
    credentials = parse_credentials(value)
    assert credentials.nc == "00000003"
    assert check(credentials) is DigestVerdict.OK


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real: Callable[[bytes, bytes], bool] = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    credentials = answer(make_challenge(REALM, now=NOW, secret=SECRET))
    assert check(credentials) is DigestVerdict.OK
    # One for the nonce's MAC, one for the response.
    assert len(calls) == 2
    assert (credentials.response.encode(), credentials.response.encode()) in calls


@given(
    username=st.text(st.characters(codec="utf-8"), min_size=1, max_size=20),
    password=st.text(st.characters(codec="utf-8"), max_size=20),
    algorithm=st.sampled_from(["MD5", "SHA-256"]),
)
def test_any_username_and_password_round_trip(username: str, password: str, algorithm: str) -> None:
    credentials = answer(
        make_challenge(REALM, now=NOW, secret=SECRET, algorithm=algorithm),
        username=username,
        password=password,
    )
    assert credentials.username == username
    verdict = verify(
        credentials,
        method="REGISTER",
        ha1=ha1(username, REALM, password, algorithm),
        realm=REALM,
        now=NOW,
        secret=SECRET,
    )
    assert verdict is DigestVerdict.OK


# --- malformed input -------------------------------------------------------------

GOOD = 'Digest username="a", realm="r", nonce="n", uri="sip:h", response="00"'
BAD_CREDENTIALS = [
    ("", "is not Digest"),
    ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "is not Digest"),
    ('Digest realm="r", nonce="n", uri="sip:h", response="00"', "lacks username"),
    ('Digest username="a", realm="r"', "lacks nonce, uri, response"),
    (GOOD + ", qop=auth", "qop but no cnonce or nc"),
    (GOOD + ', qop=auth, cnonce="c", nc=1', "not 8 hex digits"),
    (GOOD + ', username="b"', "appears twice"),
    ('Digest username="a', "unterminated"),
    ("Digest username", "'=' expected"),
    ("Digest username=", "no value"),
    ('Digest username="a" realm="r"', "',' expected"),
    ('Digest =x, username="a"', "parameter name expected"),
]


@pytest.mark.parametrize(("value", "message"), BAD_CREDENTIALS)
def test_malformed_credentials_are_400(value: str, message: str) -> None:
    with pytest.raises(RemoteSipError) as caught:
        parse_credentials(value)
    assert message in caught.value.reason
    assert caught.value.status_hint == 400


def test_credentials_parsing_is_lenient_about_spacing_and_case() -> None:
    value = (
        'digest  USERNAME = "a" ,realm="r",, nonce="n\\"q",uri=sip:h,'
        ' response="00", Algorithm=sha-256'
    )
    credentials = parse_credentials(value)
    assert (credentials.username, credentials.nonce, credentials.uri) == ("a", 'n"q', "sip:h")
    assert credentials.algorithm == "sha-256"


def test_challenge_needs_realm_and_nonce() -> None:
    with pytest.raises(RemoteSipError, match="lacks nonce"):
        parse_challenge('Digest realm="r"')


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('Digest realm="r", nonce="n", qop="auth-int"', "offers no 'auth'"),
        ('Digest realm="r", nonce="n", algorithm=SHA-512', "not supported"),
    ],
)
def test_challenge_we_cannot_answer(value: str, message: str) -> None:
    with pytest.raises(RemoteSipError, match=message):
        authorization(
            parse_challenge(value),
            method="REGISTER",
            uri="sip:h",
            username="u",
            password="p",
            cnonce="c",
            nc=1,
        )


def test_client_quotes_what_needs_quoting() -> None:
    value = authorization(
        Challenge(realm='we "quote"', nonce="n", qop=("auth",)),
        method="REGISTER",
        uri="sip:h",
        username='back\\slash "user"',
        password="p",
        cnonce="c",
        nc=0x1F,
    )
    credentials = parse_credentials(value)
    assert credentials.username == 'back\\slash "user"'
    assert credentials.realm == 'we "quote"'
    assert credentials.nc == "0000001f"
    with pytest.raises(LocalSipError, match="nc must be"):
        authorization(
            Challenge(realm="r", nonce="n"),
            method="M",
            uri="u",
            username="u",
            password="p",
            cnonce="c",
            nc=0,
        )
