"""Which decoded pixel formats travel to the GPU as they are, and how their planes become textures.

Frames stay in their native YUV planes (no CPU colour conversion); anything else is converted once, on the decode
thread, to the nearest format listed here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PixelLayout:
    name: str
    kind: str  # "yuv" (three planes), "semi" (Y + interleaved UV), "gbr" (three planes G, B, R), "gray"
    bit_depth: int
    storage_bits: int  # 8 or 16 bits per sample in memory
    msb_aligned: bool = False  # P010: the significant bits sit high in each 16-bit word
    full_range_format: bool = False  # yuvj*: full range whatever the tags say

    @property
    def plane_channels(self) -> tuple[int, ...]:
        return {"yuv": (1, 1, 1), "gbr": (1, 1, 1), "semi": (1, 2), "gray": (1,)}[self.kind]

    @property
    def bytes_per_sample(self) -> int:
        return self.storage_bits // 8


def _yuv(name, depth=8, full=False):
    return PixelLayout(name, "yuv", depth, 8 if depth == 8 else 16, full_range_format=full)


NATIVE: dict[str, PixelLayout] = {
    layout.name: layout
    for layout in (
        _yuv("yuv420p"),
        _yuv("yuv422p"),
        _yuv("yuv444p"),
        _yuv("yuvj420p", full=True),
        _yuv("yuvj422p", full=True),
        _yuv("yuvj444p", full=True),
        _yuv("yuv420p10le", 10),
        _yuv("yuv422p10le", 10),
        _yuv("yuv444p10le", 10),
        _yuv("yuv420p12le", 12),
        PixelLayout("nv12", "semi", 8, 8),
        PixelLayout("p010le", "semi", 10, 16, msb_aligned=True),
        PixelLayout("gbrp", "gbr", 8, 8),
        PixelLayout("gray", "gray", 8, 8),
    )
}


def conversion_target(name: str, is_rgb: bool, bit_depth: int) -> str | None:
    """None when `name` is uploaded as it is, else the native format to convert to."""
    if name in NATIVE:
        return None
    if is_rgb:
        return "gbrp"
    return "yuv420p10le" if bit_depth > 8 else "yuv420p"
