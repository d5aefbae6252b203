"""The headset's loop: the OpenXR runtime paces it (one turn per headset frame, never waiting on the decoder); each
turn shows the newest frame due when this frame reaches the eyes, by the film's clock, and draws each eye (or
hands the film to the compositor as an equirect layer), with the overlays; the operator's keys come from the
mirror window."""

from __future__ import annotations

import time

from vrplayer import controls, log
from vrplayer.render import placement
from vrplayer.view import ViewState

_log = log.get("player")

EQUIRECT_LAYER_MAX = 4096  # widest equirect layer handed over (runtimes limit swapchain sizes; 4096 is widely accepted)


def run(player, playback, film):
    """Play `film` in the headset until an outcome (see Player.play_film)."""
    headset = player.display
    player.equirect_size = equirect_layer_size(player, playback)
    while True:
        if film.attract and headset.headset_on:
            return "viewer"  # someone has the headset on: the attract film gives way
        for event in headset.poll_events():
            if event.kind == "close":
                return "headset-lost" if event.name == "lost" else "quit"
            if event.kind == "presence":
                outcome = player.presence.changed(playback, film, event.name == "on")
                if outcome is not None:
                    return outcome
        outcome = operator_input(player, playback, film)
        if outcome is not None:
            return outcome
        outcome, _ = player.commands.take_remote(playback, film)
        if outcome is not None:
            return outcome
        player.presence.step_fade(playback)
        frame = headset.wait_frame()
        if frame is None:
            time.sleep(0.01)  # the session is not running (yet, or any more): its events will say
        else:
            shown_at = headset.monotonic_time(frame.display_time) or time.monotonic() + frame.display_period * 1e-9
            picked = playback.scheduler.pick(playback.clock.now() + max(0.0, shown_at - time.monotonic())) if playback.clock.started else None
            if picked is not None:
                player.show(picked)
            cards = ()
            if player.equirect_size is not None:
                headset.render_equirect(player.renderer.draw_picture, player.equirect_size)
            else:
                cards = player.overlay_cards()
                render_eyes(player, cards, player.renderer.draw_rays)
            if picked is not None:
                player.picture_shown(shown_at, cards)
            pose = headset.head_pose
            player.head_moved(pose.yaw, pose.pitch, pose.roll, pose.monotonic or time.monotonic())
            if playback.spatial is not None:
                playback.spatial.set_head_matrix(pose.rotation)  # recentering included: sound and picture agree
            if headset.mirror is not None and headset.mirror.show(playback.current, player.renderer.layout, pose.rotation):
                headset.make_current()
        outcome = player.end_of_turn(playback, film)
        if outcome is not None:
            return outcome


def render_eyes(player, cards, draw_scene) -> None:
    """Finish the headset frame: each eye gets `draw_scene(rotation, tan_bounds, viewport, eye)` and then the
    cards, in-view ones laid out on one frame straight ahead of the head, so both eyes see them in one place, at one
    depth (placement.IN_VIEW_DEPTH) from the eyes' own positions."""
    headset = player.display
    head = {}

    def draw_eye(eye: int, rotation, tan_bounds, viewport) -> None:
        draw_scene(rotation, tan_bounds, viewport, "left" if eye == 0 else "right")
        if not cards:
            return
        if not head:  # the head at this frame's display time, located with the eyes
            head["rotation"] = headset.head_pose.rotation
            head["frame"] = placement.headset_frame(tan_bounds, viewport)
        offsets = headset.eye_offsets
        player.overlay.draw(cards, rotation, tan_bounds, viewport, head["frame"], head["rotation"],
                            offsets[eye] if eye < len(offsets) else None)

    headset.render_views(draw_eye)


def equirect_layer_size(player, playback):
    """The size of the equirect layer to hand the headset this film in, or None to draw each eye: the layer takes
    one whole 360° picture (not a crop, not a stereo pair) and needs the runtime's support."""
    if player.options.xr_layer != "equirect":
        return None
    layout = playback.layout.layout
    supported = player.display.equirect_supported
    usable = (layout.projection == "equirectangular" and layout.stereo == "mono" and supported
              and not (layout.crop_left or layout.crop_top or layout.crop_right or layout.crop_bottom))
    if not usable:
        _log.info("%s: drawn for each eye (an equirect layer takes only a whole mono 360° picture%s)", playback.path,
                  "" if supported else ", and this runtime offers none")
        return None
    width, height = playback.layout.width, playback.layout.height
    scale = min(1.0, EQUIRECT_LAYER_MAX / width)
    return (round(width * scale), round(height * scale))


def operator_input(player, playback, film):
    """Keys in the headset mirror window: the operator's (pause, seek, recenter, mute, quit)."""
    mirror = player.display.mirror
    if mirror is None:
        return None
    for event in mirror.poll_events():
        if film.attract and event.kind in ("key", "click"):
            return "viewer"
        if event.kind == "key" and event.name == "r":
            player.recenter()
            continue
        command = controls.apply(event, ViewState(), 1)  # the head, not the keys, turns the view
        if command is not None and player.commands.allowed(command, event.kind == "close"):
            if (ended := player.commands.apply(playback, command)) is not None:
                return ended
    return None
