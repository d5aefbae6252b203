"""Media: open and probe a film, decode its video and audio on worker threads."""
