"""A worker killed mid-MD: detect_lostruns --rerun, a new launch resumes from the checkpoint.

On FireWorks' mongomock LaunchPad (one process at a time) the test process checks the MD firework
out, exactly as a worker's rocket does, and a child process runs its task and is killed with
SIGKILL. On a MongoDB server the child is a whole ``latticebench launch singleshot`` worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from latticebench.hpc.launchpad import open_launchpad
from latticebench.hpc.submission import submit_study
from latticebench.hpc.workers import launch, load_fworker
from latticebench.md import TrajectoryReader, read_checkpoint
from latticebench.settings import get_settings
from latticebench.stores import get_job_store
from tests.conftest import subprocess_env
from tests.hpc.fixtures import ROOT, TINY_OVERRIDES, tiny_study

pytestmark = pytest.mark.slow

LONG_MD = {"equilibration_steps": 10, "production_steps": 400, "checkpoint_interval": 20}


def _wait_for_checkpoint(directory, min_step, child, timeout_s=240.0):
    """Poll until the run's checkpoint reaches ``min_step``; return that step."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail(
                f"the worker ended by itself (exit code {child.returncode}) before the kill"
            )
        try:
            checkpoint = read_checkpoint(directory)
        except Exception:  # being replaced at this instant
            checkpoint = None
        if checkpoint is not None and checkpoint.step >= min_step:
            return checkpoint.step
        time.sleep(0.05)
    pytest.fail(f"no checkpoint at step >= {min_step} in {directory} within {timeout_s} s")


def test_killed_worker_resumes_from_the_checkpoint(backend, workers, tiny_mace_path, tmp_path):
    spec = tiny_study(tiny_mace_path, limit=1)
    overrides = {**TINY_OVERRIDES, "md": LONG_MD}
    spec = spec.model_copy(
        update={"protocol": spec.protocol.model_copy(update={"overrides": overrides})}
    )
    gpu = load_fworker(workers["gpu"])
    with open_launchpad(backend.launchpad_file) as pad:
        submit_study(spec, pad)
        for _ in range(2):  # relax, then phonons
            launch("singleshot", gpu, pad, launch_dir=tmp_path / "launches")
        md = pad.fireworks.find_one({"name": "mlip md 0"}, {"fw_id": 1})["fw_id"]
        assert pad.get_fw_by_id(md).state == "READY"
        firework = pad.get_fw_by_id(md)
        job = firework.tasks[0]["job"]
        env = subprocess_env(**backend.worker_env, OMP_NUM_THREADS="1")
        launch_dir = tmp_path / "killed-launch"
        launch_dir.mkdir()
        if backend.name == "mongomock":
            checked_out, _ = pad.checkout_fw(gpu, str(launch_dir), fw_id=md)
            checked_out.to_file(str(launch_dir / "FW.json"))
            command = [sys.executable, "-m", "tests.hpc.fw_child", "FW.json", str(workers["gpu"])]
            env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env['PYTHONPATH']}"  # for tests.hpc.fw_child
            child = subprocess.Popen(command, cwd=launch_dir, env=env)
        else:
            command = [sys.executable, "-m", "latticebench.cli", "launch", "singleshot",
                       "-w", str(workers["gpu"]), "-l", str(backend.launchpad_file),
                       "--fw-id", str(md)]  # fmt: skip
            child = subprocess.Popen(command, cwd=launch_dir, env=env)

    run_dir = get_settings().runs_dir / "md" / f"{job.uuid}-0"
    try:
        _wait_for_checkpoint(run_dir, 40, child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    killed_at = read_checkpoint(run_dir).step  # the last commit before the kill
    assert 40 <= killed_at < 410, "the kill must land in the middle of the run"

    with open_launchpad(backend.launchpad_file) as pad:
        assert pad.get_fw_by_id(md).state == "RUNNING"  # the launch is lost, not failed
        lost_launches, lost_fws, _ = pad.detect_lostruns(expiration_secs=0, rerun=True)
        assert lost_fws == [md] and len(lost_launches) == 1
        assert pad.get_fw_by_id(md).state == "READY"
        launch("singleshot", gpu, pad, launch_dir=tmp_path / "launches", fw_id=md)
        assert pad.get_fw_by_id(md).state == "COMPLETED"

    store = get_job_store()
    store.connect()
    outputs = list(store.query({"uuid": job.uuid}))
    assert len(outputs) == 1  # exactly one result for the MD job
    doc = store.query_one({"uuid": job.uuid}, load=True)["output"]
    assert doc["state"] == "completed"
    assert doc["started_from_step"] == killed_at  # resumed, not restarted
    assert doc["n_frames"] == doc["n_frames_expected"] == 400
    steps = TrajectoryReader(run_dir).read("step")["step"]
    assert np.array_equal(steps, np.arange(11, 411))  # every frame once, none lost
