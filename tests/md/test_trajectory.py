"""Chunked HDF5 trajectory: round trip, strided reads, atomic commits, clear errors."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from latticebench.md.atomic import atomic_path
from latticebench.md.trajectory import (
    FRAME_FIELDS,
    ChunkBuffer,
    TrajectoryError,
    TrajectoryReader,
    chunk_path,
    committed_chunk_indices,
    discard_chunks,
    write_chunk,
    write_static,
)
from tests.conftest import subprocess_env

N_ATOMS = 4
SYMBOLS = ["Cs", "Cs", "Ag", "Br"]
MASSES = np.array([132.905, 132.905, 107.868, 79.904])
CELL = np.diag([6.0, 6.5, 7.0])


def random_frames(first_step: int, n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    steps = first_step + 2 * np.arange(n)
    return {
        "step": steps.astype(np.int64),
        "time_fs": 0.5 * steps,
        "positions": rng.normal(size=(n, N_ATOMS, 3)),
        "forces": rng.normal(size=(n, N_ATOMS, 3)),
        "potential_energy": rng.normal(size=n),
        "kinetic_energy": rng.random(n),
        "temperature": 300 * rng.random(n),
    }


@pytest.fixture
def written(tmp_path):
    """Static data and three chunks of 5, 3 and 7 frames; returns (directory, concatenation)."""
    write_static(tmp_path, SYMBOLS, MASSES, CELL, np.array([True, True, False]))
    chunks = [random_frames(2, 5, 0), random_frames(12, 3, 1), random_frames(18, 7, 2)]
    for index, frames in enumerate(chunks):
        write_chunk(tmp_path, index, frames)
    whole = {name: np.concatenate([c[name] for c in chunks]) for name in FRAME_FIELDS}
    return tmp_path, chunks, whole


def test_round_trip_static_and_chunks(written):
    directory, chunks, whole = written
    reader = TrajectoryReader(directory)
    assert reader.symbols == SYMBOLS
    np.testing.assert_array_equal(reader.masses, MASSES)
    np.testing.assert_array_equal(reader.cell, CELL)
    np.testing.assert_array_equal(reader.pbc, [True, True, False])
    assert (reader.n_frames, reader.n_chunks, reader.n_atoms) == (15, 3, N_ATOMS)
    np.testing.assert_array_equal(reader.steps, whole["step"])
    for got, expected in zip(reader.iter_chunks(), chunks, strict=True):
        assert set(got) == set(FRAME_FIELDS)
        for name in FRAME_FIELDS:
            np.testing.assert_array_equal(got[name], expected[name])
    only_forces = next(reader.iter_chunks("forces"))
    assert list(only_forces) == ["forces"]


@pytest.mark.parametrize(
    ("stride", "start"), [(1, 0), (2, 0), (3, 1), (4, 6), (7, 9), (1, 14), (5, 20)]
)
def test_strided_read_equals_slicing_the_concatenation(written, stride, start):
    directory, _, whole = written
    got = TrajectoryReader(directory).read(["step", "positions", "temperature"], stride, start)
    for name in ("step", "positions", "temperature"):
        np.testing.assert_array_equal(got[name], whole[name][start::stride])
    assert got["positions"].shape[1:] == (N_ATOMS, 3)


def test_read_all_fields_and_unknown_field(written):
    directory, _, whole = written
    reader = TrajectoryReader(directory)
    everything = reader.read()
    assert set(everything) == set(FRAME_FIELDS)
    np.testing.assert_array_equal(everything["forces"], whole["forces"])
    with pytest.raises(ValueError, match="unknown trajectory fields \\['velocities'\\]"):
        reader.read("velocities")
    with pytest.raises(ValueError, match="stride"):
        reader.read("step", stride=0)


def test_empty_trajectory(tmp_path):
    write_static(tmp_path, SYMBOLS, MASSES, CELL, np.ones(3, bool))
    reader = TrajectoryReader(tmp_path)
    assert reader.n_frames == 0
    assert reader.read("positions")["positions"].shape == (0, N_ATOMS, 3)


def test_tmp_files_are_invisible_and_discarded(written):
    directory, _, whole = written
    (directory / "traj_000003.h5.tmp").write_bytes(b"half a file")
    assert committed_chunk_indices(directory) == [0, 1, 2]
    assert TrajectoryReader(directory).n_frames == 15
    removed = discard_chunks(directory, 2)
    assert sorted(p.name for p in removed) == ["traj_000002.h5", "traj_000003.h5.tmp"]
    assert sorted(p.name for p in directory.iterdir()) == [
        "traj_000000.h5",
        "traj_000001.h5",
        "traj_static.h5",
    ]
    np.testing.assert_array_equal(TrajectoryReader(directory).steps, whole["step"][:8])


def test_limit_to_the_chunks_a_checkpoint_counts(written):
    directory, _, _ = written
    assert TrajectoryReader(directory, n_chunks=2).n_frames == 8
    with pytest.raises(TrajectoryError, match=r"expected committed chunks 0\.\.3"):
        TrajectoryReader(directory, n_chunks=4)


def test_missing_chunk_is_named(written):
    directory, _, _ = written
    chunk_path(directory, 1).unlink()
    with pytest.raises(TrajectoryError, match=r"traj_000001\.h5 is missing"):
        TrajectoryReader(directory)


def test_corrupt_chunk_is_named(written):
    directory, _, _ = written
    chunk_path(directory, 2).write_bytes(b"not hdf5")
    with pytest.raises(TrajectoryError, match=r"traj_000002\.h5"):
        TrajectoryReader(directory)


def test_missing_static_file(tmp_path):
    with pytest.raises(TrajectoryError, match=r"traj_static\.h5 is missing"):
        TrajectoryReader(tmp_path)


def test_steps_must_increase_across_chunks(tmp_path):
    write_static(tmp_path, SYMBOLS, MASSES, CELL, np.ones(3, bool))
    write_chunk(tmp_path, 0, random_frames(10, 3, 0))
    write_chunk(tmp_path, 1, random_frames(14, 3, 1))  # 14 <= 14: repeated step
    with pytest.raises(TrajectoryError, match="step 14 followed by 14"):
        TrajectoryReader(tmp_path)


def test_write_chunk_rejects_ragged_fields(tmp_path):
    frames = random_frames(2, 4, 0)
    frames["temperature"] = frames["temperature"][:3]
    with pytest.raises(ValueError, match="'temperature' has 3 frames, 'step' has 4"):
        write_chunk(tmp_path, 0, frames)
    assert list(tmp_path.iterdir()) == []


def test_chunk_buffer_validates_and_stacks():
    buffer = ChunkBuffer(N_ATOMS)
    frame = {
        "time_fs": 1.0,
        "positions": np.zeros((N_ATOMS, 3)),
        "forces": np.ones((N_ATOMS, 3)),
        "potential_energy": -1.0,
        "kinetic_energy": 0.5,
        "temperature": 300.0,
    }
    buffer.append(step=3, **frame)
    buffer.append(step=5, **frame)
    with pytest.raises(ValueError, match="step 5 does not follow step 5"):
        buffer.append(step=5, **frame)
    with pytest.raises(ValueError, match=r"forces has shape \(3, 3\)"):
        buffer.append(step=7, **{**frame, "forces": np.ones((3, 3))})
    arrays = buffer.arrays()
    np.testing.assert_array_equal(arrays["step"], [3, 5])
    assert arrays["forces"].shape == (2, N_ATOMS, 3)
    assert arrays["step"].dtype == np.int64
    buffer.clear()
    assert len(buffer) == 0


def test_atomic_path_leaves_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "data.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new but incomplete")
        raise RuntimeError("writer crashed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.txt"]


WRITER_SCRIPT = """
import sys
import numpy as np
from latticebench.md.trajectory import write_chunk, write_static

