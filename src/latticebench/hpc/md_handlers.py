"""custodian handlers and validator of a supervised MD run, and the files they share.

Custodian's idiom: a job leaves its state in files of the run directory; after the job returns,
each handler's ``check`` reads them and ``correct`` changes the inputs of the next attempt. Here:

=====================  ===================================================================
file                   written by / read by
=====================  ===================================================================
``status.json``        the MD engine after every call (state, health issue) → handlers
``checkpoint.h5``      the MD engine; :meth:`MDRun.restart_from_checkpoint` rewrites it
``md_error.json``      a segment that ran out of memory → :class:`OutOfMemoryHandler`
``supervision.json``   the handlers (device in use, device corrections) → the next segment
=====================  ===================================================================

Every file survives the process, so limits (timestep halvings, device fallback) hold across
FireWorks reruns of the same job, which reuse its run directory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from custodian.custodian import ErrorHandler, Validator

from latticebench.md import MDRun, read_checkpoint, read_status
from latticebench.md.atomic import write_json_atomic
from latticebench.md.trajectory import TrajectoryReader

__all__ = [
    "ERROR_FILE",
    "SUPERVISION_FILE",
    "ExplodingMDHandler",
    "NonFiniteFramesValidator",
    "OutOfMemoryHandler",
    "SupervisionState",
    "find_non_finite_frame",
    "read_error",
    "read_supervision_state",
    "write_error",
    "write_supervision_state",
]

ERROR_FILE = "md_error.json"
"""A recoverable error of the last segment (out of memory), for the handlers."""

SUPERVISION_FILE = "supervision.json"
"""Device in use and device corrections of a supervised run."""


@dataclass
class SupervisionState:
    """What the supervisor changed outside the MD parameters.

    Attributes
    ----------
    device : str or None
        Torch device the next segment uses; None = the job's configured device.
    corrections : list of dict
        ``{step, field, old, new, reason}`` for every such change (the shape of MD corrections).
    """

    device: str | None = None
    corrections: list[dict[str, Any]] = field(default_factory=list)


def read_supervision_state(directory: Path) -> SupervisionState:
    """Load ``supervision.json`` (a fresh state when absent).

    Raises
    ------
    ValueError
        When the file exists but is not a supervision state.
    """
    path = Path(directory) / SUPERVISION_FILE
    if not path.is_file():
        return SupervisionState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SupervisionState(device=data["device"], corrections=list(data["corrections"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"invalid supervision state file {path}: {exc}") from exc


def write_supervision_state(directory: Path, state: SupervisionState) -> None:
    """Write ``supervision.json`` atomically."""
    write_json_atomic(Path(directory) / SUPERVISION_FILE, asdict(state))


def write_error(directory: Path, kind: str, message: str, **details: Any) -> None:
    """Record a recoverable error of the last segment in ``md_error.json``."""
    write_json_atomic(Path(directory) / ERROR_FILE, {"kind": kind, "message": message, **details})


def read_error(directory: Path) -> dict[str, Any] | None:
    """The recorded error of the last segment, or None."""
    path = Path(directory) / ERROR_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _clear_error(directory: Path) -> None:
    (Path(directory) / ERROR_FILE).unlink(missing_ok=True)


class ExplodingMDHandler(ErrorHandler):
    """Halve the time step after a health stop and continue from the last checkpoint.

    A health stop is NaN/inf forces, a temperature runaway or atoms too close; at most
    ``max_halvings`` halvings are made per run.

    Parameters
    ----------
    max_halvings : int
        Timestep halvings allowed over the whole run (counted from the checkpoint's corrections,
        so reruns of the job share the limit). One more stop is unrecoverable.
    """

    is_monitor = False

    def __init__(self, max_halvings: int = 3) -> None:
        if max_halvings < 0:
            raise ValueError(f"max_halvings must be >= 0, got {max_halvings}")
        self.max_halvings = max_halvings

    def check(self, directory: str = "./") -> bool:
        """True when the last segment was stopped by a health check."""
        status = read_status(Path(directory))
        return status is not None and status.state == "stopped"

    def correct(self, directory: str = "./") -> dict[str, Any]:
        """Halve the time step from the last checkpoint, or give up past the limit.

        Returns
        -------
        dict
            custodian's ``{"errors": [...], "actions": [...]}``; ``actions`` is None when the
            limit is reached (custodian then raises ``NonRecoverableError``).
        """
        path = Path(directory)
        status = read_status(path)
        checkpoint = read_checkpoint(path)
        if status is None or checkpoint is None:
            raise FileNotFoundError(f"{path}: no MD status/checkpoint to correct")
        issue = status.issue
        message = issue.message if issue is not None else str(status.reason)
        halvings = sum(c.field == "timestep_fs" for c in checkpoint.corrections)
        if halvings >= self.max_halvings:
            return {"errors": [message], "actions": None}
        old = checkpoint.parameters.timestep_fs
        new = old / 2.0
        kind = issue.kind if issue is not None else "stopped"
        MDRun.restart_from_checkpoint(path, timestep_fs=new, reason=f"{kind}: {message}")
        return {
            "errors": [message],
            "actions": [
                {"timestep_fs": {"old": old, "new": new}, "restart_from_step": checkpoint.step}
            ],
        }


class OutOfMemoryHandler(ErrorHandler):
    """The device ran out of memory: continue from the checkpoint on ``fallback_device``.

    Parameters
    ----------
    fallback_device : str or None
        Device to switch to (e.g. ``"cpu"``); None = no fallback (unrecoverable).
    """

    is_monitor = False

    def __init__(self, fallback_device: str | None = "cpu") -> None:
        self.fallback_device = fallback_device
        self.last_device: str | None = None
        self.last_message: str | None = None

    def check(self, directory: str = "./") -> bool:
        """True when the last segment recorded an out-of-memory error."""
        error = read_error(Path(directory))
        return error is not None and error.get("kind") == "out_of_memory"

    def correct(self, directory: str = "./") -> dict[str, Any]:
        """Switch the device of the next segments, or give up when already on the fallback.

        Returns
        -------
        dict
            custodian's ``{"errors": [...], "actions": [...]}`` (``actions`` None: give up).
        """
        path = Path(directory)
        error = read_error(path) or {}
        message = str(error.get("message", "out of memory"))
        device = error.get("device")
        self.last_device, self.last_message = device, message
        _clear_error(path)
        if self.fallback_device is None or device == self.fallback_device:
            return {"errors": [message], "actions": None}
        state = read_supervision_state(path)
        checkpoint = read_checkpoint(path)
        step = checkpoint.step if checkpoint is not None else 0
        state.corrections.append(
            {
                "step": step,
                "field": "device",
                "old": device,
                "new": self.fallback_device,
                "reason": f"out of memory on {device}: {message}",
            }
        )
        state.device = self.fallback_device
        write_supervision_state(path, state)
        return {
            "errors": [message],
            "actions": [{"device": {"old": device, "new": self.fallback_device}}],
        }


def find_non_finite_frame(directory: Path) -> tuple[int, int] | None:
    """The first committed frame whose forces are not all finite.

    Parameters
    ----------
    directory : Path
        MD run directory.

    Returns
    -------
    (int, int) or None
        ``(frame index, global step)``, or None when every force is finite.
    """
    checkpoint = read_checkpoint(Path(directory))
    n_chunks = checkpoint.n_chunks if checkpoint is not None else None
    reader = TrajectoryReader(Path(directory), n_chunks=n_chunks)
    offset = 0
    for chunk in reader.iter_chunks(["step", "forces"]):
        finite = np.isfinite(chunk["forces"]).all(axis=(1, 2))
        if not finite.all():
            local = int(np.flatnonzero(~finite)[0])
            return offset + local, int(chunk["step"][local])
        offset += finite.size
    return None


class NonFiniteFramesValidator(Validator):
    """Reject a finished run whose committed frames hold NaN or infinite forces."""

    def check(self, directory: str = "./") -> bool:
        """True (invalid) when the run is completed and a frame has non-finite forces."""
        status = read_status(Path(directory))
        if status is None or status.state != "completed":
            return False
        return find_non_finite_frame(Path(directory)) is not None
