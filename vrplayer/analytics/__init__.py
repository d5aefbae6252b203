"""What the audience looked at: head traces recorded at every screening (or imported from research datasets),
turned into heat-maps on the sphere and attention figures, shown over the film.

  trace.py      the head-trace format (JSON lines: a header naming the convention and the film, then samples)
  recorder.py   records a trace per viewing, listening to the player's events
  importers.py  our traces, the Salient360! raw head/gaze CSV, a generic CSV of time + angles or a quaternion
  maps.py       the maths, pure numpy: head-direction and viewport maps, figures, CC / KLD, regions
  pictures.py   maps as pictures: colours, blended over the film's overview, PNG and MP4
  command.py    `vrplayer heatmap`
  desk.py       the heat-map over the film in the player (key H, `play --heatmap`)
"""
