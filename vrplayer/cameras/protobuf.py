"""Just enough of protobuf's wire format to read a few known fields of a camera's message without its schema:
field number → the values found (varints as ints, fixed 64/32-bit as raw bytes, length-delimited as bytes).
Strict: a message that runs past its end is a ValueError."""

from __future__ import annotations

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a protobuf varint runs past the message")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if not byte & 0x80:
            return value, at
        shift += 7


def fields(data: bytes) -> dict[int, list]:
    found: dict[int, list] = {}
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, kind = key >> 3, key & 7
        if kind == VARINT:
            value, at = _varint(data, at)
        elif kind in (FIXED64, FIXED32):
            size = 8 if kind == FIXED64 else 4
            value, at = data[at:at + size], at + size
        elif kind == LENGTH:
            size, at = _varint(data, at)
            value, at = data[at:at + size], at + size
        else:
            raise ValueError(f"protobuf wire type {kind} is not read here")
        if at > len(data):
            raise ValueError("a protobuf field runs past the message")
        found.setdefault(number, []).append(value)
    return found


def first_text(found: dict, number: int) -> str | None:
    values = found.get(number)
    return values[0].decode("utf-8", "replace") if values and isinstance(values[0], bytes) else None


def first_int(found: dict, number: int) -> int | None:
    values = found.get(number)
    return values[0] if values and isinstance(values[0], int) else None
