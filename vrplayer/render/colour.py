"""YUV → RGB for the fragment shader: the film's own matrix (BT.601 / 709 / 2020) and range (limited / full).

Pure numpy. The conversion is `rgb = matrix · (sample · scale + offset)` where `sample` is what a normalised R8 /
R16 texture returns for each plane (the shader takes it folded into one affine step, `affine()`), so scale and
offset fold in the bit depth, where the bits sit in a 16-bit word
(P010 keeps them high), and the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Luma coefficients (Kr, Kb) per matrix.
_KR_KB = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
}

def yuv_to_rgb_matrix(matrix: str) -> np.ndarray:
    """3×3 matrix taking (Y', Cb, Cr) with Y' in [0, 1] and Cb, Cr in [-½, ½] to R'G'B'."""
    kr, kb = _KR_KB[matrix]
    kg = 1.0 - kr - kb
    return np.array(
        [
            [1.0, 0.0, 2.0 * (1.0 - kr)],
            [1.0, -2.0 * (1.0 - kb) * kb / kg, -2.0 * (1.0 - kr) * kr / kg],
            [1.0, 2.0 * (1.0 - kb), 0.0],
        ]
    )


@dataclass(frozen=True)
class ColourTransform:
    matrix: np.ndarray  # 3×3, applied after scale/offset
    scale: np.ndarray  # per channel, multiplies the normalised texture sample
    offset: np.ndarray  # per channel, added after scaling

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(A, b) with rgb = A · sample + b: the same conversion in one step, as the shader takes it."""
        return self.matrix * self.scale[None, :], self.matrix @ self.offset


def yuv_transform(matrix: str, value_range: str, bit_depth: int, storage_bits: int, msb_aligned: bool = False):
    """Transform for planar/semi-planar YUV.

    bit_depth: significant bits (8, 10, 12); storage_bits: 8 or 16 per sample in the texture;
    msb_aligned: the significant bits sit at the top of the 16-bit word (P010), not the bottom (yuv420p10le).
    """
    # code value = normalised sample · code_scale
    storage_max = (1 << storage_bits) - 1
    code_scale = storage_max / (1 << (storage_bits - bit_depth)) if msb_aligned else float(storage_max)
    step = 1 << (bit_depth - 8)
    if value_range == "limited":
        y_scale, y_off = code_scale / (219.0 * step), -16.0 / 219.0
        c_scale, c_off = code_scale / (224.0 * step), -128.0 / 224.0
    else:
        full = float((1 << bit_depth) - 1)
        y_scale, y_off = code_scale / full, 0.0
        c_scale, c_off = code_scale / full, -float(1 << (bit_depth - 1)) / full
    return ColourTransform(
        matrix=yuv_to_rgb_matrix(matrix),
        scale=np.array([y_scale, c_scale, c_scale]),
        offset=np.array([y_off, c_off, c_off]),
    )


def gbr_transform(bit_depth: int = 8, storage_bits: int = 8) -> ColourTransform:
    """Planar RGB stored G, B, R (FFmpeg's gbrp): only reorder the planes."""
    storage_max = (1 << storage_bits) - 1
    s = storage_max / ((1 << bit_depth) - 1)
    reorder = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return ColourTransform(matrix=reorder, scale=np.full(3, s), offset=np.zeros(3))


def apply(transform: ColourTransform, samples: np.ndarray) -> np.ndarray:
    """Reference (numpy) version of the shader's conversion: samples (..., 3) normalised → RGB in [0, 1]."""
    a, b = transform.affine()
    return np.clip(samples @ a.T + b, 0.0, 1.0)
