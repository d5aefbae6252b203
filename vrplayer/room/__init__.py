"""A screening room: many seats (players) play one film together, through an MQTT broker, steered by a conductor.

  messages.py         what the topics carry (cues, clock questions, statuses), read strictly
  clock_sync.py       a seat's estimate of the conductor's clock (four timestamps, least round trip of 8)
  room_clock.py       the room's clock handed to a seat's film (the player's `clock_for` door)
  seat_sound.py       a seat's sound kept on the room's clock (started on its sample, ±0.5 % rate)
  link.py             the broker (paho-mqtt): addresses, credentials, TLS, topics
  seat.py             a seat: the player's doors (clock, on_tick, remote, events)
  conductor.py        the conductor: cues, the clock's answers, the seats' statuses
  conductor_page.py   the operator's page
  kiosk_seat.py       a kiosk as a seat (`vrplayer kiosk PROGRAMME --room URL`)
  seat_command.py, conductor_command.py   `vrplayer seat`, `vrplayer conductor`
"""
