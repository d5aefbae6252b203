"""Subtitles: cue files read (SubRip, WebVTT, encodings), the cue on show at a film time, and what comes out on the
picture — read back by tesseract's OCR in English, Chinese, Russian, Arabic and Hindi, at the same angular size
whatever the field of view and window."""

from __future__ import annotations

import difflib
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT, run_cli, timing_pictures
from vrplayer.errors import PlayerError
from vrplayer.snapshot import read_png, write_png
from vrplayer.text.subtitles import choose, decode, language_of, load, sidecars

SAMPLE = ROOT / "sample_media" / "sample_360.mp4"

CUES = {  # language → (tesseract's language, the cue)
    "en": ("eng", "Welcome to the festival tonight"),
    "zh": ("chi_sim", "欢迎来到电影节"),
    "ru": ("rus", "Добро пожаловать на фестиваль"),
    "ar": ("ara", "مرحبا بكم في المهرجان"),
    "hi": ("hin", "फिल्म महोत्सव में आपका स्वागत है"),
}


def srt(*cues) -> str:
    def stamp(t):
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{int(t % 60):02d},{round(t % 1 * 1000):03d}"

    return "".join(f"{n}\n{stamp(a)} --> {stamp(b)}\n{text}\n\n" for n, (a, b, text) in enumerate(cues, 1))


@pytest.fixture
def film(tmp_path):
    """The sample film under a name of our own, with sidecars beside it."""
    path = tmp_path / "festival.mp4"
    shutil.copy(SAMPLE, path)
    for language, (_, text) in CUES.items():
        (tmp_path / f"festival.{language}.srt").write_text(srt((0.5, 2.5, text), (3.0, 4.0, "second cue")), encoding="utf-8")
    return path


# -- reading ------------------------------------------------------------------------------------------------------


def test_cues_on_show_at_their_times_and_not_outside(tmp_path):
    path = tmp_path / "a.en.srt"
    path.write_text(srt((1.0, 2.5, "one"), (2.0, 3.0, "two\nlines"), (10.0, 11.0, "three")), encoding="utf-8")
    track = load(path)
    assert track.language == "en" and [c.text for c in track.cues] == ["one", "two\nlines", "three"]
    on = [track.cue_at(t) for t in (0.99, 1.0, 1.99, 2.0, 2.6, 3.0, 9.0, 10.5, 11.0)]
    assert on == [None, 0, 0, 1, 1, None, None, 2, None]  # start ≤ t < end; an overlap shows the latest


def test_webvtt_and_encodings(tmp_path, caplog):
    vtt = tmp_path / "b.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<b>Bold</b> words\n", encoding="utf-8")
    assert [(c.start, c.end, c.text) for c in load(vtt).cues] == [(1.0, 2.0, "Bold words")]
    text = srt((0.0, 1.0, "Straße café"))
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8"), "x") == text
    assert decode(b"\xff\xfe" + text.encode("utf-16-le"), "x") == text
    legacy = tmp_path / "c.srt"
    legacy.write_bytes(text.encode("cp1252"))
    assert load(legacy).cues[0].text == "Straße café"
    assert "c.srt is not UTF-8" in caplog.text and "read as" in caplog.text


LEGACY_CUES = {  # a cue in each language, and the code page such files were saved in before UTF-8
    "ru": ("Добро пожаловать на фестиваль", "cp1251"),
    "zh": ("欢迎来到电影节", "gbk"),
    "ar": ("مرحبا بكم في المهرجان", "cp1256"),
    "he": ("ברוכים הבאים לפסטיבל", "cp1255"),
    "fr": ("Bienvenue au festival, où l'été est là", "cp1252"),
    "el": ("Καλώς ήρθατε στο φεστιβάλ", "cp1253"),
}


@pytest.mark.parametrize("language", sorted(LEGACY_CUES))
def test_legacy_encodings_are_read_by_the_files_language_and_said(tmp_path, caplog, language):
    text, encoding = LEGACY_CUES[language]
    path = tmp_path / f"festival.{language}.srt"
    path.write_bytes(srt((0.5, 2.0, text), (2.5, 3.0, "second cue")).encode(encoding))
    with caplog.at_level("WARNING"):
        assert load(path).cues[0].text == text
    assert f"festival.{language}.srt is not UTF-8" in caplog.text and "legacy code page" in caplog.text


def test_unnamed_legacy_utf16_and_declared_encodings(tmp_path, caplog):
    russian = tmp_path / "festival.srt"  # no language in the name: guessed from the letters
    russian.write_bytes(srt((0.5, 2.0, "Добро пожаловать на фестиваль"), (2.5, 3.0, "Вторая строка")).encode("cp1251"))
    wide = tmp_path / "wide.srt"  # UTF-16 without its byte-order mark
    wide.write_bytes(srt((0.5, 2.0, "Straße café")).encode("utf-16-le"))
    declared = tmp_path / "declared.ttml"
    declared.write_bytes(TTML_AT_SPEAKER.replace("UTF-8", "ISO-8859-1").replace("Over here", "Là-bas, à droite")
                         .encode("iso-8859-1"))
    with caplog.at_level("WARNING"):
        assert load(russian).cues[0].text == "Добро пожаловать на фестиваль"
        assert load(wide).cues[0].text == "Straße café"
        assert load(declared).cues[0].text == "Là-bas, à droite"
    assert "guessed from its letters" in caplog.text and "UTF-16 without its byte-order mark" in caplog.text
    assert "as the file declares" in caplog.text


