"""The screening room's pure parts: the clock filter, the messages, the room's clock, the sound's rate and start,
the conductor's commands and the seat's library. No broker, no player: numbers in, numbers out."""

from __future__ import annotations

import json
import os
import random
import threading

import numpy as np
import pytest

from vrplayer.audio.mixer import Mixer
from vrplayer.media.ring import SampleRing
from vrplayer.room import messages
from vrplayer.room.clock_sync import JUMP, SLEW, ClockSync
from vrplayer.room.conductor import validate_room_command
from vrplayer.room.link import RoomError, parse_room
from vrplayer.room.messages import Cue, MessageError
from vrplayer.room.room_clock import RoomClock
from vrplayer.room.seat import continuous, library_film
from vrplayer.room.seat_sound import MAX_RATE_CHANGE, correction_ratio


def exchange(seat_time: float, offset: float, there: float, back: float, think: float = 0.0002):
    """A clock question asked at seat_time: (t1, t2, t3, t4) with the way there and back taking `there`, `back`."""
    t1 = seat_time
    t2 = t1 + there + offset
    t3 = t2 + think
    t4 = t3 - offset + back
    return t1, t2, t3, t4


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_least_round_trip_of_the_last_eight_is_trusted():
    rng = random.Random(7)
    sync = ClockSync(FakeTime())
    offset = 3600.25  # the conductor's clock is an hour and a quarter second ahead
    errors_raw = []
    for i in range(40):
        # Mostly fast, sometimes one direction is held up (a busy broker): raw estimates are off by half of that.
        there = 0.0004 + (rng.random() * 0.03 if rng.random() < 0.3 else 0)
        back = 0.0004 + (rng.random() * 0.03 if rng.random() < 0.3 else 0)
        t = exchange(10.0 + i, offset, there, back)
        assert sync.add(*t)
        errors_raw.append(abs(((t[1] - t[0]) + (t[2] - t[3])) / 2 - offset))
        assert abs(sync.best[1] - offset) <= sync.best[0] / 2 + 1e-9  # never off by more than half its round trip
    assert max(errors_raw) > 0.005  # the delays did spoil single exchanges…
    assert abs(sync.offset() - offset) < 0.0005  # …and the filter saw through them
    # Only the last 8 count: a path that got slower for good is followed, not the best of all time.
    for i in range(8):
        sync.add(*exchange(100.0 + i, offset + 0.002, 0.01, 0.01))
    assert abs(sync.best[1] - (offset + 0.002)) < 1e-9


def test_once_playing_one_window_counts_for_little():
    """A settled seat (playing, a full window of answers) smooths the windows' best estimates: one unlucky answer
    that becomes the best (a one-sided delay that the round trip did not show) moves the clock by a twentieth."""
    clock = FakeTime()
    sync = ClockSync(clock)
    for i in range(8):
        sync.add(*exchange(clock.now + i, 7.0, 0.002, 0.002))
    sync.steady = True
    assert sync.settled
    sync.add(*exchange(clock.now + 9, 7.0 + 0.004, 0.0005, 0.0005))  # the best round trip, 4 ms off
    clock.now += 10.0  # (long enough for any slew)
    assert sync.offset() == pytest.approx(7.0 + 0.004 * 0.05, abs=1e-6)


def test_impossible_exchanges_are_ignored():
    sync = ClockSync(FakeTime())
    assert not sync.add(10.0, 5.0, 4.0, 9.0)  # answered before it was asked
    assert not sync.add(10.0, 5.0, 5.0, float("nan"))
    assert not sync.synced and sync.offset() == 0.0


