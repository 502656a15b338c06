"""One operator's browser softphone: the server end of its WebRTC peer connection and the
plain-RTP gateway to the media leg of the call it is in (see the package docstring).

The connection stays up while the desktop page is open (like a registered phone), so
answering costs no ICE/DTLS set-up; between calls the browser hears silence and what it
sends is dropped.  During a call :meth:`BrowserPhone.attach` points the gateway at the
operator's media leg: the leg sends to :attr:`BrowserPhone.rtp_address`, we send to the
leg's local address, µ-law, 20 ms packets, our own SSRC.
"""

from __future__ import annotations

import asyncio
import fractions
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
import structlog
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from hotline.telephony.rtp.g711 import alaw_to_linear, linear_to_ulaw, ulaw_to_linear
from hotline.telephony.rtp.packet import build_rtp, parse_rtp
from hotline.telephony.webrtc.audio import FRAME_SAMPLES, SAMPLE_RATE, Framer, PlayoutBuffer

__all__ = ["BrowserPhone", "PhoneStats", "SoftphoneError"]

log = structlog.get_logger("hotline.softphone")

_PCMU: Final = 0
_PCMA: Final = 8
_FRAME_S: Final = FRAME_SAMPLES / SAMPLE_RATE
_TIME_BASE: Final = fractions.Fraction(1, SAMPLE_RATE)
#: codecs we accept from the browser, best first: PCMU needs no transcoding on the leg,
#: and the call is narrowband G.711 anyway; Opus is decoded and resampled to 8 kHz
_CODECS: Final = ("audio/PCMU", "audio/PCMA", "audio/opus")


def _rank(mime_type: str) -> int:
    return _CODECS.index(mime_type)


class SoftphoneError(Exception):
    """The browser's session description cannot be used (not an offer, no audio)."""


@dataclass(slots=True)
class PhoneStats:
    """Counters a person (and a test) can read to see audio flow both ways."""

    frames_from_browser: int = 0
    packets_to_leg: int = 0
    packets_from_leg: int = 0
    frames_to_browser: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "frames_from_browser": self.frames_from_browser,
            "packets_to_leg": self.packets_to_leg,
            "packets_from_leg": self.packets_from_leg,
            "frames_to_browser": self.frames_to_browser,
        }


class _LegAudio(MediaStreamTrack):
    """What the browser hears: the leg's audio from the playout buffer, paced every 20 ms
    by the track's own clock (aiortc pulls frames as fast as ``recv`` returns them)."""

    kind = "audio"

    def __init__(self, next_frame: Callable[[], npt.NDArray[np.int16]], stats: PhoneStats) -> None:
        super().__init__()
        self._next_frame = next_frame
        self._stats = stats
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / SAMPLE_RATE - now
            if wait > 0:
                await asyncio.sleep(wait)  # pacing in the adapter, as aiortc's own tracks do
            elif wait < -10 * _FRAME_S:
                # the loop stalled, or the track was off between calls: skip ahead to
                # now (RTP timestamps never go back; no burst of stale frames)
                elapsed = int((now - self._start) * SAMPLE_RATE)
                self._pts = elapsed // FRAME_SAMPLES * FRAME_SAMPLES
        samples = self._next_frame()
        if samples.any():
            self._stats.frames_to_browser += 1
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = _TIME_BASE
        return frame


