"""The kiosk's self-contained parts: programme files and playlist rules, the staff HTTP API, the session log.

Real files in tmp_path, real sockets on 127.0.0.1 (port 0); no player, no GPU, no sleeps.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import subprocess
import threading
import urllib.parse
from pathlib import Path

import pytest

from vrplayer.errors import PlayerError
from vrplayer.kiosk import control, programme
from vrplayer.kiosk.control import Busy, CommandQueue, ControlError, ControlServer
from vrplayer.kiosk.programme import (
    ProgrammeCursor, ProgrammeError, ProgrammeWatcher, cursor_after_reload, load_programme,
)
from vrplayer.kiosk.sessionlog import SessionLog, read_events
from vrplayer.layout import PROJECTIONS, STEREO_MODES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def films(tmp_path) -> Path:
    """A folder with three (empty) film files: the programme only checks that they exist."""
    folder = tmp_path / "films"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (folder / name).write_bytes(b"")
    return folder


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def lines(self, level=logging.DEBUG):
        return [r.getMessage() for r in self.records if r.levelno >= level]


@pytest.fixture
def logged():
    """Records from our "vrplayer" loggers, whatever log.setup() did to propagation."""
    handler = _Records()
    root = logging.getLogger("vrplayer")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


# --- programme: formats ----------------------------------------------------------------------------------------


def test_m3u_relative_and_absolute_paths_titles_bom_and_comments(tmp_path, films):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "d.mp4").write_bytes(b"")
    text = "\r\n".join([
        "#EXTM3U",
        "# staff note: swap b for c on Sunday",
        "#EXTINF:123,Opening film, part one",
        "a.mp4",
        "",
        "   ",
        "sub/../b.mp4",
        "#EXTINF:-1,",
        str(elsewhere / "d.mp4"),
        "#EXTINF:5,Deep Sea",
        "#EXTVLCOPT:start-time=3",
        "c.mp4",
    ])
    path = films / "programme.m3u8"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    prog = load_programme(path)

    assert [item.file for item in prog.items] == [films / "a.mp4", films / "b.mp4", elsewhere / "d.mp4", films / "c.mp4"]
    assert [item.title for item in prog.items] == ["Opening film, part one", None, None, "Deep Sea"]
    assert [item.number for item in prog.items] == [1, 2, 3, 4]
    assert prog.items[1].display_title == "b"
    assert prog.options == programme.ProgrammeOptions()  # M3U: every option at its default
    assert prog.warnings == []
    assert prog.play_order() == [0, 1, 2, 3]


def test_m3u_missing_film_is_a_warning_and_utf8_titles_survive(films):
    path = films / "programme.m3u"
    path.write_text("#EXTINF:0,Über Wasser — 水\na.mp4\nnot-there.mp4\n", encoding="utf-8")

    prog = load_programme(path)

    assert prog.items[0].title == "Über Wasser — 水"
    assert len(prog.items) == 2
    assert len(prog.warnings) == 1 and "item 2" in prog.warnings[0] and "not-there.mp4" in prog.warnings[0]
    assert [item.number for item in prog.missing_files()] == [2]


def test_a_programme_item_may_be_a_link_with_its_sha256(films):
    good = "ab" * 32
    path = films / "web.toml"
    path.write_text(f'[[items]]\nfile = "https://example.org/a.mp4"\nsha256 = "{good.upper()}"\n'
                    '[[items]]\nfile = "local.mp4"\nsha256 = "' + good + '"\n')
    programme = load_programme(path)
    assert programme.items[0].url == "https://example.org/a.mp4" and programme.items[0].sha256 == good
    assert programme.urls() == [programme.items[0]]
    assert any("sha256" in warning and "only checked" in warning for warning in programme.warnings)
    for bad, words in (('sha256 = "abc"', "64 hexadecimal digits"), ('file = "ftp://x/y.mp4"', "http:// or https://")):
        path.write_text(f'[[items]]\nfile = "https://example.org/a.mp4"\n{bad}\n' if "sha" in bad else f"[[items]]\n{bad}\n")
        with pytest.raises(ProgrammeError, match=words):
            load_programme(path)


def test_m3u_urls_not_utf8_and_empty(films):
    url = films / "url.m3u"
    url.write_text("a.mp4\n#EXTINF:0,From the web\nhttps://example.org/films/the%20film.mp4\n")
    web = load_programme(url).items[1]  # fetched ahead into the kiosk's cache
    assert (web.url, web.file.name, web.display_title) == ("https://example.org/films/the%20film.mp4", "the film.mp4", "From the web")
    assert load_programme(url).missing_files() == []  # a.mp4 is there; the URL's film is the cache's business
    url.write_text("a.mp4\nftp://example.org/film.mp4\n")
    with pytest.raises(ProgrammeError, match=r"url\.m3u: line 2: .*URL the kiosk cannot fetch"):
        load_programme(url)
    uri = films / "uri.m3u"
    uri.write_text(f"file://{urllib.parse.quote(str(films / 'a b.mp4'))}\n")
    assert load_programme(uri).items[0].file == films / "a b.mp4"
    latin = films / "latin.m3u"
    latin.write_bytes("#EXTINF:0,Caf\xe9\na.mp4\n".encode("latin-1"))
    with pytest.raises(ProgrammeError, match="UTF-8"):
        load_programme(latin)
    empty = films / "empty.m3u"
    empty.write_text("#EXTM3U\n# nothing yet\n")
    with pytest.raises(ProgrammeError, match="no films"):
        load_programme(empty)


FULL_TOML = """
loop = false
attract = "attract.png"
on_viewer_leaves = "pause"
grace_seconds = 45
on_viewer_returns = "resume"
start_trigger = "auto"
fade_seconds = 2.5