def test_a_playing_seat_slews_a_new_estimate_and_takes_another_clock_at_once():
    clock = FakeTime()
    sync = ClockSync(clock)
    sync.add(*exchange(clock.now, 2.0, 0.001, 0.001))
    assert sync.offset() == pytest.approx(2.0)
    sync.steady = True
    for _ in range(8):  # the estimate moves 10 ms (drift, or a better exchange after a lost broker)
        sync.add(*exchange(clock.now, 2.010, 0.0005, 0.0005))
    seen = [sync.offset()]
    for _ in range(40):
        clock.now += 0.1
        seen.append(sync.offset())
    steps = np.diff(seen)
    assert steps.max() <= SLEW * 0.1 + 1e-12  # never faster than 0.5 %: no jump on screen
    assert seen[-1] == pytest.approx(2.010, abs=1e-9)  # and there after 2 s
    for _ in range(8):  # a conductor on another machine's clock: no slewing for seconds, at once
        sync.add(*exchange(clock.now, 50.0, 0.0005, 0.0005))
    assert 50.0 - 2.010 > JUMP and sync.offset() == pytest.approx(50.0)


def cue(**fields) -> Cue:
    base = dict(number=1, film="a.mp4", item=1, position=0.0, instant=100.0, playing=True, issued=99.0)
    return Cue(**{**base, **fields})


def state_message(**fields) -> bytes:
    return messages.encode({"cue": cue(**fields).as_dict(), "programme": ["a.mp4"]})


def test_the_room_state_is_read_back_as_sent():
    read, programme, _ = messages.read_state(state_message(position=12.5, playing=False, end=30.0))
    assert read == cue(position=12.5, playing=False, end=30.0) and programme == ["a.mp4"]


@pytest.mark.parametrize("payload, why", [
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b"[" * 3000 + b"]" * 3000, "nested too deeply"),
    (b'{"v": 1, "cue": "x"' + b" " * messages.MAX_MESSAGE + b"}", "bytes"),
    (json.dumps({"v": 9, "cue": {}}).encode(), "protocol"),
    (state_message(instant=98.0), "in the past"),
    (state_message(instant=99.0 + messages.MAX_LEAD + 1), "ahead"),
    (state_message(film="../../etc/passwd"), "file name alone"),
    (state_message(film="http://example.org/x.mp4"), "file name alone"),
    (state_message(position=float("nan")).replace(b"NaN", b'"NaN"'), "not a number"),
    (messages.encode({"cue": {**cue().as_dict(), "playing": "yes"}}), "true or false"),
])
def test_a_bad_state_is_refused_with_a_reason(payload, why):
    with pytest.raises(MessageError, match=why):
        messages.read_state(payload)


def test_commands_and_clock_messages_are_read_strictly():
    assert messages.read_seat_command(messages.encode({"command": "recenter", "instant": 5.0, "issued": 4.0}))[0] == "recenter"
    with pytest.raises(MessageError, match="unknown command"):
        messages.read_seat_command(messages.encode({"command": "rm -rf", "instant": 5.0, "issued": 4.0}))
    with pytest.raises(MessageError, match="not a name"):
        messages.read_time_ask(messages.encode({"seat": "a/b", "id": 1, "t1": 1.0}))
    with pytest.raises(MessageError, match="sent before"):
        messages.read_time_answer(messages.encode({"id": 1, "t1": 1.0, "t2": 5.0, "t3": 4.0}))
    status = messages.read_seat_status(messages.encode({"seat": "s1", "state": "playing", "error_ms": 1.5,
                                                         "dropped": "many", "evil": "<script>"}))
    assert status == {"seat": "s1", "state": "playing", "error_ms": 1.5}  # unknown and ill-typed fields dropped
    messages.check_fresh(90.0, 100.0, retained=False)
    with pytest.raises(MessageError, match="ago"):
        messages.check_fresh(10.0, 100.0, retained=False)  # a replayed command
    messages.check_fresh(10.0, 100.0, retained=True)  # the room's state may be old: a late joiner starts from it
    with pytest.raises(MessageError, match="future"):
        messages.check_fresh(200.0, 100.0, retained=True)


def test_the_room_clock_follows_cues_from_their_moment():
    t = FakeTime()
    clock = RoomClock(t)
    assert clock.paused and clock.now() == 0.0
    playing = cue(instant=1001.0, position=5.0)
    clock.follow(playing, t.now)
    assert clock.now() == pytest.approx(4.0)  # before the instant: the first frame (at 5 s) waits for it
    assert clock.started
    t.now = 1003.0
    assert clock.now() == pytest.approx(7.0)
    pause = cue(number=2, instant=1004.0, position=8.0, playing=False)
    assert continuous(playing, pause)  # a pause goes on from where the room is: no seek
    clock.follow(pause, pause.instant)
    t.now = 1003.5
    assert clock.now() == pytest.approx(7.5) and not clock.paused  # still the old cue until the instant
    t.now = 1010.0
    assert clock.now() == pytest.approx(8.0) and clock.paused
    assert not continuous(pause, cue(number=3, instant=1011.0, position=2.0))  # a seek


