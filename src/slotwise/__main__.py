"""``python -m slotwise``, the same as the ``slotwise`` command."""

from slotwise.cli import main

raise SystemExit(main())
