"""FireWorks workers for latticebench: a category is mandatory, the settings come with the worker.

A FireWorks worker (``my_fworker.yaml``) pulls every firework whose ``spec._category`` matches
its ``category``; a worker *without* a category pulls every firework, GPU jobs included, so
:func:`load_fworker` refuses one.

The worker's ``env`` entries whose names start with ``LATTICEBENCH_`` (model directory, device,
data directory, store, ...) become environment variables of the worker process while it runs
jobs (FireWorks itself only passes ``env`` to firetasks as ``spec["_fw_env"]``, which jobflow
ignores), and jobflow's JobStore is set from the resulting latticebench settings: the same store
the comparison job writes benchmark documents to.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from fireworks import FWorker, LaunchPad
    from jobflow import JobStore

__all__ = [
    "ENV_PREFIX",
    "WorkerConfigurationError",
    "launch",
    "load_fworker",
    "worker_environment",
    "worker_session",
]

logger = logging.getLogger(__name__)

ENV_PREFIX = "LATTICEBENCH_"
"""Worker ``env`` entries with this prefix are exported to the worker process."""


class WorkerConfigurationError(ValueError):
    """A worker file that cannot be used; the message names the file and the field."""


def load_fworker(path: str | Path) -> FWorker:
    """Read a FireWorks worker file and insist on a category.

    Parameters
    ----------
    path : str or Path
        ``my_fworker.yaml``-style file (``name``, ``category``, optional ``query`` and ``env``).

    Returns
    -------
    fireworks.FWorker

    Raises
    ------
    WorkerConfigurationError
        When the file is missing or unreadable, or the worker has no category.
    """
    from fireworks import FWorker
    from monty.serialization import loadfn

    path = Path(path).expanduser()
    if not path.is_file():
        raise WorkerConfigurationError(f"worker file {path} does not exist")
    try:
        data = loadfn(path)
    except Exception as exc:  # YAML/JSON errors of several kinds
        raise WorkerConfigurationError(f"cannot read worker file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise WorkerConfigurationError(f"worker file {path}: expected a mapping at the top level")
    name = data.get("name", "Automatically generated Worker")
    category = data.get("category")
    categories = [category] if isinstance(category, str) else list(category or [])
    if not categories or not all(isinstance(c, str) and c.strip() for c in categories):
        raise WorkerConfigurationError(
            f"worker {name!r} in {path} has no category: FireWorks gives a worker without a "
            f"category every job, the GPU-heavy model jobs included. Set 'category: gpu' "
            f"(relax, phonons, MD, rescoring) or 'category: cpu' (σ^A, comparison), or a list "
            f"of categories"
        )
    fields = {"name": name, "category": category, "query": "{}", "env": {}}
    fields.update({key: data[key] for key in ("query", "env") if data.get(key) is not None})
    if isinstance(fields["query"], dict):
        fields["query"] = json.dumps(fields["query"])
    try:
        fworker = FWorker.from_dict(fields)
    except (TypeError, ValueError) as exc:
        raise WorkerConfigurationError(f"worker file {path}: {exc}") from exc
    return fworker


def worker_environment(
    fworker: FWorker, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The ``LATTICEBENCH_*`` variables a worker sets, with ``$VARS`` and ``~`` expanded.

    Parameters
    ----------
    fworker : fireworks.FWorker
    environ : mapping, optional
        Environment used to expand ``$VARS`` (default: ``os.environ``).

    Returns
    -------
    dict of str to str

    Raises
    ------
    WorkerConfigurationError
        When a value refers to a variable that is not set.
    """
    import string

    environ = os.environ if environ is None else environ
    exported: dict[str, str] = {}
    for name, value in (fworker.env or {}).items():
        if not str(name).startswith(ENV_PREFIX):
            continue
        try:
            expanded = string.Template(str(value)).substitute(environ)
        except (KeyError, ValueError) as exc:
            raise WorkerConfigurationError(
                f"worker {fworker.name!r}: env {name}={value!r} refers to {exc}, which is not "
                f"set (or is not a valid $NAME); set it or write the value itself"
            ) from None
        if expanded.startswith("~"):
            expanded = str(Path(expanded).expanduser())
        exported[str(name)] = expanded
    return exported


