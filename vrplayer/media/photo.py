"""360 photos: JPEG, PNG, WebP, AVIF and HEIC stills, read with Pillow (HEIC through pillow-heif), and what their
XMP says about the picture.

A photo is told from a film by its first bytes, not its name. Its facts become a `ContainerLayout` like a film's
container metadata, so the layout decision weighs them the same way (flags and the manifest first, the file name's
tags after): GPano's projection, the cropped area of a partial panorama and the initial view; a VR180 / Cardboard
Camera photo's right eye, embedded in `GImage:Data`, makes the picture a side-by-side pair (left | right).
A photo's sound is none, or the sound file its manifest names in `audio` ("audio": "birds.wav").
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import stat
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from vrplayer import log
from vrplayer.errors import MediaError, PlayerError, path_text
from vrplayer.layout import load_manifest
from vrplayer.media import xmp
from vrplayer.media.container import check_readable_file
from vrplayer.media.spherical import ContainerLayout

_log = log.get("media.photo")

try:  # HEIC / HEIF (phones): a kept library of libheif's, which registers itself with Pillow
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - it is a dependency; without it HEIC photos say what to install
    pillow_heif = None

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")
# Sound files a photo's manifest may name in "audio" (a sound format's name never ends like this).
SOUND_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".mka", ".mp4", ".mov", ".webm")
# Pixels a photo may have: Pillow's own bomb limit is 89 M; a 16K × 8K equirect (134 M) is real, beyond is not.
MAX_PIXELS = 16384 * 8192 * 2
RIGHT_EYE_SOURCE = "GImage right eye (VR180 photo)"
SNIFF_TIMEOUT = 2.0  # seconds to read a file's first bytes


@dataclass
class PhotoFacts:
    """What a photo is, without its pixels: its format and size, and what its metadata says of the picture."""

    format: str  # Pillow's name: JPEG, PNG, WEBP, HEIF, AVIF
    width: int  # of the picture as shown: both eyes when the right one is embedded
    height: int
    layout: ContainerLayout | None  # None: its metadata says nothing about the picture
    right_eye: bytes | None = None  # the embedded right eye's file, when there is one
    problems: list[str] = field(default_factory=list)


def looks_like_photo(path: str) -> bool:
    """Whether the file's first bytes are a still image's (JPEG, PNG, WebP, HEIF/AVIF). Only a regular file is
    read (a FIFO would keep the read waiting), and only for SNIFF_TIMEOUT: a file on a share that stopped answering
    is left to the film opener, which says so."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size < 12:
        return False
    found: list[bytes] = []

    def sniff() -> None:
        try:
            with open(path, "rb") as file:
                found.append(file.read(16))
        except OSError:
            pass

    reader = threading.Thread(target=sniff, name="photo-sniff", daemon=True)
    reader.start()
    reader.join(SNIFF_TIMEOUT)
    head = found[0] if found else b""
    return (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") or (head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS))


def read_facts(path: str) -> PhotoFacts:
    """The photo's facts (its pixels are not decoded). MediaError, one line, when it cannot be read."""
    with _opened(path) as image:
        return _facts(image, path)


def read_pixels(path: str) -> tuple[np.ndarray, PhotoFacts]:
    """The photo's picture, H×W×3 8-bit RGB, the embedded right eye beside the left when it has one, and its facts."""
    name = path_text(path)
    with _opened(path) as image:
        facts = _facts(image, path)
        pixels = _rgb(image, name)
    if facts.right_eye is not None:
        right = _right_eye(facts.right_eye, pixels.shape[1], pixels.shape[0], name)
        pixels = np.concatenate([pixels, right], axis=1)
    return pixels, facts


def soundtrack(path: str) -> str | None:
    """The sound file the photo's manifest names in "audio", resolved against the manifest's folder; None when it
    names none (or names a sound format). PlayerError when the named file is not there."""
    try:
        manifest, source = load_manifest(path)
    except ValueError as exc:
        raise PlayerError(str(exc)) from None
    value = (manifest or {}).get("audio")
    if not isinstance(value, str) or not value.lower().endswith(SOUND_SUFFIXES):
        return None
    sound = Path(source).parent / value
    if not sound.is_file():
        raise PlayerError(f"{source}: the sound file {value!r} it names for the photo is not there; put it beside the"
                          " manifest or fix the name")
    return str(sound)


class _opened:
    """A Pillow image of the photo, opened with every failure turned into one line naming the file."""

    def __init__(self, path: str):
        self._path = path
        self._image = None

    def __enter__(self) -> Image.Image:
        name = path_text(self._path)
        check_readable_file(self._path, name)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self._image = Image.open(self._path)
        except Image.DecompressionBombError:
            raise MediaError(f"{name}: the photo is too large to show; scale it down to 16384×8192 or less") from None
        except Exception as exc:
            if _is_heif(self._path) and pillow_heif is None:
                raise MediaError(f"{name}: a HEIC/HEIF photo, and pillow-heif is not installed; install it (pip "
                                 "install pillow-heif) or convert the photo to JPEG") from None
            raise MediaError(f"{name}: not a photo Pillow can read ({_why(exc)}); export it again as JPEG or PNG") from None
        if self._image.width * self._image.height > MAX_PIXELS:
            self._image.close()
            raise MediaError(f"{name}: the photo is too large to show ({self._image.width}×{self._image.height}); "
                             "scale it down to 16384×8192 or less")
        return self._image

    def __exit__(self, *exc) -> None:
        if self._image is not None:
            self._image.close()


def _is_heif(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            head = file.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _why(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).strip().rstrip(".")


def _rgb(image: Image.Image, name: str) -> np.ndarray:
    try:
        image.load()
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            # Transparency means nothing on a sphere: what is transparent shows black, as outside a partial pano.
            rgba = image.convert("RGBA")
            black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            return np.asarray(Image.alpha_composite(black, rgba).convert("RGB"))
        return np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{name}: the photo's picture is damaged or cut short ({_why(exc)}); copy or export it again") from None


def _facts(image: Image.Image, path: str) -> PhotoFacts:
    name = path_text(path)
    problems: list[str] = []
    props = _xmp_properties(image, problems)
    layout = _layout(props, problems)
    right_eye = _embedded_right_eye(props, problems)
    if right_eye is not None:
        layout = layout or ContainerLayout(kind="GImage XMP")
        layout.stereo, layout.eyes_swapped, layout.stereo_source = "side-by-side", False, RIGHT_EYE_SOURCE
    problems = [f"{name}: {problem}" for problem in problems]
    if layout is not None:
        layout.problems.extend(problems)
    width = image.width * (2 if right_eye is not None else 1)
    return PhotoFacts(image.format or "unknown", width, image.height, layout, right_eye, problems)


def _xmp_properties(image: Image.Image, problems: list[str]) -> dict[str, str]:
    extended = None
    if image.format == "JPEG":
        main, extended, found = xmp.jpeg_packets(getattr(image, "applist", []))
        problems.extend(found)
    else:
        main = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(main, str):
        main = main.encode("utf-8")
    props: dict[str, str] = {}
    for packet in (main, extended):
        if not packet:
            continue
        try:
            for key, value in xmp.properties(packet).items():
                props.setdefault(key, value)
        except xmp.XmpError as error:
            problems.append(f"{error}; its metadata is ignored")
    return props


def _layout(props: dict[str, str], problems: list[str]) -> ContainerLayout | None:
    if not any(key.startswith("GPano:") for key in props):
        return None
    layout = ContainerLayout(kind="GPano XMP")
    projection = props.get("GPano:ProjectionType")
    if projection is not None:
        layout.projection = projection.strip().lower()
    else:
        layout.projection = "equirectangular"  # GPano's only projection a photo sphere has
    if layout.projection == "equirectangular":
        layout.crop = xmp.gpano_crop(props, problems)
    view = xmp.gpano_view(props, problems)
    if view is not None:
        layout.pose = view
    return layout


def _embedded_right_eye(props: dict[str, str], problems: list[str]) -> bytes | None:
    """The right eye's image file from GImage:Data, when it is there and its header reads as a picture."""
    if "GImage:Data" not in props:
        return None
    try:
        data = base64.b64decode(props["GImage:Data"], validate=False)
        with Image.open(io.BytesIO(data)):
            return data
    except (binascii.Error, ValueError):
        problems.append("the right eye in GImage:Data is not base64; shown in mono")
    except Exception as exc:
        problems.append(f"the right eye in GImage:Data is not a picture ({_why(exc)}); shown in mono")
    return None


def _right_eye(data: bytes, width: int, height: int, name: str) -> np.ndarray:
    """The embedded right eye as RGB, the size of the left (scaled when the camera stored it otherwise)."""
    try:
        with Image.open(io.BytesIO(data)) as eye:
            eye.load()
            if eye.size != (width, height):
                _log.info("%s: the right eye is %d×%d, the left %d×%d: scaled to match", name, eye.width, eye.height,
                          width, height)
                eye = eye.resize((width, height), Image.Resampling.LANCZOS)
            return np.asarray(eye.convert("RGB"))
    except Exception as exc:
        raise MediaError(f"{name}: the right eye embedded in the photo's XMP is damaged ({_why(exc)}); export the "
                         "photo again") from None
