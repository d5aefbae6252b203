"""`vrplayer compare --display xr`: the two cuts in a headset. The runtime paces the loop (one turn per headset
frame); each turn picks both cuts' frames due when this frame reaches the eyes, by A's clock, and draws the
comparison into each eye (the same composition as in a window: a wipe or a split is of each eye's own view). Most
editors toggle: the controller's select button (display/xr_input.py) and Tab on the mirror window flip A/B at
the same instant, into toggle; the mirror window's other keys are the window's (1-4 the modes, space, ← / →,
`,` / `.`, M, I, H, R to recenter, Q). The mirror shows the cut heard (the one on show in toggle) as the viewer
sees it. The head, not the keys, turns the view.
"""

from __future__ import annotations

import time

from vrplayer import log
from vrplayer.creator.compare_loop import CompareLoop
from vrplayer.render import placement
from vrplayer.render.overlay import TextCard
from vrplayer.render.placement import InView

_log = log.get("compare")


class HeadsetCompareLoop(CompareLoop):
    def run(self) -> int:
        pair, headset = self.pair, self.display
        for renderer in self.drawing.renderers:
            renderer.linear_output = getattr(headset, "linear_swapchain", False)
        deadline = None if self.options.duration is None else time.monotonic() + self.options.duration
        pair.goto(min(self.options.at, max(0.0, pair.duration - 0.001)), paused=False)
        try:
            while True:
                for event in headset.poll_events():
                    if event.kind == "close":
                        return 0
                    if event.kind == "button" and event.name == "select":
                        self._flip("the controller")
                mirror = headset.mirror
                for event in mirror.poll_events() if mirror is not None else ():
                    if event.kind == "key" and event.name == "tab":
                        self._flip("the mirror window")
                    elif event.kind == "key" and event.name == "r":
                        headset.recenter()
                    elif event.kind not in ("move", "drag", "click", "release", "scroll") and self._apply(event) == "quit":
                        return 0
                frame = headset.wait_frame()
                if frame is None:
                    time.sleep(0.01)  # the session is not running (yet, or any more): its events will say
                else:
                    shown_at = headset.monotonic_time(frame.display_time) or time.monotonic() + frame.display_period * 1e-9
                    if not pair.paused and pair.started:
                        pair.pick(pair.now() + max(0.0, shown_at - time.monotonic()))
                    self._render_eyes(shown_at)
                if self._end_of_turn(deadline):
                    return 0
        finally:
            if self._timing is not None:
                self._timing.close()

    def _flip(self, source: str) -> None:
        """Toggle A/B now (into toggle, from the cut on show or heard)."""
        shown = 1 - self.composition.shown if self.composition.mode == "toggle" else 1 - self._sound_cut()
        self._set(mode="toggle", shown=shown)
        _log.info("A/B flipped from %s: %s on show", source, "AB"[shown])

    def _render_eyes(self, shown_at: float) -> None:
        from vrplayer.creator.compare_view import cut_label, label_texts

        pair, headset, drawing = self.pair, self.display, self.drawing
        self.sound.heard = self._sound_cut()
        pose = headset.head_pose
        for cut in pair.cuts:
            if cut.playback.spatial is not None:
                cut.playback.spatial.set_head_matrix(pose.rotation)  # the sound turns with the head
        t = pair.now() if pair.paused else pair.picked_at
        frames = [cut.shown for cut in pair.cuts]
        cards = self._audience_cards()
        label = None
        if self.labels:
            texts = tuple(cut_label(cut.name, cut.moment(t), cut.shown is not None, cut.over) for cut in pair.cuts)
            label = [TextCard("   ".join(label_texts(self.composition, texts)), InView("bottom"))]
        head = {}

        def draw_eye(eye: int, rotation, tan_bounds, viewport) -> None:
            drawing.draw_view(frames, rotation, tan_bounds, viewport, self.composition, "left" if eye == 0 else "right",
                              cards)
            if label:  # laid out straight ahead of the head, in one place for both eyes
                if not head:
                    head["rotation"], head["frame"] = pose.rotation, placement.headset_frame(tan_bounds, viewport)
                drawing.overlay.draw(label, rotation, tan_bounds, viewport, head["frame"], head["rotation"])

        headset.render_views(draw_eye)
        self._log_picture(t, shown_at)
        if headset.mirror is not None and headset.mirror.show(frames[self.sound.heard], drawing.renderers[self.sound.heard].layout, pose.rotation):
            headset.make_current()