[[items]]
file = "a.mp4"
title = "Film A"
projection = "fisheye"
stereo = "side-by-side"
eyes_swapped = true
fov = 200
initial_yaw = -90
volume = 1.5
start = 10
end = 70.5
repeat = 3
title_card = { text = "Next: Film A", seconds = 4 }

[[items]]
file = "b.mp4"
title_card = "Film B, by someone"
"""


def test_toml_with_every_option(films):
    (films / "attract.png").write_bytes(b"")
    path = films / "programme.toml"
    path.write_text(FULL_TOML)

    prog = load_programme(path)

    assert prog.options == programme.ProgrammeOptions(
        loop=False, attract=films / "attract.png", on_viewer_leaves="pause", grace_seconds=45.0,
        on_viewer_returns="resume", start_trigger="auto", fade_seconds=2.5,
    )
    a, b = prog.items
    assert a == programme.ProgrammeItem(
        number=1, file=films / "a.mp4", title="Film A", projection="fisheye", stereo="side-by-side", eyes_swapped=True,
        fov=200.0, initial_yaw=-90.0, volume=1.5, start=10.0, end=70.5, repeat=3,
        title_card=programme.TitleCard("Next: Film A", 4.0),
    )
    assert b == programme.ProgrammeItem(number=2, file=films / "b.mp4", title_card=programme.TitleCard("Film B, by someone", 5.0))
    assert prog.warnings == []
    assert prog.play_order() == [0, 0, 0, 1]
    assert prog.size == len(FULL_TOML.encode()) and len(prog.sha256) == 64 and prog.mtime == os.stat(path).st_mtime


def test_json_with_every_option_and_shorthand_items(films, tmp_path):
    data = {
        "loop": True, "attract": str(films / "a.mp4"), "on_viewer_leaves": "continue", "grace_seconds": 0,
        "on_viewer_returns": "restart", "start_trigger": "key", "fade_seconds": 0,
        "items": [
            "b.mp4",
            {"file": "../films/c.mp4", "title": "C", "projection": "eac", "stereo": "top-bottom", "eyes_swapped": False,
             "fov": 90.5, "initial_yaw": 180, "volume": 0, "start": 0, "end": 1, "repeat": 2,
             "title_card": {"text": "C next"}},
        ],
    }
    path = films / "programme.json"
    path.write_text(json.dumps(data))

    prog = load_programme(path)

    assert prog.options.loop is True and prog.options.attract == films / "a.mp4"
    assert prog.options.on_viewer_leaves == "continue" and prog.options.grace_seconds == 0.0 and prog.options.fade_seconds == 0.0
    assert prog.items[0] == programme.ProgrammeItem(number=1, file=films / "b.mp4")
    c = prog.items[1]
    assert (c.file, c.title, c.projection, c.stereo, c.eyes_swapped) == (films / "c.mp4", "C", "eac", "top-bottom", False)
    assert (c.fov, c.initial_yaw, c.volume, c.start, c.end, c.repeat) == (90.5, 180.0, 0.0, 0.0, 1.0, 2)
    assert c.title_card == programme.TitleCard("C next", programme.TITLE_CARD_SECONDS)
    assert prog.play_order() == [0, 1, 1]


def test_json_bare_list_and_defaults(films):
    path = films / "p.json"
    path.write_text('["a.mp4", {"file": "b.mp4"}]')
    prog = load_programme(path)
    assert prog.options == programme.ProgrammeOptions()
    assert (prog.options.loop, prog.options.on_viewer_leaves, prog.options.grace_seconds) == (True, "reset", 20.0)
    assert (prog.options.on_viewer_returns, prog.options.start_trigger, prog.options.fade_seconds) == ("restart", "key", 1.0)
    assert [i.file.name for i in prog.items] == ["a.mp4", "b.mp4"]


def test_layout_names_come_from_layout_module():
    assert set(PROJECTIONS) and STEREO_MODES  # the validator's vocabulary is layout's, not a copy
    for name in PROJECTIONS:
        assert programme._Where(Path("p.json")).choice({"projection": name}, "projection", None, tuple(PROJECTIONS)) == name


# --- programme: validation -------------------------------------------------------------------------------------

BAD_ITEMS = [
    ({"volume": 2.5}, "volume"),
    ({"volume": "loud"}, "volume"),
    ({"volume": True}, "volume"),
    ({"projection": "equi"}, "projection"),
    ({"stereo": "3d"}, "stereo"),
    ({"eyes_swapped": "yes"}, "eyes_swapped"),
    ({"fov": 0}, "fov"),
    ({"initial_yaw": "left"}, "initial_yaw"),
    ({"start": -1}, "start"),
    ({"start": 10, "end": 5}, "end"),
    ({"end": 0}, "end"),
    ({"repeat": 0}, "repeat"),
    ({"repeat": 1.5}, "repeat"),
    ({"repeat": 10**9}, "repeat"),
    ({"title": ""}, "title"),
    ({"title_card": 3}, "title_card"),
    ({"title_card": {"seconds": 3}}, "title_card.text"),
    ({"title_card": {"text": "x", "seconds": -1}}, "title_card.seconds"),
    ({"file": 42}, "file"),
]


@pytest.mark.parametrize("fields, key", BAD_ITEMS, ids=[f"{k}-{i}" for i, (_, k) in enumerate(BAD_ITEMS)])
def test_wrong_item_value_names_file_item_and_key(films, fields, key):
    path = films / "festival.json"
    second = {"file": "b.mp4", **fields}
    path.write_text(json.dumps({"items": ["a.mp4", second]}))

    with pytest.raises(ProgrammeError) as caught:
        load_programme(path)

    message = str(caught.value)
    assert isinstance(caught.value, PlayerError)
    assert "\n" not in message
    assert str(path) in message and "item 2" in message and f'"{key}"' in message
    assert "fix" in message or "give" in message  # says what to do


def test_missing_file_key_and_non_table_item(films):
    path = films / "p.toml"
    path.write_text('[[items]]\nfile = "a.mp4"\n[[items]]\ntitle = "no file"\n')
    with pytest.raises(ProgrammeError, match=r'p\.toml: item 2: "file" is missing'):
        load_programme(path)
    path.write_text("items = [1]\n")
    with pytest.raises(ProgrammeError, match=r"p\.toml: item 1: must be a film path"):
        load_programme(path)


@pytest.mark.parametrize("fields, key", [
    ({"loop": "yes"}, "loop"), ({"on_viewer_leaves": "explode"}, "on_viewer_leaves"),
    ({"grace_seconds": -5}, "grace_seconds"), ({"on_viewer_returns": 1}, "on_viewer_returns"),
    ({"start_trigger": "clap"}, "start_trigger"), ({"fade_seconds": float("inf")}, "fade_seconds"),
    ({"attract": ""}, "attract"), ({"items": "a.mp4"}, "items"),
])
def test_wrong_option_names_file_and_key(films, fields, key):
    path = films / "p.json"
    path.write_text(json.dumps({"items": ["a.mp4"], **fields}))
    with pytest.raises(ProgrammeError, match=re.escape(f'{path}: "{key}" must be')):
        load_programme(path)


def test_unknown_keys_warn_and_suggest(films):
    path = films / "p.toml"
    path.write_text('lop = false\n[[items]]\nfile = "a.mp4"\ntitel = "A"\ntitle_card = { text = "x", secs = 2 }\n')

    prog = load_programme(path)

    assert prog.options.loop is True  # the misspelt key did nothing
    assert prog.items[0].title is None
    assert any('"lop": unknown key' in w and '"loop"' in w for w in prog.warnings)
    assert any('item 1: "titel": unknown key' in w and '"title"' in w for w in prog.warnings)
    assert any('item 1: "title_card.secs": unknown key' in w for w in prog.warnings)


def test_syntax_errors_and_unknown_format(films):
    (films / "p.json").write_text('{"items": ["a.mp4",]}')
    with pytest.raises(ProgrammeError, match=r"p\.json: not valid JSON at line 1"):
        load_programme(films / "p.json")
    (films / "p.toml").write_text('items = ["a.mp4"\n')
    with pytest.raises(ProgrammeError, match=r"p\.toml: not valid TOML"):
        load_programme(films / "p.toml")
    (films / "p.txt").write_text("a.mp4\n")
    with pytest.raises(ProgrammeError, match=r"unknown programme format '\.txt'"):
        load_programme(films / "p.txt")
    with pytest.raises(ProgrammeError, match="cannot read"):
        load_programme(films / "absent.toml")
    (films / "noitems.toml").write_text("loop = true\n")
    with pytest.raises(ProgrammeError, match='no "items"'):
        load_programme(films / "noitems.toml")


def test_missing_films_and_attract_are_warnings(films):
    path = films / "p.toml"
    path.write_text('attract = "gone.png"\nitems = ["a.mp4", "gone.mp4"]\n')
    prog = load_programme(path)
    assert len(prog.items) == 2
    assert any("item 2" in w and "gone.mp4" in w for w in prog.warnings)
    assert any("attract" in w and "gone.png" in w for w in prog.warnings)


def test_example_programme_loads_cleanly():
    prog = load_programme(ROOT / "sample_media" / "kiosk_example.toml")
    assert prog.warnings == []
    assert {item.file for item in prog.items} == {ROOT / "sample_media" / "sample_360.mp4"}
    assert all(item.file.is_file() for item in prog.items)


# --- programme: playlist rules ---------------------------------------------------------------------------------


def test_cursor_next_loops_and_counts_passes():
    cursor = ProgrammeCursor([0, 0, 1, 2], loop=True)
    assert cursor.current is None
    assert [cursor.next() for _ in range(6)] == [0, 0, 1, 2, 0, 0]
    assert cursor.passes == 1 and not cursor.ended


def test_cursor_without_loop_ends_and_rewinds():
    cursor = ProgrammeCursor([0, 1], loop=False)
    assert [cursor.next(), cursor.next(), cursor.next(), cursor.next()] == [0, 1, None, None]
    assert cursor.ended and cursor.current is None and not cursor.no_playable
    assert cursor.previous() == 1  # from the end, back to the last film
    cursor.rewind()
    assert cursor.next() == 0


def test_cursor_previous_wraps_only_when_looping():
    looping = ProgrammeCursor([0, 1, 2], loop=True)
    looping.next()
    assert looping.previous() == 2
    assert looping.previous() == 1
    straight = ProgrammeCursor([0, 1, 2], loop=False)
    straight.next()
    assert straight.previous() == 0  # nothing before the first film: it starts again
    assert straight.position == 0


def test_cursor_goto():
    cursor = ProgrammeCursor([0, 1, 1, 2])
    assert cursor.goto(1) == 1 and cursor.position == 1
    assert cursor.next() == 1 and cursor.next() == 2
    with pytest.raises(IndexError, match="no item 4"):
        cursor.goto(3)


def test_cursor_skips_bad_items_for_this_pass_only():
    cursor = ProgrammeCursor([0, 1, 1, 2], loop=True)
    assert cursor.next() == 0
    assert cursor.next() == 1
    cursor.mark_bad()  # item 1 failed: its second repeat is skipped too
    assert cursor.next() == 2
    assert not cursor.no_playable
    assert cursor.next() == 0  # new pass…
    assert cursor.next() == 1  # …and item 1 gets another chance
    cursor.mark_bad(2)
    assert cursor.next() == 1
    assert cursor.next() == 0  # 2 skipped, and the wrap clears the marks


def test_cursor_previous_skips_bad_items():
    cursor = ProgrammeCursor([0, 1, 2], loop=True)
    for _ in range(3):
        cursor.next()
    cursor.mark_bad(1)
    assert cursor.previous() == 0
    assert cursor.previous() == 2  # wrapping round, past nothing bad


def test_cursor_goto_plays_a_bad_item_on_request():
    cursor = ProgrammeCursor([0, 1])
    cursor.next()
    cursor.mark_bad(1)
    assert cursor.goto(1) == 1 and 1 not in cursor.bad


def test_cursor_detects_no_playable_item():
    cursor = ProgrammeCursor([0, 0, 1], loop=True)
    assert cursor.next() == 0
    cursor.mark_bad()
    assert cursor.next() == 1
    cursor.mark_bad()
    assert cursor.no_playable
    assert cursor.next() is None and cursor.previous() is None
    cursor.rewind()  # e.g. the USB stick is back
    assert not cursor.no_playable and cursor.next() == 0
    assert ProgrammeCursor([]).no_playable and ProgrammeCursor([]).next() is None


def test_cursor_no_playable_without_loop_too():
    cursor = ProgrammeCursor([0, 1], loop=False)
    cursor.next(); cursor.mark_bad(); cursor.next(); cursor.mark_bad()
    assert cursor.no_playable and cursor.next() is None


def test_programme_cursor_uses_loop_option(films):
    path = films / "p.toml"
    path.write_text('loop = false\n[[items]]\nfile = "a.mp4"\nrepeat = 2\n')
    cursor = load_programme(path).cursor()
    assert (cursor.order, cursor.loop) == ([0, 0], False)


def test_cursor_after_reload_follows_the_current_film(films):
    path = films / "p.toml"
    path.write_text('items = ["a.mp4", {file = "b.mp4", repeat = 2}, "c.mp4"]\n')
    old = load_programme(path)
    cursor = old.cursor()
    for _ in range(3):
        cursor.next()  # a, b, b (second round)
    path.write_text('items = ["c.mp4", {file = "b.mp4", repeat = 3}, "a.mp4"]\n')
    new = load_programme(path)

    moved = cursor_after_reload(old, cursor, new)

    assert moved.current == 1 and moved.position == 2  # b, second round, in the new order
    assert moved.next() == 1 and moved.next() == 2
    # The current film removed: the same slot number goes on.
    path.write_text('items = ["a.mp4", "c.mp4", "c.mp4", "c.mp4"]\n')
    gone = cursor_after_reload(old, cursor, load_programme(path))
    assert gone.next() == 2
    # Not started yet: from the top.
    assert cursor_after_reload(old, old.cursor(), new).next() == 0


# --- programme: watcher ----------------------------------------------------------------------------------------


def test_watcher_reloads_on_change_and_keeps_last_good_on_broken_edit(films):
    path = films / "p.toml"
    path.write_text('items = ["a.mp4"]\n')
    watcher = ProgrammeWatcher(path)
    first = watcher.programme

    assert watcher.reload_if_changed() == (first, False, None)
    os.utime(path)  # touched, same content: not a change
    assert watcher.reload_if_changed() == (first, False, None)

    path.write_text('items = ["a.mp4", "b.mp4"]\n')
    second, changed, error = watcher.reload_if_changed()
    assert changed and error is None and len(second.items) == 2

    path.write_text('items = ["a.mp4", "b.mp4"\n')  # broken mid-edit
    kept, changed, error = watcher.reload_if_changed()
    assert kept is second and not changed
    assert error and str(path) in error and "TOML" in error and "\n" not in error
    assert watcher.reload_if_changed() == (second, False, None)  # reported once, not between every film
    assert watcher.error and "last good" in watcher.error

    path.write_text('items = ["c.mp4"]\n')
    third, changed, error = watcher.reload_if_changed()
    assert changed and error is None and watcher.error is None and third.items[0].file == films / "c.mp4"


def test_watcher_sees_same_size_same_mtime_edit(films):
    path = films / "p.m3u"
    path.write_text("a.mp4\n")
    stat = os.stat(path)
    watcher = ProgrammeWatcher(path)
    path.write_text("b.mp4\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as on FAT, where mtime is coarse
    programme_, changed, _ = watcher.reload_if_changed()
    assert changed and programme_.items[0].file == films / "b.mp4"


def test_watcher_survives_a_deleted_file_and_first_load_raises(films):
    path = films / "p.m3u"
    path.write_text("a.mp4\n")
    watcher = ProgrammeWatcher(path)
    path.unlink()
    kept, changed, error = watcher.reload_if_changed()
    assert kept is watcher.programme and not changed and "cannot read" in error
    assert watcher.reload_if_changed()[2] is None
    with pytest.raises(ProgrammeError):
        ProgrammeWatcher(films / "absent.m3u")


# --- control server --------------------------------------------------------------------------------------------


class Sink:
    def __init__(self, answer=None, error: Exception | None = None):
        self.calls: list[tuple[str, dict]] = []
        self.answer, self.error = answer, error

    def __call__(self, command, args):
        if self.error is not None:
            raise self.error
        self.calls.append((command, args))
        return self.answer


STATUS = {"state": "playing", "item": {"number": 2, "title": "Film B"}, "position": 12.5, "headset": True,
          "dropped_frames": 3, "uptime": 3600, "last_errors": [], "nan": float("nan")}


@pytest.fixture(scope="module")
def shared_server():
    """One tokenless server for the tests that need no other settings (stopping one takes a poll interval)."""
    current = {"status": STATUS, "sink": Sink()}
    srv = ControlServer("127.0.0.1:0", lambda: current["status"], lambda command, args: current["sink"](command, args))
    srv.start()
    yield srv, current
    srv.stop()


@pytest.fixture
def server(shared_server):
    """server(status=, sink=, token=) → a started ControlServer on 127.0.0.1, port picked by the system."""
    made = []

    def make(status=None, sink=None, token=None):
        status = STATUS if status is None else status
        sink = sink or Sink()
        if token is None:
            srv, current = shared_server
            current.update(status=status, sink=sink)
            return srv
        srv = ControlServer("127.0.0.1:0", lambda: status, sink, token)
        srv.start()
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


def request(srv, method, path, body=None, headers=None):
    """(status, headers, body bytes) from a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_status_is_served_as_json(server):
    srv = server()
    assert srv.port != 0 and srv.url == f"http://127.0.0.1:{srv.port}/"
    status, headers, body = request(srv, "GET", "/api/status")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"
    assert json.loads(body) == {**STATUS, "nan": None}  # NaN is not JSON: null


