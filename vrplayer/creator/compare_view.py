"""The comparison's picture: each cut through its own SphereRenderer (its own layout: one cut may be equirect, the
other EAC or stereo), with one view for both — in a wipe, a split or a toggle straight into its own columns of the
picture, in the difference into a texture of its own and then the difference pass (render/compare_pass.py) — and a
small label saying which cut is where. Shared by the window, `compare -o`, the headset and the bench."""

from __future__ import annotations

from OpenGL import GL

from vrplayer import log
from vrplayer.player.options import clock_text
from vrplayer.render import placement
from vrplayer.render.compare_pass import (Composition, DifferencePass, column_bounds, columns_read, draw_wipe_line,
                                          parts_drawn, split_halves, wipe_line)
from vrplayer.render.overlay import OverlayRenderer, TextCard
from vrplayer.render.placement import InView
from vrplayer.render.projection import tan_half_fov, view_rotation
from vrplayer.render.renderer import PictureTooLarge, SphereRenderer, fill_rectangle

_log = log.get("compare")


def cut_label(name: str, moment: float, has_picture: bool, ended: bool) -> str:
    """A cut's part of the label: its letter and its own time there; "ENDED" past its end, "NOT YET" before its
    first frame."""
    if has_picture:
        return f"{name} {clock_text(max(0.0, moment))}"
    return f"{name} ENDED" if ended else f"{name} NOT YET"


def label_texts(composition: Composition, cut_labels: tuple[str, str]) -> list[str]:
    """The label of each part of the picture, left to right (see cut_label for each cut's)."""
    mode = composition.mode
    if mode == "toggle":
        return [cut_labels[composition.shown]]
    if mode == "difference":
        return [f"A-B X{composition.gain:g}  {cut_labels[0]}  {cut_labels[1]}"]
    return list(cut_labels)


def audiences_of(heatmaps) -> tuple:
    """Each cut's AudienceMaps (analytics/desk.py) from its traces, or None."""
    from vrplayer.analytics.desk import AudienceMaps

    found = tuple(AudienceMaps(paths, key=f"heat-map {name}") if paths else None for name, paths in zip("AB", heatmaps))
    for name, audience in zip("AB", found):
        if audience is not None:
            _log.info("%s: heat-map of %d traces (key H shows and hides them)", name, len(audience.traces))
    return found


def level_turns(paths, level: bool, wait: bool = False) -> tuple:
    """Each cut's level-horizon turn (media/camera.py), where asked for and its file has the camera's orientation
    (`wait`: its samples read before returning, for a single picture)."""
    from vrplayer.media.camera import level_turn

    return tuple(level_turn(path, quiet=True, wait=wait) if level else None for path in paths)


