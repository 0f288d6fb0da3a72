"""Atomic file replacement: write ``<name>.tmp``, flush it to disk, then ``os.replace``.

A reader (or a resumed run) therefore sees either the previous complete file or the new complete
file, never a half-written one, even when the writing process is killed with SIGKILL. Leftover
``*.tmp`` files are garbage from such a kill and may be deleted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

__all__ = ["TMP_SUFFIX", "atomic_path", "write_json_atomic"]

TMP_SUFFIX = ".tmp"


def _fsync_path(path: Path) -> None:
    """Flush a file's (or directory's) data to the storage device."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories
        if not path.is_dir():
            raise
    finally:
        os.close(fd)


@contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it atomically becomes ``final``.

    Parameters
    ----------
    final : Path
        Destination file. Its temporary twin is ``final`` + ``".tmp"`` in the same directory.

    Yields
    ------
    Path
        Where the caller writes the complete new content (and closes it) inside the block.

    Notes
    -----
    If the block raises, the temporary file is removed and ``final`` is left untouched.
    """
    final = Path(final)
    tmp = final.with_name(final.name + TMP_SUFFIX)
    try:
        yield tmp
        _fsync_path(tmp)
        tmp.replace(final)  # os.replace: atomic on POSIX
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_path(final.parent)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically.

    Parameters
    ----------
    path : Path
        Destination file.
    data : Any
        JSON-serialisable object.
    """
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
