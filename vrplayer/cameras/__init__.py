"""Files straight from 360 cameras, as they come off the card: what each camera's file is (its facts, in
`facts`), recognised from the file itself and handed to the player through media/camera.py's door.

- `facts`: every fact about every camera's files, in one place, with where it comes from;
- `gopro`: the GoPro MAX `.360`: two HEVC tracks that are one equi-angular cubemap, its ambisonic PCM, and a
  long take's chapters played as one film;
- `insta360`: the `.insv`, one file or two, its trailer read, drawn with a documented default lens model;
- `canon`: the RF 5.2 mm dual fisheye's VR180 pair, eyes swapped as the camera records them;
- `camm`: a VR180 camera's motion track, for a level horizon;
- `apple`: Apple spatial video (MV-HEVC): both views, each to its eye, where FFmpeg decodes them; else its base
  layer as a flat film.

Importing the package adds its recognisers (the command line does, so every command knows camera files).
"""

from vrplayer.cameras import apple, camm, canon, gopro, insta360
from vrplayer.media.camera import add_chapter_finder, add_recogniser

add_recogniser(gopro.recognise)
add_recogniser(insta360.recognise)
add_recogniser(canon.recognise)
add_recogniser(apple.recognise)
add_recogniser(camm.recognise)  # (last: only a level horizon, for any other film with a camm track)
add_chapter_finder(gopro.chapters)
