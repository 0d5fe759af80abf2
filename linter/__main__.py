"""``python -m ecrlint``."""

from ecrlint.cli import main

raise SystemExit(main())