def test_status_provider_failure_is_500_not_a_crash(logged):
    def broken():
        raise RuntimeError("oops")

    srv = ControlServer("127.0.0.1:0", broken, Sink())
    srv.start()
    try:
        for _ in range(2):
            status, _, body = request(srv, "GET", "/api/status")
            assert status == 500 and "error" in json.loads(body)
    finally:
        srv.stop()
    assert sum("status for the control page failed" in line for line in logged.lines(logging.WARNING)) == 1


def test_commands_reach_the_sink_validated(server):
    sink = Sink(answer={"queued": 1})
    srv = server(sink=sink)

    status, _, body = request(srv, "POST", "/api/command", {"command": "play", "item": 3})
    assert status == 202
    assert json.loads(body) == {"accepted": {"command": "play", "item": 3}, "result": {"queued": 1}}
    for command in control.COMMANDS:
        if command != "play":
            assert request(srv, "POST", "/api/command", {"command": command})[0] == 202
    assert request(srv, "POST", "/api/next")[0] == 202  # curl -X POST …/api/next
    assert request(srv, "POST", "/api/play?item=2")[0] == 202
    assert request(srv, "POST", "/api/play", {"item": 4})[0] == 202

    expected = [("play", {"item": 3})] + [(c, {}) for c in control.COMMANDS if c != "play"]
    expected += [("next", {}), ("play", {"item": 2}), ("play", {"item": 4})]
    assert sink.calls == expected


