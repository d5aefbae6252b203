"""Text in every script (engine.py, fonts.py) and the subtitles drawn with it (subtitles.py: tracks and cues;
overlay.py: the player's door, a card in view)."""
