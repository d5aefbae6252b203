"""Which colour matrix and range a film uses: from its tags, or by the usual rules when it has none.

Shared by `probe` (which reports them) and the renderer (which converts with them).
"""

from __future__ import annotations

# FFmpeg's AVColorSpace values, as PyAV reports them.
_AVCOL_SPC = {1: "bt709", 5: "bt601", 6: "bt601", 9: "bt2020", 10: "bt2020"}
# FFmpeg's AVColorRange: 1 = MPEG (limited), 2 = JPEG (full).
_AVCOL_RANGE = {1: "limited", 2: "full"}


def matrix_name(avcol_spc: int | None, height: int) -> tuple[str, str]:
    """(matrix, how it was decided). Untagged films follow the usual rule: SD is BT.601, HD and up BT.709."""
    if avcol_spc in _AVCOL_SPC:
        return _AVCOL_SPC[avcol_spc], "tagged"
    return ("bt709" if height >= 720 else "bt601"), "untagged: guessed from height"


def range_name(avcol_range: int | None, pix_fmt: str) -> tuple[str, str]:
    if avcol_range in _AVCOL_RANGE:
        return _AVCOL_RANGE[avcol_range], "tagged"
    if pix_fmt.startswith("yuvj"):
        return "full", "yuvj pixel format"
    return "limited", "untagged: video default"