def test_languages_found_beside_the_film_and_bad_files(film, tmp_path):
    assert [p.name for p in sidecars(film)][:2] == ["festival.ar.srt", "festival.en.srt"]
    assert language_of(tmp_path / "festival.pt-BR.srt", film) == "pt-br" and language_of(tmp_path / "festival.srt", film) is None
    assert choose(film, "zh").cues[0].text == CUES["zh"][1]
    assert choose(film, "off") is None and choose(film, None) is None
    with pytest.raises(PlayerError, match=r"no fr subtitles beside or in .*found: ar, en, hi, ru, zh"):
        choose(film, "fr")
    (tmp_path / "empty.srt").write_text("not subtitles at all\n")
    with pytest.raises(PlayerError, match="hold no cue"):
        load(tmp_path / "empty.srt")
    with pytest.raises(PlayerError, match="cannot read the subtitles"):
        load(tmp_path / "missing.srt")


# -- on the picture -------------------------------------------------------------------------------------------------


def snapshot(film, tmp_path, at, *args, size="1280x720", name="shot"):
    out = tmp_path / f"{name}.png"
    result = run_cli("snapshot", film, "--at", at, "--size", size, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    return read_png(str(out)).astype(int)


def caption_box(shot, plain):
    """The rows and columns where the caption changed the picture."""
    ys, xs = np.nonzero(np.abs(shot - plain).max(axis=2) > 30)
    assert len(ys), "no caption on the picture"
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def ocr(picture, language: str) -> str:
    """tesseract's reading of a caption: its white text black on white (the box is darker than the text over any
    picture), at the size it is on the picture (~33 px a line: enlarged, tesseract reads Chinese worse)."""
    inside = picture[3:-3, 3:-3].mean(axis=2)  # (the box's blended edge left out)
    framed = np.pad(np.where(inside > 150, 0, 255).astype(np.uint8), 30, constant_values=255)
    path = ROOT / ".cache" / f"ocr-{language}.png"
    path.parent.mkdir(exist_ok=True)
    write_png(np.repeat(framed[..., None], 3, axis=2), str(path))
    result = subprocess.run(["tesseract", str(path), "stdout", "-l", language, "--psm", "6"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def accuracy(read: str, expected: str) -> float:
    """Share of the cue's characters read right (spaces aside): 1 − edit distance / length, by difflib's blocks."""
    a, b = "".join(read.split()), "".join(expected.split())
    matched = sum(block.size for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return matched / max(len(a), len(b))


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract is not installed: run scripts/setup.sh --test")
@pytest.mark.parametrize("mode", ["view", "speaker"])
def test_each_script_is_read_back_by_ocr(film, tmp_path, mode):
    plain = snapshot(film, tmp_path, 1.0, name="plain")
    scores = {}
    for language, (tesseract_language, text) in CUES.items():
        # At the speaker: the first cue's speaker up and to the right of where the viewer looks.
        (tmp_path / f"festival.{language}.speakers.csv").write_text("cue,yaw,pitch\n1,20,8\n")
        shot = snapshot(film, tmp_path, 1.0, "--subtitles", language, "--subtitle-size", "3", "--subtitle-place", mode,
                        name=language)
        y0, y1, x0, x1 = caption_box(shot, plain)
        read = ocr(shot[y0:y1, x0:x1], tesseract_language)
        scores[language] = round(accuracy(read, text), 3)
        print(f"{language}, {mode}: read {read!r} for {text!r}: {scores[language]:.1%} of the characters")
        if mode == "speaker":  # above the view's centre, right of it (in view it is below, centred)
            assert y1 < 360 and x0 > 640, (language, y0, y1, x0, x1)
    assert all(score >= 0.9 for score in scores.values()), scores


# -- at the speaker -----------------------------------------------------------------------------------------------

TTML_AT_SPEAKER = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:imac="http://www.imac-project.eu" xml:lang="en">
  <body><div>
    <p begin="00:00:00.500" end="00:00:02.500" imac:equirectangularLongitude="90"
       imac:equirectangularLatitude="0">Over here</p>
    <p begin="00:00:03.000" end="00:00:04.000">In view</p>
  </div></body>
</tt>
"""


def changed(shot, plain):
    return np.abs(shot - plain).max(axis=2) > 30


def test_a_speaker_out_of_view_gets_an_arrow_at_the_edge_and_a_speaker_in_view_the_caption(film, tmp_path):
    cues = tmp_path / "speaking.ttml"
    cues.write_text(TTML_AT_SPEAKER, encoding="utf-8")
    track = load(cues)
    assert [cue.direction for cue in track.cues] == [(90.0, 0.0), None]
    assert track.language == "en"  # the document's xml:lang
    size = "640x360"
    args = ("--subtitles", str(cues), "--subtitle-place", "speaker", "--subtitle-size", "3")

    # Facing 0°, the speaker at 90° is out of view: the caption waits at the right edge, an arrow beyond it.
    plain = snapshot(film, tmp_path, 1.0, "--yaw", "0", size=size, name="plain0")
    mask = changed(snapshot(film, tmp_path, 1.0, "--yaw", "0", *args, size=size, name="facing0"), plain)
    ys, xs = np.nonzero(mask)
    assert xs.min() > 320 and xs.max() > 600, (xs.min(), xs.max())  # all of it on the right, reaching the edge
    columns = np.flatnonzero(mask.any(axis=0))
    gaps = np.flatnonzero(np.diff(columns) > 3)
    assert len(gaps) == 1, "a caption and, apart from it, an arrow"
    arrow = mask[:, columns[gaps[0] + 1]:]
    heights = arrow.sum(axis=0)
    heights = heights[heights > 0]
    assert heights[: len(heights) // 4].mean() > 2 * heights[-len(heights) // 4:].mean()  # broad base, tip to the right
    arrow_rows = np.flatnonzero(arrow.any(axis=1))
    assert abs(arrow_rows.mean() - 180) < 30  # level with the speaker (pitch 0: the view's middle)

    # Facing the speaker: the caption is where they are, the middle of the view, and no arrow.
    plain = snapshot(film, tmp_path, 1.0, "--yaw", "90", size=size, name="plain90")
    y0, y1, x0, x1 = caption_box(snapshot(film, tmp_path, 1.0, "--yaw", "90", *args, size=size, name="facing90"), plain)
    assert abs((x0 + x1) / 2 - 320) < 4 and abs((y0 + y1) / 2 - 180) < 4, (y0, y1, x0, x1)
    assert x1 - x0 < 320  # the caption alone

    # A cue that names no speaker stays in view, below the centre.
    plain = snapshot(film, tmp_path, 3.5, "--yaw", "0", size=size, name="plain-later")
    y0, y1, x0, x1 = caption_box(snapshot(film, tmp_path, 3.5, "--yaw", "0", *args, size=size, name="in-view"), plain)
    assert y0 > 180 and abs((x0 + x1) / 2 - 320) < 4


def test_at_the_speaker_the_same_angular_height_at_every_fov_and_window(film, tmp_path):
    import math

    cues = tmp_path / "speaking.ttml"
    cues.write_text(TTML_AT_SPEAKER, encoding="utf-8")
    heights = {}
    for size, fov in (("640x360", 90), ("1280x720", 90), ("1280x720", 60), ("960x960", 75)):
        width, height = map(int, size.split("x"))
        plain = snapshot(film, tmp_path, 1.0, "--yaw", "90", "--fov", str(fov), size=size, name="plain")
        shot = snapshot(film, tmp_path, 1.0, "--yaw", "90", "--fov", str(fov), "--subtitles", str(cues),
                        "--subtitle-place", "speaker", size=size, name="cue")
        y0, y1, _, _ = caption_box(shot, plain)
        focal = width / 2 / math.tan(math.radians(fov) / 2)
        heights[(size, fov)] = math.degrees(math.atan((y1 - height / 2) / focal) - math.atan((y0 - height / 2) / focal))
    values = list(heights.values())
    assert max(values) - min(values) < 0.25, heights


def test_the_viewers_language_chooses_subtitles_where_the_film_has_them(film, tmp_path):
    plain = snapshot(film, tmp_path, 1.0, size="640x360", name="plain")

    def captioned(*args):
        result = run_cli("snapshot", film, "--at", 1.0, "--size", "640x360", "-o", tmp_path / "c.png", *args)
        assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
        return bool(np.abs(read_png(str(tmp_path / "c.png")).astype(int) - plain).max() > 30)

    assert captioned("--language", "zh")
    assert captioned("--language", "chi")  # the three-letter code is the same language
    assert not captioned("--language", "sv")  # none in Swedish: no caption, and no warning
    assert not captioned("--language", "zh", "--subtitles", "off")


def test_a_speakers_sidecar_places_cues_and_names_its_bad_lines(tmp_path, caplog):
    cues = tmp_path / "festival.en.srt"
    cues.write_text(srt((0.5, 1.0, "one"), (1.0, 2.0, "two"), (2.0, 3.0, "three")), encoding="utf-8")
    (tmp_path / "festival.en.speakers.csv").write_text("cue,yaw,pitch\n1,270,5\n2,east,0\n3,-30\n")
    with caplog.at_level("WARNING"):
        track = load(cues)
    assert [cue.direction for cue in track.cues] == [(-90.0, 5.0), None, (-30.0, 0.0)]
    assert "festival.en.speakers.csv line 3" in caplog.text


def test_shown_from_the_cue_start_to_its_end_frame(film, tmp_path):
    def shown(at):
        plain = snapshot(film, tmp_path, at, size="640x360", name="plain")
        return bool(np.abs(snapshot(film, tmp_path, at, "--subtitles", "en", size="640x360", name="cue") - plain).max() > 30)

    on = {at: shown(at) for at in (0.4, 0.5, 2.45, 2.5)}
    # The sample film is 30 fps: the frame at 0.5 s starts with the cue, the one at 2.5 s after it ended.
    assert on == {0.4: False, 0.5: True, 2.45: True, 2.5: False}, on


def test_the_timing_log_says_which_picture_each_cue_came_and_went_with(film, tmp_path):
    timing = tmp_path / "timing.jsonl"
    result = run_cli("play", film, "--display", "offscreen", "--size", "320x180", "--duration", "4.5", "--subtitles",
                     "en", "--timing-log", timing, "--no-audio")
    assert result.returncode == 0, result.stderr
    shown = timing_pictures(timing)
    cue_of = [(entry["pts"], next((c.rsplit("#", 1)[1] for c in entry.get("cards", []) if c.startswith("subtitle")), None))
              for entry in shown]
    with_first = [pts for pts, cue in cue_of if cue == "1"]
    with_second = [pts for pts, cue in cue_of if cue == "2"]
    frame = 1 / 30
    # From the first picture at or after its start to the last before its end: within a frame of each.
    assert 0.5 <= with_first[0] < 0.5 + frame and 2.5 - frame <= with_first[-1] < 2.5, (with_first[0], with_first[-1])
    assert 3.0 <= with_second[0] < 3.0 + frame and 4.0 - frame <= with_second[-1] < 4.0
    assert all(cue is None for pts, cue in cue_of if pts < 0.5 or 2.5 <= pts < 3.0 or pts >= 4.0)


def test_the_same_angular_height_at_every_fov_and_window(film, tmp_path):
    import math

    heights = {}
    for size, fov in (("640x360", 90), ("1280x720", 90), ("1280x720", 60), ("960x960", 75)):
        width, height = map(int, size.split("x"))
        plain = snapshot(film, tmp_path, 1.0, "--fov", str(fov), size=size, name="plain")
        shot = snapshot(film, tmp_path, 1.0, "--fov", str(fov), "--subtitles", "en", size=size, name="cue")
        y0, y1, _, _ = caption_box(shot, plain)
        focal = width / 2 / math.tan(math.radians(fov) / 2)  # pixels per unit of tangent
        centre = height / 2
        heights[(size, fov)] = math.degrees(math.atan((y1 - centre) / focal) - math.atan((y0 - centre) / focal))
    values = list(heights.values())
    assert max(values) - min(values) < 0.25, heights  # degrees: within a pixel or two of each other


def play_offscreen(film, subtitles, tick, size=(160, 90), heard: bool = False) -> None:
    """Play `film` (a path or a Film) in the offscreen player (silent) with `subtitles` over it until
    tick(playback, player) says "done"; heard: the overlay hears the player's events (the head's poses)."""
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.player import Film, Player, PlayOptions

    display = OffscreenDisplay(size)
    player = Player(display, PlayOptions(), audio=False)
    player.overlays.append(subtitles)
    if heard:
        player.events.listen(subtitles.heard)
    player.on_tick = lambda playback: tick(playback, player)
    try:
        assert player.play_film(film if isinstance(film, Film) else Film(str(film))) == "done"
    finally:
        player.close()
        display.close()


def test_in_the_player_each_picture_gets_the_cue_of_its_time_through_a_seek(film):
    """In the player (the overlay door): every picture shown is handed the cue of its own time, playing on and after
    a seek back (the pixels of a card are tested through snapshot, which draws it the same way)."""
    from vrplayer.text.overlay import SubtitleOverlay

    subtitles = SubtitleOverlay("en")
    seen, sought = [], []

    def tick(playback, player):
        cards = subtitles(playback)
        seen.append((playback.position, cards[0].version if cards else None))
        if playback.position >= 3.5 and not sought:
            sought.append(True)
            player.commands.seek(playback, 1.2, paused=False)
        elif sought and playback.position >= 2.8:
            return "done"
        return None

    play_offscreen(film, subtitles, tick)

    def expected(t):
        return 1 if 0.5 <= t < 2.5 else 2 if 3.0 <= t < 4.0 else None

    assert all(version == expected(t) for t, version in seen), [(t, v) for t, v in seen if v != expected(t)][:5]
    assert {v for _, v in seen} == {None, 1, 2} and any(abs(t - 1.2) < 0.04 for t, _ in seen)


def test_the_films_own_subtitle_streams_are_listed_and_shown(tmp_path):
    """MP4 mov_text and Matroska ASS streams, read through PyAV: probe lists them with their language, and a
    language asked for that has no sidecar is found among them."""
    import json

    cues = tmp_path / "cues.srt"
    cues.write_text(srt((0.5, 2.0, "欢迎 {\\i1}welcome{\\i0}"), (2.5, 3.5, "second\\Nline")), encoding="utf-8")
    films = {}
    for name, codec, language in (("inside.mp4", "mov_text", "chi"), ("inside.mkv", "ass", "eng")):
        films[name] = tmp_path / name
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(SAMPLE), "-i", str(cues), "-map", "0:v", "-map", "1:s",
                        "-c:v", "copy", "-c:s", codec, "-metadata:s:s:0", f"language={language}", str(films[name])],
                       check=True)
    result = run_cli("probe", "--json", films["inside.mp4"])
    assert result.returncode == 0, result.stderr
    [listed] = json.loads(result.stdout)["subtitles"]
    assert (listed["source"], listed["language"], listed["codec"], listed["picture"]) == ("stream", "chi", "mov_text", False)
    assert "subtitles:   chi — stream 1, mov_text" in run_cli("probe", films["inside.mp4"]).stdout

    for name, language in (("inside.mp4", "zh"), ("inside.mkv", "en")):
        track = choose(films[name], language)
        assert track.done.wait(10)
        assert [(c.start, c.end, c.text) for c in track.cues] == [(0.5, 2.0, "欢迎 welcome"), (2.5, 3.5, "second\nline")]
        assert track.cue_at(1.0) == 0 and track.cue_at(2.2) is None and track.cue_at(3.0) == 1
    plain = snapshot(films["inside.mkv"], tmp_path, 1.0, size="640x360", name="plain")
    shot = snapshot(films["inside.mkv"], tmp_path, 1.0, "--subtitles", "eng", size="640x360", name="cue")
    assert caption_box(shot, plain)


def test_a_kiosk_reads_in_its_own_language_and_an_item_in_the_one_the_programme_gives(film, tmp_path):
    import json

    other = tmp_path / "other.mp4"
    shutil.copy(SAMPLE, other)
    (tmp_path / "other.en.srt").write_text(srt((0.2, 1.0, "English for the other film")), encoding="utf-8")
    programme = tmp_path / "prog.toml"
    programme.write_text('start_trigger = "auto"\nloop = false\n'
                         f'[[items]]\nfile = {json.dumps(str(film))}\nend = 1.5\nsubtitles = "zh"\n'
                         f'[[items]]\nfile = {json.dumps(str(other))}\nend = 1.5\n')
    result = run_cli("kiosk", programme, "--display", "offscreen", "--size", "160x90", "--no-audio", "--no-supervisor",
                     "--log-dir", tmp_path / "log", "--subtitles", "en", "--duration", "20", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "festival.zh.srt for" in result.stderr and "(zh)" in result.stderr, result.stderr
    assert "other.en.srt for" in result.stderr and "(en)" in result.stderr, result.stderr


def test_key_s_goes_through_the_films_tracks_and_off(film, tmp_path):
    from vrplayer.display.base import InputEvent
    from vrplayer.text.overlay import SubtitleOverlay

    subtitles = SubtitleOverlay("ru")
    went = []

    def tick(playback, _):
        if playback.position < 1.0:
            return None
        track = subtitles.track_for(playback.path)
        cards = subtitles(playback)
        went.append((track.language if track else "off", bool(cards)))
        if len(went) == 7:
            return "done"
        assert subtitles.take(InputEvent("key", "s"), playback)
        return None

    play_offscreen(film, subtitles, tick)
    # From Russian (--subtitles ru) on through the rest, off, and round again; a card only while a track is on.
    assert went == [("ru", True), ("zh", True), ("off", False), ("ar", True), ("en", True), ("hi", True), ("ru", True)], went
    plain = tmp_path / "plain.mp4"
    shutil.copy(SAMPLE, plain)
    assert subtitles.take(InputEvent("key", "s"), type("P", (), {"path": str(plain)})()) is False  # none: S looks down


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract is not installed: run scripts/setup.sh --test")
@pytest.mark.parametrize("language,text", [("chi_sim", "欢迎来到电影节"), ("ara", "مرحبا بكم في المهرجان")])
def test_title_cards_and_messages_in_any_script(language, text):
    """The player's text cards (a kiosk's title card and messages: Player.show_text) written by the text engine,
    as play and kiosk wire it, read back by OCR."""
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.player import Player, PlayOptions
    from vrplayer.text.engine import card_coverage

    display = OffscreenDisplay((1280, 720))
    player = Player(display, PlayOptions(), audio=False)
    player.overlay.rasterise_text = card_coverage
    shots = []

    def tick(_):
        shots.append(display.read_pixels().astype(int))
        return "done" if len(shots) == 2 else None

    player.on_tick = tick
    try:
        assert player.show_text(text, 5.0) == "done"
    finally:
        player.close()
        display.close()
    card = shots[-1]
    ys, xs = np.nonzero(card.max(axis=2) > 128)  # white text on the black screen
    assert len(ys), "no text on the screen"
    crop = card[ys.min() - 8: ys.max() + 9, xs.min() - 8: xs.max() + 9]
    read = ocr(np.pad(crop, ((3, 3), (3, 3), (0, 0))), language)
    score = accuracy(read, text)
    print(f"{language}: read {read!r} for {text!r}: {score:.1%} of the characters")
    assert score >= 0.9, (read, text)


# -- in view, following the head lazily -----------------------------------------------------------------------------


def test_lazy_follower_keeps_still_for_small_moves_and_glides_after_a_turn_the_short_way():
    from vrplayer.text.follow import LazyFollower

    follower = LazyFollower(-18.0)
    assert follower.update(0.0, 0.0, 0.0) == (0.0, -18.0)
    assert follower.update(5.0, 2.0, 0.1) == (0.0, -18.0)  # within its slack: it stays in the scene
    yaws = [follower.update(170.0, 0.0, 0.1 + k / 60)[0] for k in range(1, 120)]
    assert yaws[0] < 40 and all(b >= a - 1e-9 for a, b in zip(yaws, yaws[1:]))  # glides, never back
    assert abs(yaws[-1] - 170.0) < 1.0
    # Across ±180°: the short way (through 180, not back through 0).
    path = [follower.update(-170.0, 0.0, 2.1 + k / 60)[0] for k in range(1, 120)]
    assert all(abs(yaw) > 150 for yaw in path) and abs(path[-1] + 170.0) < 1.0
    # After a gap (a pause, a new film) it is where it belongs at once.
    assert follower.update(0.0, 0.0, 10.0) == (0.0, -18.0)


def test_a_caption_in_view_stays_in_the_scene_for_small_head_moves_and_glides_after_a_turn(make_film, tmp_path):
    import math

    from vrplayer.text.overlay import SubtitleOverlay

    film = make_film("grey.mp4", width=640, height=320, seconds=4.0, audio=False,
                     picture=np.full((320, 640, 3), 160, np.uint8))
    cues = tmp_path / "follow.srt"
    cues.write_text(srt((0.2, 3.9, "follow me")), encoding="utf-8")
    seen = []  # (film time, the view's yaw, the caption box's centre x)
    fov = []

    def tick(playback, player):
        box = np.nonzero((player.display.read_pixels()[..., :3].astype(int).max(axis=2) < 120).any(axis=0))[0]
        t = playback.position
        if len(box):
            seen.append((t, player.view.yaw, (box.min() + box.max() + 1) / 2))
        player.view.yaw = 0.0 if t < 1.0 else 4.0 if t < 1.6 else 40.0
        fov[:] = [player.view.fov]
        return "done" if t >= 3.6 else None

    play_offscreen(film, SubtitleOverlay(str(cues), size_deg=4.0), tick, size=(320, 180), heard=True)
    focal = 160 / math.tan(math.radians(fov[0]) / 2)
    ahead = [x for t, yaw, x in seen if yaw == 0.0 and t > 0.5]
    assert ahead and all(abs(x - 160) < 3 for x in ahead), ahead
    small = [x for t, yaw, x in seen if yaw == 4.0]
    expected = 160 - focal * math.tan(math.radians(4.0))  # where it was in the scene: not moved with the head
    assert small and all(abs(x - expected) < 3 for x in small), (small, expected)
    turned = [(t, x) for t, yaw, x in seen if yaw == 40.0]
    xs = [x for _, x in turned]
    assert xs[0] < 100, xs[:3]  # just after the turn it is still where it was: far left
    assert all(b >= a - 1 for a, b in zip(xs, xs[1:])), xs  # then it glides toward the middle, never back
    assert sum(1 for x in xs if 100 <= x <= 150) >= 3, xs  # through places between, not in one jump
    assert all(abs(x - 160) < 4 for t, x in turned if t > turned[0][0] + 1.5), turned[-5:]


@pytest.mark.parametrize("text", ["ยินดีต้อนรับสู่เทศกาลภาพยนตร์นานาชาติ", "欢迎来到「电影节」。今晚的放映，请关闭手机！"])
def test_lines_of_scripts_without_spaces_break_between_clusters_and_not_before_closing_marks(text):
    import unicodedata

    from vrplayer.text.engine import _NOT_FIRST, _NOT_LAST, wrap

    for width in (60, 90, 130, 200):
        lines = wrap(text, 24, width)
        assert "".join(lines) == text and len(lines) > 1, lines
        for line in lines[1:]:
            assert unicodedata.category(line[0])[0] != "M" and line[0] not in _NOT_FIRST, (width, lines)
        for line in lines[:-1]:
            assert line[-1] not in _NOT_LAST, (width, lines)


@pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract is not installed: run scripts/setup.sh --test")
def test_a_stereo_film_has_its_caption_at_one_place_in_each_eye_and_in_each_half_side_by_side(tmp_path):
    film = tmp_path / "stereo_360_TB.mp4"  # top-bottom stereo: each eye a grey sphere
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0x787878:s=1024x1024:d=3:r=30",
                    "-pix_fmt", "yuv420p", str(film)], check=True)
    for language in ("en", "zh"):
        (tmp_path / f"stereo_360_TB.{language}.srt").write_text(srt((0.0, 3.0, CUES[language][1])), encoding="utf-8")
    plain = snapshot(film, tmp_path, 1.0, name="plain")
    for language in ("en", "zh"):
        boxes = {}
        for eye in ("left", "right"):
            shot = snapshot(film, tmp_path, 1.0, "--eye", eye, "--subtitles", language, "--subtitle-size", "3", name=eye)
            boxes[eye] = caption_box(shot, plain)
        assert boxes["left"] == boxes["right"], boxes  # the same pixels in both eyes: no depth quarrel, never doubled
        y0, y1, x0, x1 = boxes["left"]
        read = ocr(shot[y0:y1, x0:x1], CUES[language][0])
        assert accuracy(read, CUES[language][1]) >= 0.9, (language, read)
    # Both eyes side by side in one picture: the caption once in each half, at one place in each.
    plain = snapshot(film, tmp_path, 1.0, "--eye", "side-by-side", size="1280x360", name="sbs-plain")
    shot = snapshot(film, tmp_path, 1.0, "--eye", "side-by-side", "--subtitles", "en", size="1280x360", name="sbs")
    halves = [caption_box(shot[:, half], plain[:, half]) for half in (slice(0, 640), slice(640, 1280))]
    assert halves[0] == halves[1], halves
    assert halves[0][3] < 640  # (inside its own half, not across the middle)


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_a_malformed_cue_is_left_out_with_one_warning_naming_its_line_and_the_rest_are_shown(tmp_path, caplog, fmt):
    if fmt == "srt":
        text = ("1\n00:00:00,500 --> 00:00:01,500\nfirst\n\n2\n00:00:02,000 -> 00:0x:03,000\nbroken timing\n\n"
                "3\n00:00:04,000 --> 00:00:05,000\nthird\n\n4\nno timing at all\n\n5\n00:00:06,000 --> 00:00:07,000\nfifth\n")
    else:
        text = ("WEBVTT\n\nNOTE made by hand\n\n00:00.500 --> 00:01.500\nfirst\n\nintro\n00:02.000 --> nonsense\n"
                "broken timing\n\n00:04.000 --> 00:05.000 line:90%\nthird\n\nno timing at all\n\n"
                "00:06.000 --> 00:07.000\nfifth\n")
    path = tmp_path / f"hand.{fmt}"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level("WARNING"):
        track = load(path)
    assert [(cue.start, cue.text) for cue in track.cues] == [(0.5, "first"), (4.0, "third"), (6.0, "fifth")]
    line = 5 if fmt == "srt" else 8
    assert f"hand.{fmt} line {line} (and 1 more blocks): not a cue" in caplog.text, caplog.text


def test_a_fade_out_takes_the_caption_down_with_the_picture(make_film, tmp_path):
    from vrplayer.player import Film
    from vrplayer.text.overlay import SubtitleOverlay

    film = Film(str(make_film("grey.mp4", width=640, height=320, seconds=4.0, audio=False,
                              picture=np.full((320, 640, 3), 160, np.uint8))))
    cues = tmp_path / "fade.srt"
    cues.write_text(srt((0.0, 4.0, "WELCOME")), encoding="utf-8")
    brightest = []  # (film time, the brightest pixel: the caption's white text, until the fade takes it)
    faded = []

    def tick(playback, player):
        brightest.append((playback.position, int(player.display.read_pixels()[..., :3].max())))
        if playback.position >= 1.0 and not faded:
            faded.append(True)
            player.commands.remote(playback, film, "fade")
        return "done" if playback.clock.paused else None  # the fade's end pauses the film

    play_offscreen(film, SubtitleOverlay(str(cues), size_deg=6.0), tick, size=(320, 180))
    before = [value for t, value in brightest if t < 1.0]
    assert before and min(before) > 240  # white text on the grey film
    assert brightest[-1][1] < 8, brightest[-5:]  # all black at the end of the fade: the caption too


@pytest.mark.parametrize("line, latin_at", [("مرحبا بكم في المهرجان Venice", "left"),
                                             ("Venice welcomes you: مرحبا بكم في المهرجان", "left"),
                                             ("مرحبا Venice بكم في المهرجان", "right of middle")])
def test_a_line_mixing_right_to_left_and_latin_is_laid_out_in_reading_order(line, latin_at):
    """The Latin word of a mixed line, found in the rendered line by its own rendering: at the left end of a
    right-to-left line that ends with it; at the left of a left-to-right line that starts with it; near the
    right of a right-to-left line whose second word it is."""
    from vrplayer.text.engine import render_lines

    full = render_lines(line, 40)[..., 0].astype(float)  # white text on the dark box
    word = render_lines("Venice", 40, backing=(0, 0, 0, 0))[..., 0].astype(float)
    rows, columns = np.flatnonzero(word.max(axis=1) > 0), np.flatnonzero(word.max(axis=0) > 0)
    word = word[rows.min():rows.max() + 1, columns.min():columns.max() + 1]  # the word's own ink
    h, w = word.shape
    scores = np.array([[np.abs(full[y:y + h, x:x + w] - word).mean() for x in range(full.shape[1] - w)]
                       for y in range(full.shape[0] - h)])
    y, x = np.unravel_index(np.argmin(scores), scores.shape)
    assert scores[y, x] < 0.4 * np.median(scores), "the Latin word is not in the line as written"
    where = x + w / 2
    share = where / full.shape[1]
    if latin_at == "left":
        assert share < 0.35, share
    else:
        assert 0.5 < share < 0.9, share
    # A space on each side of it in the middle of a line (the run's own space moved to the side of the next run).
    ink = full.max(axis=0) > 100
    if latin_at != "left":
        gap = lambda columns: int(np.argmax(columns)) if columns.any() else len(columns)  # noqa: E731
        left_gap = gap(ink[:x][::-1])
        right_gap = gap(ink[x + w:])
        assert left_gap > 4 and right_gap > 4 and 0.5 < left_gap / right_gap < 2, (left_gap, right_gap)


# -- depth over a stereo film ---------------------------------------------------------------------------------------

NEAR_SHIFT = 10  # pixels of the eye picture (1024 wide: 3.5°) between the eyes for the near panel behind captions


def near_panel_picture() -> np.ndarray:
    """A top-bottom stereo picture (1024×1024, each eye 1024×512): light grey, a mid-grey stripe up the middle at
    infinity (the same in both eyes), and below the horizon a textured panel nearer than 2 m: in the left eye
    NEAR_SHIFT pixels right of where it is in the right eye."""
    rng = np.random.default_rng(5)
    eye = np.full((512, 1024), 200, np.uint8)
    eye[40:200, 508:516] = 144  # the stripe, high up
    panel = rng.integers(150, 256, (110, 150)).astype(np.uint8)
    left, right = eye.copy(), eye.copy()
    right[260:370, 437:587] = panel
    left[260:370, 437 + NEAR_SHIFT:587 + NEAR_SHIFT] = panel
    return np.repeat(np.concatenate([left, right])[..., None], 3, axis=2)


def test_the_nearest_disparity_of_a_band_is_found_and_sets_the_captions_depth():
    from vrplayer.text.depth import MARGIN, caption_depth, eye_bands, nearest_disparity

    picture = near_panel_picture()[..., 0]
    bands = eye_bands(picture, "top-bottom", False, (-180.0, 180.0, 90.0, -90.0), 0.0, -18.0)
    left, right, per_pixel = bands
    assert abs(per_pixel - 360 / 1024) < 1e-9
    assert nearest_disparity(left, right, 20) == NEAR_SHIFT
    assert nearest_disparity(right, right, 20) == 0.0  # the same picture: all at infinity
    swapped = eye_bands(picture, "top-bottom", True, (-180.0, 180.0, 90.0, -90.0), 0.0, -18.0)
    assert nearest_disparity(swapped[0], swapped[1], 20) == 0.0  # eyes the other way: nothing nearer than infinity
    assert eye_bands(picture, "top-bottom", False, (-180.0, 180.0, 90.0, -90.0), 0.0, 50.0)[0].std() < 30  # sky: no panel
    depth = caption_depth(NEAR_SHIFT, per_pixel, 2.0)
    assert abs(depth - 0.063 / (MARGIN * np.radians(NEAR_SHIFT * per_pixel))) < 1e-9 and depth < 2.0
    assert caption_depth(None, per_pixel, 2.0) == 2.0 and caption_depth(0.0, per_pixel, 2.0) == 2.0
    assert caption_depth(200, per_pixel, 2.0) == 0.6  # never nearer than reading is comfortable


def test_a_caption_over_a_stereo_film_stands_in_front_of_the_picture_behind_it(make_film, tmp_path):
    from vrplayer.text.overlay import SubtitleOverlay

    film = make_film("near_360_TB.mp4", width=1024, height=1024, seconds=2.0, audio=False, picture=near_panel_picture())
    cues = tmp_path / "near.srt"
    cues.write_text(srt((0.2, 1.9, "In front")), encoding="utf-8")
    mono = make_film("far_360.mp4", width=1024, height=512, seconds=2.0, audio=False,
                     picture=near_panel_picture()[:512])
    depths = {}
    for name, path in (("stereo", film), ("mono", mono)):
        subtitles = SubtitleOverlay(str(cues), depth=True)
        seen = depths[name] = []

        def tick(playback, player, subtitles=subtitles, seen=seen):
            seen.extend(card.depth for card in subtitles(playback))
            return "done" if playback.position > 1.0 else None

        play_offscreen(path, subtitles, tick)
    from vrplayer.text.depth import MARGIN

    expected = 0.063 / (MARGIN * np.radians(NEAR_SHIFT * 360 / 1024))  # 0.68 m
    assert depths["stereo"] and all(abs(d - expected) < 0.15 for d in depths["stereo"]), (depths["stereo"][:3], expected)
    assert depths["mono"] and all(d is None for d in depths["mono"])  # a mono film: the usual 2 m
