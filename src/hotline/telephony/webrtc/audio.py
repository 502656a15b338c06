"""Pure framing between the browser's audio and 20 ms G.711 RTP frames (no I/O).

Why two small classes: the browser's decoded frames come in whatever size the codec
gives (Opus 20 ms at 48 kHz, PCMU 20 ms at 8 kHz, resampled in chunks of any length), and
the leg wants exactly 160 samples per RTP packet; the other way, RTP packets arrive with
network jitter while the browser track is paced by its own 20 ms clock.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "SILENCE", "Framer", "PlayoutBuffer"]

#: G.711 narrowband (RFC 3551 §4.5.14): 8 kHz, 20 ms packets of 160 samples
SAMPLE_RATE: Final = 8000
FRAME_SAMPLES: Final = 160
SILENCE: Final = np.zeros(FRAME_SAMPLES, dtype=np.int16)


class Framer:
    """Cuts a stream of 16-bit samples of any chunk size into 160-sample frames."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, samples: npt.NDArray[np.int16]) -> list[npt.NDArray[np.int16]]:
        """Add samples; return the whole frames now available (the rest waits)."""
        # a copy either way: the frames returned must not alias the caller's buffer
        data = np.concatenate((self._pending, samples)) if self._pending.size else samples.copy()
        whole = data.size // FRAME_SAMPLES * FRAME_SAMPLES
        self._pending = data[whole:].copy()
        return [data[i : i + FRAME_SAMPLES] for i in range(0, whole, FRAME_SAMPLES)]

    @property
    def pending(self) -> int:
        """Samples held back until the next frame is whole."""
        return int(self._pending.size)


class PlayoutBuffer:
    """Frames from the leg waiting for the browser track's next 20 ms tick.

    Rule 1. Before ``prefill`` frames have arrived, the track plays silence (a little
            cushion against jitter: 2 frames = 40 ms, the low end of what softphones use).
    Rule 2. On underrun the track plays silence and waits for the cushion again.
    Rule 3. At most ``capacity`` frames are held; older ones are dropped, so a burst after
            a network stall adds no lasting delay (200 ms by default).
    """

    def __init__(self, prefill: int = 2, capacity: int = 10) -> None:
        if not 0 <= prefill <= capacity or capacity < 1:
            raise ValueError(
                f"need 0 <= prefill ({prefill}) <= capacity ({capacity}), 1 <= capacity"
            )
        self._frames: deque[npt.NDArray[np.int16]] = deque(maxlen=capacity)
        self._prefill = prefill
        self._primed = prefill == 0
        self.dropped = 0
        self.underruns = 0

    def push(self, frame: npt.NDArray[np.int16]) -> None:
        if len(self._frames) == self._frames.maxlen:
            self.dropped += 1
        self._frames.append(frame)
        if len(self._frames) >= self._prefill:
            self._primed = True

    def pop(self) -> npt.NDArray[np.int16]:
        """The frame to play now: the oldest held, or silence (Rules 1 and 2)."""
        if self._primed and self._frames:
            return self._frames.popleft()
        if self._primed:
            self.underruns += 1
            self._primed = self._prefill == 0
        return SILENCE

    def clear(self) -> None:
        self._frames.clear()
        self._primed = self._prefill == 0

    def __len__(self) -> int:
        return len(self._frames)
