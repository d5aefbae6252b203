"""GoPro's telemetry (GPMF, facts in vrplayer/cameras/facts.py): the gravity vector (GRAV) and camera orientation
(CORI) samples of a film's "GoPro MET" track, read strictly (a damaged payload is skipped, never raised) and timed
by the packets that carry them."""

from __future__ import annotations

import struct

from vrplayer.cameras import facts


def entries(data: bytes, start: int = 0, end: int | None = None):
    """(key, type, struct size, repeat, payload bytes) of each KLV entry in data[start:end]."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        key = data[at:at + 4].decode("latin-1")
        kind, size, repeat = data[at + 4], data[at + 5], struct.unpack(">H", data[at + 6:at + 8])[0]
        length = size * repeat
        if at + 8 + length > end:
            raise ValueError(f"GPMF {key!r} runs past its container")
        yield key, kind, size, repeat, data[at + 8:at + 8 + length]
        at += 8 + (length + 3) // 4 * 4


def _values(kind: int, size: int, repeat: int, payload: bytes) -> list[tuple]:
    code = facts.GPMF_TYPES.get(chr(kind))
    if code is None:
        raise ValueError(f"GPMF type {chr(kind)!r} is not read here")
    count = size // struct.calcsize(">" + code)
    return [struct.unpack_from(f">{count}{code}", payload, i * size) for i in range(repeat)]


def streams(payload: bytes) -> dict[str, list[tuple]]:
    """Each sample stream's samples (its fourcc → scaled tuples) in one GPMF payload (DEVC → STRM → values)."""
    found: dict[str, list[tuple]] = {}

    def walk(data: bytes, scale=None) -> None:
        for key, kind, size, repeat, body in entries(data):
            if kind == facts.GPMF_NESTED:
                walk(body)
            elif key == "SCAL":
                scale = [v[0] for v in _values(kind, size, repeat, body)]
            elif key in ("GRAV", "CORI"):
                divisors = scale or [1]
                samples = _values(kind, size, repeat, body)
                found.setdefault(key, []).extend(
                    tuple(v / divisors[min(i, len(divisors) - 1)] for i, v in enumerate(sample)) for sample in samples)

    walk(payload)
    return found


def telemetry_track(container):
    """The film's GPMF telemetry stream, or None."""
    return next((s for s in container.streams
                 if s.type == "data" and (s.metadata or {}).get("handler_name", "").strip() == facts.GOPRO_TELEMETRY_HANDLER),
                None)


def read_telemetry(container, origin: float = 0.0) -> dict[str, list[tuple]]:
    """{"GRAV": [(t, x, y, z), …], "CORI": [(t, w, x, y, z), …]} from the film's telemetry track (empty when it has
    none); t in film seconds, each payload's samples spread over its packet's duration."""
    track = telemetry_track(container)
    timed: dict[str, list[tuple]] = {}
    if track is None:
        return timed
    for packet in container.demux(track):
        if packet.pts is None or packet.size == 0:
            continue
        start = float(packet.pts * packet.time_base) - origin
        span = float(packet.duration * packet.time_base) if packet.duration else 1.0
        try:
            found = streams(bytes(packet))
        except (ValueError, struct.error):
            continue
        for key, samples in found.items():
            timed.setdefault(key, []).extend((start + span * i / len(samples), *sample) for i, sample in enumerate(samples))
    return timed
