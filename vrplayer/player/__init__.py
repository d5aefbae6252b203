"""The player: wires media → sync → render → display, with audio beside it, and plays a playlist.

  options.py        PlayOptions (the command line's) and Film (one film's request)
  playback.py       one film: decoders, sound, the clock handed in, the frame scheduler
  session.py        Player: what lives across films, the playlist, and the doors for what is built around it
  desktop_loop.py   the loop of a window or an offscreen display
  headset_loop.py   the loop of an OpenXR headset, paced by its runtime
  commands.py       keys and remote commands become actions
  presence.py       a headset going on and off, and fades
  events.py         what a playback tells the world (the timing log, the kiosk's session log listen)
  timing_log.py     --timing-log, one listener of the events
  info_line.py      the info line, the first overlay
"""

from vrplayer.player.options import Film, PlayOptions
from vrplayer.player.playback import Playback
from vrplayer.player.session import Player

__all__ = ["Film", "PlayOptions", "Playback", "Player"]
