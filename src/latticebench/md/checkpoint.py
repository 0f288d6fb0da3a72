"""The checkpoint: everything needed to continue a run exactly where it was committed.

``checkpoint.h5`` in the run directory holds the dynamical state (positions and momenta as
float64 arrays, bit-exact), the thermostat's random-generator state, the step counters, the
current and the original parameters, and the log of corrections (parameter changes made on
restarts). It is replaced atomically, so a kill leaves the previous checkpoint intact.

A checkpoint at step ``s`` always comes with exactly the chunk files ``traj_000000.h5`` ..
``traj_<n_chunks - 1>.h5``; chunk files numbered higher were written after it and are discarded on
resume.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from latticebench.md.atomic import atomic_path
from latticebench.md.parameters import MDParameters

__all__ = [
    "CHECKPOINT_FILE",
    "Checkpoint",
    "CheckpointError",
    "Correction",
    "phase_of",
    "read_checkpoint",
    "write_checkpoint",
]

CHECKPOINT_FILE = "checkpoint.h5"
FORMAT = "latticebench-md-checkpoint-1"

Phase = Literal["equilibration", "production"]


class CheckpointError(RuntimeError):
    """A checkpoint file is unreadable or inconsistent."""


def phase_of(step: int, parameters: MDParameters) -> Phase:
    """Phase a run is in once ``step`` steps are done.

    Parameters
    ----------
    step : int
        Global step index.
    parameters : MDParameters
        Supplies ``equilibration_steps``.

    Returns
    -------
    {"equilibration", "production"}
        ``"equilibration"`` while ``step < equilibration_steps``, else ``"production"``.
    """
    return "equilibration" if step < parameters.equilibration_steps else "production"


@dataclass(frozen=True)
class Correction:
    """One parameter change made when a run was restarted from its checkpoint.

    Attributes
    ----------
    step : int
        Global step index of the checkpoint the run continued from.
    field : str
        Parameter name, dotted for nested ones (``"health.min_distance_A"``).
    old, new : Any
        JSON-able values before and after (units as in ``MDParameters``).
    reason : str
        Why the change was made (e.g. the health issue that stopped the run).
    """

    step: int
    field: str
    old: Any
    new: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict with keys step, field, old, new, reason."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        """Inverse of :meth:`to_dict`."""
        return cls(
            step=int(data["step"]),
            field=str(data["field"]),
            old=data["old"],
            new=data["new"],
            reason=str(data["reason"]),
        )


@dataclass(frozen=True)
class Checkpoint:
    """A committed state of a run.

    Attributes
    ----------
    step : int
        Global step index of the state.
    phase : {"equilibration", "production"}
        :func:`phase_of` ``step``.
    time_fs : float
        Simulated time at ``step`` (fs); the sum of the time steps used so far.
    n_chunks : int
        Number of trajectory chunk files committed with this checkpoint.
    n_frames : int
        Number of production frames in those chunks.
    positions : numpy.ndarray, shape (N, 3)
        Positions (Å), as integrated (not wrapped).
    momenta : numpy.ndarray, shape (N, 3)
        Momenta (amu Å / ASE time unit, ASE's convention).
    rng_state : dict
        ``numpy.random.Generator.bit_generator.state`` of the thermostat's generator.
    parameters : MDParameters
        Parameters the run continues with (after corrections).
    initial_parameters : MDParameters
        Parameters the run was started with.
    initial_positions : numpy.ndarray, shape (N, 3)
        Positions of the starting structure (Å); identifies the run on resume.
    corrections : tuple of Correction
        Parameter changes made on restarts, oldest first.
    """

    step: int
    phase: Phase
    time_fs: float
    n_chunks: int
    n_frames: int
    positions: np.ndarray
    momenta: np.ndarray
    rng_state: dict[str, Any]
    parameters: MDParameters
    initial_parameters: MDParameters
    initial_positions: np.ndarray
    corrections: tuple[Correction, ...] = field(default_factory=tuple)


def write_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Replace ``directory/checkpoint.h5`` atomically with ``checkpoint``.

    Parameters
    ----------
    directory : Path
        Run directory.
    checkpoint : Checkpoint
        State to write.

    Returns
    -------
    Path
        The checkpoint file.
    """
    import h5py

    metadata = {
        "format": FORMAT,
        "step": checkpoint.step,
        "phase": checkpoint.phase,
        "time_fs": checkpoint.time_fs,
        "n_chunks": checkpoint.n_chunks,
        "n_frames": checkpoint.n_frames,
        "rng_state": checkpoint.rng_state,
        "parameters": checkpoint.parameters.model_dump(mode="json"),
        "initial_parameters": checkpoint.initial_parameters.model_dump(mode="json"),
        "corrections": [c.to_dict() for c in checkpoint.corrections],
    }
    path = Path(directory) / CHECKPOINT_FILE
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset("metadata", data=json.dumps(metadata))
        handle.create_dataset("positions", data=np.asarray(checkpoint.positions, np.float64))
        handle.create_dataset("momenta", data=np.asarray(checkpoint.momenta, np.float64))
        handle.create_dataset(
            "initial_positions", data=np.asarray(checkpoint.initial_positions, np.float64)
        )
    return path


def read_checkpoint(directory: Path) -> Checkpoint | None:
    """Load ``directory/checkpoint.h5``.

    Parameters
    ----------
    directory : Path
        Run directory.

    Returns
    -------
    Checkpoint or None
        None when there is no checkpoint file (the run has not started).

    Raises
    ------
    CheckpointError
        When the file exists but cannot be read or is inconsistent.
    """
    import h5py

    path = Path(directory) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as handle:
            metadata = json.loads(handle["metadata"][()])
            positions = handle["positions"][()]
            momenta = handle["momenta"][()]
            initial_positions = handle["initial_positions"][()]
        if metadata.get("format") != FORMAT:
            raise ValueError(f"format {metadata.get('format')!r}, expected {FORMAT!r}")
        parameters = MDParameters.model_validate(metadata["parameters"])
        checkpoint = Checkpoint(
            step=int(metadata["step"]),
            phase=metadata["phase"],
            time_fs=float(metadata["time_fs"]),
            n_chunks=int(metadata["n_chunks"]),
            n_frames=int(metadata["n_frames"]),
            positions=positions,
            momenta=momenta,
            rng_state=metadata["rng_state"],
            parameters=parameters,
            initial_parameters=MDParameters.model_validate(metadata["initial_parameters"]),
            initial_positions=initial_positions,
            corrections=tuple(Correction.from_dict(c) for c in metadata["corrections"]),
        )
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    if positions.shape != momenta.shape or positions.shape != initial_positions.shape:
        raise CheckpointError(
            f"checkpoint {path}: positions {positions.shape}, momenta {momenta.shape} and "
            f"initial positions {initial_positions.shape} differ in shape"
        )
    if checkpoint.phase != phase_of(checkpoint.step, parameters):
        raise CheckpointError(
            f"checkpoint {path}: phase {checkpoint.phase!r} does not match step "
            f"{checkpoint.step} with {parameters.equilibration_steps} equilibration steps"
        )
    return checkpoint
