"""Production trajectory on disk: one HDF5 file per committed chunk, written atomically.

Layout of a run directory::

    traj_static.h5      symbols, masses (amu), cell (3, 3) Å, pbc: constant during NVT
    traj_000000.h5      frames of the first chunk
    traj_000001.h5      ...

Each chunk file is written as ``traj_XXXXXX.h5.tmp`` and renamed with ``os.replace`` once
complete (:func:`latticebench.md.atomic.atomic_path`), so a process killed mid-write leaves at most
a ``*.tmp`` file that no reader looks at; committed frames cannot be corrupted by a later write
because no committed file is ever opened for writing again. Memory stays bounded by one chunk.

Per-frame datasets in a chunk file (``n`` frames, ``N`` atoms):

=================  ===========  ======  ==================================================
name               shape        unit    meaning
=================  ===========  ======  ==================================================
step               (n,)         --      global step index (see ``MDParameters``)
time_fs            (n,)         fs      simulated time since step 0
positions          (n, N, 3)    Å       Cartesian positions as integrated (not wrapped into
                                        the cell: an atom that crossed a face lies outside)
forces             (n, N, 3)    eV/Å    calculator forces on those positions
potential_energy   (n,)         eV      calculator energy
kinetic_energy     (n,)         eV      sum of p²/2m
temperature        (n,)         K       2 E_kin / (k_B (3N - 3)); centre of mass is fixed
=================  ===========  ======  ==================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from latticebench.md.atomic import TMP_SUFFIX, atomic_path

__all__ = [
    "FIELD_UNITS",
    "FRAME_FIELDS",
    "STATIC_FILE",
    "ChunkBuffer",
    "TrajectoryError",
    "TrajectoryReader",
    "chunk_path",
    "committed_chunk_indices",
    "discard_chunks",
    "read_static",
    "write_chunk",
    "write_static",
]

FORMAT = "latticebench-md-trajectory-1"
STATIC_FILE = "traj_static.h5"
FRAME_FIELDS: tuple[str, ...] = (
    "step",
    "time_fs",
    "positions",
    "forces",
    "potential_energy",
    "kinetic_energy",
    "temperature",
)
FIELD_UNITS: dict[str, str] = {
    "step": "",
    "time_fs": "fs",
    "positions": "Å",
    "forces": "eV/Å",
    "potential_energy": "eV",
    "kinetic_energy": "eV",
    "temperature": "K",
}
_PER_ATOM_FIELDS = frozenset({"positions", "forces"})
_CHUNK_NAME = re.compile(r"^traj_(\d{6,})\.h5$")


class TrajectoryError(RuntimeError):
    """A trajectory directory or chunk file is missing, incomplete or inconsistent."""


def chunk_path(directory: Path, index: int) -> Path:
    """Path of chunk file number ``index`` (``traj_000012.h5`` for 12)."""
    return Path(directory) / f"traj_{index:06d}.h5"


def committed_chunk_indices(directory: Path) -> list[int]:
    """Sorted indices of the committed chunk files in ``directory`` (``*.tmp`` files excluded)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = (_CHUNK_NAME.match(p.name) for p in directory.iterdir())
    return sorted(int(m.group(1)) for m in found if m)


def discard_chunks(directory: Path, first_index: int) -> list[Path]:
    """Delete chunk files numbered ``first_index`` and above, and every leftover ``traj_*.tmp``.

    Used when resuming: such files hold frames written after the last checkpoint.

    Parameters
    ----------
    directory : Path
        Run directory.
    first_index : int
        First chunk index to delete.

    Returns
    -------
    list of Path
        The files removed.
    """
    directory = Path(directory)
    indices = committed_chunk_indices(directory)
    removed = [chunk_path(directory, i) for i in indices if i >= first_index]
    if directory.is_dir():
        removed += [
            p
            for p in directory.iterdir()
            if p.name.startswith("traj_") and p.name.endswith(TMP_SUFFIX)
        ]
    for path in removed:
        with suppress(FileNotFoundError):
            path.unlink()
    return removed