def test_the_operators_commands_are_checked():
    assert validate_room_command({"command": "seek", "position": "12.5", "seat": "s1"}) == ("seek", {"position": 12.5, "seat": "s1"})
    assert validate_room_command({"command": "load", "item": "2"}, items=3) == ("load", {"item": 2})
    assert validate_room_command({"command": "pause", "seat": "all"}) == ("pause", {})
    for bad, why in [({"command": "load", "item": 4}, "from 1 to 3"), ({"command": "seek"}, "position"),
                     ({"command": "pause", "item": 1}, "only with"), ({"command": "x"}, "unknown command"),
                     ({"command": "play", "seat": "../x"}, "not a name"), ({"command": "play", "rm": 1}, "unknown field"),
                     ({"command": "seek", "position": -1}, "0 or more")]:
        with pytest.raises(ValueError, match=why):
            validate_room_command(bad, items=3)


def test_room_addresses():
    address = parse_room("mqtts://operator@broker.example:9883/festival-hall", environ={"VRPLAYER_MQTT_PASSWORD": "pw"})
    assert (address.host, address.port, address.room, address.tls, address.username, address.password) == \
        ("broker.example", 9883, "festival-hall", True, "operator", "pw")
    assert address.topic("seats", "s1") == "vrplayer/festival-hall/seats/s1"
    assert parse_room("mqtt://127.0.0.1/r", environ={}).port == 1883
    for bad, why in [("http://h/r", "not a room address"), ("mqtt://h/", "not a name"), ("mqtt://h/a/b", "not a name"),
                     ("mqtt://u:secret@h/r", "process list")]:
        with pytest.raises(RoomError, match=why):
            parse_room(bad, environ={})


def test_a_seat_plays_only_films_in_its_library(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    (library / "film.mp4").write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "secret.mp4", library / "link.mp4")
    assert library_film(str(library), "film.mp4") == str(library / "film.mp4")
    for name in ("../secret.mp4", str(tmp_path / "secret.mp4"), "link.mp4", "missing.mp4", "", "..", "sub/film.mp4"):
        assert library_film(str(library), name) is None, name


def sine_ring(seconds: float = 6.0, rate: int = 48000, frequency: float = 440.0) -> SampleRing:
    ring = SampleRing(int(rate * seconds) + 10, 1)
    ring.reset(0.0, rate, 0)
    t = np.arange(int(rate * seconds)) / rate
    ring.write(np.sin(2 * np.pi * frequency * t).astype(np.float32)[:, None], threading.Event())
    return ring


def playing_mixer() -> tuple[SampleRing, Mixer]:
    """A mixer playing a 440 Hz sine (mono, 48 kHz, 6 s in its ring), its gate open."""
    ring = sine_ring()
    mixer = Mixer(ring, 1.0, None, 1024)
    mixer.restart(0)
    mixer.paused = False
    return ring, mixer


def play(mixer: Mixer, blocks: int, ratio_of=lambda i: 1.0, frames: int = 1024, start: float = 0.0) -> np.ndarray:
    out = []
    now = start
    for i in range(blocks):
        mixer.ratio = ratio_of(i)
        block = np.zeros((frames, mixer.ring.channels), np.float32)
        mixer.fill(block, 0.0, now)
        out.append(block)
        now += frames / mixer.ring.rate
    return np.concatenate(out)[:, 0]


