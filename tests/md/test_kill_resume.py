"""A run SIGKILLed mid-production resumes from its checkpoint and equals the uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from latticebench.md import MDRun, TrajectoryReader, read_checkpoint
from latticebench.md.trajectory import FRAME_FIELDS
from tests.conftest import subprocess_env
from tests.md.calculators import HarmonicLattice
from tests.md.conftest import short_parameters

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_then_resume_gives_the_uninterrupted_trajectory(crystal, tmp_path):
    parameters = short_parameters(
        equilibration_steps=30, production_steps=600, record_interval=2, checkpoint_interval=50
    )
    directory = tmp_path / "killed"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.md.md_child",
            str(directory),
            parameters.model_dump_json(),
            "0.004",
        ],
        cwd=REPO_ROOT,
        env=subprocess_env(),
    )
    try:
        deadline = time.monotonic() + 120
        # committed = counted by the checkpoint (a chunk file alone may not be counted yet)
        while (checkpoint := read_checkpoint(directory)) is None or checkpoint.n_chunks < 2:
            assert child.poll() is None, f"child exited with {child.returncode} before the kill"
            assert time.monotonic() < deadline, "child committed no 2 chunks in 120 s"
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    at_kill = read_checkpoint(directory)
    assert at_kill.phase == "production"
    assert at_kill.n_chunks >= 2 and at_kill.step < parameters.total_steps
    first_chunk = directory / "traj_000000.h5"
    identity = (first_chunk.stat().st_ino, first_chunk.stat().st_mtime_ns)

    status = MDRun(directory, crystal, parameters).run(HarmonicLattice(crystal))
    assert (status.state, status.n_frames) == ("completed", 300)
    # resumed, not restarted: the chunk committed before the kill was never rewritten
    assert (first_chunk.stat().st_ino, first_chunk.stat().st_mtime_ns) == identity

    resumed = TrajectoryReader(directory)
    assert resumed.n_frames == parameters.production_steps // parameters.record_interval
    assert np.all(np.diff(resumed.steps) > 0)
    np.testing.assert_array_equal(resumed.steps, np.arange(32, 631, 2))

    MDRun(tmp_path / "reference", crystal, parameters).run(HarmonicLattice(crystal))
    reference = TrajectoryReader(tmp_path / "reference").read()
    frames = resumed.read()
    for name in FRAME_FIELDS:
        np.testing.assert_array_equal(frames[name], reference[name], err_msg=name)
