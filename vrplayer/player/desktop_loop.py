"""The loop of a desktop window (or an offscreen display): wait for the next picture's moment or an input, carry
out keys and remote commands, pick the frame due by the film's clock, draw the view with its overlays, present.
The picture is drawn again only when something in it changed: a frame, the view, an overlay's cards, a fade."""

from __future__ import annotations

import time

from vrplayer import controls


# A display no vsync paces holds a picture drawn ahead until its moment (see render): it can be drawn this much
# earlier than drawing usually takes, so that one drawn slowly (a busy machine) is still on time.
UNPACED_MARGIN = 0.004


def run(player, playback, film):
    """Play `film` until an outcome (see Player.play_film)."""
    display = player.display
    margin = UNPACED_MARGIN if getattr(display, "unpaced", False) else 0.0
    dirty = True
    drawn = None  # what the picture on screen shows: (the view, the cards)
    while True:
        # Sleep (in the display's event wait) until the next picture must start drawing to be on time.
        due = playback.scheduler.next_due()
        if dirty:
            wait = 0.0
        elif due is None or playback.clock.paused:
            wait = 0.02
        else:
            wait = min(0.02, max(0.0, due - (playback.clock.now() + player.present_cost + margin)))
        for event in display.poll_events(wait):
            if film.attract and event.kind in ("key", "click"):
                return "viewer"
            if any(take(event, playback) for take in player.inputs):
                dirty = True
                continue
            if event.kind in ("move", "release"):
                continue  # only the rooms' inputs use the pointer's own moves
            command = controls.apply(event, player.view, display.framebuffer_size()[0])
            dirty = True
            if command is not None and player.commands.allowed(command, event.kind == "close"):
                if (ended := player.commands.apply(playback, command)) is not None:
                    return ended
        outcome, acted = player.commands.take_remote(playback, film)
        if outcome is not None:
            return outcome
        dirty = dirty or acted
        # Pick by when the picture will be on screen: drawing and presenting take a few ms.
        now = playback.clock.now()
        frame = playback.scheduler.pick(now + player.present_cost + margin) if playback.clock.started else None
        moment = None  # when (time.monotonic()) the picked frame's time comes
        if frame is not None:
            player.show(frame)
            dirty = True
            moment = time.monotonic() + (frame.pts - now) / max(playback.clock.speed, 0.01)
        if player.presence.step_fade(playback):
            dirty = True
        if player.options.head_path is not None:  # a scripted head turns the view (the mixer turns the sound)
            player.view.yaw, player.view.pitch, player.view.roll = player.options.head_path(playback.clock.now())
        view = player.view
        cards = player.overlay_cards()
        showing = ((view.yaw, view.pitch, view.roll, view.fov), cards)
        if dirty or showing != drawn:
            render(player, cards, moment)
            dirty, drawn = False, showing
        else:
            player.head_moved(player.view.yaw, player.view.pitch, player.view.roll, time.monotonic())
        outcome = player.end_of_turn(playback, film)
        if outcome is not None:
            return outcome


def render(player, cards, moment: float | None = None) -> None:
    """Draw the view and the overlays' cards, present it, and say so. `moment`: when a new frame's time comes; on a
    display no vsync paces (`unpaced`), the picture counts as shown once presented, so it waits for its moment."""
    started = time.monotonic()
    view = player.view
    player.head_moved(view.yaw, view.pitch, view.roll, started)
    playback = player.playback
    if playback is not None and playback.spatial is not None and player.options.head_path is None:
        playback.spatial.set_view(view.yaw, view.pitch, view.roll)  # the sound turns too
    width, height = player.display.framebuffer_size()
    viewport = (0, 0, width, height)
    drawn = player.view_drawer(viewport, cards) if player.view_drawer is not None else None
    if drawn is not None:
        cards = drawn  # the drawer's picture, and the cards it leaves for the view
    else:
        player.renderer.draw(view, viewport, player.options.eye)
    draw_overlays(player, cards, viewport)
    player.display.present()
    shown = time.monotonic()
    player.present_cost += 0.1 * (min(shown - started, 0.1) - player.present_cost)
    if moment is not None and getattr(player.display, "unpaced", False) and 0 < moment - shown < 0.1:
        time.sleep(moment - shown)
        shown = time.monotonic()
    player.picture_shown(shown, cards)


def draw_overlays(player, cards, viewport) -> None:
    """The cards over the view in `viewport` (desktop and offscreen: the window's view is the viewer's frame; with
    both eyes side by side, each half is an eye's)."""
    if cards:
        player.overlay.draw_window(cards, player.view, viewport, player.options.eye)