@pytest.mark.parametrize("body", [
    {"command": "explode"},
    {"command": "play"},
    {"command": "play", "item": 0},
    {"command": "play", "item": "three"},
    {"command": "play", "item": True},
    {"command": "next", "item": 2},
    {"command": "next", "extra": 1},
    {"item": 1},
    ["next"],
])
def test_bad_command_is_400_and_never_reaches_the_sink(server, body):
    sink = Sink()
    srv = server(sink=sink)
    status, headers, answer = request(srv, "POST", "/api/command", body)
    assert status == 400
    assert headers["Content-Type"].startswith("application/json") and json.loads(answer)["error"]
    assert sink.calls == []


def test_bad_bodies_and_addresses(server):
    sink = Sink()
    srv = server(sink=sink)
    assert request(srv, "POST", "/api/command", b"{not json", {"Content-Type": "application/json"})[0] == 400
    assert request(srv, "POST", "/api/command", b'{"command": "next"}', {"Content-Type": "text/plain"})[0] == 415
    assert request(srv, "POST", "/api/command", b"")[0] == 400
    assert request(srv, "POST", "/api/play?item=x")[0] == 400
    assert request(srv, "POST", "/api/next", {"command": "previous"})[0] == 400
    assert request(srv, "POST", "/api/explode")[0] == 404
    assert request(srv, "GET", "/api/next")[0] == 405
    assert request(srv, "GET", "/nothing")[0] == 404
    assert sink.calls == []


