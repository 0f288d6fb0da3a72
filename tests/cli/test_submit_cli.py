"""``latticebench submit``: dry run, submission, duplicates, clear errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.hpc.launchpad import open_launchpad
from tests.hpc.fixtures import embedded_backend, tiny_study, write_study  # noqa: F401

runner = CliRunner()


@pytest.fixture
def study_file(tmp_path, tiny_mace_path):
    return write_study(tmp_path / "study.yaml", tiny_study(tiny_mace_path, limit=2))


@pytest.fixture
def no_launchpad(tmp_path, monkeypatch):
    from fireworks import fw_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fw_config, "LAUNCHPAD_LOC", None)
    monkeypatch.setattr(fw_config, "MONGOMOCK_SERVERSTORE_FILE", None)
    monkeypatch.delenv("MONGOMOCK_SERVERSTORE_FILE", raising=False)


def test_dry_run_without_a_launchpad(study_file, no_launchpad):
    result = runner.invoke(app, ["submit", str(study_file), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would add 2 workflow(s), 10 firework(s) (cpu 4, gpu 6); skipped 0" in result.output
    assert result.output.count("  would add demo: ") == 2
    assert "no LaunchPad configured: workflows already queued there were not checked" in (
        result.output
    )


def test_submitting_needs_a_launchpad(study_file, no_launchpad):
    result = runner.invoke(app, ["submit", str(study_file)])
    assert result.exit_code == 1
    assert "error: no LaunchPad configured: pass --launchpad FILE" in result.output


def test_submit_then_submit_again(study_file, embedded_backend):  # noqa: F811
    lp = str(embedded_backend.launchpad_file)
    first = runner.invoke(app, ["submit", str(study_file), "-l", lp])
    assert first.exit_code == 0, first.output
    assert "added 2 workflow(s), 10 firework(s)" in first.output
    assert "(fw 1–5)" in first.output and "(fw 6–10)" in first.output
    second = runner.invoke(app, ["submit", str(study_file), "-l", lp, "--verbose"])
    assert second.exit_code == 0, second.output
    assert "added 0 workflow(s), 0 firework(s); skipped 2" in second.output
    assert "skipped 2: workflow READY" in second.output
    assert second.output.count("hdp-chemmater-2022 | ") == 2  # --verbose lists the keys
    with open_launchpad(lp) as pad:
        assert pad.fireworks.count_documents({}) == 10


def test_bad_study_file_is_named(tmp_path, no_launchpad):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodels: []\n")
    result = runner.invoke(app, ["submit", str(bad), "--dry-run"])
    assert result.exit_code == 1
    assert f"error: {bad}: models" in result.output


def test_missing_launchpad_file_is_named(study_file, tmp_path):
    result = runner.invoke(app, ["submit", str(study_file), "-l", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "none.yaml does not exist" in result.output
