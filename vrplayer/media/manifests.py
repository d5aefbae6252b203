"""Streaming manifests, HLS (`.m3u8`) and DASH (`.mpd`), read into one model: the variants of the picture (each a
bit rate, a size, an init segment and its media segments on one timeline), the sound when it comes apart, live or
on demand. Pure: text in, the model out (fetching is media/segments.py's).

HLS: RFC 8216 — a master playlist's EXT-X-STREAM-INF variants and EXT-X-MEDIA audio renditions, a media playlist's
EXTINF segments, EXT-X-MAP (fMP4 init), EXT-X-BYTERANGE, EXT-X-MEDIA-SEQUENCE, EXT-X-ENDLIST (none: live).
DASH: ISO/IEC 23009-1 as encoders write it — Period / AdaptationSet / Representation with SegmentTemplate
($RepresentationID$, $Number$, $Time$, $Bandwidth$; with or without SegmentTimeline) or SegmentList, BaseURL, a
static (on demand) or dynamic (live) MPD.
"""

from __future__ import annotations

import math
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


class ManifestError(ValueError):
    """The manifest cannot be used; the message says why, in a few words."""


@dataclass
class Segment:
    url: str
    start: float  # seconds on the presentation's timeline
    duration: float
    number: int  # HLS media sequence number, DASH segment number: what stays the same across reloads
    byterange: tuple[int, int] | None = None  # (offset, length)


@dataclass
class Track:
    """One variant of the picture (or the sound, when it comes apart): its segments on the shared timeline."""

    kind: str  # "video" (the picture, perhaps with its sound muxed in) | "audio"
    bandwidth: int  # bits per second, as the manifest says
    width: int = 0
    height: int = 0
    name: str = ""
    init: Segment | None = None  # fMP4: the initialisation segment, before any media segment
    segments: list[Segment] = field(default_factory=list)
    playlist: str | None = None  # HLS: the media playlist's URL (reloaded while live)


@dataclass
class Presentation:
    kind: str  # "hls" | "dash"
    variants: list[Track]  # the picture's, lowest bandwidth first
    audio: Track | None = None  # the sound, when it is a rendition of its own
    live: bool = False
    reload_every: float = 2.0  # seconds between reloads of a live manifest

    @property
    def duration(self) -> float | None:
        if self.live or not self.variants or not self.variants[0].segments:
            return None
        last = self.variants[0].segments[-1]
        return last.start + last.duration


def is_manifest(url: str) -> str | None:
    """"hls" or "dash" for a link whose path names a manifest, else None."""
    path = urllib.parse.urlsplit(url).path.lower()
    return "hls" if path.endswith(".m3u8") else "dash" if path.endswith(".mpd") else None


# -- HLS --------------------------------------------------------------------------------------------------------

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def _attributes(text: str) -> dict[str, str]:
    return {key: value.strip('"') for key, value in _ATTRIBUTE.findall(text)}


def hls_master(text: str, url: str) -> tuple[list[Track], Track | None] | None:
    """A master playlist's variants (their media playlists' URLs, segments not yet read) and its default audio
    rendition; None when `text` is a media playlist."""
    lines = _hls_lines(text)
    if not any(line.startswith("#EXT-X-STREAM-INF") for line in lines):
        return None
    variants, audio_groups = [], {}
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-MEDIA:"):
            attrs = _attributes(line.partition(":")[2])
            if attrs.get("TYPE") == "AUDIO" and attrs.get("URI"):
                group = audio_groups.setdefault(attrs.get("GROUP-ID", ""), [])
                group.insert(0 if attrs.get("DEFAULT") == "YES" else len(group), attrs)
        elif line.startswith("#EXT-X-STREAM-INF:"):
            attrs = _attributes(line.partition(":")[2])
            uri = next((l for l in lines[index + 1:] if not l.startswith("#")), None)
            if uri is None:
                raise ManifestError("a variant (EXT-X-STREAM-INF) names no playlist")
            width, _, height = attrs.get("RESOLUTION", "0x0").partition("x")
            codecs = attrs.get("CODECS", "")
            if "RESOLUTION" not in attrs and codecs and not any(c in codecs for c in ("avc", "hvc", "hev", "vp0", "av01")):
                continue  # an audio-only variant: the sound, not a picture
            variants.append(Track("video", int(attrs.get("BANDWIDTH", "0") or 0), int(width or 0), int(height or 0),
                                  name=uri, playlist=urllib.parse.urljoin(url, uri)))
            variants[-1].audio_group = attrs.get("AUDIO")  # type: ignore[attr-defined]
    if not variants:
        raise ManifestError("the master playlist has no variant with a picture")
    audio = None
    group = getattr(variants[0], "audio_group", None)
    if group in audio_groups and audio_groups[group]:
        chosen = audio_groups[group][0]
        audio = Track("audio", 0, name=chosen.get("NAME", "audio"), playlist=urllib.parse.urljoin(url, chosen["URI"]))
    variants.sort(key=lambda track: track.bandwidth)
    return variants, audio


