"""Files shared with rtpengine: prompts we prepare for it, pcap recordings it leaves us.

Prompts (:func:`prepare_prompts`): ``play media`` takes one file, so a playback's
prompts are decoded and concatenated by us (any WAV, any rate → 8 kHz mono 16-bit),
cached under a name derived from their paths, sizes and times, and made world-readable:
the daemon may run as another user.

Recordings: rtpengine's pcap recordings turned into our WAV files (8 kHz, 16-bit, 1 or 2
channels).

rtpengine 10.5 writes WAV only through its separate ``rtpengine-recording`` daemon,
which needs the kernel module's ``/proc`` interface (``--recording-method=proc``) and is
not in Debian's ``rtpengine`` package.  Its ``pcap`` method needs neither: per call it
writes one pcap file (link type 101 raw IP, or 1 Ethernet with
``--recording-format=eth``) holding every RTP packet the daemon *received*, with the
real source and the daemon's local port as destination.  A leg's voice is therefore
the packets addressed to that leg's peer-facing port; this module decodes them (G.711)
and places them by RTP timestamp, anchored at the packet's capture time so both
channels line up on the wall clock.  Silence fills what never arrived.
"""

from __future__ import annotations

import glob
import hashlib
import os
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.audio import SAMPLE_RATE, load_prompt, write_wav
from hotline.telephony.media.base import MediaError
from hotline.telephony.rtp.g711 import alaw_to_linear, ulaw_to_linear

__all__ = [
    "CapturedRtp",
    "discard_pcap",
    "newest_pcap",
    "prepare_prompts",
    "read_pcap_rtp",
    "render_channel",
    "write_recording",
]

_GLOBAL: Final = struct.Struct("<IHHiIII")
_RECORD: Final = struct.Struct("<IIII")
_MAGIC_US: Final = 0xA1B2C3D4
_MAGIC_NS: Final = 0xA1B23C4D
_LINK_ETHERNET: Final = 1
_LINK_RAW: Final = 101
_UDP: Final = 17
FRAME_SECONDS: Final = 0.02


@dataclass(frozen=True, slots=True)
class CapturedRtp:
    """One RTP packet as the daemon received it."""

    time: float
    destination_port: int
    payload_type: int
    timestamp: int
    ssrc: int
    payload: bytes


def read_pcap_rtp(path: Path) -> list[CapturedRtp]:
    """Every IPv4/IPv6 UDP packet of ``path`` that looks like RTP (version 2)."""
    data = path.read_bytes()
    if len(data) < _GLOBAL.size:
        raise MediaError(f"{path}: not a pcap file ({len(data)} bytes)")
    magic, _, _, _, _, _, link = _GLOBAL.unpack_from(data)
    if magic not in (_MAGIC_US, _MAGIC_NS):
        raise MediaError(f"{path}: not a little-endian pcap file (magic {magic:#x})")
    if link not in (_LINK_RAW, _LINK_ETHERNET):
        raise MediaError(f"{path}: link type {link} (expected 101 raw IP or 1 Ethernet)")
    scale = 1e-6 if magic == _MAGIC_US else 1e-9
    packets: list[CapturedRtp] = []
    offset = _GLOBAL.size
    while offset + _RECORD.size <= len(data):
        seconds, fraction, captured, _ = _RECORD.unpack_from(data, offset)
        offset += _RECORD.size
        frame = data[offset : offset + captured]
        offset += captured
        ip = frame[14:] if link == _LINK_ETHERNET else frame
        packet = _rtp_of(ip, seconds + fraction * scale)
        if packet is not None:
            packets.append(packet)
    return packets


def _rtp_of(ip: bytes, time: float) -> CapturedRtp | None:
    if not ip:
        return None
    version = ip[0] >> 4
    if version == 4 and len(ip) >= 20 and ip[9] == _UDP:
        udp = ip[(ip[0] & 0x0F) * 4 :]
    elif version == 6 and len(ip) >= 40 and ip[6] == _UDP:
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8 + 12 or udp[8] >> 6 != 2:
        return None
    (port,) = struct.unpack_from("!H", udp, 2)
    rtp = udp[8:]
    skip = 12 + 4 * (rtp[0] & 0x0F)
    timestamp, ssrc = struct.unpack_from("!II", rtp, 4)
    return CapturedRtp(time, port, rtp[1] & 0x7F, timestamp, ssrc, rtp[skip:])


