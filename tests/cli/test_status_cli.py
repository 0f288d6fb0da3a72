"""``latticebench status``: store summary, workflow states per model, failures with reasons."""

from __future__ import annotations

from fireworks import Firework, ScriptTask, Workflow
from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.hpc.launchpad import ensure_initialized, open_launchpad
from latticebench.hpc.workers import launch
from latticebench.references import import_bundled
from tests.hpc.fixtures import embedded_backend  # noqa: F401

runner = CliRunner()


def test_status_without_a_launchpad_shows_the_stores(tmp_path, monkeypatch):
    from fireworks import fw_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fw_config, "LAUNCHPAD_LOC", None)
    monkeypatch.setattr(fw_config, "MONGOMOCK_SERVERSTORE_FILE", None)
    monkeypatch.delenv("MONGOMOCK_SERVERSTORE_FILE", raising=False)
    import_bundled()
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "hdp-chemmater-2022" in result.output and "1813" in result.output
    assert "Benchmark documents" in result.output
    assert "no LaunchPad configured" in result.output


def test_status_lists_workflow_states_per_model_and_failures(embedded_backend, tmp_path):  # noqa: F811
    from fireworks import FWorker

    lp = str(embedded_backend.launchpad_file)
    with open_launchpad(lp) as pad:
        ensure_initialized(pad)
        for model, script in (("model-a", "true"), ("model-a", "exit 3"), ("model-b", "true")):
            meta = {
                "model": model,
                "compound": "Cs2AgBiBr6",
                "benchmark_key": f"k|{model}|{script}",
            }
            task = ScriptTask(script=script, fizzle_bad_rc=True)
            fw = Firework(task, name="mlip md 0", spec={"_category": "cpu"})
            pad.add_wf(Workflow([fw], name=f"s: Cs2AgBiBr6 × {model}", metadata=meta))
        launch("rapidfire", FWorker(name="w", category="cpu"), pad, launch_dir=tmp_path / "l")
        pad.add_wf(Workflow([Firework(ScriptTask.from_str("true"), spec={"_category": "gpu"})]))
    result = runner.invoke(app, ["status", "--launchpad", lp])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    row_a = next(line for line in lines if "model-a" in line)
    row_b = next(line for line in lines if "model-b" in line)
    assert row_a.split("│")[1:-1] == [" model-a ", "         1 ", "       1 ", "     2 "]
    assert row_b.split("│")[1:-1] == [" model-b ", "         1 ", "       0 ", "     1 "]
    assert "1 failed firework(s)" in result.output
    assert "mlip md 0 (Cs2AgBiBr6 × model-a): " in result.output
    assert "RuntimeError: ScriptTask fizzled! Return code: [3]" in result.output


def test_status_with_a_missing_launchpad_file_fails(tmp_path):
    result = runner.invoke(app, ["status", "-l", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml does not exist" in result.output