def hls_media(text: str, url: str, track: Track) -> tuple[bool, float]:
    """Read a media playlist's segments into `track` (replacing them); (live, target duration)."""
    lines = _hls_lines(text)
    sequence = 0
    start = 0.0
    duration = None
    byterange = None
    next_offset = 0
    segments: list[Segment] = []
    target = 2.0
    for line in lines:
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.partition(":")[2] or 0)
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target = float(line.partition(":")[2] or 2)
        elif line.startswith("#EXT-X-MAP:"):
            attrs = _attributes(line.partition(":")[2])
            track.init = Segment(urllib.parse.urljoin(url, attrs["URI"]), 0.0, 0.0, -1, _byterange(attrs.get("BYTERANGE"), 0))
        elif line.startswith("#EXTINF:"):
            duration = float(line.partition(":")[2].partition(",")[0])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            byterange = _byterange(line.partition(":")[2], next_offset)
        elif not line.startswith("#"):
            if duration is None:
                raise ManifestError(f"segment {line[:40]!r} has no EXTINF duration")
            segments.append(Segment(urllib.parse.urljoin(url, line), start, duration, sequence, byterange))
            if byterange is not None:
                next_offset = byterange[0] + byterange[1]
            start += duration
            sequence += 1
            duration, byterange = None, None
    live = "#EXT-X-ENDLIST" not in lines
    # A live playlist reloaded: its segments slide; those already known keep their place on the timeline.
    known = {segment.number: segment.start for segment in track.segments}
    anchor = next((segment for segment in segments if segment.number in known), None)
    if anchor is not None:
        shift = known[anchor.number] - anchor.start
        for segment in segments:
            segment.start += shift
    track.segments = segments
    return live, target


def _byterange(text: str | None, default_offset: int) -> tuple[int, int] | None:
    if not text:
        return None
    length, _, offset = text.partition("@")
    return (int(offset) if offset else default_offset, int(length))


def _hls_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("#EXTM3U"):
        raise ManifestError("not an HLS playlist (no #EXTM3U)")
    return lines


# -- DASH -------------------------------------------------------------------------------------------------------

def dash(text: str, url: str) -> Presentation:
    if "<!ENTITY" in text or "<!DOCTYPE" in text:
        raise ManifestError("the MPD declares a DOCTYPE or entities, which an MPD never needs")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise ManifestError(f"the MPD is not well-formed XML ({error})") from None
    if not root.tag.endswith("MPD"):
        raise ManifestError("not a DASH manifest (no MPD element)")
    live = root.get("type") == "dynamic"
    total = _iso_duration(root.get("mediaPresentationDuration"))
    period = _child(root, "Period")
    if period is None:
        raise ManifestError("the MPD has no Period")
    base = urllib.parse.urljoin(url, _text(_child(root, "BaseURL")) or "")
    base = urllib.parse.urljoin(base, _text(_child(period, "BaseURL")) or "")
    variants, audio = [], None
    for adaptation in _children(period, "AdaptationSet"):
        kind = _kind(adaptation)
        for representation in _children(adaptation, "Representation"):
            track = _representation(representation, adaptation, period, base, kind, total)
            if kind == "video":
                variants.append(track)
            elif kind == "audio" and (audio is None or track.bandwidth > audio.bandwidth):
                audio = track
    if not variants:
        raise ManifestError("the MPD has no video Representation")
    variants.sort(key=lambda track: track.bandwidth)
    return Presentation("dash", variants, audio, live, _iso_duration(root.get("minimumUpdatePeriod")) or 2.0)