class _RtpEndpoint(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._on_datagram(data, addr)


class BrowserPhone:
    """The server end of one browser's peer connection plus its RTP gateway."""

    def __init__(
        self,
        operator_id: int,
        rtp_host: str,
        on_closed: Callable[[BrowserPhone], None],
        *,
        auto_answer: bool = False,
    ) -> None:
        self.operator_id = operator_id
        #: answer offers at once (an operator on a headset, as Genesys' "auto answer")
        self.auto_answer = auto_answer
        self.stats = PhoneStats()
        self._rtp_host = rtp_host
        self._on_closed = on_closed
        self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._playout = PlayoutBuffer()
        self._to_browser = Framer()
        self._to_leg = Framer()
        self._track = _LegAudio(self._next_frame, self.stats)
        self._sender: RTCRtpSender | None = None
        # silent monitor: each leg's stream on its own cushion, mixed at playout
        self._sources: dict[tuple[str, int], tuple[Framer, PlayoutBuffer]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._leg: tuple[str, int] | None = None
        self._ssrc = secrets.randbits(32)
        self._seq = secrets.randbits(16)
        self._timestamp = secrets.randbits(32)
        self._marker = True
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_state)

    @property
    def connection_state(self) -> str:
        return str(self._pc.connectionState)

    @property
    def rtp_address(self) -> tuple[str, int]:
        """Where the operator's media leg sends RTP (the gateway's socket)."""
        if self._transport is None:
            raise SoftphoneError("the softphone is not started")
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    @property
    def in_call(self) -> bool:
        return self._leg is not None

    async def start(self, offer_sdp: str) -> str:
        """Answer the browser's offer (complete ICE candidates, no trickle); return our
        answer SDP."""
        if "m=audio" not in offer_sdp:
            raise SoftphoneError("the offer has no audio (m=audio) section")
        if "a=fingerprint:" not in offer_sdp:
            # RFC 8827 §6.5: WebRTC media is DTLS-SRTP, keyed by the fingerprint
            raise SoftphoneError("the offer has no DTLS fingerprint (a=fingerprint)")
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _RtpEndpoint(self._from_leg), local_addr=(self._rtp_host, 0)
        )
        # Our transceiver exists before the offer is applied: aiortc negotiates codecs
        # while applying it, in the order of the transceiver's preferences (a browser
        # listing Opus first still gets PCMU first in our answer, and sends PCMU)
        audio = self._pc.addTransceiver("audio", direction="sendrecv")
        codecs = RTCRtpSender.getCapabilities("audio").codecs
        audio.setCodecPreferences(
            sorted((c for c in codecs if c.mimeType in _CODECS), key=lambda c: _rank(c.mimeType))
        )
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        except Exception as exc:  # aiortc's parser raises whatever the text trips on
            raise SoftphoneError(f"unusable offer: {type(exc).__name__}: {exc}") from exc
        if audio.mid is None:
            raise SoftphoneError("the offer has no audio section we can answer")
        self._sender = self._pc.addTrack(self._track)
        try:
            await self._pc.setLocalDescription(await self._pc.createAnswer())
        except Exception as exc:  # aiortc's negotiation errors are plain exceptions
            raise SoftphoneError(f"cannot answer the offer: {type(exc).__name__}: {exc}") from exc
        self._sending(False)  # idle until a call: no frames to encode and encrypt
        description = self._pc.localDescription
        return str(description.sdp)

    @property
    def listening(self) -> bool:
        return bool(self._sources)

    def _sending(self, on: bool) -> None:
        """Between calls the browser gets no RTP at all (aiortc would encode, encrypt
        and send 50 silent frames a second: most of an idle phone's cost, bench
        ``softphone_load``); ICE consent checks and RTCP keep the connection up."""
        if self._sender is not None:
            self._sender.replaceTrack(self._track if on else None)

    def attach(self, leg: tuple[str, int]) -> None:
        """Start exchanging audio with the media leg listening at ``leg``."""
        self._sources = {}
        self._leg = leg
        self._marker = True
        self._playout.clear()
        self._to_leg = Framer()
        self._sending(True)

    def detach(self) -> None:
        self._leg = None
        self._playout.clear()
        self._sending(False)

    def listen(self, sources: list[tuple[str, int]]) -> None:
        """Silent monitor: play the mix of what these legs' taps send (both parties of a
        call); what the browser sends goes nowhere."""
        self._leg = None
        self._sources = {source: (Framer(), PlayoutBuffer()) for source in sources}
        self._sending(True)

    def stop_listening(self) -> None:
        self._sources = {}
        self._sending(False)

    def _next_frame(self) -> npt.NDArray[np.int16]:
        if not self._sources:
            return self._playout.pop()
        mix = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        for _, buffer in self._sources.values():
            mix += buffer.pop()
        return np.clip(mix, -32768, 32767).astype(np.int16)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._leg = None
        self._track.stop()
        await self._pc.close()
        if self._transport is not None:
            self._transport.close()
        for task in list(self._tasks):
            task.cancel()
        self._on_closed(self)

    # -- browser -> leg ------------------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind != "audio":
            return
        task = asyncio.get_running_loop().create_task(self._pump_from_browser(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump_from_browser(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                continue
            self.stats.frames_from_browser += 1
            if self._leg is None:
                continue  # between calls (or listening): nobody to hear it, skip the work
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                for chunk in self._to_leg.push(samples):
                    self._send_to_leg(chunk)

    def _send_to_leg(self, chunk: npt.NDArray[np.int16]) -> None:
        # the RTP clock runs between calls too, so the leg sees one continuous stream
        self._seq = (self._seq + 1) & 0xFFFF
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        if self._leg is None or self._transport is None:
            return
        packet = build_rtp(
            _PCMU, self._seq, self._timestamp, self._ssrc, linear_to_ulaw(chunk),
            marker=self._marker,
        )  # fmt: skip
        self._marker = False
        self._transport.sendto(packet, self._leg)
        self.stats.packets_to_leg += 1

    # -- leg -> browser ------------------------------------------------------------------------

    def _from_leg(self, data: bytes, source: tuple[str, int]) -> None:
        # only the attached leg (or the monitored ones) may talk to this browser
        if self._leg is not None and source[:2] == self._leg:
            framer, buffer = self._to_browser, self._playout
        else:
            entry = self._sources.get(source[:2])
            if entry is None:
                return
            framer, buffer = entry
        packet = parse_rtp(data)
        if packet is None:
            return
        if packet.payload_type == _PCMU:
            samples = ulaw_to_linear(packet.payload)
        elif packet.payload_type == _PCMA:
            samples = alaw_to_linear(packet.payload)
        else:
            return  # telephone-event and comfort noise: nothing to play
        self.stats.packets_from_leg += 1
        for frame in framer.push(samples):
            buffer.push(frame)

    # -- lifetime ------------------------------------------------------------------------------

    async def _on_state(self) -> None:
        state = self._pc.connectionState
        log.info("softphone.connection", operator_id=self.operator_id, state=state)
        if state in ("failed", "closed"):
            await self.close()
