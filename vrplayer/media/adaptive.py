"""Choosing a stream's variant from the throughput measured: pure rules, no network.

The throughput is each segment's bytes over the seconds its download took, kept as two moving averages weighted by
those seconds (half-lives of 2 and 6 s of downloading), a fast and a slow one, of which the lower counts (as hls.js
and Shaka do: quick to believe a drop, slow to believe a rise; a long slow download outweighs quick small ones).
The choice has hysteresis, so a throughput near a variant's bit rate does not flip between two variants every
segment: up only when the estimate exceeds the higher variant's bit rate by UP_MARGIN, for UP_AFTER segments in a
row; down at once when the estimate falls below the current variant's bit rate × DOWN_MARGIN, to the best that
fits.
"""

from __future__ import annotations

from dataclasses import dataclass

UP_MARGIN = 1.4  # the estimate must exceed the higher variant's bit rate by 40 %…
UP_AFTER = 2  # …for this many segments in a row
DOWN_MARGIN = 1.1  # below the current variant's bit rate × this, it goes down
FIT_MARGIN = 1.25  # going down, the variant chosen is the best whose bit rate × this fits the estimate
_FAST, _SLOW = 2.0, 6.0  # the averages' half-lives, in seconds of downloading
MIN_BYTES = 4096


@dataclass
class Throughput:
    fast: float | None = None
    slow: float | None = None
    samples: int = 0

    def add(self, size: int, seconds: float) -> None:
        """One segment's download: `size` bytes in `seconds` (one under MIN_BYTES says more about the round trip
        than about the link, and is not counted)."""
        if size < MIN_BYTES:
            return
        seconds = max(seconds, 1e-3)
        rate = size * 8 / seconds
        fast, slow = 1.0 - 0.5 ** (seconds / _FAST), 1.0 - 0.5 ** (seconds / _SLOW)
        self.fast = rate if self.fast is None else self.fast + fast * (rate - self.fast)
        self.slow = rate if self.slow is None else self.slow + slow * (rate - self.slow)
        self.samples += 1

    @property
    def estimate(self) -> float | None:
        """Bits per second the link is believed to carry (None before any segment)."""
        return None if self.fast is None else min(self.fast, self.slow)


class VariantChooser:
    def __init__(self, bitrates: list[int], start: int = 0):
        """bitrates: each variant's, lowest first; start: the variant to begin with (the lowest: a quick start)."""
        self.bitrates = list(bitrates)
        self.current = start
        self._ups = 0

    def choose(self, estimate: float | None) -> int:
        """The variant for the next segment, given the throughput estimate (bits per second)."""
        if estimate is None or len(self.bitrates) < 2:
            return self.current
        rates = self.bitrates
        if estimate < rates[self.current] * DOWN_MARGIN and self.current > 0:
            fitting = [i for i, rate in enumerate(rates) if rate * FIT_MARGIN <= estimate]
            self.current = fitting[-1] if fitting else 0
            self._ups = 0
            return self.current
        higher = self.current + 1
        if higher < len(rates) and estimate >= rates[higher] * UP_MARGIN:
            self._ups += 1
            if self._ups >= UP_AFTER:
                fitting = [i for i, rate in enumerate(rates) if rate * UP_MARGIN <= estimate]
                self.current = max(higher, fitting[-1] if fitting else higher)
                self._ups = 0
        else:
            self._ups = 0
        return self.current
