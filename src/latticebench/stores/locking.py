"""Exclusive write lock for the embedded store, safe across processes.

MontyDB has no unique indexes, so "check whether the key exists, then write" must not
interleave between two processes importing at the same time. :func:`store_lock` takes an
exclusive ``fcntl.flock`` on a lock file in the embedded store directory; it is re-entrant
within a process (nested ``with`` blocks in one thread do not deadlock) and serialises threads.
Stores on a MongoDB server need no lock: their unique indexes reject duplicates.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["LOCK_FILE_NAME", "embedded_lock_path", "path_lock", "store_lock"]

LOCK_FILE_NAME = ".latticebench-write.lock"
"""Name of the lock file inside an embedded store directory."""


class _HeldLock:
    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_LOCKS: dict[str, _HeldLock] = {}
_LOCKS_GUARD = threading.Lock()


def embedded_lock_path(store: Any) -> Path | None:
    """The lock file of an embedded (MontyDB) store, or None for other stores.

    Parameters
    ----------
    store : maggma.core.Store

    Returns
    -------
    Path or None
        ``<database_path>/.latticebench-write.lock`` for a ``MontyStore``.
    """
    from maggma.stores import MontyStore

    if isinstance(store, MontyStore) and store.database_path != ":memory:":
        return Path(store.database_path) / LOCK_FILE_NAME
    return None


@contextmanager
def path_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive, process-re-entrant ``flock`` on ``path`` (created if missing).

    Parameters
    ----------
    path : Path
        Lock file; its directory is created when missing.
    """
    key = str(Path(path).resolve())
    with _LOCKS_GUARD:
        held = _LOCKS.setdefault(key, _HeldLock())
    with held.thread_lock:
        if held.depth == 0:
            Path(key).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            held.fd = fd
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)
                held.fd = None


@contextmanager
def store_lock(store: Any) -> Iterator[None]:
    """Serialise check-and-write on a store across processes (embedded stores only).

    Parameters
    ----------
    store : maggma.core.Store
        A ``MontyStore`` is locked through a file in its directory; any other store is not
        locked (a no-op context).
    """
    path = embedded_lock_path(store)
    if path is None:
        yield
        return
    with path_lock(path):
        yield