class CompareDrawing:
    def __init__(self, layouts, names: tuple[str, str], turns=(None, None)):
        """layouts: each cut's Layout (from media.probe.decide_film_layout); names: each cut's, for messages;
        turns: each cut's level-horizon turn (SphereRenderer.picture_turn), or None."""
        self.names = names
        self.renderers = (SphereRenderer(), SphereRenderer())
        for renderer, layout, turn in zip(self.renderers, layouts, turns):
            renderer.layout = layout
            renderer.picture_turn = turn
        self.difference = DifferencePass()
        self.overlay = OverlayRenderer()
        self._uploaded = [None, None]  # the frame each renderer holds

    def close(self) -> None:
        self._uploaded = [None, None]
        for renderer in self.renderers:
            renderer.close()
        self.difference.close()
        self.overlay.close()

    def draw(self, frames, view, composition: Composition, size: tuple[int, int], eye: str = "left",
             labels: list[str] | None = None, cards=((), ())) -> None:
        """Draw the comparison of `frames` (each cut's VideoFrame, or None for black) seen from `view` into the
        viewport (0, 0, *size) of the bound framebuffer; `labels` (see label_texts) over it, when given. `cards`:
        each cut's overlay cards (its audience's heat-map), drawn into its own picture, so that each part of a wipe,
        a split or a toggle shows its own cut's; none in difference, which is about the pictures."""
        width, height = size
        tx, ty = tan_half_fov(view.fov, width, height)
        rotation = view_rotation(view.yaw, view.pitch, view.roll)
        self.draw_view(frames, rotation, (-tx, tx, -ty, ty), (0, 0, width, height), composition, eye, cards)
        if labels:
            self._draw_labels(composition, labels, size)

    def draw_view(self, frames, rotation, tan_bounds, viewport, composition: Composition, eye: str = "left",
                  cards=((), ())) -> None:
        """The comparison seen by a camera with `rotation` (camera → world) and frustum `tan_bounds`, into
        `viewport` (x, y, w, h) of the bound framebuffer: a window's view, or one eye of a headset (then `eye`
        is that eye's)."""
        x0, y0, width, height = viewport
        if composition.mode == "difference":
            self.difference.prepare((width, height))
            for index, columns in enumerate(columns_read(composition, width)):
                with self.difference.targets[index].drawing():
                    self._draw_part(index, frames[index], rotation, column_bounds(tan_bounds, width, columns),
                                    (columns[0], 0, columns[1], height), composition, eye, ())
            self.difference.compose(composition.gain, viewport)
            return
        # Each cut's part straight into its columns of the framebuffer (see render/compare_pass.py).
        for index, drawn in enumerate(parts_drawn(composition, width)):
            if drawn is not None and drawn[0][1] > 0:
                columns, at = drawn
                self._draw_part(index, frames[index], rotation, column_bounds(tan_bounds, width, columns),
                                (x0 + at, y0, columns[1], height), composition, eye, cards)
        if composition.mode == "wipe":
            draw_wipe_line(composition, viewport)

    def _draw_part(self, index: int, frame, rotation, bounds, part, composition: Composition, eye: str, cards) -> None:
        """Cut `index`'s `frame` (None: black) seen through `bounds` into the rectangle `part` (x, y, w, h) of the
        bound framebuffer, with its cards; nothing of it outside `part`."""
        if frame is None:
            fill_rectangle(part, (0.0, 0.0, 0.0))
            return
        renderer = self.renderers[index]
        if frame is not self._uploaded[index]:
            try:
                renderer.upload(frame)
            except PictureTooLarge as exc:
                raise exc.for_film(self.names[index]) from None
            self._uploaded[index] = frame
        if eye == "side-by-side":
            # Both eyes of the part's view in its two halves, as the player shows them in a window: each eye its
            # whole width, its height following its half's shape.
            x, y, w, h = part
            half = w // 2
            left, right, down, up = bounds
            taller = w / max(1, half)
            for eye_name, ex, ew in (("left", x, half), ("right", x + half, w - half)):
                if ew > 0:
                    eye_bounds, eye_viewport = (left, right, down * taller, up * taller), (ex, y, ew, h)
                    renderer.draw_rays(rotation, eye_bounds, eye_viewport, eye_name)
                    self._draw_cards(cards, index, composition, rotation, eye_bounds, eye_viewport)
        else:
            renderer.draw_rays(rotation, bounds, part, eye)
            self._draw_cards(cards, index, composition, rotation, bounds, part)

    def _draw_cards(self, cards, index: int, composition: Composition, rotation, bounds, viewport) -> None:
        if cards and cards[index]:
            # Kept to the cut's own part: a card reaching past it must not fall on the other cut's pixels.
            GL.glEnable(GL.GL_SCISSOR_TEST)
            GL.glScissor(*viewport)
            self.overlay.draw(cards[index], rotation, bounds, viewport, placement.desktop_frame(bounds, viewport))
            GL.glDisable(GL.GL_SCISSOR_TEST)

    def _draw_labels(self, composition: Composition, labels: list[str], size: tuple[int, int]) -> None:
        width, height = size
        if composition.mode in ("wipe", "split") and len(labels) == 2:
            split = wipe_line(composition.wipe, width) + 1 if composition.mode == "wipe" else split_halves(width)[0]
            parts = [((0, 0, split, height), labels[0]), ((split, 0, width - split, height), labels[1])]
        else:
            parts = [((0, 0, width, height), labels[0])]
        for viewport, text in parts:
            if viewport[2] <= 0:
                continue
            tx, ty = tan_half_fov(90.0, viewport[2], viewport[3])
            bounds = (-tx, tx, -ty, ty)
            frame = placement.desktop_frame(bounds, viewport)
            # In view and on the desktop the card's rotation cancels out: any view's will do.
            self.overlay.draw([TextCard(text, InView("top-left"))], view_rotation(0.0, 0.0, 0.0), bounds, viewport, frame)
