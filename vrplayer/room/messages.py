"""The room's messages: what each topic carries, read strictly. Pure Python, no network.

Every message is one JSON object. Whatever arrives on the room's topics is read by `read_*` here, which raise
MessageError (one line saying what is wrong) for anything malformed, oversized, of an unknown kind, or naming an
instant that cannot be meant: the seat or conductor logs that line and ignores the message.

A cue is the room's schedule from one instant on: "film F is at media time P at conductor time I, playing (or
paused there)". Cues are numbered; a seat follows the newest. The room's media time at conductor time t is
P + (t − I) while playing, P while paused (`Cue.position_at`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass

PROTOCOL = 1
MAX_MESSAGE = 64 * 1024  # bytes: a room's state with a long programme fits many times over
MAX_LEAD = 120.0  # seconds: a command's instant lies at most this far after it was issued
CLOCK_SLACK = 5.0  # seconds: a message issued "in the future" by more than this comes from a clock we do not share
STALE = 30.0  # seconds: a command (not the room's retained state) older than this when it arrives is refused
SEAT_STATES = ("joining", "loading", "ready", "playing", "paused", "waiting", "lost")
SEAT_COMMANDS = ("recenter", "restart", "cue")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")


class MessageError(ValueError):
    """A message on the room's topics that is not read: why, in one line."""


def check_name(name: str, what: str) -> str:
    """A room's or seat's name: letters, digits, '_', '.', '-', at most 64 (it is part of the topics)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise MessageError(f"{what} {name!r} is not a name: use letters, digits, '_', '.' and '-' (at most 64)")
    return name


@dataclass(frozen=True)
class Cue:
    number: int  # grows with every cue the conductor issues
    film: str  # the film's file name in each seat's library; "" when the room shows nothing
    item: int  # its number in the conductor's programme (1-based; 0 with no film)
    position: float  # the film's media time at `instant` (seconds)
    instant: float  # conductor clock (seconds)
    playing: bool
    issued: float  # conductor clock when the cue was sent
    end: float | None = None  # where the room stops the film (a programme's trim), None: its end

    def position_at(self, t: float) -> float:
        """The room's media time at conductor time t (before the instant, a playing cue extrapolates back: the
        first frame waits for its moment)."""
        return self.position + (t - self.instant) if self.playing else self.position

    def as_dict(self) -> dict:
        return asdict(self)


def encode(message: dict) -> bytes:
    return json.dumps({"v": PROTOCOL, **message}, separators=(",", ":")).encode()


def _decode(payload: bytes) -> dict:
    if len(payload) > MAX_MESSAGE:
        raise MessageError(f"a message of {len(payload)} bytes (at most {MAX_MESSAGE})")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MessageError("a message that is not JSON") from None
    except RecursionError:
        raise MessageError("a message nested too deeply") from None
    if not isinstance(data, dict):
        raise MessageError("a message that is not a JSON object")
    if data.get("v") != PROTOCOL:
        raise MessageError(f"a message of protocol {data.get('v')!r} (this vrplayer speaks {PROTOCOL})")
    return data


def _number(data: dict, key: str, low: float | None = None) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MessageError(f"{key!r} is {_shown(value)}, not a number")
    if low is not None and value < low:
        raise MessageError(f"{key!r} is {value}, below {low}")
    return float(value)


def _integer(data: dict, key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MessageError(f"{key!r} is {_shown(value)}, not a whole number")
    return value


def _text(data: dict, key: str, limit: int = 255) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > limit:
        raise MessageError(f"{key!r} is {_shown(value)}, not a text of at most {limit} characters")
    return value


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_cue(data) -> Cue:
    if not isinstance(data, dict):
        raise MessageError("a cue that is not an object")
    film = _text(data, "film")
    if film and (film in (".", "..") or any(c in film for c in "/\\\0") or "://" in film):
        raise MessageError(f"the cue names {_shown(film)}: a film is named by its file name alone")
    end = data.get("end")
    cue = Cue(number=_integer(data, "number"), film=film, item=_integer(data, "item"),
              position=_number(data, "position", 0.0), instant=_number(data, "instant"),
              playing=data.get("playing") is True, issued=_number(data, "issued"),
              end=None if end is None else _number(data, "end", 0.0))
    if not isinstance(data.get("playing"), bool):
        raise MessageError(f"'playing' is {_shown(data.get('playing'))}, not true or false")
    check_instant(cue.instant, cue.issued)
    return cue


def check_instant(instant: float, issued: float) -> None:
    """An instant is meant when it lies at or after its issue, and not far beyond."""
    if instant < issued - 1e-6:
        raise MessageError(f"an instant {issued - instant:.3f} s before the command was issued (in the past)")
    if instant > issued + MAX_LEAD:
        raise MessageError(f"an instant {instant - issued:.0f} s after the command was issued (at most {MAX_LEAD:.0f} s ahead)")


def check_fresh(issued: float, conductor_now: float, retained: bool) -> None:
    """A message issued in the future of the clock we share, or (a live command) long ago, is refused; the
    room's retained state may be old: a seat joining late starts from it."""
    if issued > conductor_now + CLOCK_SLACK:
        raise MessageError(f"a message issued {issued - conductor_now:.1f} s in the future of the conductor's clock")
    if not retained and conductor_now - issued > STALE:
        raise MessageError(f"a command issued {conductor_now - issued:.0f} s ago (a replay?)")


