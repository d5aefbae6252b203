"""Text into pictures, in any script: Pillow's text layout with libraqm (HarfBuzz shaping, FriBiDi for right-to-left
runs), Noto fonts chosen per script run (text/fonts.py). Lines are broken to a width: between words where a script
spaces them, between characters where it does not (Chinese, Japanese: not before closing punctuation; Thai: between
letter clusters). A paragraph whose first letter is of a script read right to left (UAX #9's rule) is laid out from
the right, each of its lines' runs in right-to-left order; a run against the line's direction keeps its space on the
side of the run after it.

Pillow's wheels carry libraqm, HarfBuzz and FriBiDi themselves, and Pillow is a kept library of long standing: it
does what FreeType + HarfBuzz bindings would, with one dependency instead of three.

    picture = render_lines("字幕 subtitles", pixel_height=48, max_width=900)   # (H, W, 4) uint8, top row first
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from vrplayer.errors import PlayerError
from vrplayer.text.fonts import NO_SPACES, RIGHT_TO_LEFT, first_strong, font_path, runs, script_of

TEXT_COLOUR = (255, 255, 255, 255)
BACKING = (0, 0, 0, 160)  # a translucent box: readable over any picture, the picture still seen through it
PADDING = 0.35  # of the text's pixel height, round the lines
LINE_GAP = 0.25


@lru_cache(maxsize=64)
def _font(script: str, size: int):
    found = font_path(script)
    if found is None:
        raise PlayerError("no font at all for text: install fonts-noto-core (scripts/setup.sh does)")
    path, index = found
    if not features.check("raqm"):
        raise PlayerError("Pillow has no text shaping here (libraqm): reinstall Pillow from its wheels")
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.RAQM)


def _direction(script: str) -> str:
    return "rtl" if script in RIGHT_TO_LEFT else "ltr"


# Never at the start of a line (closing punctuation, small kana, the iteration mark) or at its end (opening
# brackets): the line-breaking rules of Chinese and Japanese (kinsoku), as UAX #14 gives them. Thai is broken
# between letter clusters, not by a dictionary into words: a line may end inside a Thai word, never between a
# letter and its vowel or tone marks.
# Thai: a following vowel (ะ า ำ) stays with its syllable, a leading one (เ แ โ ใ ไ) with the letter after it.
_NOT_FIRST = frozenset("ะาำๅๆ" "、。，．,.：；:;！？!?）〕］｝」』】〉》〙〗〟’”ゝゞヽヾーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〻‐゠–～")
_NOT_LAST = frozenset("เแโใไ" "（〔［｛「『【〈《〘〖〝‘“")


def _units(text: str) -> list[str]:
    """Where a line may break: after each word (its space kept with it), or between the characters of a script
    written without spaces — never inside a character's cluster (a Thai vowel or tone mark stays on its letter),
    before closing punctuation or after an opening bracket."""
    units, word = [], ""
    for char in text:
        if unicodedata.category(char)[0] == "M" or char in _NOT_FIRST:  # a mark, or no break before it
            if word:
                word += char
            elif units and not units[-1].endswith(" "):
                units[-1] += char
            else:
                word = char
        elif script_of(char) in NO_SPACES:
            if word and word[-1] not in _NOT_LAST:
                units.append(word)
                word = ""
            word += char
            if word[-1] not in _NOT_LAST:
                units.append(word)
                word = ""
        elif char == " ":
            units.append(word + " ")
            word = ""
        else:
            if units and not word and units[-1] and units[-1][-1] in _NOT_LAST:
                word = units.pop()
            word += char
    if word:
        units.append(word)
    return units


def run_width(text: str, size: int) -> float:
    return sum(_font(script, size).getlength(piece, direction=_direction(script)) for script, piece in runs(text))


def wrap(text: str, size: int, max_width: float) -> list[str]:
    """`text` (\\n for hard breaks) broken into lines no wider than `max_width` pixels where it can be."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in _units(paragraph):
            if line and run_width((line + unit).rstrip(" "), size) > max_width:
                lines.append(line.rstrip(" "))
                line = unit.lstrip(" ")
            else:
                line += unit
        lines.append(line.rstrip(" "))
    return lines


CARD_EM = 8  # a text card's line in the overlay's card pixels (the bitmap font's 7-pixel capitals and a gap)
CARD_SUPERSAMPLE = 4  # coverage pixels per card pixel: smooth when the card is scaled up on screen


def card_coverage(text: str) -> tuple[np.ndarray, float]:
    """A text card's picture for the overlay renderer (its `rasterise_text`): the lines' coverage (uint8, H×W) and
    card pixels per coverage pixel — text cards (title cards, the info line, the kiosk's messages) in every script,
    the size the bitmap font made them."""
    rgba = render_lines(text, CARD_EM * CARD_SUPERSAMPLE, backing=(0, 0, 0, 0))
    return rgba[..., 3].copy(), 1.0 / CARD_SUPERSAMPLE


def render_lines(text: str, pixel_height: int = 48, max_width: int | None = None, backing=BACKING) -> np.ndarray:
    """`text` as white lines on a translucent box (`backing`): (H, W, 4) uint8 RGBA, top row first. `pixel_height`: the text's
    em size in pixels; `max_width`: lines are broken to fit (None: only at \\n)."""
    size = max(6, int(pixel_height))
    lines, directions = [], []  # each line, and whether its paragraph reads right to left
    for paragraph in text.split("\n"):
        broken = wrap(paragraph, size, max_width) if max_width else [paragraph]
        lines += broken
        directions += [first_strong(paragraph) in RIGHT_TO_LEFT] * len(broken)
    pad, gap = round(size * PADDING), round(size * LINE_GAP)
    metrics = [_font(script, size).getmetrics() for script in {s for line in lines for s, _ in runs(line)} | {"latin"}]
    ascent, descent = max(m[0] for m in metrics), max(m[1] for m in metrics)
    line_height = ascent + descent
    widths = [run_width(line, size) for line in lines]
    width = int(np.ceil(max(widths + [1.0]))) + 2 * pad
    height = len(lines) * line_height + (len(lines) - 1) * gap + 2 * pad
    picture = Image.new("RGBA", (width, height), tuple(backing))
    draw = ImageDraw.Draw(picture)
    for number, (line, line_width, right_to_left) in enumerate(zip(lines, widths, directions)):
        baseline = pad + number * (line_height + gap) + ascent
        pieces = runs(line)
        if right_to_left:
            pieces = pieces[::-1]  # the runs of a right-to-left line go from the right
        x = (width - line_width) / 2  # centred, as captions are
        line_direction = "rtl" if right_to_left else "ltr"
        for script, piece in pieces:
            font = _font(script, size)
            direction = _direction(script)
            if direction != line_direction and piece != piece.rstrip(" "):
                # A run against the line's direction: the space after it in reading order is on the side of the
                # next run, which is the run's own start (an English word in an Arabic line: to its left).
                piece = " " * (len(piece) - len(piece.rstrip(" "))) + piece.rstrip(" ")
            draw.text((x, baseline), piece, font=font, fill=TEXT_COLOUR, anchor="ls", direction=direction)
            x += font.getlength(piece, direction=direction)
    return np.asarray(picture, dtype=np.uint8).copy()
