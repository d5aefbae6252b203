"""XMP in photos: the packet (and its JPEG extension) as flat properties, and what 360 photos say with them.

A 360 photo says what it is in XMP: Google's Photo Sphere namespace `GPano` (projection, the cropped area of a
partial panorama inside the full one, the initial view), and for a VR180 / Cardboard Camera photo the right eye as
a base64 JPEG in `GImage:Data`. A packet over 64 KB does not fit one JPEG segment: it is split into "extended XMP"
segments, each naming the MD5 of the whole extension (which the main packet names in `xmpNote:HasExtendedXMP`),
its full length and its offset (Adobe's XMP Specification, part 3, 1.1.3.1). Pillow reads the segments; this module
joins and parses them. Pure: bytes in, dictionaries out.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
import xml.etree.ElementTree as ET

MAIN_SIGNATURE = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENSION_SIGNATURE = b"http://ns.adobe.com/xmp/extension/\x00"
# Namespaces by URI, as the properties are named here ("GPano:CroppedAreaLeftPixels").
PREFIXES = {
    "http://ns.google.com/photos/1.0/panorama/": "GPano",
    "http://ns.google.com/photos/1.0/image/": "GImage",
    "http://ns.google.com/photos/1.0/audio/": "GAudio",
    "http://ns.adobe.com/xmp/note/": "xmpNote",
}
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
# A property's value may be long (an eye's JPEG in base64); a packet beyond this is not a photo's metadata.
MAX_PACKET = 64 * 1024 * 1024


class XmpError(ValueError):
    """The XMP cannot be used; the message says why, in a few words."""


def jpeg_packets(segments: list[tuple[str, bytes]]) -> tuple[bytes | None, bytes | None, list[str]]:
    """The main XMP packet, the extended one (joined, checked against its MD5), and problems found, from a JPEG's
    APPn segments as Pillow lists them ([(marker, bytes)], `Image.applist`)."""
    main = None
    chunks: dict[bytes, dict[int, bytes]] = {}  # by MD5 of the whole: offset → bytes
    lengths: dict[bytes, int] = {}
    for marker, body in segments:
        if marker != "APP1":
            continue
        if body.startswith(MAIN_SIGNATURE) and main is None:
            main = body[len(MAIN_SIGNATURE):]
        elif body.startswith(EXTENSION_SIGNATURE) and len(body) >= len(EXTENSION_SIGNATURE) + 40:
            head = len(EXTENSION_SIGNATURE)
            guid = body[head:head + 32]
            length, offset = struct.unpack(">II", body[head + 32:head + 40])
            chunks.setdefault(guid, {})[offset] = body[head + 40:]
            lengths[guid] = length
    problems: list[str] = []
    if main is None or not chunks:
        return main, None, problems
    wanted = re.search(rb'HasExtendedXMP\s*=\s*["\']([0-9A-Fa-f]{32})["\']', main) or re.search(
        rb"HasExtendedXMP>\s*([0-9A-Fa-f]{32})\s*<", main)
    if wanted is None:
        problems.append("extended XMP segments without the main packet's HasExtendedXMP; ignored")
        return main, None, problems
    guid = wanted.group(1).upper()
    parts = chunks.get(guid)
    if parts is None:
        problems.append(f"the extended XMP {guid.decode()} the main packet names is missing (a truncated file?)")
        return main, None, problems
    whole = b"".join(parts[offset] for offset in sorted(parts))
    if len(whole) != lengths[guid] or hashlib.md5(whole).hexdigest().upper().encode() != guid:
        problems.append(f"the extended XMP is incomplete or damaged ({len(whole)} of {lengths[guid]} bytes); ignored")
        return main, None, problems
    return main, whole, problems


def properties(packet: bytes) -> dict[str, str]:
    """Every simple property of an XMP packet, named "Prefix:Name" for the namespaces in PREFIXES (others are
    left out), from both RDF forms: attributes of rdf:Description, and child elements with text. XmpError when
    the packet is not XML, declares entities (a billion-laughs bomb has no business in a photo) or is too big."""
    if len(packet) > MAX_PACKET:
        raise XmpError(f"XMP packet of {len(packet) // (1024 * 1024)} MB is too large")
    if b"<!ENTITY" in packet or b"<!DOCTYPE" in packet:
        raise XmpError("XMP declares a DOCTYPE or entities, which XMP never needs")
    start = packet.find(b"<")
    end = packet.rfind(b">")
    if start < 0 or end < start:
        raise XmpError("XMP packet is not XML")
    body = packet[start:end + 1]
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise XmpError(f"XMP packet is not well-formed XML ({error})") from None
    found: dict[str, str] = {}
    for description in root.iter(f"{_RDF}Description"):
        for key, value in description.attrib.items():
            name = _prefixed(key)
            if name is not None:
                found.setdefault(name, value.strip())
        for child in description:
            name = _prefixed(child.tag)
            if name is not None and len(child) == 0 and child.text is not None:
                found.setdefault(name, child.text.strip())
    return found


def _prefixed(tag: str) -> str | None:
    if not tag.startswith("{"):
        return None
    uri, _, local = tag[1:].partition("}")
    prefix = PREFIXES.get(uri)
    return None if prefix is None else f"{prefix}:{local}"


def number(props: dict[str, str], name: str, problems: list[str], label: str | None = None) -> float | None:
    """A numeric property, None when absent; a malformed one is a problem line (naming it `label`, default its
    name) and None. Spherical Video V1's XML tags (GPano's, in a film) are read with it too."""
    text = props.get(name)
    if text is None:
        return None
    label = label or name
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{label} {text!r} is not a number: ignored")
        return None
    if not math.isfinite(value):
        problems.append(f"{label} {text!r} is not finite: ignored")
        return None
    return value


def gpano_crop(props: dict[str, str], problems: list[str]) -> tuple[float, float, float, float] | None:
    """The cropped area of a partial panorama as fractions of the full 360×180 picture cut off each side (left,
    top, right, bottom), from GPano's pixel counts; None when the photo names no full panorama (it is whole). An
    area that leaves the full panorama is a problem line and None."""
    names = ("FullPanoWidthPixels", "FullPanoHeightPixels", "CroppedAreaImageWidthPixels",
             "CroppedAreaImageHeightPixels", "CroppedAreaLeftPixels", "CroppedAreaTopPixels")
    values = [number(props, f"GPano:{name}", problems) for name in names]
    full_w, full_h, crop_w, crop_h, left, top = values
    if full_w is None or full_h is None:
        return None
    if full_w <= 0 or full_h <= 0:
        problems.append(f"GPano full panorama size {full_w:g}×{full_h:g} is impossible; the photo is taken as whole")
        return None
    crop_w = full_w if crop_w is None else crop_w
    crop_h = full_h if crop_h is None else crop_h
    left = 0.0 if left is None else left
    top = 0.0 if top is None else top
    if crop_w <= 0 or crop_h <= 0 or left < 0 or top < 0 or left + crop_w > full_w + 0.5 or top + crop_h > full_h + 0.5:
        problems.append(f"GPano cropped area {crop_w:g}×{crop_h:g} at ({left:g}, {top:g}) does not fit the full "
                        f"panorama {full_w:g}×{full_h:g}; the photo is taken as whole")
        return None
    return (left / full_w, top / full_h, max(0.0, 1.0 - (left + crop_w) / full_w),
            max(0.0, 1.0 - (top + crop_h) / full_h))


def gpano_view(props: dict[str, str], problems: list[str]) -> tuple[float, float, float] | None:
    """The initial view (heading, pitch, roll in degrees, as stored) relative to the panorama's centre: GPano's
    InitialViewHeadingDegrees is a compass bearing, and PoseHeadingDegrees the bearing of the full panorama's
    centre, so the heading relative to the centre is their difference. None when the photo names no view."""
    heading = number(props, "GPano:InitialViewHeadingDegrees", problems)
    pitch = number(props, "GPano:InitialViewPitchDegrees", problems)
    roll = number(props, "GPano:InitialViewRollDegrees", problems)
    if heading is None and pitch is None and roll is None:
        return None
    centre = number(props, "GPano:PoseHeadingDegrees", problems) or 0.0
    return ((heading or 0.0) - centre if heading is not None else 0.0, pitch or 0.0, roll or 0.0)
