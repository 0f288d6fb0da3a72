"""The outcome of one call of ``MDRun.run``, returned and written to ``status.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from latticebench.md.atomic import write_json_atomic
from latticebench.md.checkpoint import Correction
from latticebench.md.health import HealthIssue

__all__ = ["STATUS_FILE", "MDStatus", "RunState", "read_status", "write_status"]

STATUS_FILE = "status.json"

RunState = Literal["completed", "stopped", "paused"]


@dataclass(frozen=True)
class MDStatus:
    """Where a run stands after a call of ``MDRun.run``.

    ``dataclasses.asdict(status)`` (or :meth:`to_dict`) is plain JSON.

    Attributes
    ----------
    state : {"completed", "stopped", "paused"}
        ``completed``: production finished; ``stopped``: a health check fired (resuming without
        changing anything would fire again); ``paused``: ``max_steps`` were done in this call and
        a checkpoint was written at ``step``.
    reason : str or None
        Why the run is stopped or paused (None when completed).
    issue : HealthIssue or None
        The health issue that stopped the run.
    step : int
        Global step index reached: for ``stopped`` the step at which the check fired, else the
        step of the checkpoint just written.
    checkpoint_step : int
        Global step index of the last checkpoint, from which a resume continues.
    n_frames : int
        Production frames committed to disk.
    n_frames_expected : int
        Production frames of the finished run (``production_steps // record_interval``).
    corrections : list of Correction
        Parameter changes made on restarts, oldest first.
    wall_time_s : float
        Wall-clock time of this call (s).
    """

    state: RunState
    reason: str | None
    issue: HealthIssue | None
    step: int
    checkpoint_step: int
    n_frames: int
    n_frames_expected: int
    corrections: list[Correction] = field(default_factory=list)
    wall_time_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the status as a JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MDStatus:
        """Inverse of :meth:`to_dict`."""
        issue = data.get("issue")
        return cls(
            state=data["state"],
            reason=data["reason"],
            issue=HealthIssue.from_dict(issue) if issue else None,
            step=int(data["step"]),
            checkpoint_step=int(data["checkpoint_step"]),
            n_frames=int(data["n_frames"]),
            n_frames_expected=int(data["n_frames_expected"]),
            corrections=[Correction.from_dict(c) for c in data["corrections"]],
            wall_time_s=float(data["wall_time_s"]),
        )


def write_status(directory: Path, status: MDStatus) -> Path:
    """Write ``status`` to ``directory/status.json`` atomically and return the path."""
    path = Path(directory) / STATUS_FILE
    write_json_atomic(path, status.to_dict())
    return path


def read_status(directory: Path) -> MDStatus | None:
    """Load ``directory/status.json``; None when the run has never returned a status.

    Raises
    ------
    ValueError
        When the file exists but is not a valid status.
    """
    path = Path(directory) / STATUS_FILE
    if not path.is_file():
        return None
    try:
        return MDStatus.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"invalid MD status file {path}: {exc}") from exc
