"""Prompts decoded, resampled and encoded once per codec, then kept in memory.

Playing a prompt on 400 legs must cost one ``struct.pack`` and one ``sendto`` per frame,
so the G.711 bytes are prepared once and shared.  The cache key is the file's absolute
path, modification time and size, and the codec: replacing a prompt on disk is picked up
by the next :meth:`PromptCache.encoded` call.  Every file access (``stat`` included: a
busy disk can block it) and all the signal processing run in the executor.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Final

import numpy as np

from hotline.telephony.media.audio import load_prompt
from hotline.telephony.media.base import Codec, MediaError
from hotline.telephony.rtp.g711 import linear_to_alaw, linear_to_ulaw

__all__ = ["FRAME_SAMPLES", "PromptCache", "encode_prompt"]

#: 20 ms at 8 kHz: the packetisation of every leg (RFC 3551 §4.5: G.711's default ptime).
FRAME_SAMPLES: Final = 160
#: Our choice: a contact center has tens of prompts, each a few hundred kB per codec.
DEFAULT_MAX_ENTRIES: Final = 256

_Key = tuple[str, int, int, Codec]


def encode_prompt(path: Path, codec: Codec) -> bytes:
    """A prompt as G.711 bytes, padded with silence to whole 20 ms frames (blocking)."""
    samples = load_prompt(path)
    padded = np.zeros(-(-len(samples) // FRAME_SAMPLES) * FRAME_SAMPLES, dtype=np.int16)
    padded[: len(samples)] = samples
    return linear_to_ulaw(padded) if codec == Codec.PCMU else linear_to_alaw(padded)


def _stat_prompts(paths: list[Path]) -> list[tuple[str, int, int]]:
    keys = []
    for path in paths:
        try:
            absolute = os.path.abspath(path)
            status = os.stat(absolute)
        except OSError as exc:
            raise MediaError(f"prompt {path}: cannot read it ({exc.strerror or exc})") from exc
        keys.append((absolute, status.st_mtime_ns, status.st_size))
    return keys


def _join(parts: list[bytes]) -> bytes:
    return b"".join(parts)


class PromptCache:
    """Encoded prompts by (path, mtime, size, codec), least recently used evicted first.

    Concurrent requests for the same prompt share one load; a failed load is not kept,
    so a fixed file is retried.
    """

    def __init__(
        self, executor: Executor | None = None, *, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self._executor = executor
        self._max_entries = max_entries
        self._entries: OrderedDict[_Key, asyncio.Future[bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def encoded(self, prompts: Sequence[Path], codec: Codec) -> bytes:
        """The prompts one after the other, in ``codec``, whole frames each.

        Raises :class:`MediaError` naming the first prompt that cannot be played.
        """
        loop = asyncio.get_running_loop()
        stats = await loop.run_in_executor(self._executor, _stat_prompts, list(prompts))
        loads = [self._load(loop, (*stat, codec)) for stat in stats]
        # Shielded: one caller cancelled (a replaced playback) must not cancel the
        # load that other callers share.
        parts = [await asyncio.shield(load) for load in loads]
        if len(parts) == 1:
            return parts[0]
        return await loop.run_in_executor(self._executor, _join, parts)

    def _load(self, loop: asyncio.AbstractEventLoop, key: _Key) -> asyncio.Future[bytes]:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry
        entry = loop.run_in_executor(self._executor, encode_prompt, Path(key[0]), key[3])
        entry.add_done_callback(lambda done: self._forget_failure(key, done))
        self._entries[key] = entry
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry

    def _forget_failure(self, key: _Key, done: asyncio.Future[bytes]) -> None:
        failed = done.cancelled() or done.exception() is not None
        if failed and self._entries.get(key) is done:
            del self._entries[key]
