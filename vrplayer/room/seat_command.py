"""`vrplayer seat`: join a screening room and play what its conductor says (see room/seat.py)."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub) -> None:
    from vrplayer.cli import player_arguments

    seat = sub.add_parser("seat", help="join a screening room: play what its conductor says, in step with every seat",
                          description="Join a screening room through its MQTT broker and play what the room's conductor "
                          "plays, started, paused and sought at the same instant as every other seat. Films are found by "
                          "name in --library. The password comes from VRPLAYER_MQTT_PASSWORD (see README: A screening room).")
    seat.add_argument("--room", required=True, metavar="URL", help="mqtt://[USER@]HOST[:PORT]/ROOM, or mqtts:// for TLS")
    seat.add_argument("--name", metavar="NAME", help="this seat's name in the room (default: the host's name)")
    seat.add_argument("--library", default=".", metavar="DIR", help="the folder the room's films are in (default: the current folder)")
    seat.add_argument("--ca", metavar="FILE", help="with mqtts://: the certificate authority that signed the broker's certificate")
    seat.add_argument("--duration", type=float, metavar="S", help="leave the room after S seconds (for scripts and tests)")
    player_arguments(seat)


def run(args: argparse.Namespace) -> int:
    from vrplayer.cli import layout_flags, open_player
    from vrplayer.errors import PlayerError
    from vrplayer.kiosk.lifeline import Lifeline
    from vrplayer.room.link import parse_room
    from vrplayer.room.seat import Seat, SeatOptions, default_name

    address = parse_room(args.room, args.ca)
    # The clock questions are timed on the broker client's thread: while the player's thread holds the interpreter,
    # that thread waits for its turn, by default up to 5 ms, which would show as a false offset. 0.5 ms keeps it small.
    sys.setswitchinterval(0.0005)
    if not os.path.isdir(args.library):
        raise PlayerError(f"the library folder {args.library} does not exist; pass --library DIR with the room's films")
    lifeline = Lifeline().start()
    try:
        options = SeatOptions(args.name or default_name(), args.library, layout_flags(args))
        return open_player(args, f"vrplayer seat {options.name}",
                           lambda player: Seat(player, address, options, lambda: lifeline.stop_reason).run())
    finally:
        lifeline.close()