directory = sys.argv[1]
n_atoms = 2000
masses = np.full(n_atoms, 39.948)
write_static(directory, ["Ar"] * n_atoms, masses, np.eye(3) * 40, np.ones(3, bool))
index = 0
while True:
    rng = np.random.default_rng(index)
    frames = {
        "step": np.arange(50 * index + 1, 50 * index + 51),
        "time_fs": np.zeros(50),
        "positions": rng.normal(size=(50, n_atoms, 3)),
        "forces": rng.normal(size=(50, n_atoms, 3)),
        "potential_energy": np.zeros(50),
        "kinetic_energy": np.zeros(50),
        "temperature": np.zeros(50),
    }
    write_chunk(directory, index, frames)
    index += 1
"""


def test_sigkill_during_writes_cannot_corrupt_committed_chunks(tmp_path):
    """A writer killed at an arbitrary moment leaves only complete, readable chunks."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER_SCRIPT)
    directory = tmp_path / "traj"
    child = subprocess.Popen([sys.executable, str(script), str(directory)], env=subprocess_env())
    try:
        deadline = time.monotonic() + 60
        while len(committed_chunk_indices(directory)) < 3 and time.monotonic() < deadline:
            assert child.poll() is None, "writer died on its own"
            time.sleep(0.005)
        # kill while the next (2.4 MB) chunk is being written, if we can see it
        while not list(directory.glob("*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.0005)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    reader = TrajectoryReader(directory)
    assert reader.n_chunks >= 3
    for index, chunk in enumerate(reader.iter_chunks(["step", "positions"])):
        rng = np.random.default_rng(index)
        np.testing.assert_array_equal(chunk["step"], np.arange(50 * index + 1, 50 * index + 51))
        np.testing.assert_array_equal(chunk["positions"], rng.normal(size=(50, 2000, 3)))
    # the kill landed while the next chunk was half-written: its .tmp is the only casualty
    leftovers = [p.name for p in Path(directory).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [f"traj_{reader.n_chunks:06d}.h5.tmp"]
