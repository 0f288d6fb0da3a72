"""Checkpointed, streaming NVT molecular dynamics (ASE integrators, HDF5 chunked trajectory).

Public API::

    MDParameters, HealthLimits        what to run (pydantic, JSON-able)
    MDRun                             run / resume / restart_from_checkpoint in a directory
    MDStatus, HealthIssue, Correction outcomes (dataclasses, JSON-able)
    TrajectoryReader                  read the committed production frames
"""

from latticebench.md.checkpoint import Checkpoint, CheckpointError, Correction, read_checkpoint
from latticebench.md.engine import MDRun
from latticebench.md.health import HealthIssue
from latticebench.md.parameters import HealthLimits, MDParameters
from latticebench.md.status import MDStatus, read_status
from latticebench.md.trajectory import FRAME_FIELDS, TrajectoryError, TrajectoryReader

__all__ = [
    "FRAME_FIELDS",
    "Checkpoint",
    "CheckpointError",
    "Correction",
    "HealthIssue",
    "HealthLimits",
    "MDParameters",
    "MDRun",
    "MDStatus",
    "TrajectoryError",
    "TrajectoryReader",
    "read_checkpoint",
    "read_status",
]