def test_body_too_large_is_413(server):
    sink = Sink()
    srv = server(sink=sink)
    big = {"command": "next", "pad": "x" * (control.MAX_BODY + 10)}
    status, _, body = request(srv, "POST", "/api/command", big)
    assert status == 413 and "too large" in json.loads(body)["error"]
    assert sink.calls == []


def test_sink_can_refuse(server):
    srv = server(sink=Sink(error=ValueError("no item 9: the programme has 3")))
    status, _, body = request(srv, "POST", "/api/command", {"command": "play", "item": 9})
    assert status == 400 and json.loads(body) == {"error": "no item 9: the programme has 3"}


def test_command_queue_hands_commands_to_the_player_thread(server):
    queue_ = CommandQueue(maxsize=2)
    srv = server(sink=queue_)
    assert request(srv, "POST", "/api/pause")[0] == 202
    assert request(srv, "POST", "/api/play?item=1")[0] == 202
    status, _, body = request(srv, "POST", "/api/next")
    assert status == 503 and "try again" in json.loads(body)["error"]
    assert queue_.drain() == [("pause", {}), ("play", {"item": 1})]
    assert queue_.drain() == []
    full = CommandQueue(maxsize=1)
    full("next", {})
    with pytest.raises(Busy):
        full("next", {})


@pytest.mark.parametrize("bind", ["0.0.0.0:0", "192.168.1.20:0", "[::]:0", "kiosk.local:0"])
def test_token_required_beyond_loopback(bind):
    srv = ControlServer(bind, dict, Sink(), token=None)
    with pytest.raises(ControlError, match="token") as caught:
        srv.start()
    assert isinstance(caught.value, PlayerError) and "\n" not in str(caught.value)
    with pytest.raises(ControlError, match="token"):
        ControlServer(bind, dict, Sink(), token="").start()  # an empty token is no token


