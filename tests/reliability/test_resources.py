"""Resource faults against a real daemon: a locked database, a full disk,
a file system that turns read-only under it.

Each ends the way an operator would want: the daemon says what is wrong in
one line, keeps answering systemd, loses nothing, and carries on once the
resource is back.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import apsw
import pytest

from archid.records import ExportType
from archid.sim.faults import FaultKind
from archid.sim.server import SimServer
from tests.daemon_process import (
    CUSTOMERS,
    PASSWORD,
    Daemon,
    stored,
    truth,
    write_config,
)

pytestmark = [pytest.mark.reliability, pytest.mark.browser, pytest.mark.slow]


def test_a_database_locked_by_another_writer_for_30_s_is_waited_out(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    config = write_config(tmp_path, sim.url, [CUSTOMERS])
    # The shipped retry schedule (three retries, after 5, 10 and 20 s)
    # outlasts a 30 s lock: the last retry finds the database free.
    text = config.read_text().replace(
        'retries = 1\nbase_delay = "1s"\nmax_delay = "2s"',
        'retries = 3\nbase_delay = "5s"\nmax_delay = "20s"\njitter = 0',
    )
    config.write_text(
        text.replace('path = "mirror.sqlite3"', 'path = "mirror.sqlite3"\nbusy_timeout = "1s"')
    )
    daemon = start_daemon(config)
    daemon.receive(lambda m: m == "READY=1", 30, "READY=1")
    holder = apsw.Connection(str(daemon.database))
    holder.set_busy_timeout(5000)
    holder.execute("BEGIN IMMEDIATE")
    locked = time.monotonic()
    try:
        daemon.wait_until(
            lambda: (
                "customers sync failed at apply: DatabaseBusy" in daemon.log()
                and "daemon state not saved yet (database busy" in daemon.log()
            ),
            60,
            "the apply and the state writer to find the database locked",
        )
        # Held for 30 s in all, while the daemon keeps answering systemd.
        daemon.wait_until(lambda: time.monotonic() - locked >= 30, 40, "30 s of lock")
        assert daemon.ok_runs() == set() and daemon.process.poll() is None
        assert any("WATCHDOG=1" in m for m in daemon.drained())
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    daemon.wait_until(lambda: daemon.ok_runs() == {"customers"}, 60, "the retried sync")
    assert stored(daemon.database, CUSTOMERS) == truth(sim, CUSTOMERS)
    daemon.wait_until(
        lambda: (
            ("DatabaseBusy", "apply")
            in daemon.rows(
                "SELECT error_class, error_stage FROM sync_runs WHERE outcome = 'failed'"
            )
        ),
        30,
        "the busy attempts' runs",
    )
    assert daemon.rows("SELECT count(*) FROM dead_letters") == [(0,)]
    assert "daemon state saved again" in daemon.log()
    daemon.stop()
    assert "Traceback" not in daemon.log()


def test_a_full_disk_is_said_as_such_and_the_daemon_serves_on(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    # A download slow enough to set the limit while the browser is at work.
    sim.portal.faults.arm({"kind": FaultKind.SLOW_DOWNLOAD, "type": "customers", "rate": 20_000})
    text = write_config(tmp_path, sim.url, [CUSTOMERS]).read_text()
    text = text.replace('base_delay = "1s"', 'base_delay = "4s"')
    config = tmp_path / "config.toml"
    config.write_text(text.replace('max_delay = "2s"', 'max_delay = "4s"'))
    daemon = start_daemon(config)
    daemon.receive(lambda m: m.startswith("STATUS=syncing customers (download)"), 60, "a download")
    # The daemon's own file size limit (its browser keeps its own): below the
    # write-ahead log's size, above the log file's, as a disk with no room
    # left for the database would be.
    wal = daemon.database.with_name(daemon.database.name + "-wal")
    limit = 64 * 1024
    assert wal.stat().st_size > limit > daemon.log_path.stat().st_size
    # Only the soft limit: lifting a hard one again needs a capability.
    resource.prlimit(daemon.process.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        daemon.wait_until(
            lambda: (
                "customers sync failed at apply: DiskFull: disk full while applying" in daemon.log()
                and "daemon state not saved: disk full" in daemon.log()
            ),
            90,
            "the apply and the state writer to find the disk full",
        )
        assert daemon.process.poll() is None and daemon.ok_runs() == set()
    finally:
        unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        resource.prlimit(daemon.process.pid, resource.RLIMIT_FSIZE, unlimited)

    daemon.wait_until(lambda: daemon.ok_runs() == {"customers"}, 90, "the retried sync")
    assert stored(daemon.database, CUSTOMERS) == truth(sim, CUSTOMERS)
    daemon.wait_until(
        lambda: (
            ("DiskFull", "apply")
            in daemon.rows(
                "SELECT error_class, error_stage FROM sync_runs WHERE outcome = 'failed'"
            )
        ),
        30,
        "the failed attempt's run",
    )
    daemon.wait_until(lambda: "daemon state saved again" in daemon.log(), 30, "the state saved")
    assert daemon.rows("SELECT count(*) FROM dead_letters") == [(0,)]
    daemon.stop()
    log = daemon.log()
    assert "Traceback" not in log and PASSWORD not in log
    # Every attempt is in the log, the first one too (it starts before READY=1).
    assert "customers sync started (attempt 1)" in log
    assert "customers sync started (attempt 2)" in log


@contextlib.contextmanager
def ext4_volume(size_mb: int = 64) -> Iterator[tuple[Path, str]]:
    """A fresh ext4 file system on a loop device, mounted with
    ``errors=remount-ro``: the mount point and the loop device's name."""
    scratch = Path(tempfile.mkdtemp(prefix="archid-ro-"))
    image, mount = scratch / "disk.img", scratch / "state"
    mount.mkdir()
    with image.open("wb") as file:
        file.truncate(size_mb * 2**20)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(mount)], check=True)
    try:
        source = subprocess.run(
            ["findmnt", "-no", "SOURCE", str(mount)], check=True, capture_output=True, text=True
        ).stdout.strip()
        yield mount, Path(source).name
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def remount_repaired(mount: Path) -> None:
    """What the operator does after the disk error: unmount, check, mount again."""
    source = subprocess.run(
        ["findmnt", "-no", "SOURCE", str(mount)], check=True, capture_output=True, text=True
    ).stdout.strip()
    image = subprocess.run(
        ["losetup", "-nO", "BACK-FILE", source], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["umount", str(mount)], check=True)
    # e2fsck exits 1 when it fixed something (the error the kernel recorded).
    fsck = subprocess.run(["e2fsck", "-fy", image], capture_output=True, text=True)
    assert fsck.returncode in (0, 1), fsck.stdout + fsck.stderr
    subprocess.run(["mount", "-o", "loop,errors=remount-ro", image, str(mount)], check=True)