def _kind(adaptation) -> str:
    text = (adaptation.get("contentType") or adaptation.get("mimeType") or "").lower()
    if not text:
        first = _child(adaptation, "Representation")
        text = (first.get("mimeType") or "") if first is not None else ""
    return "video" if "video" in text else "audio" if "audio" in text else "other"


def _representation(rep, adaptation, period, base: str, kind: str, total: float | None) -> Track:
    track = Track(kind, int(rep.get("bandwidth", "0")), int(rep.get("width") or adaptation.get("width") or 0),
                  int(rep.get("height") or adaptation.get("height") or 0), name=rep.get("id", ""))
    base = urllib.parse.urljoin(base, _text(_child(adaptation, "BaseURL")) or "")
    base = urllib.parse.urljoin(base, _text(_child(rep, "BaseURL")) or "")
    template = _first_child((rep, adaptation, period), "SegmentTemplate")
    listing = _child(rep, "SegmentList")
    values = {"RepresentationID": track.name, "Bandwidth": str(track.bandwidth)}
    if template is not None:
        timescale = int(template.get("timescale", "1"))
        if template.get("initialization"):
            track.init = Segment(urllib.parse.urljoin(base, _fill(template.get("initialization"), values)), 0.0, 0.0, -1)
        media = template.get("media")
        if not media:
            raise ManifestError(f"Representation {track.name!r} has a SegmentTemplate without media")
        start_number = int(template.get("startNumber", "1"))
        offset = int(template.get("presentationTimeOffset", "0"))
        timeline = _child(template, "SegmentTimeline")
        if timeline is not None:
            number, time = start_number, None
            for entry in _children(timeline, "S"):
                time = int(entry.get("t")) if entry.get("t") is not None else (time or 0)
                length = int(entry.get("d"))
                for _ in range(int(entry.get("r", "0")) + 1):
                    url = urllib.parse.urljoin(base, _fill(media, {**values, "Number": number, "Time": time}))
                    track.segments.append(Segment(url, (time - offset) / timescale, length / timescale, number))
                    number, time = number + 1, time + length
        else:
            length = int(template.get("duration", "0")) / timescale
            if length <= 0 or total is None:
                raise ManifestError(f"Representation {track.name!r}: a SegmentTemplate needs a duration and the MPD "
                                    "a mediaPresentationDuration (or a SegmentTimeline)")
            for k in range(math.ceil(total / length - 1e-6)):
                url = urllib.parse.urljoin(base, _fill(media, {**values, "Number": start_number + k}))
                track.segments.append(Segment(url, k * length, min(length, total - k * length), start_number + k))
    elif listing is not None:
        timescale = int(listing.get("timescale", "1"))
        length = int(listing.get("duration", "0")) / timescale
        init = _child(listing, "Initialization")
        if init is not None and init.get("sourceURL"):
            track.init = Segment(urllib.parse.urljoin(base, init.get("sourceURL")), 0.0, 0.0, -1)
        for k, entry in enumerate(_children(listing, "SegmentURL")):
            track.segments.append(Segment(urllib.parse.urljoin(base, entry.get("media")), k * length, length, k + 1))
    else:
        raise ManifestError(f"Representation {track.name!r} has neither a SegmentTemplate nor a SegmentList")
    return track


def _fill(template: str, values: dict) -> str:
    def one(match) -> str:
        name, width = match.group(1), match.group(2)
        value = values.get(name)
        if value is None:
            return match.group(0)
        return f"{int(value):0{int(width[2:-1]) if width else 0}d}" if width else str(value)

    return re.sub(r"\$(RepresentationID|Number|Time|Bandwidth)(%0\d+d)?\$", one, template).replace("$$", "$")


def _iso_duration(text: str | None) -> float | None:
    """Seconds of an ISO 8601 duration ("PT1M30.5S")."""
    if not text:
        return None
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?", text.strip())
    if match is None:
        raise ManifestError(f"a duration {text!r} that is not ISO 8601")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _child(element, name: str):
    for child in element:
        if child.tag.rpartition("}")[2] == name:
            return child
    return None


def _first_child(elements, name: str):
    """The first of `elements` that has a child `name`: that child (an element with no children is falsy: no `or`)."""
    for element in elements:
        found = _child(element, name)
        if found is not None:
            return found
    return None


def _children(element, name: str) -> list:
    return [child for child in element if child.tag.rpartition("}")[2] == name]


def _text(element) -> str | None:
    return element.text.strip() if element is not None and element.text else None
