from vrplayer.cli import main

raise SystemExit(main())
