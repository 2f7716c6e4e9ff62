"""Opening the SQLite files that the web process alone reads and writes: the run store and the
class store of the embedded backend (the workers and the CLI never open them while it serves).

In WAL mode SQLite keeps the log's index in a `-shm` file that each connection maps into its
memory to share it with other processes. When that file shrinks under the mapping (truncated,
or its blocks lost with the disk full), the next touch of a page past its end is a SIGBUS: the
whole web process dies, every reader's page with it, not one request. Set before the first
access, `locking_mode=EXCLUSIVE` makes SQLite keep that index in the process's own heap and make
no `-shm` file at all (sqlite.org/wal.html, "Use of WAL Without Shared-Memory"): the log and its
speed stay, and a fault on the disk is an error SQLite reports, which the stores already handle.

The price: while the server has a file open, no other process can read it (it gets "database is
locked"). Nothing needs to: backups stop the server first (README, "Where data lives"), and a
second embedded server pointed at the same data folder is refused instead of sharing it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class FileInUse(sqlite3.OperationalError):
    """Another process (or connection) holds the file."""


def open_private(path: Path, wait: float = 5.0) -> sqlite3.Connection:
    """A connection in WAL mode whose index lives in this process's memory (no `-shm` mapping),
    for use from any thread under the caller's own lock; transactions are the caller's (BEGIN).
    `wait`: seconds to wait for another process to let go of the file (a server that is
    restarting), then FileInUse."""
    db = sqlite3.connect(path, timeout=wait, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA locking_mode=EXCLUSIVE")  # first: before any read of the file
        db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:
        db.close()
        if "locked" in str(error):
            raise FileInUse(f"{path} is open in another process (another server with this data folder?)") from None
        raise
    except BaseException:
        db.close()
        raise
    return db
