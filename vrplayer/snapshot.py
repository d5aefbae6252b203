"""Render exactly the frame shown at a given time, through the real renderer, offscreen, to a PNG."""

from __future__ import annotations

import av
import numpy as np

from vrplayer.errors import PlayerError, path_text
from vrplayer.log import get as get_log
from vrplayer.media.camera import level_turn
from vrplayer.media.probe import decide_film_layout
from vrplayer.media.still import open_pictures
from vrplayer.view import ViewState, start_pose

_log = get_log("snapshot")


def render_view(path: str, at: float, start: tuple, fov: float, size: tuple[int, int], layout_flags: dict | None = None,
                eye: str = "left", display=None, overview=None, overlays=(), level: bool = False) -> tuple[np.ndarray, ViewState]:
    """The picture (H, W, 3 uint8) a viewer sees at `at` seconds, and the view: `start` is (yaw, pitch, roll), each
    None for the film's initial view. `overview`: a headset's FieldOfView (creator/headsets.py) to draw the whole
    picture unwrapped instead, that headset's view outlined on it (creator/overview.py). `overlays`: each has
    cards_at(film, t) → the cards over the view at the frame's time (subtitles), drawn as the player draws them.
    `level`: the horizon levelled by the camera's own orientation samples, where the film has them."""
    from vrplayer.display.offscreen import OffscreenDisplay
    from vrplayer.render.renderer import PictureTooLarge, SphereRenderer

    decoder = open_pictures(path)
    try:
        decision = decide_film_layout(path, *decoder.size, layout_flags, photo_facts=decoder.facts)
        for warning in decision.warnings:
            _log.warning("%s", warning)
        view = ViewState(fov=fov)
        view.set_home(*start_pose(decision.layout, start))
        item = decoder.wait_picture(at)
        own_display = display is None
        display = display or OffscreenDisplay(size)
        try:
            renderer = SphereRenderer()
            renderer.layout = decision.layout
            if level:
                renderer.picture_turn = level_turn(path, wait=True)
            try:
                renderer.upload(item)
            except PictureTooLarge as exc:
                item = None
                renderer.close()
                raise exc.for_film(path_text(path)) from None
            shown_at = item.pts
            item = None  # released before the decoder is freed
            if overview is not None:
                from vrplayer.creator.overview import draw_overview

                draw_overview(renderer, view, (0, 0, *size), overview, eye)
            else:
                renderer.draw(view, (0, 0, *size), eye)
            cards = [card for overlay in overlays for card in overlay.cards_at(path, shown_at)]
            if cards:
                _draw_cards(cards, view, size, eye)
            display.present()
            picture = display.read_pixels()
            renderer.close()
            return picture, view
        finally:
            if own_display:
                display.close()
    finally:
        decoder.close()


def _draw_cards(cards, view, size, eye: str) -> None:
    from vrplayer.render.overlay import OverlayRenderer

    overlay = OverlayRenderer()
    try:
        overlay.draw_window(cards, view, (0, 0, *size), eye)
    finally:
        overlay.close()


def write_png(picture: np.ndarray, path: str) -> None:
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height = picture.shape[1], picture.shape[0]
    codec.pix_fmt = "rgb24"
    packets = codec.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24"))
    packets += codec.encode(None)
    try:
        with open(path, "wb") as handle:
            for packet in packets:
                handle.write(bytes(packet))
    except OSError as exc:
        raise PlayerError(f"cannot write {path_text(path)} ({exc.strerror}); check the folder exists and is writable") from None


def read_png(path: str) -> np.ndarray:
    with av.open(path) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")
