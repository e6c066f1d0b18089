"""The two exit statuses archid uses that :mod:`os` does not name (``os.EX_*``
covers the rest: ``EX_USAGE``, ``EX_CONFIG``, ``EX_DATAERR``, …)."""

from __future__ import annotations

import signal
from typing import Final

#: the command did not do what was asked (a failed sync, a refused request)
FAILURE: Final = 1
#: stopped by Ctrl-C, as a shell reports a process ended by SIGINT
INTERRUPTED: Final = 128 + signal.SIGINT
