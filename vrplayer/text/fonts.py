"""Which font writes which script: Noto, from the system's packages (scripts/setup.sh installs fonts-noto-core and
fonts-noto-cjk). A character's script is told from its Unicode block (pure); a line is cut into runs of one script
each (characters common to all — spaces, digits, punctuation — join the run they sit in), and each run gets the
font that has it. A script whose font is not installed is said once, naming the package.
"""

from __future__ import annotations

import os
from functools import lru_cache

from vrplayer import log

_log = log.get("text")

FONT_FOLDERS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/opentype/noto")

# script → (font file, face index in a collection, Debian package)
FONTS = {
    "latin": ("NotoSans-Regular.ttf", 0, "fonts-noto-core"),  # Latin, Greek and Cyrillic
    "arabic": ("NotoSansArabic-Regular.ttf", 0, "fonts-noto-core"),
    "hebrew": ("NotoSansHebrew-Regular.ttf", 0, "fonts-noto-core"),
    "devanagari": ("NotoSansDevanagari-Regular.ttf", 0, "fonts-noto-core"),
    "bengali": ("NotoSansBengali-Regular.ttf", 0, "fonts-noto-core"),
    "tamil": ("NotoSansTamil-Regular.ttf", 0, "fonts-noto-core"),
    "thai": ("NotoSansThai-Regular.ttf", 0, "fonts-noto-core"),
    "cjk": ("NotoSansCJK-Regular.ttc", 2, "fonts-noto-cjk"),  # face 2: Simplified Chinese; also kana and hangul
}

# (first, last code point, script): the blocks that decide a run's font. Anything else is "common".
_BLOCKS = (
    (0x0041, 0x005A, "latin"), (0x0061, 0x007A, "latin"), (0x00C0, 0x024F, "latin"), (0x0370, 0x03FF, "latin"),
    (0x0400, 0x052F, "latin"), (0x1E00, 0x1FFF, "latin"),
    (0x0590, 0x05FF, "hebrew"), (0xFB1D, 0xFB4F, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"), (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0B80, 0x0BFF, "tamil"), (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "cjk"), (0x2E80, 0x2FDF, "cjk"), (0x3000, 0x303F, "cjk"), (0x3040, 0x30FF, "cjk"),
    (0x3100, 0x31FF, "cjk"), (0x3400, 0x4DBF, "cjk"), (0x4E00, 0x9FFF, "cjk"), (0xAC00, 0xD7AF, "cjk"),
    (0xF900, 0xFAFF, "cjk"), (0xFF00, 0xFFEF, "cjk"), (0x20000, 0x2FA1F, "cjk"),
)
RIGHT_TO_LEFT = frozenset({"arabic", "hebrew"})
NO_SPACES = frozenset({"cjk", "thai"})  # scripts written without spaces between words: a line may break anywhere


def script_of(char: str) -> str:
    """The script deciding `char`'s font, or "common" (spaces, digits, punctuation, symbols)."""
    code = ord(char)
    for first, last, script in _BLOCKS:
        if first <= code <= last:
            return script
    return "common"


def runs(text: str) -> list[tuple[str, str]]:
    """`text` cut into (script, text) runs; common characters join the run before them (the first run's, at the
    start); a line of common characters alone is Latin."""
    found: list[list] = []
    for char in text:
        script = script_of(char)
        if script == "common" or (found and found[-1][0] == script):
            if found:
                found[-1][1] += char
            else:
                found.append(["common", char])
            continue
        if found and found[-1][0] == "common":  # leading common characters take the first real script
            found[-1][0] = script
            found[-1][1] += char
        else:
            found.append([script, char])
    return [("latin" if script == "common" else script, piece) for script, piece in found]


def first_strong(text: str) -> str:
    """The script of `text`'s first character that has one: it sets a paragraph's direction (UAX #9, rule P2), so
    "Venice welcomes you: مرحبا بكم" reads left to right and "مرحبا Venice" right to left."""
    return next((script for script in map(script_of, text) if script != "common"), "latin")


def font_path(script: str) -> tuple[str, int] | None:
    """(file, face index) of the installed font for `script`, or None (said once)."""
    return _find(script)


@lru_cache(maxsize=None)
def _find(script: str) -> tuple[str, int] | None:
    name, index, package = FONTS.get(script, FONTS["latin"])
    for folder in FONT_FOLDERS:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path, index
    _log.warning("no font for %s text (%s): install the %s package (scripts/setup.sh does); it is drawn with "
                 "another font, and may show as boxes", script, name, package)
    return None if script == "latin" else _find("latin")
