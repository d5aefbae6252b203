"""A kiosk as a seat of a screening room (`vrplayer kiosk PROGRAMME --room URL`): the kiosk keeps what makes it a
kiosk — its supervisor and heartbeat, its session log and head traces, its status page — and plays what the room's
conductor says, when it says, instead of its own programme's order. It plays only the films of its own programme
(by file name); its staff commands are refused with a line saying the room steers it."""

from __future__ import annotations

from vrplayer.room.link import RoomAddress
from vrplayer.room.seat import Seat, SeatOptions


def run_as_seat(kiosk, room: RoomAddress, name: str) -> int:
    items = {item.file.name: item for item in kiosk.programme.items if item.url is None}
    seat = Seat(kiosk.player, room, SeatOptions(name, str(kiosk.programme.path.parent), {},
                                                {film: str(item.file) for film, item in items.items()}),
                lambda: kiosk.lifeline.stop_reason)

    def on_film(film: str | None) -> None:
        """The session log's film_started / film_ended name the programme's item the room plays."""
        if film is not None:
            kiosk.item, kiosk.state = items[film], "playing"
        else:
            kiosk.state = "seat"
            kiosk.films_played += 1

    seat.on_film = on_film
    kiosk.state = "seat"
    kiosk.session.event("room_joined", room=str(room), seat=seat.name)
    status = seat.run()
    kiosk.why_stopped(kiosk.lifeline.stop_reason or "left the room")
    return status
