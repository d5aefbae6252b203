"""Festival kiosk mode's building blocks: the programme file, the staff control server and the session log."""
