"""Find, open and close the FireWorks LaunchPad (MongoDB, or FireWorks' file-backed mongomock).

Where the LaunchPad description comes from, first match wins:

1. an explicit file (``--launchpad FILE``);
2. ``my_launchpad.yaml`` in the current directory;
3. FireWorks' own configuration: ``LAUNCHPAD_LOC`` (from ``FW_CONFIG_FILE`` or
   ``~/.fireworks/FW_config.yaml``), or a ``my_launchpad.yaml`` FireWorks found in its search
   path when it was imported;
4. in FireWorks' mongomock mode (``MONGOMOCK_SERVERSTORE_FILE`` set), the default LaunchPad.

Nothing falls back silently to a MongoDB server on localhost.

FireWorks' mongomock mode keeps the whole LaunchPad in one JSON file that the
``mongomock_persistence`` client reads when it is created and writes when it is garbage-collected.
:func:`close_launchpad` writes it at once, so a command's changes are on disk when it returns.
The mode suits one process at a time (a laptop trial, tests); a cluster needs MongoDB.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fireworks import LaunchPad

__all__ = [
    "LAUNCHPAD_FILE_NAME",
    "LaunchPadError",
    "close_launchpad",
    "ensure_initialized",
    "find_launchpad_file",
    "load_launchpad",
    "mongomock_file",
    "open_launchpad",
]

LAUNCHPAD_FILE_NAME = "my_launchpad.yaml"
"""The file FireWorks and latticebench look for in the current directory."""


class LaunchPadError(RuntimeError):
    """No LaunchPad is configured, or its description cannot be read."""


def mongomock_file() -> Path | None:
    """The file of FireWorks' mongomock mode, or None when the LaunchPad is a MongoDB server.

    Returns
    -------
    Path or None
        ``MONGOMOCK_SERVERSTORE_FILE`` as FireWorks read it (environment or ``FW_config.yaml``).
    """
    from fireworks import fw_config

    value = fw_config.MONGOMOCK_SERVERSTORE_FILE or os.environ.get("MONGOMOCK_SERVERSTORE_FILE")
    return Path(value) if value else None


def find_launchpad_file(path: str | Path | None = None) -> Path | None:
    """The LaunchPad file to use (see the module docstring for the order).

    Parameters
    ----------
    path : str or Path, optional
        Explicit file; it must exist.

    Returns
    -------
    Path or None
        None when no file is configured.

    Raises
    ------
    LaunchPadError
        When ``path`` is given but does not exist.
    """
    from fireworks import fw_config

    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise LaunchPadError(f"LaunchPad file {explicit} does not exist")
        return explicit
    local = Path.cwd() / LAUNCHPAD_FILE_NAME
    if local.is_file():
        return local
    configured = fw_config.LAUNCHPAD_LOC
    if configured and Path(configured).expanduser().is_file():
        return Path(configured).expanduser()
    return None


def _prepare_mongomock_file(path: Path) -> None:
    """mongomock_persistence reads the file when a client starts: create it empty if missing."""
    if not path.is_file() or path.stat().st_size == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")


def load_launchpad(path: str | Path | None = None, *, required: bool = True) -> LaunchPad | None:
    """Connect to the configured LaunchPad.

    Parameters
    ----------
    path : str or Path, optional
        A LaunchPad file (YAML or JSON, FireWorks' format).
    required : bool
        Raise when none is configured (else return None).

    Returns
    -------
    fireworks.LaunchPad or None

    Raises
    ------
    LaunchPadError
        When none is configured and ``required``, or the file cannot be read.
    """
    from fireworks import LaunchPad

    file = find_launchpad_file(path)
    mock_file = mongomock_file()
    if mock_file is not None:
        _prepare_mongomock_file(mock_file)
    if file is None:
        if mock_file is not None:
            return LaunchPad()
        if not required:
            return None
        raise LaunchPadError(
            "no LaunchPad configured: pass --launchpad FILE, put my_launchpad.yaml in the current "
            "directory, or set FW_CONFIG_FILE / LAUNCHPAD_LOC (see launchers/README.md); "
            "MONGOMOCK_SERVERSTORE_FILE=<file> selects FireWorks' file-backed LaunchPad"
        )
    try:
        return LaunchPad.from_file(str(file))
    except KeyError as exc:
        raise LaunchPadError(f"LaunchPad file {file} lacks the field {exc}") from exc
    except Exception as exc:  # FireWorks raises bare ValueError/YAMLError/KeyError here
        raise LaunchPadError(f"cannot read LaunchPad file {file}: {exc}") from exc


def ensure_initialized(launchpad: LaunchPad) -> bool:
    """Initialise a LaunchPad that was never used (what ``lpad reset`` does on an empty one).

    A LaunchPad database needs its firework-id counter before the first workflow is added. Only a
    database without any firework, workflow, launch or counter is touched, so nothing can be
    lost.

    Parameters
    ----------
    launchpad : fireworks.LaunchPad

    Returns
    -------
    bool
        True when it was initialised now, False when it already was (or holds anything).
    """
    used = any(
        collection.count_documents({}) > 0
        for collection in (
            launchpad.fw_id_assigner,
            launchpad.fireworks,
            launchpad.workflows,
            launchpad.launches,
        )
    )
    if used:
        return False
    launchpad.reset("", require_password=False, max_reset_wo_password=0)
    return True


def close_launchpad(launchpad: LaunchPad | None) -> None:
    """Close the LaunchPad's connection; in mongomock mode, write its file now.

    Parameters
    ----------
    launchpad : fireworks.LaunchPad or None
        Not usable afterwards.
    """
    if launchpad is None:
        return
    store = getattr(launchpad.connection, "_store", None)
    write_file = getattr(store, "_finalizer", None)  # mongomock_persistence's writer, runs once
    if write_file is not None and getattr(write_file, "alive", False):
        write_file()
    launchpad.connection.close()


@contextmanager
def open_launchpad(
    path: str | Path | None = None, *, required: bool = True
) -> Iterator[LaunchPad | None]:
    """:func:`load_launchpad` as a context manager that closes (and persists) it on exit.

    Parameters
    ----------
    path : str or Path, optional
    required : bool

    Yields
    ------
    fireworks.LaunchPad or None
    """
    launchpad = load_launchpad(path, required=required)
    try:
        yield launchpad
    finally:
        close_launchpad(launchpad)
