"""The info line (key I, --info): position, state, dropped frames, field of view, eyes and sound, top left. The
first overlay: a text card in view."""

from __future__ import annotations

from vrplayer.player.options import clock_text
from vrplayer.render.overlay import TextCard


class InfoLine:
    def __init__(self, player):
        self._player = player

    def __call__(self, playback) -> list[TextCard]:
        player = self._player
        if not player.options.show_info or playback is None:
            return []
        return [TextCard(self.text(playback))]

    def text(self, playback) -> str:
        player = self._player
        now = playback.clock.now()
        state = "PAUSED" if playback.clock.paused else "PLAYING"
        total = clock_text(playback.duration) if playback.duration else "?"
        dropped = playback.scheduler.dropped
        sound = "MUTED" if player.muted else ("" if playback.mixer else "NO SOUND")
        eyes = ""
        if playback.layout.layout.stereo != "mono" or player.options.eye != "left":
            eyes = player.options.eye.upper().replace("-", " ") + (" SWAPPED" if player.renderer.swap_eyes else "")
        network = ""
        if playback.network is not None:  # a film on a web server: what is buffered, how fast it arrives
            ahead = playback.network.seconds_ahead_of(playback.position)
            buffered = "ALL" if ahead == float("inf") else f"{ahead:.1f} S"
            network = f"  BUFFER {buffered} {playback.network.throughput() / 1e6:.1f} MB/S"
            state = "BUFFERING" if player.buffering.active else state
        return (f"{clock_text(now)} / {total}  {state}  DROPPED {dropped}  FOV {player.view.fov:.0f}  {eyes}  {sound}"
                f"{network}").rstrip()