def test_the_sound_runs_half_a_percent_fast_or_slow_without_a_click():
    ring, mixer = playing_mixer()
    ratios = lambda i: 1.0 if i < 40 else 1 + MAX_RATE_CHANGE if i < 120 else 1 - MAX_RATE_CHANGE
    heard = play(mixer, 200, ratios)
    steepest = 2 * np.pi * 440 / 48000 * (1 + MAX_RATE_CHANGE)  # the largest step a 440 Hz sine takes between samples
    assert np.abs(np.diff(heard)).max() <= steepest * 1.01  # no click where the rate changed
    consumed = ring.read_position
    assert consumed == pytest.approx(1024 * (40 + 80 * (1 + MAX_RATE_CHANGE) + 80 * (1 - MAX_RATE_CHANGE)), abs=2)
    _, pts, heard_at, _, rate = mixer.anchor  # the anchor says the media time it plays, at its rate
    assert rate == pytest.approx(1 - MAX_RATE_CHANGE)
    assert pts == pytest.approx((consumed - 1024 * rate) / 48000, abs=2 / 48000)
    # The 440 Hz tone came out at 440 × the ratio (one cycle per 48000/440/ratio samples) while it ran fast.
    fast = heard[1024 * 50 : 1024 * 110]
    crossings = np.count_nonzero((fast[:-1] < 0) & (fast[1:] >= 0))
    assert crossings == pytest.approx(len(fast) / 48000 * 440 * (1 + MAX_RATE_CHANGE), abs=1)


def test_the_sound_starts_on_its_due_sample():
    rate = 48000
    ring, mixer = playing_mixer()
    mixer.due = 1.0 + 2500 / rate  # the first sample is due 2500 samples into the blocks that begin at t = 1.0
    heard = play(mixer, 4, start=1.0)
    first = int(np.flatnonzero(np.abs(heard) > 0)[0])
    assert first == 2501  # (sample 0 of the sine is 0: the first one heard is its sample 1)
    assert mixer.anchor[2] == pytest.approx(1.0 + 3 * 1024 / rate)
    # Due in the past: the samples already late are skipped, and the sound is where it should be now.
    ring, mixer = playing_mixer()
    mixer.due = 1.0 - 0.25
    play(mixer, 1, start=1.0)
    assert ring.read_position == 12000 + 1024


def test_the_correction_is_gentle_and_bounded():
    assert correction_ratio(0.0) == 1.0
    assert correction_ratio(0.004) == pytest.approx(1.002)  # 4 ms behind: 0.2 % fast for two seconds
    assert correction_ratio(0.5) == 1 + MAX_RATE_CHANGE and correction_ratio(-0.5) == 1 - MAX_RATE_CHANGE


def test_a_command_the_conductor_cannot_carry_out_is_refused_when_asked():
    """The operator's sink checks a command against the room as it is: what it accepts, it carries out."""
    from vrplayer.room.conductor import Conductor, ConductorOptions, RoomFilm

    films = [RoomFilm("a.mp4", 10.0, "a"), RoomFilm("b.mp4", 5.0, "b")]
    conductor = Conductor(parse_room("mqtt://127.0.0.1:1/r", environ={}), films, ConductorOptions())
    with pytest.raises(ValueError, match="plays nothing"):
        conductor.film_change("pause", {})
    assert conductor.film_change("play", {}) == 1  # nothing plays: play starts the programme
    conductor._cue = cue(item=2, film="b.mp4")
    with pytest.raises(ValueError, match="last"):
        conductor.film_change("next", {})
    assert conductor.film_change("previous", {}) == 1 and conductor.film_change("load", {"item": 2}) == 2
    assert conductor.film_change("pause", {}) is None and conductor.film_change("restart", {"seat": "s1"}) is None
    looping = Conductor(parse_room("mqtt://127.0.0.1:1/r", environ={}), films, ConductorOptions(loop=True))
    looping._cue = cue(item=2, film="b.mp4")
    assert looping.film_change("next", {}) == 1


def test_the_sound_pauses_on_its_instants_sample():
    rate = 48000
    ring, mixer = playing_mixer()
    mixer.stop_at = 1.0 + 3000 / rate  # in the third block of those that begin at t = 1.0
    heard = play(mixer, 5, start=1.0)
    assert mixer.paused and mixer.stop_at is None
    assert np.abs(heard[2990:3000]).max() > 0 and not np.any(heard[3000:])
    assert ring.read_position == 3000  # the rest waits: a resume goes on from the sample after it