def render_channel(
    packets: list[CapturedRtp], port: int, start: float, frames: int
) -> npt.NDArray[np.int16]:
    """The audio that arrived at ``port``: G.711 frames placed at their RTP time,
    anchored per SSRC at its first packet's capture time; other payload types (DTMF
    events, comfort noise) are skipped."""
    out = np.zeros(frames, dtype=np.int16)
    anchors: dict[int, tuple[float, int]] = {}
    for packet in packets:
        if packet.destination_port != port or packet.payload_type not in (0, 8):
            continue
        anchor = anchors.setdefault(packet.ssrc, (packet.time, packet.timestamp))
        elapsed = ((packet.timestamp - anchor[1] + 2**31) % 2**32 - 2**31) / SAMPLE_RATE
        first = round((anchor[0] + elapsed - start) * SAMPLE_RATE)
        decode = ulaw_to_linear if packet.payload_type == 0 else alaw_to_linear
        samples = decode(packet.payload)
        lo, hi = max(first, 0), min(first + len(samples), frames)
        if lo < hi:
            out[lo:hi] = samples[lo - first : hi - first]
    return out


def write_recording(
    path: Path,
    channels: list[tuple[Path | None, int]],
    start: float,
    stop: float,
) -> float:
    """Write ``path`` from one ``(pcap, port)`` per channel (``None``: no file came, the
    channel is silent); returns the duration in seconds.  Blocking: run it in a thread.

    The file spans ``start``..``stop`` (our clock, when call control asked), widened to
    the first and last captured packet: the daemon stamps packets with its own cached
    clock, which may run a few milliseconds apart from ours.
    """
    captured = [
        [p for p in read_pcap_rtp(pcap) if p.destination_port == port] if pcap is not None else []
        for pcap, port in channels
    ]
    times = [p.time for packets in captured for p in packets]
    if times:
        start = min(start, min(times))
        stop = max(stop, max(times) + FRAME_SECONDS)
    frames = max(0, round((stop - start) * SAMPLE_RATE))
    rendered = [
        render_channel(packets, port, start, frames)
        for packets, (_, port) in zip(captured, channels, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, rendered[0], rendered[1] if len(rendered) > 1 else None)
    return frames / SAMPLE_RATE


def prepare_prompts(prompts: Sequence[Path], cache_dir: Path) -> Path:
    """One 8 kHz mono WAV of ``prompts`` in order (cached).  Blocking: run it in a thread."""
    digest = hashlib.sha256()
    for path in prompts:
        try:
            stat = path.stat()
        except OSError as exc:
            raise MediaError(f"prompt {path}: {exc.strerror}") from exc
        digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    target = cache_dir / f"{digest.hexdigest()[:32]}.wav"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(cache_dir, 0o755)  # noqa: S103 - the daemon reads prompts here
        samples = np.concatenate([load_prompt(path) for path in prompts])
        partial = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
        write_wav(partial, samples)
        os.chmod(partial, 0o644)
        partial.replace(target)  # atomic: a concurrent playback sees all or nothing
    return target


def newest_pcap(recording_dir: Path, call_id: str, consumed: set[str]) -> Path | None:
    """The newest pcap rtpengine wrote for ``call_id`` (``pcaps/<call-id>-<random>.pcap``)
    that is not in ``consumed``; added to it."""
    pattern = str(recording_dir / "pcaps" / f"{glob.escape(call_id)}-*.pcap")
    fresh = [name for name in glob.glob(pattern) if name not in consumed]
    if not fresh:
        return None
    newest = max(fresh, key=os.path.getmtime)
    consumed.add(newest)
    return Path(newest)


def discard_pcap(pcap: Path) -> bool:
    """Delete a used pcap and its metadata file (``metadata/rtpengine-meta-<name>.txt``);
    ``False`` when the daemon's spool does not let us (another user: it stays)."""
    meta = pcap.parent.parent / "metadata" / f"rtpengine-meta-{pcap.stem}.txt"
    try:
        pcap.unlink()
    except OSError:
        return False
    meta.unlink(missing_ok=True)
    return True
