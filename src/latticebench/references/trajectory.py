"""MD trajectories with forces: extended XYZ and ASE ``.traj`` files.

Frames are read one at a time with ``ase.io.iread``. Every frame must carry forces (from a
single-point calculator or a per-atom ``forces`` array); a frame without them is an error naming
the frame. Energies are kept when every frame has one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from latticebench.references.common import (
    Candidate,
    DatasetInfo,
    ImportReport,
    commit,
    make_doc,
    sites_of,
)
from latticebench.references.errors import ImportFileError
from latticebench.references.heavy import AimdFrames, aimd_blob

__all__ = ["import_trajectory", "read_trajectory"]


def _frame_forces(atoms: Any) -> np.ndarray | None:
    if atoms.calc is not None:
        try:
            return np.asarray(atoms.get_forces(), dtype=float)
        except Exception:  # the calculator holds no forces for this frame
            return None
    if "forces" in atoms.arrays:
        return np.asarray(atoms.arrays["forces"], dtype=float)
    return None


def _frame_energy(atoms: Any) -> float | None:
    if atoms.calc is None:
        return None
    try:
        return float(atoms.get_potential_energy(force_consistent=True))
    except Exception:
        try:
            return float(atoms.get_potential_energy())
        except Exception:
            return None


def read_trajectory(
    path: str | Path,
    *,
    file_format: str | None = None,
    temperature_K: float | None = None,
    time_step_fs: float | None = None,
) -> AimdFrames:
    """Read an extxyz / ASE trajectory with forces into :class:`AimdFrames`.

    Parameters
    ----------
    path : str or Path
    file_format : str, optional
        ASE format name (default: from the suffix: ``.xyz``/``.extxyz`` extxyz, ``.traj``).
    temperature_K, time_step_fs : float, optional
        Stored with the frames.

    Returns
    -------
    AimdFrames

    Raises
    ------
    ImportFileError
        For an unreadable file, a frame without forces, or frames whose atoms change.
    """
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if file_format is None:
        file_format = "traj" if path.suffix == ".traj" else "extxyz"
    positions, forces, cells, energies = [], [], [], []
    symbols: list[str] | None = None
    frame = -1
    try:
        for frame, atoms in enumerate(ase.io.iread(str(path), index=":", format=file_format)):
            f = _frame_forces(atoms)
            if f is None:
                raise ImportFileError(f"{path}: frame {frame} has no forces")
            current = atoms.get_chemical_symbols()
            if symbols is None:
                symbols = current
            elif current != symbols:
                raise ImportFileError(
                    f"{path}: frame {frame} has other atoms than frame 0 "
                    f"({len(current)} vs {len(symbols)} atoms, or a different order)"
                )
            if not atoms.cell.rank == 3:
                raise ImportFileError(f"{path}: frame {frame} has no 3D periodic cell")
            positions.append(atoms.get_positions())
            forces.append(f)
            cells.append(np.asarray(atoms.cell[:], dtype=float))
            energies.append(_frame_energy(atoms))
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(
            f"{path}: unreadable as {file_format} after frame {frame} ({type(exc).__name__}: {exc})"
        ) from None
    if symbols is None:
        raise ImportFileError(f"{path}: no frames")
    try:
        return AimdFrames(
            symbols=symbols,
            positions=np.stack(positions),
            forces=np.stack(forces),
            cells=np.stack(cells),
            energies=None if any(e is None for e in energies) else np.array(energies),
            temperature_K=temperature_K,
            time_step_fs=time_step_fs,
        )
    except ValueError as exc:
        raise ImportFileError(f"{path}: {exc}") from None


def import_trajectory(
    path: str | Path,
    *,
    compound: str,
    info: DatasetInfo,
    file_format: str | None = None,
    temperature_K: float | None = None,
    time_step_fs: float | None = None,
    update: bool = False,
    store: Any | None = None,
    data_store: Any | None = None,
) -> ImportReport:
    """Import the AIMD frames of one compound from an extxyz or ASE trajectory file.

    Parameters
    ----------
    path : str or Path
    compound : str
    info : DatasetInfo
    file_format : str, optional
    temperature_K, time_step_fs : float, optional
        Thermostat temperature (K) and time step (fs) of the run.
    update : bool
    store, data_store : maggma.core.Store, optional

    Returns
    -------
    ImportReport

    Raises
    ------
    ImportFileError
        Naming the file and frame; nothing is written.
    """
    from pymatgen.core import Composition

    try:
        sites = sites_of(compound)
    except ValueError as exc:
        raise ImportFileError(f"{path}: {exc}") from None
    frames = read_trajectory(
        path, file_format=file_format, temperature_K=temperature_K, time_step_fs=time_step_fs
    )
    found = Composition("".join(frames.symbols)).reduced_composition
    expected = sites.composition_40().reduced_composition
    if found != expected:
        raise ImportFileError(
            f"{path}: atoms make {found.reduced_formula}, but {compound!r} is "
            f"{expected.reduced_formula}"
        )
    blob = aimd_blob(frames)
    location = f"{frames.n_frames} frames"
    doc = make_doc(
        info, str(path), location, compound=compound, halide=sites.X, heavy={"aimd": blob.blob_id}
    )
    return commit(
        [Candidate(doc, location, [blob])],
        [],
        file=str(path),
        dataset=info.dataset,
        n_records=1,
        update=update,
        store=store,
        data_store=data_store,
    )
