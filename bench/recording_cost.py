"""CPU per received RTP packet of the in-process backend, with and without recording.

``python -m bench.recording_cost --json`` drives ``InProcessMedia``'s receive path
(``_receive``: parse, latch, relay to the bridged leg, hand to the recorder) in-process,
without sockets: N bridged calls, both legs sending a 20 ms G.711 frame each round,
on an event loop whose clock is virtual (each round is 20 ms later), so the recorder
sees arrival times as a real call gives them however fast the packets are fed.  Sending
goes to a socket stand-in that drops the datagram.

Why: ``bench.sip_load`` measures the whole server under SIPp on a busy, shared machine,
where a few per cent of a core are noise; this measures the recording's own per-packet
cost as CPU time of this process (``time.process_time``: every thread, so the executor's
spills and the final WAV writes count too) over hundreds of thousands of packets.

Reported per packet, in microseconds: ``driver`` (building the datagrams, subtracted),
``relay`` (the receive path of a bridged, unrecorded call), ``recorded`` (the same
with a stereo recording running) and their difference ``recording_on_loop``; ``writer``
is the CPU of the spills and of ``stop_recording`` (decoding, WAV) per packet recorded.
The best of ``--repeat`` runs is kept (the least disturbed by other processes).
Options add sequence disorder and loss (SIPp sends neither).

CPU time still moves with what else runs on a shared machine; instruction counts do
not: run ``--variant relay`` and ``--variant recorded`` each under ``valgrind
--tool=callgrind --separate-threads=yes`` (thread 1 is the event loop, the others the
executor) and divide the differences by ``packets``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import numpy as np

from bench._machine import machine
from hotline.telephony.media.base import Codec, RemoteMedia
from hotline.telephony.media.inprocess import InProcessMedia
from hotline.telephony.media.legs import Leg
from hotline.telephony.rtp.g711 import linear_to_ulaw

FRAME: Final = 160
PTIME_S: Final = 0.020
_HEADER: Final = struct.Struct("!BBHII")
_SPILL_CHECK_ROUNDS: Final = 50  # as InProcessMedia's clock: once a second
VARIANTS: Final = {
    "driver": {"record": False, "feed": False},
    "relay": {"record": False, "feed": True},
    "recorded": {"record": True, "feed": True},
}


class _VirtualLoop(asyncio.SelectorEventLoop):
    """The loop's clock is the benchmark's: one round of packets is 20 ms."""

    def __init__(self) -> None:
        super().__init__()
        self.virtual = 1000.0

    def time(self) -> float:
        return self.virtual


class _NullSocket:
    def sendto(self, data: bytes, address: object) -> int:
        return len(data)


class _Listener:
    def on_dtmf(self, leg_id: str, digit: str) -> None:
        pass

    def on_playback_finished(self, leg_id: str, playback_id: int) -> None:
        pass


def _streams(calls: int, rounds: int, disorder: float, loss: float, seed: int) -> list[list[int]]:
    """Per leg, the order in which its packet indexes are sent (swaps, drops)."""
    rng = random.Random(seed)
    orders = []
    for _ in range(2 * calls):
        order = list(range(rounds))
        for i in range(rounds - 1):
            if rng.random() < disorder:
                order[i], order[i + 1] = order[i + 1], order[i]
        orders.append([i for i in order if rng.random() >= loss])
    return orders


async def _run(
    calls: int,
    seconds: float,
    directory: Path,
    *,
    record: bool,
    feed: bool,
    disorder: float,
    loss: float,
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    if not isinstance(loop, _VirtualLoop):
        raise TypeError("run it on a _VirtualLoop: the recorder must see 20 ms rounds")
    media = InProcessMedia("127.0.0.1", 40000, 40000 + 4 * calls, _Listener())
    rounds = round(seconds / PTIME_S)
    tone = np.round(3000 * np.sin(np.arange(FRAME) * 2 * np.pi * 440 / 8000)).astype(np.int16)
    payload = linear_to_ulaw(tone)
    legs: list[tuple[Leg, tuple[str, int], int]] = []
    for call in range(calls):
        pair = []
        for side in ("c", "o"):
            leg_id = f"{side}{call}"
            leg = Leg(leg_id, 40000 + 2 * len(legs), 1000 + len(legs), 0, 0)
            leg.sock = _NullSocket()  # type: ignore[assignment]
            media._legs[leg_id] = leg
            address = ("127.0.0.1", 20000 + 2 * len(legs))
            media.connect(leg_id, RemoteMedia("127.0.0.1", address[1], Codec.PCMU))
            legs.append((leg, address, 0x5000 + len(legs)))
            pair.append(leg_id)
        media.bridge(*pair)
    if record:
        for call in range(calls):
            media.start_recording(f"r{call}", directory / f"{call}.wav", f"c{call}", f"o{call}")
    orders = _streams(calls, rounds, disorder, loss, seed=7)
    cursors = [0] * len(legs)
    receive = media._receive
    packets = 0
    gc_before = sum(s["collections"] for s in gc.get_stats())
    start = time.process_time()
    for step in range(rounds):
        loop.virtual += PTIME_S
        for index, (leg, address, ssrc) in enumerate(legs):
            order = orders[index]
            cursor = cursors[index]
            if cursor >= len(order) or order[cursor] > step:
                continue  # lost, or swapped with a later one: comes later
            sent = order[cursor]
            cursors[index] = cursor + 1
            datagram = _HEADER.pack(0x80, 0, sent & 0xFFFF, 160 * sent, ssrc) + payload
            packets += 1
            if feed:
                receive(leg, datagram, address)
        if record and step % _SPILL_CHECK_ROUNDS == 0:
            media._recorder.spill_due()
    on_loop = time.process_time() - start
    writer_start = time.process_time()
    recorded_bytes = 0
    if record:
        for call in range(calls):
            result = await media.stop_recording(f"r{call}")
            recorded_bytes += result.size_bytes
    writer = time.process_time() - writer_start
    collections = sum(s["collections"] for s in gc.get_stats()) - gc_before
    return {
        "packets": packets,
        "loop_s": on_loop,
        "writer_s": writer,
        "gc_collections": collections,
        "wav_bytes": recorded_bytes,
    }


def _best(
    repeat: int, calls: int, seconds: float, disorder: float, loss: float, **kw: bool
) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        gc.collect()
        with (
            tempfile.TemporaryDirectory(prefix="hotline-bench-rec-") as directory,
            asyncio.Runner(loop_factory=_VirtualLoop) as runner,
        ):
            work = _run(calls, seconds, Path(directory), disorder=disorder, loss=loss, **kw)
            runs.append(runner.run(work))
    return min(runs, key=lambda r: r["loop_s"] + r["writer_s"])


def measure(
    calls: int, seconds: float, repeat: int, disorder: float, loss: float
) -> dict[str, Any]:
    """The figures of the module docstring, microseconds per packet."""
    driver, relay, recorded = (
        _best(repeat, calls, seconds, disorder, loss, **VARIANTS[name])
        for name in ("driver", "relay", "recorded")
    )
    packets = recorded["packets"]

    def per_packet(seconds_: float) -> float:
        return round(seconds_ / packets * 1e6, 3)

    return {
        "calls": calls,
        "seconds_of_audio": seconds,
        "disorder": disorder,
        "loss": loss,
        "packets": packets,
        "us_per_packet": {
            "driver": per_packet(driver["loop_s"]),
            "relay": per_packet(relay["loop_s"] - driver["loop_s"]),
            "recorded": per_packet(recorded["loop_s"] - driver["loop_s"]),
            "recording_on_loop": per_packet(recorded["loop_s"] - relay["loop_s"]),
            "writer": per_packet(recorded["writer_s"]),
        },
        "gc_collections": {
            "relay": relay["gc_collections"],
            "recorded": recorded["gc_collections"],
        },
        "wav_bytes": recorded["wav_bytes"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--calls", type=int, default=200, help="bridged calls")
    parser.add_argument(
        "--seconds", type=float, default=40.0, help="audio per call (over 30: one spill)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant, best kept")
    parser.add_argument("--disorder", type=float, default=0.0, help="share of packets swapped")
    parser.add_argument("--loss", type=float, default=0.0, help="share of packets lost")
    parser.add_argument(
        "--variant",
        choices=list(VARIANTS),
        help="run this variant once, nothing else (for valgrind --tool=callgrind: the "
        "difference of two variants' instruction counts, over the packets, is exact)",
    )
    args = parser.parse_args(argv)
    if args.variant is not None:
        figures = _best(
            1, args.calls, args.seconds, args.disorder, args.loss, **VARIANTS[args.variant]
        )
        json.dump({"variant": args.variant, **figures}, sys.stdout)
        sys.stdout.write("\n")
        return
    result = {
        "benchmark": "recording_cost",
        "machine": machine(),
        **measure(args.calls, args.seconds, args.repeat, args.disorder, args.loss),
    }
    json.dump(result, sys.stdout, indent=None if args.json else 2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
