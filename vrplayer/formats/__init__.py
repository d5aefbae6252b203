"""What passes between the stages, described where both sides can see it: pixel formats and colour spaces (media
decodes them, the renderer draws them) and sound formats (media reads them from the file, audio renders them)."""