def write_static(
    directory: Path,
    symbols: Sequence[str],
    masses: np.ndarray,
    cell: np.ndarray,
    pbc: np.ndarray,
) -> Path:
    """Write the constant part of the trajectory (atomically).

    Parameters
    ----------
    directory : Path
        Run directory (created if needed).
    symbols : sequence of str, length N
        Chemical symbols.
    masses : numpy.ndarray, shape (N,)
        Atomic masses (amu).
    cell : numpy.ndarray, shape (3, 3)
        Cell vectors as rows (Å); fixed in NVT.
    pbc : numpy.ndarray, shape (3,)
        Periodic boundary conditions per cell vector (bool).

    Returns
    -------
    Path
        The static file written.
    """
    import h5py

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    masses = np.asarray(masses, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    if masses.shape != (len(symbols),) or cell.shape != (3, 3):
        raise ValueError(
            f"static trajectory data: masses shape {masses.shape} for {len(symbols)} symbols and "
            f"cell shape {cell.shape} (expected ({len(symbols)},) and (3, 3))"
        )
    path = directory / STATIC_FILE
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["format"] = FORMAT
        handle.create_dataset("symbols", data=np.array([s.encode() for s in symbols]))
        handle.create_dataset("masses", data=masses).attrs["unit"] = "amu"
        handle.create_dataset("cell", data=cell).attrs["unit"] = "Å"
        handle.create_dataset("pbc", data=np.asarray(pbc, dtype=bool))
    return path


def read_static(directory: Path) -> dict[str, Any]:
    """Read the constant part of the trajectory written by :func:`write_static`.

    Parameters
    ----------
    directory : Path
        Run directory.

    Returns
    -------
    dict
        ``symbols`` (list of str, length N), ``masses`` (N,) amu, ``cell`` (3, 3) Å,
        ``pbc`` (3,) bool.

    Raises
    ------
    TrajectoryError
        When the file is missing or unreadable.
    """
    import h5py

    path = Path(directory) / STATIC_FILE
    if not path.is_file():
        raise TrajectoryError(f"no trajectory in {directory}: {STATIC_FILE} is missing")
    try:
        with h5py.File(path, "r") as handle:
            return {
                "symbols": [s.decode() for s in handle["symbols"][()]],
                "masses": handle["masses"][()],
                "cell": handle["cell"][()],
                "pbc": handle["pbc"][()],
            }
    except (OSError, KeyError) as exc:
        raise TrajectoryError(f"cannot read trajectory static data {path}: {exc}") from exc


class ChunkBuffer:
    """Frames of the chunk being built, held in memory until the next checkpoint commits them.

    Parameters
    ----------
    n_atoms : int
        Number of atoms N.
    """

    def __init__(self, n_atoms: int) -> None:
        self.n_atoms = n_atoms
        self._frames: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return len(self._frames)

    def append(
        self,
        *,
        step: int,
        time_fs: float,
        positions: np.ndarray,
        forces: np.ndarray,
        potential_energy: float,
        kinetic_energy: float,
        temperature: float,
    ) -> None:
        """Add one frame (arguments as in the module table; arrays of shape (N, 3) are copied)."""
        if self._frames and step <= self._frames[-1][0]:
            raise ValueError(f"frame step {step} does not follow step {self._frames[-1][0]}")
        for name, array in (("positions", positions), ("forces", forces)):
            if np.shape(array) != (self.n_atoms, 3):
                raise ValueError(
                    f"frame at step {step}: {name} has shape {np.shape(array)}, "
                    f"expected ({self.n_atoms}, 3)"
                )
        self._frames.append(
            (
                int(step),
                float(time_fs),
                np.array(positions, dtype=np.float64),
                np.array(forces, dtype=np.float64),
                float(potential_energy),
                float(kinetic_energy),
                float(temperature),
            )
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The buffered frames as one array per field (shapes as in the module table)."""
        if not self._frames:
            raise ValueError("the chunk buffer is empty")
        columns = list(zip(*self._frames, strict=True))
        out: dict[str, np.ndarray] = {}
        for name, column in zip(FRAME_FIELDS, columns, strict=True):
            if name == "step":
                out[name] = np.array(column, dtype=np.int64)
            elif name in _PER_ATOM_FIELDS:
                out[name] = np.stack(column)
            else:
                out[name] = np.array(column, dtype=np.float64)
        return out

    def clear(self) -> None:
        """Forget the buffered frames (after a commit, or when a run stops)."""
        self._frames.clear()


def write_chunk(directory: Path, index: int, frames: dict[str, np.ndarray]) -> Path:
    """Write one chunk of frames atomically as ``traj_<index>.h5``.

    Parameters
    ----------
    directory : Path
        Run directory.
    index : int
        Chunk number (0-based, consecutive).
    frames : dict of str to numpy.ndarray
        One array per name in :data:`FRAME_FIELDS`, all with the same first dimension n.

    Returns
    -------
    Path
        The committed chunk file.
    """
    import h5py

    missing = [name for name in FRAME_FIELDS if name not in frames]
    if missing:
        raise ValueError(f"chunk {index}: missing fields {missing}")
    n_frames = len(frames["step"])
    for name in FRAME_FIELDS:
        if len(frames[name]) != n_frames:
            raise ValueError(
                f"chunk {index}: field {name!r} has {len(frames[name])} frames, "
                f"'step' has {n_frames}"
            )
    path = chunk_path(directory, index)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["format"] = FORMAT
        handle.attrs["chunk_index"] = index
        handle.attrs["n_frames"] = n_frames
        for name in FRAME_FIELDS:
            dataset = handle.create_dataset(name, data=frames[name])
            dataset.attrs["unit"] = FIELD_UNITS[name]
    return path


class TrajectoryReader:
    """Read the committed production frames of a run directory, chunk by chunk.

    Parameters
    ----------
    directory : Path
        Run directory holding ``traj_static.h5`` and ``traj_XXXXXX.h5`` chunk files.
    n_chunks : int, optional
        Read only the first ``n_chunks`` chunks (the engine passes the count its checkpoint
        committed). Default: every chunk file present, which must be numbered 0, 1, 2, ...

    Raises
    ------
    TrajectoryError
        When the static file is missing, a chunk number is missing, a chunk file cannot be
        read, has inconsistent shapes, or the steps do not strictly increase.
    """

    def __init__(self, directory: Path, *, n_chunks: int | None = None) -> None:
        self.directory = Path(directory)
        static = read_static(self.directory)
        self.symbols: list[str] = static["symbols"]
        self.masses: np.ndarray = static["masses"]
        self.cell: np.ndarray = static["cell"]
        self.pbc: np.ndarray = static["pbc"]

        indices = committed_chunk_indices(self.directory)
        if n_chunks is not None:
            if len(indices) < n_chunks or indices[:n_chunks] != list(range(n_chunks)):
                raise TrajectoryError(
                    f"{self.directory}: expected committed chunks 0..{n_chunks - 1}, "
                    f"found {indices}"
                )
            indices = indices[:n_chunks]
        for expected, index in enumerate(indices):
            if index != expected:
                raise TrajectoryError(
                    f"{self.directory}: chunk file {chunk_path(self.directory, expected).name} "
                    f"is missing (found {chunk_path(self.directory, index).name} after it)"
                )
        self._paths = [chunk_path(self.directory, i) for i in indices]
        self._chunk_steps = [self._read_steps(path) for path in self._paths]
        self.steps: np.ndarray = (
            np.concatenate(self._chunk_steps) if self._chunk_steps else np.zeros(0, np.int64)
        )
        if np.any(np.diff(self.steps) <= 0):
            bad = int(np.flatnonzero(np.diff(self.steps) <= 0)[0])
            raise TrajectoryError(
                f"{self.directory}: steps do not strictly increase at frame {bad + 1} "
                f"(step {self.steps[bad]} followed by {self.steps[bad + 1]})"
            )

    @property
    def n_atoms(self) -> int:
        """Number of atoms N."""
        return len(self.symbols)

    @property
    def n_frames(self) -> int:
        """Number of committed production frames."""
        return int(self.steps.size)

    @property
    def n_chunks(self) -> int:
        """Number of committed chunk files read."""
        return len(self._paths)

    def _read_steps(self, path: Path) -> np.ndarray:
        import h5py

        try:
            with h5py.File(path, "r") as handle:
                steps = handle["step"][()]
                for name in FRAME_FIELDS:
                    shape = handle[name].shape
                    expected = (
                        (steps.size, self.n_atoms, 3) if name in _PER_ATOM_FIELDS else (steps.size,)
                    )
                    if shape != expected:
                        raise TrajectoryError(
                            f"chunk {path}: dataset {name!r} has shape {shape}, expected {expected}"
                        )
        except (OSError, KeyError) as exc:
            raise TrajectoryError(f"cannot read chunk {path}: {exc}") from exc
        return steps

    def _check_fields(self, fields: str | Sequence[str] | None) -> list[str]:
        if fields is None:
            return list(FRAME_FIELDS)
        names = [fields] if isinstance(fields, str) else list(fields)
        unknown = [name for name in names if name not in FRAME_FIELDS]
        if unknown:
            raise ValueError(f"unknown trajectory fields {unknown}; known: {list(FRAME_FIELDS)}")
        return names

    def iter_chunks(
        self, fields: str | Sequence[str] | None = None
    ) -> Iterator[dict[str, np.ndarray]]:
        """Yield the frames chunk by chunk.

        Parameters
        ----------
        fields : str or sequence of str, optional
            Which of :data:`FRAME_FIELDS` to load (default: all).

        Yields
        ------
        dict of str to numpy.ndarray
            One array per field for the frames of one chunk (shapes as in the module table).
        """
        import h5py

        names = self._check_fields(fields)
        for path in self._paths:
            with h5py.File(path, "r") as handle:
                yield {name: handle[name][()] for name in names}

    def read(
        self, fields: str | Sequence[str] | None = None, stride: int = 1, start: int = 0
    ) -> dict[str, np.ndarray]:
        """Load frames ``start, start + stride, ...`` of the whole production into memory.

        Parameters
        ----------
        fields : str or sequence of str, optional
            Which of :data:`FRAME_FIELDS` to load (default: all).
        stride : int, default 1
            Take every ``stride``-th frame.
        start : int, default 0
            Index of the first frame taken (0-based, over all chunks).

        Returns
        -------
        dict of str to numpy.ndarray
            One array per field; first dimension ``len(range(start, n_frames, stride))``.
        """
        import h5py

        if stride < 1 or start < 0:
            raise ValueError(f"need stride >= 1 and start >= 0, got stride={stride}, start={start}")
        names = self._check_fields(fields)
        parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
        offset = 0
        for path, steps in zip(self._paths, self._chunk_steps, strict=True):
            first = start if start >= offset else start + -(-(offset - start) // stride) * stride
            if first < offset + steps.size:
                with h5py.File(path, "r") as handle:
                    for name in names:
                        parts[name].append(handle[name][first - offset :: stride])
            offset += steps.size
        out: dict[str, np.ndarray] = {}
        for name in names:
            if parts[name]:
                out[name] = np.concatenate(parts[name])
            else:
                tail = (self.n_atoms, 3) if name in _PER_ATOM_FIELDS else ()
                dtype = np.int64 if name == "step" else np.float64
                out[name] = np.zeros((0, *tail), dtype=dtype)
        return out