@contextmanager
def worker_session(fworker: FWorker) -> Iterator[JobStore]:
    """Export the worker's settings and point jobflow at the matching JobStore (restored after).

    Parameters
    ----------
    fworker : fireworks.FWorker

    Yields
    ------
    jobflow.JobStore
        The JobStore the jobs of this worker write to.
    """
    import jobflow

    from latticebench.settings import clear_settings_cache
    from latticebench.stores import get_job_store, store_description

    exported = worker_environment(fworker)
    saved = {name: os.environ.get(name) for name in exported}
    previous_store = jobflow.SETTINGS.JOB_STORE
    os.environ.update(exported)
    clear_settings_cache()
    try:
        store = get_job_store()
        jobflow.SETTINGS.JOB_STORE = store
        logger.info(
            "worker %s (category %s): job store %s",
            fworker.name,
            fworker.category,
            store_description(store.docs_store),
        )
        yield store
    finally:
        jobflow.SETTINGS.JOB_STORE = previous_store
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clear_settings_cache()


def _check_category(launchpad: LaunchPad, fworker: FWorker, fw_id: int) -> None:
    """Refuse to run a firework of another category (FireWorks ignores it for an explicit id)."""
    doc = launchpad.fireworks.find_one({"fw_id": fw_id}, {"spec._category": 1})
    if doc is None:
        raise WorkerConfigurationError(f"no firework with id {fw_id} on the LaunchPad")
    category = (doc.get("spec") or {}).get("_category")
    allowed = [fworker.category] if isinstance(fworker.category, str) else list(fworker.category)
    if category not in allowed:
        raise WorkerConfigurationError(
            f"firework {fw_id} belongs to category {category!r}; worker {fworker.name!r} runs "
            f"{', '.join(map(repr, allowed))} only"
        )


def launch(
    mode: Literal["rapidfire", "singleshot"],
    fworker: FWorker,
    launchpad: LaunchPad,
    *,
    launch_dir: str | Path | None = None,
    nlaunches: int = 0,
    max_loops: int = -1,
    sleep_time: int | None = None,
    timeout: int | None = None,
    fw_id: int | None = None,
    log_level: str = "INFO",
) -> None:
    """Run fireworks of the worker's category with FireWorks' rocket launcher.

    Parameters
    ----------
    mode : {"rapidfire", "singleshot"}
        Keep pulling fireworks (``rapidfire``) or run one (``singleshot``).
    fworker : fireworks.FWorker
        From :func:`load_fworker` (it must have a category).
    launchpad : fireworks.LaunchPad
    launch_dir : str or Path, optional
        Where launch directories are created (default: the current directory).
    nlaunches : int
        rapidfire: stop after this many rockets (0: until nothing is left to run).
    max_loops : int
        rapidfire: at most this many sleep-and-check loops (-1: no limit).
    sleep_time : int, optional
        rapidfire: seconds between loops (FireWorks' default when None).
    timeout : int, optional
        rapidfire: stop starting rockets after this many seconds.
    fw_id : int, optional
        singleshot: run this firework (if it is ready). FireWorks ignores the worker's
        category for an explicit id; this function refuses a firework of another category.
    log_level : str
        FireWorks' stream log level.

    Raises
    ------
    WorkerConfigurationError
        For a worker without a category, an unknown mode, or a ``fw_id`` of another category.
    """
    from fireworks.core.rocket_launcher import launch_rocket, rapidfire

    if not fworker.category:
        raise WorkerConfigurationError(
            f"worker {fworker.name!r} has no category; load it with load_fworker()"
        )
    if mode not in ("rapidfire", "singleshot"):
        raise WorkerConfigurationError(f"unknown launch mode {mode!r}")
    if fw_id is not None:
        _check_category(launchpad, fworker, fw_id)
    origin = Path.cwd()
    directory = Path(launch_dir).expanduser().resolve() if launch_dir else origin
    directory.mkdir(parents=True, exist_ok=True)
    with worker_session(fworker):
        try:
            os.chdir(directory)
            if mode == "singleshot":
                launch_rocket(launchpad, fworker, fw_id=fw_id, strm_lvl=log_level)
            else:
                rapidfire(
                    launchpad,
                    fworker,
                    m_dir=str(directory),
                    nlaunches=nlaunches,
                    max_loops=max_loops,
                    sleep_time=sleep_time,
                    timeout=timeout,
                    strm_lvl=log_level,
                )
        finally:
            os.chdir(origin)
