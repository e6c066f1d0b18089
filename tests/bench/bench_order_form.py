"""The order-form flow through the real control socket: session open → fresh customers committed.

Run: ``.venv/bin/python -m tests.bench.bench_order_form [--scale 0.2] [--rounds 10]
[--time-scale 10] [--profiles fast,real]``

What the app's backend does when an agent opens the order form, timed end
to end against a real ``archid run`` process and the simulated portal:
a few customers change in the simulator, then ``session.open`` with
``wait`` over the Unix socket returns once the session's recent customer
sync has committed the newest customers (its first commit: the agent's
first page of the grid; the 200 follow); then ``session.close``. A warm-up sync (not counted)
starts the browser and logs in first, as a daemon that has been running
would have done. The baseline, in the same run and on the same daemon: a
plain full customers sync (``sync`` with ``wait``) after the same number of
changes.

All of it runs once per ``--profiles`` entry, each with a simulator,
daemon and database of its own built from the same seed: ``fast`` (the
quick test simulator) and ``real`` (the real portal's times from
:mod:`archid.sim.timing` divided by ``--time-scale`` F; the daemon's
``[portal]`` and ``[schedule.*]`` timeouts get the room that needs, see
:mod:`tests.bench.profiles`). Printed: each round's seconds, the profiles
side by side, with the real ones brought back to the portal's full speed
(an *estimate*: measured + (F - 1) × the simulator's waits during it);
then per profile the median and maximum of both, their ratio, and the
session's against the 5 s target (aim: 2 s), a target for the real portal,
so the full-speed estimate is the figure to hold against it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from archid.control import Client
from archid.records import ExportType
from archid.sim.cache import ExportCache, default_cache_dir
from archid.sim.dataset import Dataset
from archid.sim.font import load_font
from archid.sim.portal import Portal
from archid.sim.server import SimServer
from tests.bench.profiles import (
    FULL_SPEED,
    Profile,
    Waits,
    add_arguments,
    describe_timeouts,
    profiles,
    real_config,
)
from tests.daemon_process import quick_sim_options, start_daemon, write_config

#: the order-form target: session open to fresh customers committed, seconds
TARGET = 5.0
AIM = 2.0


@dataclass
class Run:
    """One profile's rounds: session and full-sync seconds, measured and at full speed."""

    profile: Profile
    customers: int = 0
    warmup: float = 0.0
    took: list[float] = field(default_factory=list)
    full: list[float] = field(default_factory=list)
    took_full: list[float] = field(default_factory=list)
    full_full: list[float] = field(default_factory=list)


def measure(profile: Profile, args: argparse.Namespace) -> Run:
    run = Run(profile)
    options = profile.options(quick_sim_options())
    portal = Portal(dataset=Dataset.generate(1, args.scale), options=options, seed=1)
    waits = Waits(portal)
    server = SimServer(portal, ExportCache(default_cache_dir(), load_font(None)))
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="archid-bench-"))
    socket = folder / "control.sock"
    starter = start_daemon(folder)
    start = next(starter)
    label = profile.label
    try:
        config = write_config(folder, server.url, [], extra=f'[control]\nsocket = "{socket}"\n')
        timeouts = real_config(config, profile)
        print(profile.describe(), flush=True)
        if timeouts:
            print(f"  daemon timeouts: {describe_timeouts(timeouts)}", flush=True)
        daemon = start(config)
        daemon.receive(lambda m: m == "READY=1", 60, "READY=1")
        daemon.wait_until(socket.exists, 10, "the control socket")
        with Client(socket, timeout=120) as client:
            warm = client.sync("customers", wait=True)
            assert warm["outcome"] == "ok", warm
            run.customers = portal.dataset.count(ExportType.CUSTOMERS)
            run.warmup = warm["seconds"]
            print(
                f"  {label}: customers: {run.customers} at scale {args.scale}; "
                f"warm-up sync {warm['seconds']:.2f} s",
                flush=True,
            )
            for round_ in range(args.rounds):
                with portal.lock:
                    portal.dataset.mutate(ExportType.CUSTOMERS, 1000 + round_, args.changes)
                waited = waits.total
                started = time.monotonic()
                plain = client.sync("customers", wait=True)
                run.full.append(time.monotonic() - started)
                run.full_full.append(profile.full_speed(run.full[-1], waits.total - waited))
                assert plain["outcome"] == "ok", plain
                with portal.lock:
                    portal.dataset.mutate(ExportType.CUSTOMERS, round_, args.changes)
                waited = waits.total
                started = time.monotonic()
                opened = client.session_open("bench", wait=True)
                run.took.append(time.monotonic() - started)
                run.took_full.append(profile.full_speed(run.took[-1], waits.total - waited))
                client.session_close(opened["id"])
                sync = opened["sync"]
                counts = sync["counts"]
                print(
                    f"  {label}: round {round_ + 1:>2}: {run.took[-1]:5.2f} s (full sync "
                    f"{run.full[-1]:5.2f} s)  {sync['outcome']}  {counts.get('inserted', 0)} "
                    f"inserted, {counts.get('updated', 0)} updated",
                    flush=True,
                )
        daemon.stop()
    finally:
        for _ in starter:
            pass
        server.close()
        shutil.rmtree(folder, ignore_errors=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--changes", type=int, default=3, help="customers changed per round")
    add_arguments(parser)
    args = parser.parse_args()
    runs = [measure(profile, args) for profile in profiles(parser, args)]
    report(runs)


def report(runs: list[Run]) -> None:
    groups = [(run.profile.label, run.took, run.full) for run in runs]
    groups += [(FULL_SPEED, run.took_full, run.full_full) for run in runs if run.profile.real]
    cells = f"{'session s':>9} {'full sync s':>11}"
    print("\nsession open → fresh customers committed, and a full customers sync, seconds")
    print(f"{'':>5} " + " ".join(f"│ {name:<{len(cells)}}" for name, _, _ in groups))
    print(f"{'round':>5} " + " ".join(f"│ {cells}" for _ in groups))
    for round_ in range(len(runs[0].took)):
        print(
            f"{round_ + 1:>5} "
            + " ".join(f"│ {took[round_]:>9.2f} {full[round_]:>11.2f}" for _, took, full in groups)
        )
    for name, took, full in groups:
        median, worst = statistics.median(took), max(took)
        verdict = "meets" if worst < TARGET else "MISSES"
        print(
            f"{name}: baseline, a full customers sync: median {statistics.median(full):.2f} s,"
            f" max {max(full):.2f} s; session / full: {median / statistics.median(full):.2f}x\n"
            f"{name}: session open → fresh customers committed: median {median:.2f} s,"
            f" max {worst:.2f} s; target {TARGET:g} s ({verdict}), aim {AIM:g} s"
            f" ({'met' if median < AIM else 'not met'} by the median)"
        )


if __name__ == "__main__":
    main()
