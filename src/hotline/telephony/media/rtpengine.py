"""The rtpengine media backend: Sipwise rtpengine (10.5, user space) over its ng protocol.

Each leg is its own rtpengine call (``<prefix>-<leg id>``) with two monologues: ``peer``
(the phone) and ``hotline``, an inner side pointed at a bridged partner's inner port or
on hold.  ``open_leg`` offers from ``hotline`` (the reply names the port the peer sends
to), ``connect`` answers with the peer's SDP, ``bridge`` re-offers both inner sides at
each other; prompts are ``play media`` to ``peer``, digits come from ``--dtmf-log-dest``,
recordings from ``--recording-method=pcap`` (``rtpengine_files``).  The why and what
10.5 lacks: ``telephony/README.md``, "The rtpengine backend".

Commands are queued per leg so they reach the daemon in the order call control made
them, although :meth:`connect` and friends are synchronous (the protocol's contract).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import structlog

from hotline.telephony.media import ng
from hotline.telephony.media import rtpengine_messages as messages
from hotline.telephony.media.base import (
    LocalMedia,
    MediaError,
    MediaListener,
    RecordingResult,
    RemoteMedia,
)
from hotline.telephony.media.ng_client import DtmfEvent, DtmfEventReceiver, NgClient
from hotline.telephony.media.rtpengine_files import (
    discard_pcap,
    newest_pcap,
    prepare_prompts,
    write_recording,
)
from hotline.telephony.media.rtpengine_messages import HOTLINE_TAG, INNER_DTMF_PT, PEER_TAG
from hotline.telephony.rtp.dtmf import digit_for_event

__all__ = ["RtpengineMedia"]

#: ``play media`` answers with the file's duration; the last frame leaves a little later.
_PLAYBACK_MARGIN_S: Final = 0.06
#: music on hold: rtpengine 10.5 has no "forever", so repeat a day's worth
_LOOP_REPEATS: Final = 100_000


@dataclass
class _Leg:
    leg_id: str
    call_id: str
    local: LocalMedia
    inner: tuple[str, int] | None = None
    #: where the inner side points (the partner's inner port), ``None``: hold
    target: tuple[str, int] | None = None
    #: telephone-event payload type offered on the inner side (the peer's, once known)
    dtmf_pt: int | None = INNER_DTMF_PT
    remote: RemoteMedia | None = None
    partner: str | None = None
    tail: asyncio.Future[None] | None = None
    playback_timer: asyncio.TimerHandle | None = None
    #: counts play / stop / bridge: a playback whose prompt was still being prepared
    #: when a later one of these came must not start
    plays: int = 0
    closed: bool = False


@dataclass
class _Recording:
    path: Path
    started: float
    #: per channel: the rtpengine call-id and the peer-facing port its voice arrives at
    channels: list[tuple[str, int]]
    legs: list[_Leg] = field(default_factory=list)


class RtpengineMedia:
    """:class:`~hotline.telephony.media.base.MediaBackend` over rtpengine's ng protocol."""

    def __init__(
        self,
        client: NgClient,
        listener: MediaListener,
        *,
        recording_dir: Path | None,
        cache_dir: Path,
        symmetric: bool = True,
        media_host: str | None = None,
        log: Any = None,
    ) -> None:
        self._client = client
        #: the daemon's media address for our SDP; rtpengine answers an offer whose other
        #: side is on hold (0.0.0.0) with 0.0.0.0 as well, so it cannot tell us
        self._media_host = media_host or client.address[0]
        #: send to where the peer's packets come from (NAT), not where its SDP says;
        #: off for peers that send from another port than they receive on (SIPp -mp)
        self._symmetric = symmetric
        self._listener = listener
        self._recording_dir = recording_dir
        self._cache_dir = cache_dir
        self._log = log or structlog.get_logger("hotline.media.rtpengine")
        self._prefix = secrets.token_hex(3)
        self._legs: dict[str, _Leg] = {}
        self._by_call: dict[str, str] = {}
        self._recordings: dict[str, _Recording] = {}
        self._consumed_pcaps: set[str] = set()
        self._playback_ids = itertools.count(1)
        self._dtmf: DtmfEventReceiver | None = None

    @classmethod
    async def start(
        cls,
        ng_address: tuple[str, int],
        listener: MediaListener,
        *,
        dtmf_address: tuple[str, int] | None,
        recording_dir: Path | None,
        cache_dir: Path,
        symmetric: bool = True,
        media_host: str | None = None,
        reply_timeout: float = 0.5,
        attempts: int = 4,
        log: Any = None,
    ) -> RtpengineMedia:
        """Connect (a ``ping`` must be answered) and listen for DTMF events."""
        client = await NgClient.open(ng_address, reply_timeout=reply_timeout, attempts=attempts)
        media = cls(
            client,
            listener,
            recording_dir=recording_dir,
            cache_dir=cache_dir,
            symmetric=symmetric,
            media_host=media_host,
            log=log,
        )
        try:
            await client.request("ping", {})
            if dtmf_address is not None:
                media._dtmf = await DtmfEventReceiver.open(dtmf_address, media._on_dtmf_event)
        except (MediaError, ng.NgError) as exc:
            client.close()
            raise MediaError(str(exc)) from exc
        return media

    # -- MediaBackend ---------------------------------------------------------------

    async def open_leg(self, leg_id: str) -> LocalMedia:
        if leg_id in self._legs:
            raise MediaError(f"leg {leg_id!r} is already open")
        call_id = f"{self._prefix}-{leg_id}"
        reply = await self._request("offer", messages.offer(call_id, None, INNER_DTMF_PT))
        host, port = messages.audio_address(reply, "offer", leg_id)
        if ipaddress.ip_address(host).is_unspecified:
            host = self._media_host
        self._legs[leg_id] = _Leg(leg_id, call_id, LocalMedia(host, port))
        self._by_call[call_id] = leg_id
        return LocalMedia(host, port)

    def connect(self, leg_id: str, remote: RemoteMedia) -> None:
        leg = self._leg(leg_id)
        leg.remote = remote
        self._queue([leg], "connect", lambda: self._answer(leg))

    async def play(self, leg_id: str, prompts: Sequence[Path], *, loop: bool = False) -> int:
        leg = self._leg(leg_id)
        if not prompts:
            raise MediaError(f"leg {leg_id!r}: nothing to play")
        if leg.partner is not None:
            raise MediaError(f"leg {leg_id!r} is bridged to {leg.partner}: unbridge it first")
        leg.plays += 1
        generation = leg.plays
        prepared = await asyncio.to_thread(prepare_prompts, tuple(prompts), self._cache_dir)
        playback_id = next(self._playback_ids)

        async def start() -> None:
            if generation != leg.plays or leg.partner is not None or leg.closed:
                return  # replaced, stopped or bridged while its prompt was prepared
            self._cancel_timer(leg)
            params: dict[str, object] = {
                "call-id": leg.call_id,
                "from-tag": PEER_TAG,
                "file": str(prepared),
            }
            if loop:
                params["repeat-times"] = _LOOP_REPEATS
            reply = await self._request("play media", params)
            duration = reply.get("duration")
            if not loop and isinstance(duration, int) and not leg.closed:
                leg.playback_timer = asyncio.get_running_loop().call_later(
                    duration / 1000 + _PLAYBACK_MARGIN_S, self._finished, leg, playback_id
                )

        await self._queue([leg], "play", start)
        return playback_id

    def stop_playback(self, leg_id: str) -> None:
        leg = self._legs.get(leg_id)
        if leg is not None:
            leg.plays += 1
            self._cancel_timer(leg)
            self._queue([leg], "stop_playback", lambda: self._stop_media(leg))

    def bridge(self, leg_a: str, leg_b: str) -> None:
        a, b = self._leg(leg_a), self._leg(leg_b)
        if a is b:
            raise MediaError(f"leg {leg_a!r} cannot be bridged to itself")
        for leg, other in ((a, b), (b, a)):
            if leg.partner is not None and leg.partner != other.leg_id:
                raise MediaError(f"leg {leg.leg_id!r} is bridged to {leg.partner}")
        for leg in (a, b):
            leg.plays += 1
            self._cancel_timer(leg)
        a.partner, b.partner = b.leg_id, a.leg_id

        async def join() -> None:
            await asyncio.gather(self._stop_media(a), self._stop_media(b))
            if a.inner is None or b.inner is None:
                raise MediaError(f"bridge {a.leg_id!r}–{b.leg_id!r}: a leg is not connected")
            await asyncio.gather(self._point(a, b.inner), self._point(b, a.inner))

        self._queue([a, b], "bridge", join)

    def tap(self, leg_id: str, destinations: Sequence[tuple[str, int]]) -> None:
        """Not with rtpengine 10.5 yet: its media forking ("subscribe request") makes a
        new call leg per listener, which this backend does not drive."""
        self._leg(leg_id)
        if destinations:
            raise MediaError("silent monitor needs the in-process media backend (not rtpengine)")

    def unbridge(self, leg_id: str) -> None:
        leg = self._legs.get(leg_id)
        if leg is None or leg.partner is None:
            return
        pair = [leg]
        other = self._legs.get(leg.partner)
        if other is not None:
            other.partner = None
            pair.append(other)
        leg.partner = None

        async def split() -> None:
            await asyncio.gather(*(self._point(item, None) for item in pair))

        self._queue(pair, "unbridge", split)

    def start_recording(self, key: str, path: Path, left: str, right: str | None) -> None:
        if self._recording_dir is None:
            raise MediaError("rtpengine recording needs HOTLINE_RTPENGINE_RECORDING_DIR")
        if key in self._recordings:
            raise MediaError(f"recording {key!r} is already running")
        legs = [self._leg(left)] + ([self._leg(right)] if right is not None else [])
        recording = _Recording(
            path,
            time.time(),
            [(leg.call_id, leg.local.port) for leg in legs],
            legs,
        )
        self._recordings[key] = recording
        for leg in legs:
            self._queue(
                [leg],
                "start_recording",
                functools.partial(self._request, "start recording", {"call-id": leg.call_id}),
            )

    async def stop_recording(self, key: str) -> RecordingResult:
        recording = self._recordings.pop(key, None)
        if recording is None:
            raise MediaError(f"no recording {key!r}")
        stopped = time.time()
        waits: list[asyncio.Future[None]] = []
        for leg in recording.legs:
            if leg.closed:
                # its "delete" (queued last) makes the daemon close the pcap
                if leg.tail is not None:
                    waits.append(leg.tail)
            else:
                waits.append(
                    self._queue(
                        [leg],
                        "stop_recording",
                        functools.partial(
                            self._request, "stop recording", {"call-id": leg.call_id}
                        ),
                    )
                )
        await asyncio.gather(*waits, return_exceptions=True)
        pcaps = []
        for call_id, port in recording.channels:
            pcap = None
            if self._recording_dir is not None:
                pcap = newest_pcap(self._recording_dir, call_id, self._consumed_pcaps)
            if pcap is None:
                self._log.warning("media.rtpengine_no_pcap", key=key, call_id=call_id)
            pcaps.append((pcap, port))
        duration = await asyncio.to_thread(
            write_recording, recording.path, pcaps, recording.started, stopped
        )
        for pcap, _ in pcaps:
            # the daemon's spool is not our archive: the WAV is written, drop its sources
            if pcap is not None and await asyncio.to_thread(discard_pcap, pcap):
                self._consumed_pcaps.discard(str(pcap))
        size = recording.path.stat().st_size
        return RecordingResult(recording.path, duration, len(pcaps), size)

    async def close_leg(self, leg_id: str) -> None:
        leg = self._legs.pop(leg_id, None)
        if leg is None:
            return
        self._cancel_timer(leg)
        if leg.partner is not None and leg.partner in self._legs:
            self.unbridge(leg_id)
        leg.closed = True

        async def delete() -> None:
            await self._request("delete", {"call-id": leg.call_id, "delete-delay": 0})
            self._by_call.pop(leg.call_id, None)

        with contextlib.suppress(MediaError):
            await self._queue([leg], "close_leg", delete)

    async def close(self) -> None:
        await asyncio.gather(*(self.close_leg(leg_id) for leg_id in list(self._legs)))
        if self._dtmf is not None:
            self._dtmf.close()
        self._client.close()

    async def settled(self, *leg_ids: str) -> None:
        """Wait until the commands queued so far on these legs were answered (tests, and
        callers that must know the daemon applied a bridge before they speak)."""
        tails = [leg.tail for leg in map(self._legs.get, leg_ids) if leg and leg.tail]
        await asyncio.gather(*tails, return_exceptions=True)

    # -- ng commands ----------------------------------------------------------------

    async def _request(self, command: str, params: dict[str, object]) -> dict[str, ng.NgValue]:
        try:
            return await self._client.request(command, params)
        except ng.NgError as exc:
            raise MediaError(str(exc)) from exc

    async def _answer(self, leg: _Leg) -> None:
        remote = leg.remote
        if remote is None:
            raise MediaError(f"leg {leg.leg_id!r}: answer before connect (our bug)")
        if remote.dtmf_payload_type != leg.dtmf_pt:
            leg.dtmf_pt = remote.dtmf_payload_type
            await self._request("offer", messages.offer(leg.call_id, leg.target, leg.dtmf_pt))
        params = messages.answer(leg.call_id, remote, symmetric=self._symmetric)
        reply = await self._request("answer", params)
        leg.inner = messages.audio_address(reply, "answer", leg.leg_id)

    async def _point(self, leg: _Leg, target: tuple[str, int] | None) -> None:
        """Re-offer the inner side towards ``target`` and settle it with the peer's answer."""
        leg.target = target
        await self._request("offer", messages.offer(leg.call_id, target, leg.dtmf_pt))
        if leg.remote is not None:
            await self._answer(leg)
        # Digits are not forwarded as packets (their payload type would be the other
        # peer's); each one is re-generated on the partner's call (see _on_dtmf_event).
        command = "unblock DTMF" if target is None else "block DTMF"
        await self._request(command, {"call-id": leg.call_id, "from-tag": PEER_TAG})

    async def _stop_media(self, leg: _Leg) -> None:
        with contextlib.suppress(MediaError):  # "not playing" is not a failure here
            await self._request("stop media", {"call-id": leg.call_id, "from-tag": PEER_TAG})

    # -- helpers --------------------------------------------------------------------

    def _leg(self, leg_id: str) -> _Leg:
        leg = self._legs.get(leg_id)
        if leg is None:
            raise MediaError(f"unknown leg {leg_id!r}")
        return leg

    def _queue(
        self, legs: list[_Leg], what: str, op: Callable[[], Awaitable[object]]
    ) -> asyncio.Future[None]:
        """Run ``op`` after everything queued before on ``legs``; failures are logged
        (synchronous callers cannot receive them) and re-raised to awaiting callers."""
        before = [leg.tail for leg in legs if leg.tail is not None and not leg.tail.done()]

        async def run() -> None:
            for previous in before:
                with contextlib.suppress(Exception):
                    await asyncio.shield(previous)
            try:
                await op()
            except MediaError as exc:
                self._log.warning(
                    "media.rtpengine_failed",
                    op=what,
                    legs=[leg.leg_id for leg in legs],
                    error=str(exc),
                )
                raise

        task = asyncio.get_running_loop().create_task(run())
        task.add_done_callback(_retrieve)
        for leg in legs:
            leg.tail = task
        return task

    def _cancel_timer(self, leg: _Leg) -> None:
        if leg.playback_timer is not None:
            leg.playback_timer.cancel()
            leg.playback_timer = None

    def _finished(self, leg: _Leg, playback_id: int) -> None:
        leg.playback_timer = None
        if not leg.closed:
            self._listener.on_playback_finished(leg.leg_id, playback_id)

    def _on_dtmf_event(self, event: DtmfEvent) -> None:
        if event.source_tag != PEER_TAG:
            return  # relayed from a bridged partner's call: reported there
        leg_id = self._by_call.get(event.call_id)
        digit = digit_for_event(event.event)
        leg = self._legs.get(leg_id) if leg_id is not None else None
        if leg is None or digit is None:
            return
        self._listener.on_dtmf(leg.leg_id, digit)
        partner = self._legs.get(leg.partner) if leg.partner is not None else None
        if partner is not None and partner.dtmf_pt is not None:
            params = {
                "call-id": partner.call_id,
                "from-tag": HOTLINE_TAG,
                "code": digit,
                "duration": max(event.duration, 40),
            }
            self._queue(
                [partner], "relay_dtmf", functools.partial(self._request, "play DTMF", params)
            )


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # logged in _queue; retrieved so asyncio does not warn