@pytest.mark.skipif(not Path("/dev/loop-control").exists(), reason="no loop devices here")
def test_a_file_system_that_turns_read_only_is_said_as_such_and_nothing_is_lost(
    sim: SimServer, tmp_path: Path, start_daemon: Callable[..., Daemon]
) -> None:
    types = [CUSTOMERS, ExportType.ORDERS]
    with ext4_volume() as (state, device):
        config = write_config(state, sim.url, types)
        config.write_text(config.read_text().replace('every = "1h"', 'every = "4s"'))
        os.sync()  # what is not on the disk when it fails is gone after the repair
        daemon = start_daemon(config)
        daemon.wait_until(lambda: daemon.ok_runs() == {"customers", "orders"}, 90, "both synced")
        before = {t: stored(daemon.database, t) for t in types}
        runs_before = daemon.rows("SELECT count(*) FROM sync_runs")

        # A disk error: the kernel turns the file system read-only under the
        # open database, as ext4 with errors=remount-ro does.
        Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("1\n")
        sim.portal.dataset.mutate(CUSTOMERS, 11, 3)
        # A state write may meet the read-only disk first; the test waits for a sync.
        daemon.wait_until(
            lambda: any(
                "sync failed" in line and "DatabaseReadOnly" in line
                for line in daemon.log().splitlines()
            ),
            60,
            "a sync to find the disk read-only",
        )
        assert "database read-only" in daemon.log()
        daemon.drained()
        daemon.receive(lambda m: m == "WATCHDOG=1", 5, "watchdog pings while read-only")
        assert daemon.process.poll() is None
        daemon.stop()
        log = daemon.log()
        assert "Traceback" not in log
        failed = [line for line in log.splitlines() if "sync failed" in line]
        assert failed and all("DatabaseReadOnly" in line for line in failed), failed

        # Repaired and mounted again: what was committed is all there, and the
        # next start brings the mirror up to date.
        remount_repaired(state)
        assert daemon.rows("PRAGMA integrity_check") == [("ok",)]
        assert {t: stored(daemon.database, t) for t in types} == before
        assert daemon.rows("SELECT count(*) FROM sync_runs") >= runs_before
        again = start_daemon(config)
        changed = lambda: stored(again.database, CUSTOMERS) == truth(sim, CUSTOMERS)  # noqa: E731
        again.wait_until(changed, 90, "the changed customers synced after the repair")
        again.stop()
        assert again.rows("PRAGMA integrity_check") == [("ok",)]
