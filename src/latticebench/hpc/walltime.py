"""How much wall time a job has left: a budget from the environment or the batch system.

Two sources, the earlier deadline wins:

* ``LATTICEBENCH_MD_WALLTIME_S``: seconds the MD job may run, counted from its start;
* ``SLURM_JOB_END_TIME``: the Unix time at which SLURM ends the allocation (set in the job's
  environment by recent SLURM versions; on older ones export it yourself in the queue script,
  e.g. from ``squeue -h -j $SLURM_JOB_ID -o %e``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["SLURM_END_TIME_VARIABLE", "WALLTIME_VARIABLE", "WalltimeError", "walltime_deadline"]

WALLTIME_VARIABLE = "LATTICEBENCH_MD_WALLTIME_S"
"""Environment variable: wall-time budget of one MD job (s)."""

SLURM_END_TIME_VARIABLE = "SLURM_JOB_END_TIME"
"""Environment variable: end of the SLURM allocation (Unix time, s)."""


class WalltimeError(ValueError):
    """A wall-time variable that is not a number."""


def _number(environ: Mapping[str, str], name: str) -> float | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise WalltimeError(f"{name}={raw!r} is not a number of seconds") from None


def walltime_deadline(started_at: float, environ: Mapping[str, str] | None = None) -> float | None:
    """The Unix time by which a job that started at ``started_at`` must have stopped.

    Parameters
    ----------
    started_at : float
        Unix time (s) at which the job started.
    environ : mapping, optional
        Environment to read (default: ``os.environ``).

    Returns
    -------
    float or None
        The earlier of ``started_at + LATTICEBENCH_MD_WALLTIME_S`` and ``SLURM_JOB_END_TIME``;
        None when neither is set (no limit).

    Raises
    ------
    WalltimeError
        When a variable is set but not a number, or the budget is negative.
    """
    environ = os.environ if environ is None else environ
    budget = _number(environ, WALLTIME_VARIABLE)
    if budget is not None and budget < 0:
        raise WalltimeError(f"{WALLTIME_VARIABLE}={budget:g} must not be negative")
    candidates = []
    if budget is not None:
        candidates.append(started_at + budget)
    end = _number(environ, SLURM_END_TIME_VARIABLE)
    if end is not None:
        candidates.append(end)
    return min(candidates) if candidates else None
