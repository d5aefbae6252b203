"""`vrplayer conductor`: run a screening room (see room/conductor.py)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    from vrplayer.cli import _non_negative, add_token_options

    conductor = sub.add_parser("conductor", help="run a screening room: every seat plays the films together",
                               description="Play films on every seat of a screening room together, through its MQTT broker, "
                               "with an operator's page and JSON API for the whole room (see README: A screening room).")
    conductor.add_argument("films", nargs="+", metavar="FILM|PROGRAMME", help="films in order, or one kiosk programme file")
    conductor.add_argument("--room", required=True, metavar="URL", help="mqtt://[USER@]HOST[:PORT]/ROOM, or mqtts:// for TLS")
    conductor.add_argument("--ca", metavar="FILE", help="with mqtts://: the certificate authority that signed the broker's certificate")
    conductor.add_argument("--control", metavar="HOST:PORT", help="serve the operator's page and JSON API there (beyond loopback a token is required)")
    add_token_options(conductor, "the operator page's token")
    conductor.add_argument("--start-delay", type=_non_negative, default=2.0, metavar="S",
                           help="seconds between a film being cued and its start, for every seat to open it (default 2)")
    conductor.add_argument("--lead", type=_non_negative, default=1.0, metavar="S",
                           help="seconds between a command (play, pause, seek) and the instant it takes effect (default 1)")
    conductor.add_argument("--loop", action="store_true", help="start the programme again after the last film (default: exit)")


def run(args: argparse.Namespace) -> int:
    from vrplayer.cli import staff_token
    from vrplayer.kiosk.lifeline import Lifeline
    from vrplayer.room.conductor import Conductor, ConductorOptions, room_films
    from vrplayer.room.link import parse_room

    token = staff_token(args)
    address = parse_room(args.room, args.ca)
    films = room_films(args.films)
    options = ConductorOptions(lead=args.lead, start_delay=args.start_delay, loop=args.loop, control=args.control,
                               token=token)
    lifeline = Lifeline().start()
    try:
        return Conductor(address, films, options, lambda: lifeline.stop_reason).run()
    finally:
        lifeline.close()
