"""A change counter that every process on the host reads for the price of a memory load.

On SQLite every process that writes the database runs on the same host: API workers, the
CLI, the webhook dispatcher. A `ChangeSignal` is an 8-byte counter in a small file beside
the database (``<database>-keys``), memory-mapped by each of them (MAP_SHARED: a store by one
process is seen by the others' next load). A use case that changes API keys bumps it after
its transaction commits (`Database.unit_of_work` does so when the unit of work called
`meta.bump_keys_version()`); each API worker reads it on every request, about 0.2 µs, and
reads the database's keys version only when it moved, instead of one SQL read per request.

Order makes it safe: the commit comes before the bump, and the bump before the answer to
the client who revoked a key; so any request sent after that answer reads the new counter
and then a database that holds the change. Readers also read the database every few
seconds whatever the counter says (`KeyVerifier`), in case a writer that does not know of
this file (another tool, or a process killed between commit and bump) changed a key.

Bumps from several processes are serialised by an exclusive `flock`; a torn read (the
counter is written as one aligned 8-byte store, so there should be none) could only make a
reader look at the database once more. The file holds no secret; it is created with the
process's umask, like the database next to it.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
from pathlib import Path

_COUNTER = struct.Struct("<Q")


class ChangeSignal:
    """The counter file at `path`, created (8 zero bytes) if missing. `OSError` if it can be
    neither opened nor created (the caller then goes without)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._open()

    def _open(self) -> mmap.mmap:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if os.fstat(fd).st_size < _COUNTER.size:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    if os.fstat(fd).st_size < _COUNTER.size:
                        os.ftruncate(fd, _COUNTER.size)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, _COUNTER.size, mmap.MAP_SHARED)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        return self._map

    def read(self) -> int:
        return int(_COUNTER.unpack_from(self._map or self._open())[0])

    def bump(self) -> None:
        """Add one (wrapping at 2**64), atomically with respect to other bumps."""
        counter = self._map or self._open()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            _COUNTER.pack_into(counter, 0, (_COUNTER.unpack_from(counter)[0] + 1) % 2**64)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Unmap and close; a later `read` or `bump` opens the file again."""
        if self._map is not None:
            self._map.close()
            os.close(self._fd)
            self._map, self._fd = None, -1


def signal_beside(database: str | None) -> ChangeSignal | None:
    """The keys signal of the SQLite file `database` (a filesystem path), or None for an
    in-memory database or when the file cannot be made (a read-only folder)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).resolve()
    try:
        return ChangeSignal(path.with_name(path.name + "-keys"))
    except OSError:
        return None
