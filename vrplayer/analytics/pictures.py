"""Heat-maps as pictures: a colour scale, the film's overview (its picture as a whole-sphere equirectangular
panorama, for any layout), the map blended over it, and the PNG and MP4 writers."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from vrplayer.errors import PlayerError
from vrplayer.render import font, projection

# A dark-to-bright scale (black, violet, red, orange, pale yellow): heat reads as brightness on any picture.
_SCALE_POINTS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64)
COLOURS = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_SCALE_POINTS)), _SCALE_POINTS[:, c])
                    for c in range(3)], axis=1).astype(np.uint8)
OPACITY = 0.75  # of the hottest place; cooler places show more of the film
NO_VIEWERS_TEXT = "NOT ENOUGH VIEWERS"


def coloured(heat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8, opacity 0–1) of a map, scaled to its own maximum (so a still audience gives a still picture)."""
    peak = float(heat.max()) if heat.size else 0.0
    level = np.clip(heat / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(heat)
    return COLOURS[(level * 255).astype(np.uint8)], OPACITY * np.sqrt(level)


def blend(picture: np.ndarray, heat: np.ndarray | None) -> np.ndarray:
    """The map over the picture (both equirectangular, the same size); None: the picture with a note that the window
    had too few viewers for a map."""
    if heat is None:
        return caption(picture, NO_VIEWERS_TEXT)
    colours, alpha = coloured(heat)
    a = alpha[..., None]
    return (picture.astype(np.float64) * (1 - a) + colours * a + 0.5).astype(np.uint8)


def caption(picture: np.ndarray, text: str) -> np.ndarray:
    """`text` in white on a dark band across the top of the picture."""
    out = picture.copy()
    scale = max(1, picture.shape[0] // 128)
    mask = font.text_mask(text, scale=scale)
    h, w = min(mask.shape[0], picture.shape[0] - 2 * scale), min(mask.shape[1], picture.shape[1] - 2 * scale)
    out[: h + 2 * scale] = (out[: h + 2 * scale] * 0.3).astype(np.uint8)
    region = out[scale:scale + h, scale:scale + w]
    region[mask[:h, :w]] = 255
    return out


class Overview:
    """A film's picture as a whole-sphere panorama of a given size: the film's own picture resized when it is a full
    mono equirectangular one, else every direction sampled through the layout (projection.sample_layout; black where
    the film does not reach, as behind a VR180 film)."""

    def __init__(self, layout, width: int, height: int):
        self.layout, self.width, self.height = layout, width, height
        self._whole = (layout.projection == "equirectangular" and layout.stereo == "mono"
                       and not (layout.crop_left or layout.crop_top or layout.crop_right or layout.crop_bottom))
        if not self._whole:
            lon = np.radians(-180.0 + (np.arange(width) + 0.5) * 360.0 / width)
            lat = np.radians(90.0 - (np.arange(height) + 0.5) * 180.0 / height)
            # v360 axes (x right, y down, z forward), as the projection module takes them.
            self._directions = np.stack(np.broadcast_arrays(np.cos(lat)[:, None] * np.sin(lon)[None, :],
                                                            -np.sin(lat)[:, None], np.cos(lat)[:, None] * np.cos(lon)[None, :]), axis=-1)

    def of(self, frame: av.VideoFrame) -> np.ndarray:
        if self._whole:
            return frame.reformat(self.width, self.height, "rgb24").to_ndarray()
        picture = frame.to_ndarray(format="rgb24").astype(np.float32)
        colour, _ = projection.sample_layout(picture, self.layout, self._directions, "left")
        return np.clip(colour + 0.5, 0, 255).astype(np.uint8)


class VideoWriter:
    """An H.264 MP4 of RGB pictures at the film's frame rate, one picture per frame of the film."""

    def __init__(self, path: str, width: int, height: int, rate: Fraction):
        try:
            self._container = av.open(path, "w")
        except (av.error.FFmpegError, OSError) as exc:
            raise PlayerError(f"cannot write {path} ({getattr(exc, 'strerror', None) or exc}); check the folder exists and is writable") from None
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"
        self._stream.options = {"crf": "20", "preset": "veryfast"}
        self.frames = 0

    def write(self, picture: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
        frame.pts = self.frames  # in the stream's time base, 1 / the frame rate
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
