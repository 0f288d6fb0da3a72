"""An MD that always explodes: the firework FIZZLES with its reason stored, the benchmark
document records the failure, status shows it, and the key can be submitted again."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.hpc.launchpad import open_launchpad
from latticebench.hpc.monitoring import failed_fireworks, workflow_states_by_model
from latticebench.hpc.submission import submit_study
from latticebench.hpc.workers import launch, load_fworker
from latticebench.stores import BENCHMARKS_COLLECTION, connected_store, get_store
from tests.hpc.faulty_mace import write_faulty_mace
from tests.hpc.fixtures import TINY_OVERRIDES, tiny_study

pytestmark = pytest.mark.slow


def test_always_nan_md_fizzles_with_the_reason_stored(
    embedded_backend, embedded_workers, tiny_mace_path, tmp_path
):
    # NaN forces whenever the model runs in float32: the MD (md_dtype float32) but not the
    # float64 relaxation and phonons
    model = write_faulty_mace(tiny_mace_path, tmp_path / "nan-md.model", nan_dtype="float32")
    spec = tiny_study(model, limit=1)
    overrides = {
        **TINY_OVERRIDES,
        "relax": {**TINY_OVERRIDES["relax"], "dtype": "float64"},
        "phonons": {**TINY_OVERRIDES["phonons"], "dtype": "float64"},
        "md_dtype": "float32",
    }
    spec = spec.model_copy(
        update={"protocol": spec.protocol.model_copy(update={"overrides": overrides})}
    )
    lp = embedded_backend.launchpad_file
    with open_launchpad(lp) as pad:
        submit_study(spec, pad)
        launch("rapidfire", load_fworker(embedded_workers["gpu"]), pad, launch_dir=tmp_path / "g")
        states = {fw["name"]: fw["state"] for fw in pad.fireworks.find({}, {"name": 1, "state": 1})}
        assert states == {
            "mlip relax": "COMPLETED",
            "mlip phonons": "COMPLETED",
            "mlip md 0": "FIZZLED",
            "anharmonicity": "READY",  # allowed to run after a fizzled parent
            "compare with reference": "WAITING",
        }
        # σ^A and the comparison run on the CPU queue and record the failure
        launch("rapidfire", load_fworker(embedded_workers["cpu"]), pad, launch_dir=tmp_path / "c")
        states = {fw["name"]: fw["state"] for fw in pad.fireworks.find({}, {"name": 1, "state": 1})}
        assert states["anharmonicity"] == states["compare with reference"] == "COMPLETED"
        with connected_store(get_store(BENCHMARKS_COLLECTION)) as store:
            (doc,) = list(store.query())
        assert doc["mlip"]["sigma"] is None
        assert doc["mlip"]["failure_reason"] == (
            "no MD frames to analyse (run 0: the MD job did not finish)"
        )
        [failed] = failed_fireworks(pad)
        assert failed.name == "mlip md 0" and failed.model == str(model)
        assert failed.workflow == f"demo: {failed.compound} × {model}"
        assert "MD keeps exploding: non-finite forces at step 0" in failed.reason
        assert "after 3 of 3 allowed timestep halvings (time step 1 → 0.5 → 0.25 → 0.125 fs)" in (
            failed.reason
        )
        # FireWorks judges a workflow by its leaves, which completed
        assert workflow_states_by_model(pad) == {str(model): {"COMPLETED": 1}}

    status = CliRunner().invoke(app, ["status", "--launchpad", str(lp)])
    assert status.exit_code == 0, status.output
    assert "1 failed firework(s)" in status.output
    assert f"fw {failed.fw_id} mlip md 0 ({failed.compound} ×" in status.output
    assert "MD keeps exploding" in status.output

    again = CliRunner().invoke(app, ["submit", str(_write(spec, tmp_path)), "-l", str(lp)])
    assert again.exit_code == 0, again.output
    assert "added 1 workflow(s)" in again.output
    assert "earlier workflow(s) COMPLETED stay on the LaunchPad" in again.output


def _write(spec, folder):
    from tests.hpc.fixtures import write_study

    return write_study(folder / "study.yaml", spec)
