"""``archid ctl``: the admin's command line over the daemon's control socket.

One subcommand per control method (``docs/control.md``), each one call
through :class:`archid.control.Client`. By default the answer is shown for
a person: aligned tables, times relative to now ("3 min ago"), rows in the
order that matters (history newest first, the queue in the order it will
be served, next syncs soonest first). ``--json`` prints the method's result
as the daemon sent it, one JSON document (``watch``: one event per line),
for scripts.

``watch`` and ``sync --wait`` follow the daemon's events: on a terminal a
live bar for the running stage (the stage's own rows or pages when the
event carries them, else the sync's place among its stages) and a line per
finished or failed sync; elsewhere (a pipe, a log) one line per stage
change and per finished sync.

Exit status (``sysexits.h``): 0 done; 1 the daemon refused the request or
the sync did not succeed; 64 bad arguments; 69 no daemon listens on the
socket, or it closed the connection (a ``watch`` ends so); 76 the daemon's
answer broke the protocol (or never came); 77 this user may not connect or
call the method; 78 the configuration file that names the socket cannot be
loaded.
"""

from archid.ctl.commands import add_arguments, run_ctl

__all__ = ["add_arguments", "run_ctl"]
