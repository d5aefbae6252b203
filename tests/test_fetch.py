"""Programmes fetched ahead: `vrplayer fetch` and the kiosk bring films named by URL into the cache from the tests'
own server (film_server.py): a download killed halfway resumes from its byte; a film whose SHA-256 does not match
is never played; the last good copy plays when the server is gone or sends something bad; the status page shows
the downloads; the cache evicts by age and size."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import signal
import subprocess
import time

import pytest

from conftest import ROOT, VRPLAYER, run_cli
from film_server import Behaviour, FilmServer
from test_kiosk import _status, events, finish, free_port, start_kiosk, wait_for
from vrplayer.kiosk.cache import FilmCache, file_name


@pytest.fixture(scope="module")
def source(make_film, tmp_path_factory):
    """The server's folder: two films, a few MB each."""
    folder = tmp_path_factory.mktemp("source")
    for name, seconds in (("first.mp4", 2.0), ("second.mp4", 1.0)):
        made = make_film(f"fetch-{name}", width=480, height=240, seconds=seconds, fps=24, grain=6)
        (folder / name).write_bytes(made.read_bytes())
    return folder


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_programme(path, server, items) -> None:
    """items: (name, sha256 or None); a TOML programme of those links, playing on by itself."""
    lines = ['start_trigger = "auto"']
    for name, digest in items:
        lines += ["[[items]]", f'file = "{server.url(name)}"'] + ([f'sha256 = "{digest}"'] if digest else [])
    path.write_text("\n".join(lines) + "\n")


