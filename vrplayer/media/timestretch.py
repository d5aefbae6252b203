"""Sound played faster or slower at its own pitch: FFmpeg's `atempo` filter (WSOLA) through PyAV's filter graph,
for the shuttle's 2× and 4×. Packed float32 blocks in, packed float32 blocks out, on the decoder's thread."""

from __future__ import annotations

import av
import numpy as np

ATEMPO_MAX = 2.0  # one atempo stays at or below 2× (older FFmpeg refuses more; above it, chained ones sound better)


def atempo_chain(speed: float) -> list[float]:
    """The atempo factors whose product is `speed`, each within 0.5…2."""
    factors = []
    while speed > ATEMPO_MAX:
        factors.append(ATEMPO_MAX)
        speed /= ATEMPO_MAX
    while speed < 1 / ATEMPO_MAX:
        factors.append(1 / ATEMPO_MAX)
        speed *= ATEMPO_MAX
    return factors + [speed]


class TimeStretch:
    def __init__(self, speed: float, rate: int, layout):
        self._graph = av.filter.Graph()
        layout_name = layout if isinstance(layout, str) else layout.name
        self._channels = av.AudioLayout(layout_name).nb_channels
        self._layout = layout_name
        self._rate = rate
        source = self._graph.add_abuffer(sample_rate=rate, format="flt", layout=layout_name, time_base=f"1/{rate}")
        previous = source
        for factor in atempo_chain(speed):
            stage = self._graph.add("atempo", f"{factor:.6f}")
            previous.link_to(stage)
            previous = stage
        sink = self._graph.add("abuffersink")
        previous.link_to(sink)
        self._graph.configure()
        self._pts = 0

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        """Samples (n, channels) of the film in; what the filter has ready out (each (m, channels))."""
        if len(samples) == 0:
            return []
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32).reshape(1, -1), format="flt",
                                           layout=self._layout)
        frame.sample_rate = self._rate
        frame.pts = self._pts
        self._pts += len(samples)
        self._graph.push(frame)
        return self._pull()

    def flush(self) -> list[np.ndarray]:
        """The end of the film: what the filter still holds."""
        self._graph.push(None)
        return self._pull()

    def _pull(self) -> list[np.ndarray]:
        out = []
        while True:
            try:
                frame = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return out
            out.append(frame.to_ndarray().reshape(-1, self._channels))
