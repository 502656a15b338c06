"""The softphone gateway's answer to real WebRTC offers (aiortc's, in this process; no
server, no connection): which codec it picks, and what it refuses with a reason."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender

from hotline.telephony.webrtc.phone import BrowserPhone, SoftphoneError


async def browser_offer(first: str | None = None, only: str | None = None) -> str:
    """An offer as a browser makes it: sendrecv audio, the codecs in ``first``-first order
    (default: aiortc's own, Opus first, like Chrome), or ``only`` one codec."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    transceiver = pc.addTransceiver("audio", direction="sendrecv")
    codecs = RTCRtpSender.getCapabilities("audio").codecs
    if only is not None:
        transceiver.setCodecPreferences([c for c in codecs if c.mimeType == only])
    elif first is not None:
        transceiver.setCodecPreferences(sorted(codecs, key=lambda c: c.mimeType != first))
    await pc.setLocalDescription(await pc.createOffer())
    sdp = str(pc.localDescription.sdp)
    await pc.close()
    return sdp


def answered_codecs(sdp: str) -> list[str]:
    return [name.upper() for name in re.findall(r"a=rtpmap:\d+ ([A-Za-z0-9]+)/", sdp)]


async def answer(offer: str) -> str:
    closed: list[BrowserPhone] = []
    phone = BrowserPhone(7, "127.0.0.1", closed.append)
    try:
        return await phone.start(offer)
    finally:
        await phone.close()
        assert closed == [phone]  # the registry hears of every phone that goes


@pytest.mark.parametrize("first", [None, "audio/opus", "audio/PCMU"])
async def test_given_an_offer_with_pcmu_then_the_answer_puts_pcmu_first(first: str | None) -> None:
    # whatever order the browser lists them in (a browser sends the answer's first codec):
    # G.711 needs no transcoding on the leg; nothing but our three codecs is answered
    assert answered_codecs(await answer(await browser_offer(first))) == ["PCMU", "PCMA", "OPUS"]


@pytest.mark.parametrize(("only", "expected"), [("audio/PCMA", "PCMA"), ("audio/opus", "OPUS")])
async def test_given_an_offer_without_pcmu_then_the_next_best_is_taken(
    only: str, expected: str
) -> None:
    assert answered_codecs(await answer(await browser_offer(only=only))) == [expected]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda sdp: sdp.replace("m=audio", "m=video"), "no audio"),
        (
            lambda sdp: re.sub(r"a=rtpmap:\d+ (PCMU|PCMA|opus)/[^\r\n]*\r\n", "", sdp),
            "unusable offer",
        ),
        (lambda sdp: re.sub(r"a=fingerprint:[^\r\n]*\r\n", "", sdp), "no DTLS fingerprint"),
        (lambda sdp: re.sub(r"a=ice-ufrag:[^\r\n]*\r\n", "", sdp), "ICE username"),
        (lambda sdp: sdp.replace("a=setup:actpass", "a=setup:bogus"), "unusable offer"),
    ],
)
async def test_given_an_unusable_offer_then_softphone_error_says_why(
    mutate: Callable[[str], str], reason: str
) -> None:
    offer = mutate(await browser_offer())
    with pytest.raises(SoftphoneError, match=reason):
        await answer(offer)