def test_fetch_brings_every_film_verified_and_a_killed_download_resumes_from_its_byte(source, tmp_path):
    cache = tmp_path / "cache"
    prog = tmp_path / "prog.toml"
    size = (source / "first.mp4").stat().st_size
    with FilmServer(source, Behaviour(rate=size / 6)) as server:  # six seconds for the first film
        write_programme(prog, server, [("first.mp4", sha(source / "first.mp4")), ("second.mp4", None)])
        proc = subprocess.Popen([*VRPLAYER, "fetch", str(prog), "--cache", str(cache)], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True)
        part = cache / (file_name(server.url("first.mp4")) + ".part")
        wait_for(lambda: part.exists() and part.stat().st_size > size // 3, what="a third of the download")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        held = part.stat().st_size
        assert 0 < held < size
        server.behaviour.rate = None
        result = run_cli("fetch", prog, "--cache", cache)
        assert result.returncode == 0, result.stderr
        # The second run asked for the rest, from the byte the first had written.
        assert held in server.range_starts("first.mp4"), server.requests
        assert f"resuming {server.url('first.mp4')} from byte {held}" in result.stderr
        films = FilmCache(cache)
        for name in ("first.mp4", "second.mp4"):
            ready = films.ready(server.url(name))
            assert ready is not None and ready.read_bytes() == (source / name).read_bytes()
        assert not list(cache.glob("*.part"))
        again = run_cli("fetch", prog, "--cache", cache)  # all there: only asked whether they changed
        assert again.returncode == 0
        assert sum(1 for path, _ in server.requests[-2:] if path.endswith(".mp4")) == 2


def test_a_film_whose_sha256_does_not_match_is_never_played(source, tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "log"
    prog = tmp_path / "prog.toml"
    with FilmServer(source) as server:
        write_programme(prog, server, [("first.mp4", "0" * 64), ("second.mp4", sha(source / "second.mp4"))])
        result = run_cli("fetch", prog, "--cache", cache)
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("vrplayer:")]
        assert len(errors) == 1 and "first.mp4" in errors[0] and "SHA-256" in errors[0], result.stderr
        assert FilmCache(cache).ready(server.url("first.mp4")) is None
        proc = start_kiosk(prog, log, "--no-audio", "--cache", cache, "--duration", "20")
        try:
            wait_for(lambda: len(events(log, "film_started")) >= 2, what="the kiosk to play the good film twice")
        finally:
            proc.terminate()
            finish(proc)
    assert {event["file"] for event in events(log, "film_started")} == {server.url("second.mp4")}
    skipped = events(log, "film_skipped")
    assert skipped and all(event["item"] == 1 for event in skipped)


def test_the_last_good_copy_plays_when_the_server_is_gone_or_sends_something_bad(source, tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "log"
    prog = tmp_path / "prog.toml"
    served = tmp_path / "served"
    served.mkdir()
    good = (source / "second.mp4").read_bytes()
    (served / "film.mp4").write_bytes(good)
    with FilmServer(served) as server:
        write_programme(prog, server, [("film.mp4", sha(source / "second.mp4"))])
        assert run_cli("fetch", prog, "--cache", cache).returncode == 0
        # The source changes badly: another film under the same name, which the programme's SHA-256 refuses.
        (served / "film.mp4").write_bytes(good[: len(good) // 2] + bytes(len(good) // 2))
        os.utime(served / "film.mp4", (time.time() + 5, time.time() + 5))
        result = run_cli("fetch", prog, "--cache", cache)
        assert result.returncode == 0, result.stderr  # the film is there: the last good copy
        assert "changed at its source" in result.stderr and "the last good copy plays" in result.stderr
        assert FilmCache(cache).ready(server.url("film.mp4")).read_bytes() == good
        url = server.url("film.mp4")
    # The server is gone: the kiosk plays its last good copy, and its status says so.
    port = free_port()
    proc = start_kiosk(prog, log, "--no-audio", "--cache", cache, "--control", f"127.0.0.1:{port}", "--duration", "20")
    try:
        wait_for(lambda: events(log, "film_started"), what="the cached film to start")

        def downloads():
            return (_status(port) or {}).get("downloads")

        status = wait_for(lambda: (d := downloads()) and d[0]["error"] and d, what="the status to show the download")
        assert status[0]["state"] == "ready" and "last good copy" in status[0]["error"]
    finally:
        proc.terminate()
        finish(proc)
    assert events(log, "film_started")[0]["file"] == url


def test_the_status_page_shows_a_download_under_way_and_the_film_plays_once_it_is_whole(source, tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "log"
    prog = tmp_path / "prog.toml"
    size = (source / "first.mp4").stat().st_size
    port = free_port()
    with FilmServer(source, Behaviour(rate=size / 4)) as server:
        write_programme(prog, server, [("first.mp4", None)])
        proc = start_kiosk(prog, log, "--no-audio", "--cache", cache, "--control", f"127.0.0.1:{port}", "--duration", "30")
        try:
            under_way = wait_for(lambda: (s := _status(port)) and s.get("downloads") and s["downloads"][0]["state"] == "fetching"
                                 and (s["downloads"][0]["percent"] or 0) > 10 and s, what="a download under way")
            entry = under_way["downloads"][0]
            assert entry["total"] == size and entry["rate_bps"] > 0 and under_way["cache"]["folder"] == str(cache)
            assert not events(log, "film_started")  # not played while incomplete
            wait_for(lambda: events(log, "film_started"), timeout=40, what="the film to play once fetched")
        finally:
            proc.terminate()
            finish(proc)
    assert events(log, "fetch_complete")[0]["bytes"] == size
    skipped = events(log, "film_skipped")
    assert skipped and "not downloaded yet" in skipped[0]["error"]


def test_fetch_draws_a_progress_bar_on_a_terminal(source, tmp_path):
    prog = tmp_path / "prog.toml"
    size = (source / "first.mp4").stat().st_size
    with FilmServer(source, Behaviour(rate=size / 2)) as server:
        write_programme(prog, server, [("first.mp4", None)])
        leader, follower = pty.openpty()
        proc = subprocess.Popen([*VRPLAYER, "fetch", str(prog), "--cache", str(tmp_path / "cache")], cwd=ROOT,
                                stderr=follower, stdout=subprocess.DEVNULL)
        os.close(follower)
        seen = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(leader)
        assert proc.wait(timeout=30) == 0
    text = seen.decode(errors="replace")
    assert "\rfetching 1/1 first [" in text and "100 % 0.6/0.6 MB" in text and "MB/s" in text, text
    assert "\n" in text[text.index("100 %"):text.index("fetched first")]  # the full bar ended its line


def test_the_cache_evicts_by_age_and_size_never_what_the_programme_names(tmp_path):
    cache = FilmCache(tmp_path, limit=2500)
    now = time.time()
    for index, age_days in enumerate((40, 10, 5, 1)):
        url = f"https://example.org/{index}.mp4"
        cache.part_path(url).write_bytes(b"x" * 1000)
        cache.commit(url, 1000, "ab" * 32, None, None)
        entry_file = tmp_path / f"{file_name(url).split('-')[0]}.json"
        data = json.loads(entry_file.read_text())
        data["fetched_at"] = now - age_days * 86400
        entry_file.write_text(json.dumps(data))
    keep = {"https://example.org/0.mp4"}  # the oldest, but the programme still names it
    removed = cache.evict(keep, now)
    # Over the limit (4000 > 2500 bytes): the least recently used not kept go first, until it fits.
    assert removed == ["https://example.org/1.mp4", "https://example.org/2.mp4"]
    assert cache.ready("https://example.org/0.mp4") is not None and cache.ready("https://example.org/3.mp4") is not None
    cache.max_age = 0.5 * 86400
    assert cache.evict(set(), now) == ["https://example.org/0.mp4", "https://example.org/3.mp4"]
    assert not list(tmp_path.glob("*.mp4"))
