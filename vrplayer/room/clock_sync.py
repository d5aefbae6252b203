"""One clock for the room: a seat's estimate of the conductor's clock, from four-timestamp exchanges.

The seat asks at t1 (its clock), the conductor receives at t2 and answers at t3 (its clock), the seat hears the
answer at t4. Then the round trip is (t4 − t1) − (t3 − t2) and the conductor's clock is the seat's plus
((t2 − t1) + (t3 − t4)) / 2, exact when the way there and back take as long. Of the last KEEP exchanges the one
with the least round trip is trusted (the filter NTP and Jellyfin SyncPlay use: a delayed message only ever
lengthens the round trip). The seat's own clock is never assumed to agree with anyone's.

Once the seat plays (and has KEEP answers), each new trusted estimate moves a smoothed one by SMOOTHING of the
way (successive windows' best exchanges are averaged, so one lucky or unlucky window counts for little), and the
offset it applies follows that by at most SLEW seconds per second, so that a picture never jumps when the
estimate changes (after a lost broker, or as the clocks drift); a change beyond JUMP (a conductor on another
clock) is taken at once. Pure Python.
"""

from __future__ import annotations

import collections
import math
import time
from typing import Callable

KEEP = 8
SLEW = 0.005  # seconds per second: the ±0.5 % a playing seat may run fast or slow
JUMP = 0.25  # seconds: an estimate this far off is another clock, not drift
SMOOTHING = 0.05  # of the way to each new estimate, per answer, while steady (4 answers a second: about 5 s)


class ClockSync:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._exchanges: collections.deque[tuple[float, float]] = collections.deque(maxlen=KEEP)  # (rtt, offset)
        self._applied: float | None = None  # the offset in use
        self._applied_at = 0.0
        self._smoothed: float | None = None
        self.steady = False  # True while the seat plays: changes are smoothed and slewed

    def add(self, t1: float, t2: float, t3: float, t4: float) -> bool:
        """One exchange; False (and ignored) when its timestamps cannot be (a negative round trip)."""
        rtt = (t4 - t1) - (t3 - t2)
        if not all(map(math.isfinite, (t1, t2, t3, t4))) or rtt < 0 or t4 < t1:
            return False
        self._exchanges.append((rtt, ((t2 - t1) + (t3 - t4)) / 2))
        best = self.best[1]
        if self._smoothed is None or not self.settled or abs(best - self._smoothed) > JUMP:
            self._smoothed = best
        else:
            self._smoothed += SMOOTHING * (best - self._smoothed)
        return True

    @property
    def settled(self) -> bool:
        """Playing, with a full window of answers: from here on the estimate only moves smoothly."""
        return self.steady and len(self._exchanges) == KEEP

    @property
    def synced(self) -> bool:
        return bool(self._exchanges)

    @property
    def best(self) -> tuple[float, float] | None:
        """(round trip, offset) of the trusted exchange, or None before the first."""
        return min(self._exchanges) if self._exchanges else None

    def offset(self) -> float:
        """Conductor clock − seat clock, as applied now (0 before the first exchange)."""
        now = self._monotonic()
        if self._smoothed is None:
            return 0.0
        target = self._smoothed
        if self._applied is None or not self.settled or abs(target - self._applied) > JUMP:
            self._applied = target
        else:
            step = SLEW * max(0.0, now - self._applied_at)
            self._applied += max(-step, min(step, target - self._applied))
        self._applied_at = now
        return self._applied

    def conductor_time(self, local: float | None = None) -> float:
        """The conductor's clock at the seat's `local` (default: now)."""
        offset = self.offset()
        return (self._monotonic() if local is None else local) + offset
