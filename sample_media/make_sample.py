#!/usr/bin/env python3
"""Make vrplayer's own 360° test film, deterministically, with numpy + PyAV only.

The film (default ``sample_media/sample_360.mp4``) is a monoscopic
equirectangular 2:1 picture, 1920×960, 30 fps, 10 s, H.264 yuv420p limited
range tagged BT.709, a key frame every second, plus stereo AAC 48 kHz.

Equirect convention (the one vrplayer uses):
    column u = 0 is longitude −180°, the centre column is longitude 0
    (straight ahead, "N"), longitude grows to the right (u = 0.75 is +90°, "E");
    row 0 is latitude +90° (zenith), the bottom row is latitude −90° (nadir).

What is in the picture:
    * a latitude/longitude grid on a dark background, thin lines every 15°,
      thick ones every 45°;
    * each 90° quadrant tinted (see ``QUADRANTS``): N blue, E green,
      S red, W orange;
    * a flat colour patch (10°×10°, no grid over it) centred at latitude −10°
      at each cardinal direction (see ``MARKERS``);
    * labels "N", "E", "S", "W" above the horizon (the "S" straddles the ±180°
      seam, half at each edge) and smaller "NE", "SE", "SW", "NW";
      small longitude / latitude numbers along the grid;
    * pole caps above +80° (magenta) and below −80° (cyan), see ``POLE_CAPS``,
      with "UP" / "DOWN" labels at latitude ±70°;
    * a frame-accurate timecode HH:MM:SS:FF in a black box just above the
      horizon at the four cardinal directions.

Sync marks: frames with ``n % fps < 3`` (the first three frames of every whole
second) are flat white (timecode in black), and the sound track has a 100 ms,
1 kHz sine "beep" (amplitude 0.5, 2 ms raised-cosine ramps) starting at the
exact sample of every whole second; silence in between.

Regenerate the committed sample (byte-identical output on every run)::

    python sample_media/make_sample.py

Other variants (``--help`` for all options)::

    python sample_media/make_sample.py -o /tmp/x.mkv --codec ffv1 --pix-fmt bgr0
    python sample_media/make_sample.py -o /tmp/x.mp4 --size 3840x1920 \\
        --seconds 1 --codec libx265 --pix-fmt yuv420p10le

Tests and benchmarks can ``import make_sample`` (with ``sample_media/`` on
``sys.path``) and use ``scene_rgb``, ``beep_track``, ``make_film``,
``check_sync`` and the ``MARKERS`` / ``POLE_CAPS`` / ``QUADRANTS`` tables.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
from fractions import Fraction

import numpy as np

# The repository root, so the script runs from a checkout without installing vrplayer.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# --------------------------------------------------------------------------
# Public constants: what a test may expect to see in a given direction.
# --------------------------------------------------------------------------

#: Flat patches centred at (lon, lat), ``MARKER_SIZE_DEG`` wide and tall.
MARKERS = {
    "N": {"lon": 0, "lat": -10, "rgb": (40, 60, 220)},
    "E": {"lon": 90, "lat": -10, "rgb": (40, 200, 60)},
    "S": {"lon": 180, "lat": -10, "rgb": (220, 40, 40)},
    "W": {"lon": -90, "lat": -10, "rgb": (230, 200, 40)},
}
MARKER_SIZE_DEG = 10.0

#: Solid caps: everything above lat_min (up) / below lat_max (down).
POLE_CAPS = {
    "up": {"lat_min": 80, "rgb": (230, 40, 230)},
    "down": {"lat_max": -80, "rgb": (40, 220, 230)},
}

#: Background tint of each quadrant, centred on ``lon`` and ±45° wide
#: (grid lines and labels are drawn over it).
QUADRANTS = {
    "N": {"lon": 0, "rgb": (20, 30, 100)},
    "E": {"lon": 90, "rgb": (20, 85, 30)},
    "S": {"lon": 180, "rgb": (100, 20, 20)},
    "W": {"lon": -90, "rgb": (110, 65, 10)},
}

FLASH_FRAMES = 3  # white frames at the start of every whole second
FLASH_RGB = (255, 255, 255)
BEEP_HZ = 1000.0
BEEP_SECONDS = 0.100
BEEP_RAMP_SECONDS = 0.002
BEEP_AMPLITUDE = 0.5

_GRID_THIN_RGB = (105, 105, 105)
_GRID_THICK_RGB = (185, 185, 185)
_TEXT_RGB = (255, 255, 255)
_TC_BOX_RGB = (0, 0, 0)

from vrplayer.render.font import text_mask  # noqa: E402  (shared with the player's info line)


def timecode(frame_index: int, fps: int) -> str:
    """Non-drop-frame timecode ``HH:MM:SS:FF`` of a frame."""
    seconds, ff = divmod(int(frame_index), int(fps))
    return "%02d:%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60, ff)


def is_flash(frame_index: int, fps: int) -> bool:
    return frame_index % int(fps) < FLASH_FRAMES


# --------------------------------------------------------------------------
# Picture
# --------------------------------------------------------------------------


def _col(lon: float, width: int) -> float:
    """Pixel-edge column of a longitude (may be outside [0, width))."""
    return (lon + 180.0) / 360.0 * width


def _row(lat: float, height: int) -> float:
    return (90.0 - lat) / 180.0 * height


def _paint(img: np.ndarray, mask: np.ndarray, top: int, left: int, rgb) -> None:
    """Set ``img`` to ``rgb`` where ``mask``; columns wrap round the ±180° seam."""
    h_img, w_img = img.shape[:2]
    rows = np.arange(top, top + mask.shape[0])
    keep = (rows >= 0) & (rows < h_img)
    rows, mask = rows[keep], mask[keep]
    cols = np.arange(left, left + mask.shape[1]) % w_img
    if mask.shape[1] > w_img:  # text wider than the picture (tiny test sizes)
        cols, mask = cols[:w_img], mask[:, :w_img]
    sub = img[rows[:, None], cols[None, :]]
    sub[mask] = rgb
    img[rows[:, None], cols[None, :]] = sub


def _draw_text(img, text, lon, lat_bottom, scale, rgb=_TEXT_RGB, box=True,
               stretch_by_lat=True):
    """Draw ``text`` centred on ``lon`` with its baseline at ``lat_bottom``."""
    h, w = img.shape[:2]
    mask = text_mask(text, scale)
    lat_mid = lat_bottom + 0.5 * mask.shape[0] * 180.0 / h
    stretch = 1.0 / math.cos(math.radians(lat_mid)) if stretch_by_lat else 1.0
    if stretch > 1.05:  # only where the squeeze is visible
        mask = text_mask(text, scale, stretch)
    top = int(round(_row(lat_bottom, h))) - mask.shape[0]
    left = int(round(_col(lon, w) - mask.shape[1] / 2))
    if box:  # solid black box, so grid lines never run through the letters
        r = max(1, scale // 2)
        _paint(img, np.ones((mask.shape[0] + 2 * r, mask.shape[1] + 2 * r), bool),
               top - r, left - r, (0, 0, 0))
    _paint(img, mask, top, left, rgb)


class _Layout:
    """Pixel geometry of one film size, shared by the picture and the encoder."""

    def __init__(self, width: int, height: int):
        if width < 16 or height < 8:
            raise ValueError("picture too small: %dx%d" % (width, height))
        self.width, self.height = width, height
        ppd = width / 360.0  # pixels per degree (equirect: same both ways)
        self.ppd = ppd
        self.line = max(1, int(round(width / 1920)))  # thin grid line width
        self.label_scale = max(1, int(round(ppd * 1.2)))  # N/E/S/W ≈ 8° tall
        self.small_scale = max(1, int(round(ppd * 0.6)))  # NE…, UP/DOWN
        self.tiny_scale = max(1, int(round(ppd * 0.35)))  # grid numbers
        self.tc_scale = max(1, int(round(width / 640)))  # timecode, 3 at 1920
        # Timecode box: sized for the widest string, corners on even pixels so
        # that 4:2:0 chroma of the box never mixes with the pixels around it.
        s = self.tc_scale
        text_w = (6 * len("00:00:00:00") - 1) * s
        box_w = text_w + 2 * s
        box_h = 7 * s + 2 * s
        self.tc_box_w = box_w + box_w % 2
        self.tc_box_h = box_h + box_h % 2
        bottom = int(round(_row(1.0, height)))  # box sits on latitude +1°
        bottom -= bottom % 2
        self.tc_box_top = bottom - self.tc_box_h
        self.tc_boxes = []  # (top, left) per cardinal direction, left may be < 0
        for m in MARKERS.values():
            left = int(round(_col(m["lon"], width) - self.tc_box_w / 2))
            self.tc_boxes.append((self.tc_box_top, left - left % 2))
        # Labels start just above the timecode box.
        self.label_lat = 90.0 - (self.tc_box_top - max(2, s)) * 180.0 / height


def _background(lay: _Layout) -> np.ndarray:
    """The static picture (everything but the timecode), RGB uint8."""
    w, h = lay.width, lay.height
    lon = (np.arange(w) + 0.5) / w * 360.0 - 180.0  # pixel-centre longitudes
    lat = 90.0 - (np.arange(h) + 0.5) / h * 180.0

    img = np.empty((h, w, 3), np.uint8)
    for q in QUADRANTS.values():
        d = (lon - q["lon"] + 180.0) % 360.0 - 180.0
        img[:, (d >= -45.0) & (d < 45.0)] = q["rgb"]

    # Grid: thin every 15°, thick (3× wider, brighter) every 45°.
    for thick in (False, True):
        lw = lay.line * (3 if thick else 1)
        rgb = _GRID_THICK_RGB if thick else _GRID_THIN_RGB
        for deg in range(-180, 180, 15):
            if (deg % 45 == 0) == thick:
                c = int(round(_col(deg, w)))
                img[:, (c - lw // 2 + np.arange(lw)) % w] = rgb
        for deg in range(-75, 90, 15):
            if (deg % 45 == 0) == thick:
                r = int(round(_row(deg, h)))
                img[np.clip(r - lw // 2 + np.arange(lw), 0, h - 1)] = rgb

    # Small numbers: longitudes below the patches, latitudes beside the
    # meridian 7.5° east of each cardinal direction.
    for deg in range(-135, 181, 45):
        txt = "%+d°" % deg if deg not in (0, 180) else "%d°" % deg
        _draw_text(img, txt, deg, -22.0, lay.tiny_scale)
    for m in MARKERS.values():
        for deg in (-60, -30, 30, 60):
            _draw_text(img, "%+d°" % deg, m["lon"] + 7.5, deg + 1.0, lay.tiny_scale)

    # Flat marker patches (drawn after the grid so no line crosses them).
    half = MARKER_SIZE_DEG / 2
    for m in MARKERS.values():
        d = np.abs((lon - m["lon"] + 180.0) % 360.0 - 180.0)
        cols = d <= half
        rows = np.abs(lat - m["lat"]) <= half
        img[np.ix_(rows, cols)] = m["rgb"]

    # Pole caps and their labels.
    img[lat > POLE_CAPS["up"]["lat_min"]] = POLE_CAPS["up"]["rgb"]
    img[lat < POLE_CAPS["down"]["lat_max"]] = POLE_CAPS["down"]["rgb"]
    ch = 7 * lay.small_scale * 180.0 / h  # label height in degrees
    for m in MARKERS.values():
        _draw_text(img, "UP", m["lon"], 70.0 - ch / 2, lay.small_scale)
        _draw_text(img, "DOWN", m["lon"], -70.0 - ch / 2, lay.small_scale)

    # Compass labels above the horizon; "S" at 180° wraps across the seam.
    for name, m in MARKERS.items():
        _draw_text(img, name, m["lon"], lay.label_lat, lay.label_scale)
    for name, deg in (("NE", 45), ("SE", 135), ("SW", -135), ("NW", -45)):
        _draw_text(img, name, deg, lay.label_lat, lay.small_scale)
    return img


def _draw_timecode(img: np.ndarray, lay: _Layout, frame_index: int, fps: int) -> None:
    """Fill the four timecode boxes of ``img`` (every box pixel is written)."""
    flash = is_flash(frame_index, fps)
    box_rgb, text_rgb = (FLASH_RGB, (0, 0, 0)) if flash else (_TC_BOX_RGB, _TEXT_RGB)
    mask = text_mask(timecode(frame_index, fps), lay.tc_scale)
    box = np.empty((lay.tc_box_h, lay.tc_box_w, 3), np.uint8)
    box[:] = box_rgb
    y0 = (lay.tc_box_h - mask.shape[0]) // 2
    x0 = (lay.tc_box_w - mask.shape[1]) // 2
    box[y0:y0 + mask.shape[0], x0:x0 + mask.shape[1]][mask] = text_rgb
    cols_rel = np.arange(lay.tc_box_w)
    for top, left in lay.tc_boxes:
        img[top:top + lay.tc_box_h, (left + cols_rel) % lay.width] = box


@functools.lru_cache(maxsize=4)
def _static(width: int, height: int):
    lay = _Layout(width, height)
    bg = _background(lay)
    bg.setflags(write=False)
    return lay, bg


def scene_rgb(width: int, height: int, frame_index: int, fps: int) -> np.ndarray:
    """The picture of frame ``frame_index`` as an (height, width, 3) uint8 array."""
    lay, bg = _static(int(width), int(height))
    img = np.empty_like(bg)
    img[:] = FLASH_RGB if is_flash(frame_index, fps) else bg
    _draw_timecode(img, lay, frame_index, fps)
    return img


# --------------------------------------------------------------------------
# Sound
# --------------------------------------------------------------------------


def beep_waveform(rate: int = 48000) -> np.ndarray:
    """One beep (float32, mono): 1 kHz sine, 100 ms, 2 ms raised-cosine ramps."""
    n = int(round(BEEP_SECONDS * rate))
    nr = int(round(BEEP_RAMP_SECONDS * rate))
    t = np.arange(n) / rate
    env = np.ones(n)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(nr) / nr)
    env[:nr] = ramp
    env[n - nr:] = ramp[::-1]
    return (BEEP_AMPLITUDE * env * np.sin(2 * np.pi * BEEP_HZ * t)).astype(np.float32)


def beep_track(seconds: float, rate: int = 48000, channels: int = 2) -> np.ndarray:
    """(channels, N) float32: a beep at the first sample of every whole second."""
    n = int(round(seconds * rate))
    out = np.zeros((channels, n), np.float32)
    beep = beep_waveform(rate)
    for start in range(0, n, rate):
        seg = beep[: n - start]
        out[:, start:start + len(seg)] = seg
    return out


#: The spatial film's voices: each marker's direction sounds a tone of its own, one after another, one a second
#: (N at 0 s, E at 1 s, S at 2 s, W at 3 s, N at 4 s …), so eyes and ears can check each other.
VOICE_HZ = {"N": 440.0, "E": 554.4, "S": 659.3, "W": 784.0}
VOICE_ORDER = ("N", "E", "S", "W")
VOICE_SECONDS = 0.4
VOICE_AMPLITUDE = 0.35


def ambisonic_track(seconds: float, rate: int = 48000) -> np.ndarray:
    """(4, N) float32 first-order AmbiX (ACN W Y Z X, SN3D): at every whole second k a tone burst from the
    direction of marker VOICE_ORDER[k % 4] (the beep's timing: it starts on the second, with the flash).

    Ambisonic axes are x front, y left, z up; a marker at longitude lon (right-positive) and latitude lat sits at
    ambisonic azimuth −lon, elevation lat."""
    n = int(round(seconds * rate))
    out = np.zeros((4, n), np.float32)
    length = int(VOICE_SECONDS * rate)
    t = np.arange(length) / rate
    ramp = int(0.01 * rate)
    envelope = np.ones(length)
    envelope[:ramp] = np.linspace(0.0, 1.0, ramp)
    envelope[-ramp:] = np.linspace(1.0, 0.0, ramp)
    for k, start in enumerate(range(0, n, rate)):
        name = VOICE_ORDER[k % len(VOICE_ORDER)]
        marker = MARKERS[name]
        az, el = np.radians(-marker["lon"]), np.radians(marker["lat"])
        tone = VOICE_AMPLITUDE * envelope * np.sin(2 * np.pi * VOICE_HZ[name] * t)
        gains = (1.0, np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el))  # W Y Z X
        stop = min(n, start + length)
        for channel, gain in enumerate(gains):
            out[channel, start:stop] = (gain * tone[: stop - start]).astype(np.float32)
    return out


# --------------------------------------------------------------------------
# RGB -> Y'CbCr (numpy, so matrix, range and chroma siting are ours)
# --------------------------------------------------------------------------

#: Kr, Kb and the H.273 tags (primaries, transfer, matrix) per colorspace.
#: The RGB values are used as-is in each space (no gamut conversion): it is a
#: test pattern, what matters is that decode(encode(rgb)) gives rgb back.
_COLORSPACES = {
    "bt709": (0.2126, 0.0722, 1, 1, 1),
    "bt601": (0.299, 0.114, 6, 6, 6),  # tagged smpte170m (525-line BT.601)
    "bt2020": (0.2627, 0.0593, 9, 14, 9),  # bt2020nc, bt2020-10 transfer
}

_PIX_FMTS = {  # bits, chroma subsampled 2×2, RGB (not Y'CbCr)
    "yuv420p": (8, True, False),
    "yuv444p": (8, False, False),
    "yuv420p10le": (10, True, False),
    "yuv444p10le": (10, False, False),
    "gbrp": (8, False, True),  # planar G, B, R (libx265; ffv1 lacks 8-bit gbrp)
    "gbrp10le": (10, False, True),
    "bgr0": (8, False, True),  # packed, one (H, W, 4) plane: ffv1's 8-bit RGB
}


def rgb_to_planes(rgb: np.ndarray, pix_fmt: str = "yuv420p", colorspace: str = "bt709",
                  color_range: str = "tv") -> list:
    """Planes of ``pix_fmt`` (list of 2-D uint8/uint16 arrays) for an RGB image.

    4:2:0 chroma is sited like MPEG-2/H.264 ("left"): co-sited with the even
    luma columns ([1, 2, 1]/4 horizontally, wrapping round the seam), midway
    between luma rows.
    """
    bits, sub, is_rgb = _PIX_FMTS[pix_fmt]
    if pix_fmt == "bgr0":
        out = np.zeros(rgb.shape[:2] + (4,), np.uint8)
        out[..., :3] = rgb[..., ::-1]
        return [out]
    if is_rgb:  # plane order G, B, R
        if bits == 8:
            return [np.ascontiguousarray(rgb[..., i]) for i in (1, 2, 0)]
        top = (1 << bits) - 1
        return [((rgb[..., i].astype(np.uint32) * top + 127) // 255).astype(np.uint16)
                for i in (1, 2, 0)]
    kr, kb = _COLORSPACES[colorspace][:2]
    kg = 1.0 - kr - kb
    x = rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    y = kr * x[..., 0] + kg * x[..., 1] + kb * x[..., 2]
    cb = (x[..., 2] - y) * np.float32(0.5 / (1.0 - kb))
    cr = (x[..., 0] - y) * np.float32(0.5 / (1.0 - kr))
    if sub:
        if rgb.shape[0] % 2 or rgb.shape[1] % 2:
            raise ValueError("%s needs an even width and height" % pix_fmt)

        def down(c):
            c = c[0::2] + c[1::2]  # vertical pair sum
            return (np.roll(c, 1, axis=1)[:, 0::2] + 2 * c[:, 0::2]
                    + np.roll(c, -1, axis=1)[:, 0::2]) * np.float32(0.125)

        cb, cr = down(cb), down(cr)
    top = (1 << bits) - 1
    if color_range == "tv":
        k = float(1 << (bits - 8))
        planes = [y * (219 * k) + 16 * k, cb * (224 * k) + 128 * k, cr * (224 * k) + 128 * k]
    elif color_range == "pc":
        planes = [y * top, cb * top + (1 << (bits - 1)), cr * top + (1 << (bits - 1))]
    else:
        raise ValueError("color_range must be 'tv' or 'pc'")
    dtype = np.uint8 if bits == 8 else np.uint16
    return [np.clip(np.rint(p), 0, top).astype(dtype) for p in planes]


class _PlaneRenderer:
    """Frames as pix_fmt planes, fast: the static background and the white
    flash picture are converted once; per frame only the timecode boxes are
    redrawn and converted (with 2 columns of context so that the filtered
    chroma is exactly what converting the whole ``scene_rgb`` gives)."""

    def __init__(self, width, height, fps, pix_fmt, colorspace, color_range):
        self.lay, bg = _static(width, height)
        self.fps = fps
        self.conv = functools.partial(rgb_to_planes, pix_fmt=pix_fmt,
                                      colorspace=colorspace, color_range=color_range)
        self.sub = _PIX_FMTS[pix_fmt][1]
        self.rgb = {False: bg.copy(), True: np.full_like(bg, FLASH_RGB)}
        self.planes = {k: self.conv(v) for k, v in self.rgb.items()}

    def planes_for(self, frame_index: int) -> list:
        lay = self.lay
        flash = is_flash(frame_index, self.fps)
        rgb = self.rgb[flash]
        _draw_timecode(rgb, lay, frame_index, self.fps)
        out = [p.copy() for p in self.planes[flash]]
        pad = 2
        h, w = lay.tc_box_h, lay.tc_box_w
        for top, left in lay.tc_boxes:
            cols = (left - pad + np.arange(w + 2 * pad)) % lay.width
            patch = self.conv(rgb[top:top + h, cols])
            for i, p in enumerate(patch):
                if self.sub and i:  # the [1,2,1] filter reaches one column right
                    cw = w // 2 + 1
                    ys, xs = (top // 2, top // 2 + h // 2), (pad // 2, pad // 2 + cw)
                    dst = (left // 2 + np.arange(cw)) % (lay.width // 2)
                else:
                    ys, xs = (top, top + h), (pad, pad + w)
                    dst = (left + np.arange(w)) % lay.width
                out[i][ys[0]:ys[1], dst] = p[:, xs[0]:xs[1]]
        return out


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------

_CODEC_DEFAULT_CRF = {"libx264": 16, "libx265": 22}


def _video_frame(av, planes, width, height, pix_fmt):
    frame = av.VideoFrame(width, height, pix_fmt)
    for plane, arr in zip(frame.planes, planes):
        arr = arr.reshape(arr.shape[0], -1)  # packed (H, W, 4) -> (H, 4W)
        row = arr.shape[1] * arr.itemsize
        if plane.line_size != row:  # libav pads lines for alignment
            wide = np.zeros((arr.shape[0], plane.line_size // arr.itemsize), arr.dtype)
            wide[:, :arr.shape[1]] = arr
            arr = wide
        plane.update(np.ascontiguousarray(arr).tobytes())
    return frame


def _add_grain(luma: np.ndarray, amplitude: int, frame_index: int) -> np.ndarray:
    scale = 4 if luma.dtype == np.uint16 else 1  # 10-bit codes are 4× the 8-bit ones
    noise = np.random.default_rng(frame_index).integers(-amplitude, amplitude + 1, luma.shape, dtype=np.int32)
    top = 1023 if scale == 4 else 255
    return np.clip(luma.astype(np.int32) + noise * scale, 0, top).astype(luma.dtype)


def make_film(path, width=1920, height=960, seconds=10.0, fps=30, codec="libx264",
              pix_fmt="yuv420p", audio=True, crf=None, gop=None, color_range="tv",
              colorspace="bt709", extra_options=None, progress=None, picture=None, grain=0,
              sound="stereo"):
    """Write the test film to ``path`` (container from the extension).

    codec / pix_fmt: libx264 with yuv420p or yuv444p, libx265 with yuv420p10le
    (or yuv420p / yuv444p / gbrp), ffv1 with bgr0 or gbrp10le (lossless RGB,
    use .mkv; FFmpeg's ffv1 has no 8-bit gbrp) or any yuv format, mpeg4 with
    yuv420p.
    crf: libx264/libx265 quality (default 16 / 22); for mpeg4 the qscale
    (default 3); ignored for ffv1.  gop: key frame interval in frames (default
    ``fps``, one a second).  color_range 'tv' (limited) or 'pc' (full);
    colorspace 'bt709', 'bt601' or 'bt2020' (for RGB formats only the
    primaries/transfer tags; the matrix is tagged RGB and the range full).
    extra_options: more encoder AVOptions (e.g. {"preset": "ultrafast"}).
    progress: optional callable(seconds_written) called once per film second.
    picture: an (H, W, 3) RGB still shown in every frame instead of the scene.
    grain: ± this many 8-bit luma steps of deterministic noise, new every frame (as camera footage has), so a
    benchmark clip costs a decoder what real footage does; 0 (default) keeps the picture clean.
    Audio (``audio=True``) is the ``beep_track``, stereo AAC 48 kHz 128 kb/s; with ``sound="ambix1"`` it is the
    ``ambisonic_track`` instead: first-order AmbiX as 4-channel AAC (layout "quad": AAC has no ambisonic layout,
    and 5.1 would low-pass a channel as LFE) with the SA3D box that says what it is.
    """
    import av

    if int(fps) != fps or fps <= 0:
        raise ValueError("fps must be a positive integer (timecode and flashes count whole frames)")
    fps = int(fps)
    if pix_fmt not in _PIX_FMTS:
        raise ValueError("pix_fmt must be one of %s" % sorted(_PIX_FMTS))
    if colorspace not in _COLORSPACES:
        raise ValueError("colorspace must be one of %s" % sorted(_COLORSPACES))
    if codec not in av.codecs_available:
        raise ValueError("codec %r is not in this PyAV build" % codec)
    supported = [f.name for f in av.codec.Codec(codec, "w").video_formats or ()]
    if supported and pix_fmt not in supported:
        raise ValueError("%s cannot encode %s; it can do %s" % (
            codec, pix_fmt, ", ".join(f for f in supported if f in _PIX_FMTS)))
    is_rgb = _PIX_FMTS[pix_fmt][2]
    n_frames = int(round(seconds * fps))
    gop = fps if gop is None else int(gop)
    rate = 48000

    opts = {}
    if codec == "libx264":
        opts.update(preset="medium", crf=str(_CODEC_DEFAULT_CRF[codec] if crf is None else crf),
                    # fixed GOP: no scene-cut key frames (the flashes would
                    # trigger them), closed GOPs.
                    **{"x264-params": "keyint=%d:min-keyint=%d:scenecut=0" % (gop, gop)})
    elif codec == "libx265":
        opts.update(preset="medium", crf=str(_CODEC_DEFAULT_CRF[codec] if crf is None else crf),
                    **{"x265-params": "keyint=%d:min-keyint=%d:scenecut=0:open-gop=0:"
                                      "log-level=error" % (gop, gop)})
    elif codec == "mpeg4":
        opts.update(flags="+qscale", global_quality=str(int((3 if crf is None else crf) * 118)))
    elif codec == "ffv1":
        opts.update(level="3", slicecrc="1")
    if extra_options:
        opts.update({k: str(v) for k, v in extra_options.items()})

    ext = os.path.splitext(str(path))[1].lower()
    container_opts = {"fflags": "+bitexact"}  # no random UIDs / version strings
    if ext in (".mp4", ".mov", ".m4v"):
        container_opts["movflags"] = "+faststart"
    os.makedirs(os.path.dirname(os.path.abspath(str(path))), exist_ok=True)

    renderer = _PlaneRenderer(width, height, fps, pix_fmt, colorspace, color_range)
    # A still picture instead of the scene (for tests that need other content), converted once.
    still = None if picture is None else rgb_to_planes(picture, pix_fmt, colorspace, color_range)
    kr_kb_tags = _COLORSPACES[colorspace]
    with av.open(str(path), "w", options=container_opts) as out:
        vs = out.add_stream(codec, rate=fps, options=opts)
        vs.width, vs.height, vs.pix_fmt = width, height, pix_fmt
        cc = vs.codec_context
        cc.time_base = Fraction(1, fps)
        cc.gop_size = gop
        cc.thread_count = 1  # encoder output depends on the thread count
        cc.color_primaries, cc.color_trc = kr_kb_tags[2], kr_kb_tags[3]
        cc.colorspace = 0 if is_rgb else kr_kb_tags[4]  # 0 = RGB / GBR
        cc.color_range = 2 if (is_rgb or color_range == "pc") else 1
        if codec == "libx265" and ext in (".mp4", ".mov"):
            cc.codec_tag = "hvc1"  # what Apple players want
        if audio:
            spatial = sound == "ambix1"
            a_layout = "quad" if spatial else "stereo"
            ast = out.add_stream("aac", rate=rate, layout=a_layout)
            ast.bit_rate = 256000 if spatial else 128000
            ast.codec_context.thread_count = 1
            if spatial:
                ast.metadata["SA3D"] = "ambisonic 1"  # FFmpeg's MP4 muxer writes the SA3D box from this
            pcm = ambisonic_track(n_frames / fps, rate) if spatial else beep_track(n_frames / fps, rate, 2)
            a_pos = 0

        for n in range(n_frames):
            planes = renderer.planes_for(n) if still is None else still
            if grain:
                planes = [_add_grain(planes[0], grain, n)] + list(planes[1:])
            frame = _video_frame(av, planes, width, height, pix_fmt)
            frame.pts = n
            frame.time_base = cc.time_base
            frame.color_range = cc.color_range
            frame.colorspace = cc.colorspace
            frame.color_primaries, frame.color_trc = cc.color_primaries, cc.color_trc
            out.mux(vs.encode(frame))
            if audio:  # keep audio up to date with the video written so far
                a_end = min(pcm.shape[1], (n + 1) * rate // fps)
                while a_pos + 1024 <= a_end or (n == n_frames - 1 and a_pos < a_end):
                    chunk = pcm[:, a_pos:a_pos + 1024]
                    af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk),
                                                    format="fltp", layout=a_layout)
                    af.sample_rate = rate
                    af.pts = a_pos
                    af.time_base = Fraction(1, rate)
                    out.mux(ast.encode(af))
                    a_pos += chunk.shape[1]
            if progress and ((n + 1) % fps == 0 or n == n_frames - 1):
                progress((n + 1) / fps)
        out.mux(vs.encode(None))
        if audio:
            out.mux(ast.encode(None))
    return str(path)


# --------------------------------------------------------------------------
# Verification: decode the file and measure the sync marks
# --------------------------------------------------------------------------


def _envelope(x: np.ndarray, rate: int) -> np.ndarray:
    """|x| smoothed over 1 ms (one period of the 1 kHz beep)."""
    k = max(1, rate // 1000)
    c = np.concatenate([[0.0], np.cumsum(np.abs(x.astype(np.float64)))])
    return (c[k:] - c[:-k]) / k


def check_sync(path, fps=None):
    """Decode ``path`` and measure its sync marks.

    Returns a dict with
      ``flash_offsets_s``: per whole second k, pts of the first white frame
        minus k (seconds), from the video stream's pts timeline;
      ``flash_frames``: indices of all frames found white;
      ``beep_offsets_s``: per whole second k, the beep onset (half-amplitude
        crossing of its 1 ms envelope, compared with the same measure on the
        ideal waveform) minus k, on the audio stream's pts timeline;
      ``audio_first_pts_s`` / ``video_first_pts_s``.
    """
    import av

    res = {}
    with av.open(str(path)) as f:
        vs = f.streams.video[0]
        rate_fps = fps or vs.average_rate
        times, white = [], []
        for frame in f.decode(vs):
            y = frame.to_ndarray(format="gray")  # full-range luma, any pix_fmt
            times.append(float(frame.pts * frame.time_base))
            white.append(float(y.mean()) > 245.0)
    times = np.array(times)
    order = np.argsort(times)
    times, white = times[order], np.array(white)[order]
    res["video_first_pts_s"] = float(times[0])
    res["flash_frames"] = [int(i) for i in np.flatnonzero(white)]
    offs = []
    for k in range(int(math.floor(times[-1])) + 1):
        near = np.flatnonzero(white & (times > k - 0.5) & (times < k + 0.5))
        offs.append(float(times[near[0]] - k) if len(near) else float("nan"))
    res["flash_offsets_s"] = offs
    res["fps"] = float(rate_fps)

    with av.open(str(path)) as f:
        if not f.streams.audio:
            return res
        ast = f.streams.audio[0]
        rate = ast.codec_context.sample_rate
        chunks, first = [], None
        for frame in f.decode(ast):
            start = int(round(frame.pts * frame.time_base * rate))
            first = start if first is None else first
            chunks.append((start, frame.to_ndarray()[0]))
    # Place samples by pts (not arrival order) with room before pts 0.
    origin = rate // 10 - min(first, 0)  # index of pts 0 in ``mono``
    total = origin + max(s + len(c) for s, c in chunks)
    mono = np.zeros(total, np.float32)
    for s, c in chunks:
        mono[origin + s: origin + s + len(c)] = c
    res["audio_first_pts_s"] = first / rate

    ref_env = _envelope(np.concatenate([np.zeros(rate // 50), beep_waveform(rate)]), rate)
    ref_onset = np.argmax(ref_env >= 0.5 * ref_env.max()) - rate // 50
    offs = []
    for k in range(int((total - origin) // rate) + 1):
        lo, hi = origin + k * rate - rate // 50, origin + k * rate + rate // 20
        if hi > total:
            break
        env = _envelope(mono[lo:hi], rate)
        if env.max() < 0.1:
            offs.append(float("nan"))
            continue
        onset = np.argmax(env >= 0.5 * ref_env.max()) - rate // 50
        offs.append(float(onset - ref_onset) / rate)
    res["beep_offsets_s"] = offs
    return res


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample_360.mp4")
SPATIAL_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample_360_ambix.mp4")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", default=DEFAULT_OUTPUT, help="default: %(default)s")
    p.add_argument("--size", default="1920x960", help="WxH (default %(default)s)")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--codec", default="libx264", help="libx264, libx265, ffv1, mpeg4")
    p.add_argument("--pix-fmt", default=None,
                   help="%s; default yuv420p (yuv420p10le for libx265, bgr0 for ffv1)"
                   % ", ".join(_PIX_FMTS))
    p.add_argument("--crf", type=float, default=None)
    p.add_argument("--colorspace", default="bt709", choices=sorted(_COLORSPACES))
    p.add_argument("--color-range", default="tv", choices=("tv", "pc"))
    p.add_argument("--no-audio", action="store_true")
    p.add_argument("--sound", default="stereo", choices=("stereo", "ambix1"),
                   help="stereo beeps (default), or first-order ambisonics with a tone from each marker in turn "
                        "(then the default output is %s)" % os.path.basename(SPATIAL_OUTPUT))
    p.add_argument("--no-check", action="store_true", help="skip decoding the result back")
    a = p.parse_args(argv)
    if a.sound == "ambix1" and a.output == DEFAULT_OUTPUT:
        a.output = SPATIAL_OUTPUT
    width, height = (int(v) for v in a.size.lower().split("x"))
    pix_fmt = a.pix_fmt or {"libx265": "yuv420p10le", "ffv1": "bgr0"}.get(a.codec, "yuv420p")
    crf = None if a.crf is None else (int(a.crf) if a.crf == int(a.crf) else a.crf)

    def progress(s):
        print("make_sample: %5.1f s of %.1f written" % (s, a.seconds), file=sys.stderr, flush=True)

    make_film(a.output, width, height, a.seconds, a.fps, a.codec, pix_fmt, not a.no_audio,
              crf=crf, color_range=a.color_range, colorspace=a.colorspace, progress=progress, sound=a.sound)
    size = os.path.getsize(a.output)
    print("make_sample: wrote %s (%.2f MB)" % (a.output, size / 1e6), file=sys.stderr)
    if not a.no_check and a.sound == "stereo":
        r = check_sync(a.output)
        ms = lambda v: " ".join("%+.2f" % (x * 1000) for x in v)  # noqa: E731
        print("make_sample: flash pts - k s (ms):", ms(r["flash_offsets_s"]), file=sys.stderr)
        if "beep_offsets_s" in r:
            print("make_sample: beep onset - k s (ms):", ms(r["beep_offsets_s"]), file=sys.stderr)
            print("make_sample: first pts video %.4f s, audio %.4f s"
                  % (r["video_first_pts_s"], r["audio_first_pts_s"]), file=sys.stderr)
            bad = [x for x in r["beep_offsets_s"] if not abs(x) <= 0.002]
        else:
            bad = []
        bad += [x for x in r["flash_offsets_s"] if not abs(x) <= 0.5 / a.fps]
        if bad:
            print("make_sample: SYNC CHECK FAILED", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