def test_loopback_addresses_and_bind_parsing():
    assert all(control.is_loopback(h) for h in ("127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(control.is_loopback(h) for h in ("0.0.0.0", "::", "192.168.0.2", "kiosk.local", "128.0.0.1"))
    assert control.parse_bind("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert control.parse_bind("[::1]:0") == ("::1", 0)
    assert control.parse_bind("9000") == ("127.0.0.1", 9000)
    for bad in ("localhost", ":80", "host:http", "1.2.3.4:70000"):
        with pytest.raises(ControlError, match="HOST:PORT"):
            control.parse_bind(bad)


def test_port_in_use_is_a_control_error(server):
    srv = server()
    with pytest.raises(ControlError, match="cannot listen"):
        ControlServer(f"127.0.0.1:{srv.port}", dict, Sink()).start()


def test_token_is_enforced_when_set(server):
    sink = Sink()
    srv = server(sink=sink, token="s3cret-token-123")
    assert request(srv, "GET", "/api/status")[0] == 401
    assert request(srv, "GET", "/api/status", headers={"Authorization": "Bearer wrong"})[0] == 401
    assert request(srv, "GET", "/api/status?token=s3cret-token-12")[0] == 401
    assert request(srv, "GET", "/api/status", headers={"Authorization": "Bearer s3cret-token-123"})[0] == 200
    assert request(srv, "GET", "/api/status?token=s3cret-token-123")[0] == 200
    assert request(srv, "GET", "/")[0] == 401
    assert request(srv, "GET", "/?token=s3cret-token-123")[0] == 200
    assert request(srv, "POST", "/api/command", {"command": "next"})[0] == 401
    assert sink.calls == []
    status = request(srv, "POST", "/api/command", {"command": "next"}, {"Authorization": "Bearer s3cret-token-123"})[0]
    assert status == 202 and sink.calls == [("next", {})]


def test_cross_site_post_and_foreign_host_are_refused(server):
    sink = Sink()
    srv = server(sink=sink)
    assert request(srv, "POST", "/api/next", headers={"Origin": "http://evil.example"})[0] == 403
    assert request(srv, "GET", "/api/status", headers={"Host": f"evil.example:{srv.port}"})[0] == 403
    assert sink.calls == []
    own = {"Origin": f"http://127.0.0.1:{srv.port}", "Host": f"127.0.0.1:{srv.port}"}
    assert request(srv, "POST", "/api/next", headers=own)[0] == 202


def test_page_is_html_for_phones_and_never_contains_status_text(server):
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    srv = server(status={"state": evil, "item": {"title": evil}, "last_errors": [evil]})
    status, headers, page = request(srv, "GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert "script-src 'sha256-" in headers["Content-Security-Policy"]
    text = page.decode()
    assert '<meta name="viewport"' in text and "/api/status" in text and "setInterval(poll, 1000)" in text
    assert "alert" not in text and "onerror" not in text
    assert "innerHTML" not in text  # values go in with textContent only
    assert not re.search(r'(src|href)="(https?:)?//', text)  # no external resources
    # And the JSON itself carries no raw markup either.
    _, _, body = request(srv, "GET", "/api/status")
    assert b"<script>" not in body and json.loads(body)["state"] == evil


def test_requests_are_logged_at_debug_without_the_token(server, logged, capfd):
    srv = server(token="s3cret-token-123")
    request(srv, "GET", "/api/status?token=s3cret-token-123")
    request(srv, "GET", "/api/status")
    assert request(srv, "DELETE", "/api/status?token=s3cret-token-123")[0] == 501  # http.server's own error path
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as raw:  # quoted back in http.server's line
        raw.sendall(b"GET /api/status?token=s3cret-token-123 junk HTTP/1.1\r\n\r\n")
        assert raw.makefile("rb").readline().split()[1] == b"400"
    srv.stop()  # joins the server thread: its log lines are in
    lines = [r.getMessage() for r in logged.records if r.name == "vrplayer.kiosk.control" and r.levelno == logging.DEBUG]
    assert any("GET /api/status 200" in line for line in lines)
    assert any("GET /api/status 401" in line for line in lines)
    assert not any("s3cret" in line for line in lines)
    assert capfd.readouterr().err == ""  # nothing from BaseHTTPRequestHandler on stderr


def test_play_beyond_the_programme_is_400_and_follows_its_length():
    length = {"items": 3}
    sink = Sink()
    srv = ControlServer("127.0.0.1:0", dict, sink, items=lambda: length["items"])
    srv.start()
    try:
        for item in (4, 1000000000):
            status, _, body = request(srv, "POST", "/api/command", {"command": "play", "item": item})
            assert status == 400 and json.loads(body)["error"] == f"no item {item}: the programme has 3 items (1 to 3)"
        assert request(srv, "POST", f"/api/play?item={'9' * 5000}")[0] == 400  # past int()'s digit limit
        assert request(srv, "POST", "/api/play?item=3")[0] == 202
        length["items"] = 5  # the programme was reloaded with more items
        assert request(srv, "POST", "/api/play", {"item": 5})[0] == 202
        length["items"] = 0
        status, _, body = request(srv, "POST", "/api/play?item=1")
        assert status == 400 and "has no items" in json.loads(body)["error"]
    finally:
        srv.stop()
    assert sink.calls == [("play", {"item": 3}), ("play", {"item": 5})]


def test_deeply_nested_json_is_400_not_an_empty_reply(server):
    sink = Sink()
    srv = server(sink=sink)
    body = b"[" * 2000 + b"]" * 2000
    status, _, answer = request(srv, "POST", "/api/command", body, {"Content-Type": "application/json"})
    assert status == 400 and "nested" in json.loads(answer)["error"]
    deep_but_parsed = b'{"command": ' + b"[" * 500 + b"]" * 500 + b"}"
    status, _, answer = request(srv, "POST", "/api/command", deep_but_parsed, {"Content-Type": "application/json"})
    assert status == 400 and len(answer) < 300  # the bad value is not echoed back whole
    assert sink.calls == []


def test_origin_must_be_our_own_scheme_host_and_port(server):
    sink = Sink()
    srv = server(sink=sink)
    host = f"127.0.0.1:{srv.port}"
    for origin in (f"https://{host}", "null", f"http://{host}.evil.example", f"ftp://{host}"):
        assert request(srv, "POST", "/api/next", headers={"Origin": origin, "Host": host})[0] == 403, origin
    assert sink.calls == []
    assert request(srv, "POST", "/api/next", headers={"Origin": f"HTTP://{host.upper()}", "Host": host})[0] == 202


def test_head_is_answered_like_get_without_a_body(server):
    srv = server()
    get_status, get_headers, get_body = request(srv, "GET", "/api/status")
    status, headers, body = request(srv, "HEAD", "/api/status")
    assert status == 200 and body == b""
    assert headers["Content-Type"] == get_headers["Content-Type"]
    assert int(headers["Content-Length"]) == len(get_body)
    status, headers, body = request(srv, "HEAD", "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8" and body == b""
    assert request(srv, "HEAD", "/nothing")[:3:2] == (404, b"")
    locked = server(token="s3cret-token-123")
    assert request(locked, "HEAD", "/api/status")[:3:2] == (401, b"")
    assert request(locked, "HEAD", "/api/status?token=s3cret-token-123")[0] == 200


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed its end (EOF or reset); reads nothing else."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionError:
        return True
    finally:
        sock.setblocking(True)


def test_a_client_that_trickles_its_request_is_cut_off_at_the_deadline():
    srv = ControlServer("127.0.0.1:0", lambda: STATUS, Sink(), request_deadline=1.0)
    srv.start()
    try:
        trickle = b"GET /api/status HTTP/1.0\r\nX-Pad: " + b"a" * 400
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as slow:
            cut_off = False
            for byte in trickle:  # a byte every 20 ms: each read is quick, the request never ends
                try:
                    slow.sendall(bytes([byte]))
                except ConnectionError:
                    cut_off = True
                    break
                if _closed_by_server(slow):
                    cut_off = True
                    break
                threading.Event().wait(0.02)
            assert cut_off, "the server kept a trickling client for the whole trickle"
        assert request(srv, "GET", "/api/status")[0] == 200  # and it still answers
    finally:
        srv.stop()


def _idle_connections(port: int, count: int, source: str = "127.0.0.1") -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) for _ in range(count)]


def _request_from(srv, source: str, path: str = "/api/status") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5, source_address=(source, 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_for(condition, what: str, timeout: float = 20.0):
    event = threading.Event()
    for _ in range(int(timeout / 0.05)):
        value = condition()
        if value:
            return value
        event.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_connections_beyond_the_cap_are_refused_with_503_and_served_again_after():
    # (A deadline far beyond the test's steps: on a busy machine the idle connections must not be cut off, and
    # their places freed, before the caps are looked at.)
    srv = ControlServer("127.0.0.1:0", lambda: STATUS, Sink(), max_connections=4, max_per_client=3, request_deadline=120)
    srv.start()
    held = []
    try:
        held += _idle_connections(srv.port, 3)  # one client's connections that send nothing
        status, body = _request_from(srv, "127.0.0.1")
        assert status == 503 and "busy" in json.loads(body)["error"]
        assert _request_from(srv, "127.0.0.2")[0] == 200  # another client still gets in
        # (Its place is given back when its thread ends, a moment after the answer: until then a fourth is refused.)
        _wait_for(lambda: sum(srv._server._open.values()) == 3, "the answered client's place to be given back")
        held += _idle_connections(srv.port, 1, "127.0.0.3")  # four held: the whole server is full
        # (Connected is not yet accepted: the server counts a connection when its accepting thread takes it.)
        _wait_for(lambda: sum(srv._server._open.values()) == 4, "the server to hold the four idle connections")
        assert _request_from(srv, "127.0.0.4")[0] == 503
        for sock in held:
            sock.close()
        _wait_for(lambda: _request_from(srv, "127.0.0.1")[0] == 200, "the freed connections to count again")
    finally:
        for sock in held:
            sock.close()
        srv.stop()


def test_the_listen_backlog_holds_a_burst_of_connections(server):
    srv = server()
    listening = subprocess.run(["ss", "-Hltn", f"sport = :{srv.port}"], capture_output=True, text=True, check=True).stdout
    backlog = int(listening.split()[2])  # Send-Q of a listening socket: its backlog
    assert backlog >= 128, listening


def test_command_queue_hands_out_one_command_at_a_time_in_order():
    queue_ = CommandQueue(maxsize=3)
    queue_("next", {})
    queue_("pause", {})
    queue_("play", {"item": 2})
    with pytest.raises(Busy):
        queue_("next", {})
    not_pause = lambda name, args: name != "pause"  # noqa: E731
    assert queue_.take(not_pause) == ("next", {})
    assert queue_.take(not_pause) is None  # the oldest is a pause: it waits, and so does everything after it
    assert queue_.take() == ("pause", {})
    assert queue_.take() == ("play", {"item": 2})
    assert queue_.take() is None


# --- session log -----------------------------------------------------------------------------------------------

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_session_log_lines_are_json_with_time_and_event(tmp_path):
    directory = tmp_path / "logs" / "deep"
    slog = SessionLog(directory)
    slog.event("film_start", item=3, title="Über — 水", path=Path("/x/a.mp4"), ratio=float("nan"), t="mine")
    # Written through to the file at once: no close or flush needed for a reader (or after a crash).
    lines = (directory / "session.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert ISO_MS.match(record["t"]) and record["event"] == "film_start"
    assert record["item"] == 3 and record["title"] == "Über — 水" and record["path"] == "/x/a.mp4"
    assert record["ratio"] is None and record["_t"] == "mine"
    slog.close()
    slog.event("after_close")
    assert len(read_events(directory)) == 1


def test_rotation_keeps_backups_and_read_events_returns_all_in_order(tmp_path):
    slog = SessionLog(tmp_path, max_bytes=400, backups=3)
    for number in range(40):
        slog.event("tick", n=number, pad="x" * 40)
    slog.close()

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["session.1.jsonl", "session.2.jsonl", "session.3.jsonl", "session.jsonl"]
    assert all(p.stat().st_size <= 400 for p in tmp_path.iterdir())
    numbers = [e["n"] for e in read_events(tmp_path)]
    assert numbers == list(range(numbers[0], 40))  # in order, none missing, the oldest rotated away
    assert 0 < numbers[0]
    assert read_events(tmp_path / "absent") == []


def test_rotation_with_no_backups_and_restart_appends(tmp_path):
    slog = SessionLog(tmp_path, max_bytes=200, backups=0)
    for number in range(10):
        slog.event("tick", n=number, pad="y" * 30)
    slog.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.jsonl"]
    last = read_events(tmp_path)[-1]["n"]
    again = SessionLog(tmp_path, max_bytes=10_000)  # a restarted kiosk appends
    again.event("restart")
    again.close()
    assert [e["event"] for e in read_events(tmp_path)][-2:] == ["tick", "restart"] and last == 9


def test_session_log_is_thread_safe(tmp_path):
    slog = SessionLog(tmp_path, max_bytes=50_000, backups=100)
    threads_n, per_thread = 6, 300
    start = threading.Barrier(threads_n)

    def write(thread: int) -> None:
        start.wait()
        for number in range(per_thread):
            slog.event("tick", thread=thread, n=number, pad="z" * (number % 50))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slog.close()

    raw_lines = [line for p in tmp_path.iterdir() for line in p.read_bytes().splitlines()]
    assert len(raw_lines) == threads_n * per_thread
    assert all(json.loads(line)["event"] == "tick" for line in raw_lines)  # no torn or interleaved lines
    events = read_events(tmp_path)
    for thread in range(threads_n):
        assert [e["n"] for e in events if e["thread"] == thread] == list(range(per_thread))


def test_torn_last_line_is_ended_before_appending(tmp_path):
    (tmp_path / "session.jsonl").write_bytes(b'{"t":"x","event":"ok"}\n{"t":"x","ev')
    slog = SessionLog(tmp_path)
    slog.event("after")
    slog.close()
    assert [e["event"] for e in read_events(tmp_path)] == ["ok", "after"]


def test_file_where_the_log_folder_should_be_warns_once_and_goes_on(tmp_path, logged):
    blocker = tmp_path / "logs"
    blocker.write_text("not a folder")
    slog = SessionLog(blocker / "kiosk")
    slog.event("one")
    slog.event("two")
    warnings = logged.lines(logging.WARNING)
    assert len(warnings) == 1 and "session log" in warnings[0] and "goes on" in warnings[0]
    blocker.unlink()  # the folder can be made again: logging comes back by itself
    slog.event("three")
    slog.close()
    assert [e["event"] for e in read_events(blocker / "kiosk")] == ["three"]


def test_full_disk_warns_once_and_never_raises(tmp_path, logged):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    (tmp_path / "session.jsonl").symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    slog = SessionLog(tmp_path)
    for number in range(3):
        slog.event("tick", n=number)
    slog.event("programme_loaded", warnings=["w"] * 50)
    slog.close()
    warnings = logged.lines(logging.WARNING)
    assert len(warnings) == 1 and "No space left" in warnings[0]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_warns_and_goes_on(tmp_path, logged):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        slog = SessionLog(folder)
        slog.event("tick")
        slog.close()
    finally:
        folder.chmod(0o700)
    assert len(logged.lines(logging.WARNING)) == 1


# --- long days: one event never makes a line too long, nor rotates the backups away ----------------------------

MAX_LINE_BYTES = 64 * 1024  # what a line of the session log may be at most


def test_an_event_with_a_huge_list_is_one_line_under_the_cap_that_says_what_was_cut(tmp_path):
    warnings = [f"prog.json: item {n}: film not found: /media/usb/film{n}.mp4" for n in range(1, 100_001)]
    slog = SessionLog(tmp_path)
    slog.event("programme_loaded", items=100_001, warnings=warnings, note="x" * 100_000)
    slog.close()
    lines = (tmp_path / "session.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 1 and len(lines[0]) <= MAX_LINE_BYTES
    record = json.loads(lines[0])
    assert record["event"] == "programme_loaded" and record["items"] == 100_001
    assert record["warnings"] == warnings[:len(record["warnings"])] and 0 < len(record["warnings"]) <= 20
    assert record["shortened"] == {"warnings": 100_000, "note": 100_000}  # the original lengths
    assert record["note"].startswith("xxx")


def test_one_huge_event_does_not_push_the_backups_out(tmp_path):
    slog = SessionLog(tmp_path, max_bytes=1_000_000, backups=2)
    slog.event("first")
    for _ in range(3):  # each 3 MB as it stood: more than a whole file of the rotation
        slog.event("programme_reloaded", warnings=["w" * 30] * 100_000)
    slog.event("last")
    slog.close()
    assert [e["event"] for e in read_events(tmp_path)] == ["first"] + ["programme_reloaded"] * 3 + ["last"]
    assert all(len(line) <= MAX_LINE_BYTES for p in tmp_path.iterdir() for line in p.read_bytes().splitlines())
