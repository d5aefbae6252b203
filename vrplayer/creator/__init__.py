"""The creator's desk: what a filmmaker checks a VR cut with before it goes to a festival — the timeline and
shuttle, two cuts compared, the whole picture with a headset's view on it, the opening view and the layout written
into the file, and a pre-flight check per headset. Its doors into the player are small: the desktop's keys and
overlays, the player's events and clock."""