# --- the topics' messages ---------------------------------------------------------------------------------------


def read_state(payload: bytes) -> tuple[Cue, list[str], dict]:
    """The room's state (retained, from the conductor): its cue, the programme's film names, and the conductor's
    {"name", "started"}."""
    data = _decode(payload)
    cue = read_cue(data.get("cue"))
    programme = data.get("programme", [])
    if not isinstance(programme, list) or not all(isinstance(n, str) and len(n) <= 255 for n in programme):
        raise MessageError("'programme' is not a list of film names")
    conductor = data.get("conductor", {})
    if not isinstance(conductor, dict):
        raise MessageError("'conductor' is not an object")
    return cue, programme, conductor


def read_time_ask(payload: bytes) -> tuple[str, int, float]:
    """A seat's clock question: (seat, id, t1 on the seat's clock)."""
    data = _decode(payload)
    return check_name(data.get("seat"), "seat"), _integer(data, "id"), _number(data, "t1")


def read_time_answer(payload: bytes) -> tuple[int, float, float, float]:
    """The conductor's answer: (id, t1 echoed, t2 its clock on receipt, t3 its clock on sending)."""
    data = _decode(payload)
    t2, t3 = _number(data, "t2"), _number(data, "t3")
    if t3 < t2:
        raise MessageError("a clock answer sent before it was received")
    return _integer(data, "id"), _number(data, "t1"), t2, t3


def read_seat_command(payload: bytes) -> tuple[str, float, float, Cue | None]:
    """A command to one seat or all: (name, instant, issued, its cue for "cue")."""
    data = _decode(payload)
    name = data.get("command")
    if name not in SEAT_COMMANDS:
        raise MessageError(f"an unknown command {_shown(name)}")
    instant, issued = _number(data, "instant"), _number(data, "issued")
    check_instant(instant, issued)
    cue = read_cue(data.get("cue")) if name == "cue" else None
    return name, instant, issued, cue


def read_seat_status(payload: bytes) -> dict:
    """A seat's status (retained; its last will says "lost"). Only the known fields, each of its type."""
    data = _decode(payload)
    state = data.get("state")
    if state not in SEAT_STATES:
        raise MessageError(f"a seat state {_shown(state)}")
    status = {"seat": check_name(data.get("seat"), "seat"), "state": state}
    for key, kind in (("film", str), ("position", float), ("error_ms", float), ("error_p99_ms", float),
                      ("headset_on", bool), ("dropped", int), ("shown", int), ("cue", int), ("offset_ms", float),
                      ("rtt_ms", float), ("joined", float), ("instance", str), ("problem", str), ("display", str)):
        value = data.get(key)
        if value is None:
            continue
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            status[key] = float(value)
        elif kind is int and isinstance(value, int) and not isinstance(value, bool):
            status[key] = value
        elif kind in (str, bool) and isinstance(value, kind):
            status[key] = value[:255] if kind is str else value
    return status
