"""Which tiles of the picture a view needs (render/regions.py): every texel a view's pixels sample must be in them."""

from __future__ import annotations

import numpy as np
import pytest

from vrplayer.layout import Layout
from vrplayer.render import projection, regions

VIEW = (192, 108)  # rays per view: denser than the regions' own ray grid

LAYOUTS = {
    "equirect": (Layout(), (1920, 960), "left"),
    "equirect, small picture": (Layout(), (256, 128), "left"),
    "vr180": (Layout(crop_left=0.25, crop_right=0.25), (2048, 2048), "left"),
    "top-bottom, right eye": (Layout(stereo="top-bottom"), (1920, 1920), "right"),
    "side-by-side 360, left eye": (Layout(stereo="side-by-side"), (3840, 960), "left"),
    "side-by-side vr180, right eye": (Layout(stereo="side-by-side", crop_left=0.25, crop_right=0.25), (4096, 2048), "right"),
    "eac": (Layout(projection="eac"), (1536, 1024), "left"),
    "cubemap 3x2": (Layout(projection="cubemap-3x2"), (1536, 1024), "left"),
    "cubemap 6x1": (Layout(projection="cubemap-6x1"), (3072, 512), "left"),
    "fisheye 190": (Layout(projection="fisheye", fov=190), (2048, 2048), "left"),
    "dual fisheye": (Layout(projection="dual-fisheye", fov=200), (3840, 1920), "left"),
    "flat": (Layout(projection="flat", fov=100), (1920, 1080), "left"),
}

# Views that corner a tile search: straight up and down, the seam behind, rolled, zoomed in and out.
HARD_VIEWS = [(0, 90, 0, 90), (37, -90, 0, 60), (180, 0, 0, 90), (179, 88, 20, 100), (-90, -60, 45, 120),
              (0, 0, 0, 30), (90, 89.5, 0, 30)]


def views(count: int, seed: int):
    rng = np.random.default_rng(seed)
    picked = [(rng.uniform(-180, 180), rng.uniform(-90, 90), rng.uniform(-40, 40), rng.uniform(30, 120))
              for _ in range(count)]
    return HARD_VIEWS + picked


def stale_weight(layout: Layout, size: tuple[int, int], eye: str, view, needed: np.ndarray) -> float:
    """How much of a view's pixels would come from tiles left out: the numpy reference samples (bilinear taps,
    addressing across seams, poles and cube edges as v360 does) a picture that is 1 in those tiles, 0 elsewhere."""
    width, height = size
    rows = np.arange(height) * regions.TILE_ROWS // height  # the tile each texel goes up with
    columns = np.arange(width) * regions.TILE_COLUMNS // width
    stale = (~needed)[rows[:, None], columns[None, :]].astype(np.float64)[..., None]
    colour, valid = projection.sample_layout(stale, layout, projection.view_rays(*VIEW, *view), eye)
    return float(colour[..., 0][valid].max(initial=0.0))


@pytest.mark.parametrize("tiles_of", [regions.view_tiles, regions.rough_view_tiles], ids=["exact", "rough"])
@pytest.mark.parametrize("name", list(LAYOUTS))
def test_every_texel_a_view_samples_lies_in_its_tiles(name, tiles_of):
    layout, size, eye = LAYOUTS[name]
    for view in views(40, seed=len(name)):
        yaw, pitch, roll, fov = view
        tx, ty = projection.tan_half_fov(fov, *VIEW)
        needed = tiles_of(layout, size, eye, projection.view_rotation(yaw, pitch, roll), (-tx, tx, -ty, ty))
        weight = stale_weight(layout, size, eye, view, needed)
        assert weight == 0.0, f"{name} at {view}: pixels take up to {weight:.0%} from tiles left out"


def test_a_level_view_of_a_360_film_needs_a_fraction_of_it():
    layout, size = Layout(), (3840, 1920)
    tx, ty = projection.tan_half_fov(90, 640, 360)
    for yaw in (0, 90, 180, -135):
        needed = regions.view_tiles(layout, size, "left", projection.view_rotation(yaw, 0, 0), (-tx, tx, -ty, ty))
        assert needed.mean() < 0.25, f"yaw {yaw}: {needed.mean():.0%} of the picture"
    # Looking straight up takes every longitude near the pole, but not the other hemisphere.
    needed = regions.view_tiles(layout, size, "left", projection.view_rotation(0, 90, 0), (-tx, tx, -ty, ty))
    assert needed[0].all() and not needed[regions.TILE_ROWS // 2:].any()


def test_the_quick_tiles_of_a_moving_view_stay_a_fraction_of_a_360_film():
    layout, size = Layout(), (3840, 1920)
    tx, ty = projection.tan_half_fov(90, 640, 360)
    for yaw, pitch in ((0, 0), (135, 20), (-60, -45)):
        rough = regions.rough_view_tiles(layout, size, "left", projection.view_rotation(yaw, pitch, 0), (-tx, tx, -ty, ty))
        assert rough.mean() < 0.35, f"{(yaw, pitch)}: {rough.mean():.0%} of the picture"


def test_the_eyes_of_a_stereo_film_need_their_own_halves():
    layout, size = Layout(stereo="top-bottom"), (3840, 3840)
    tx, ty = projection.tan_half_fov(90, 640, 360)
    rotation = projection.view_rotation(30, 10, 0)
    left = regions.view_tiles(layout, size, "left", rotation, (-tx, tx, -ty, ty))
    right = regions.view_tiles(layout, size, "right", rotation, (-tx, tx, -ty, ty))
    half = regions.TILE_ROWS // 2
    assert left[:half].any() and not left[half:].any()
    assert right[half:].any() and not right[:half].any()
    assert regions.eye_tiles(layout, size, "right")[half:].all()


def test_rectangles_cover_exactly_the_marked_tiles():
    rng = np.random.default_rng(3)
    for _ in range(50):
        tiles = rng.random((regions.TILE_ROWS, regions.TILE_COLUMNS)) < rng.uniform(0.05, 0.9)
        covered = regions.empty()
        for c0, r0, c1, r1 in regions.rectangles(tiles):
            assert not covered[r0:r1, c0:c1].any(), "rectangles overlap"
            covered[r0:r1, c0:c1] = True
        assert (covered == tiles).all()
    # A view's usual shape, a block of tiles, is one rectangle.
    block = regions.empty()
    block[3:9, 10:20] = True
    assert regions.rectangles(block) == [(10, 3, 20, 9)]


def test_plane_rectangles_round_outwards_on_subsampled_planes():
    # 4:2:0 chroma of an odd-sized picture: every chroma texel under the tiles is included.
    assert regions.plane_rectangle((0, 0, regions.TILE_COLUMNS, regions.TILE_ROWS), (961, 541)) == (0, 0, 961, 541)
    x, y, w, h = regions.plane_rectangle((5, 3, 6, 4), (961, 541))
    assert x <= 5 * 961 / regions.TILE_COLUMNS and x + w >= 6 * 961 / regions.TILE_COLUMNS
    assert y <= 3 * 541 / regions.TILE_ROWS and y + h >= 4 * 541 / regions.TILE_ROWS
