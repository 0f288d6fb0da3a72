"""``latticebench models list | fetch | verify``."""

from __future__ import annotations

import hashlib

from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.settings import override_settings

runner = CliRunner()


def test_list_shows_reference_models_and_chgnet_on_disk():
    result = runner.invoke(app, ["models", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "mace-mpa-0-medium" in result.output
    assert "MACE-matpes-pbe-omat-ft" in result.output
    chgnet_line = next(line for line in result.output.splitlines() if "chgnet-0.3.0" in line)
    assert "package" in chgnet_line  # shipped weights found
    assert "missing" in next(line for line in result.output.splitlines() if "mace-mpa-0" in line)
    with_paths = runner.invoke(app, ["models", "list", "--paths"], env={"COLUMNS": "400"})
    assert "pretrained" in with_paths.output


def test_verify_against_recorded_hash(tmp_path):
    path = tmp_path / "mace-mp-0b3-medium.model"
    path.write_bytes(b"pretend weights")
    digest = hashlib.sha256(b"pretend weights").hexdigest()
    (tmp_path / "mace-mp-0b3-medium.model.sha256").write_text(f"{digest}  {path.name}\n")
    with override_settings(model_dir=tmp_path):
        ok = runner.invoke(app, ["models", "verify", "mace-mp-0b3-medium"])
        assert ok.exit_code == 0, ok.output
        assert digest in ok.output and "OK" in ok.output
        path.write_bytes(b"corrupted copy")
        bad = runner.invoke(app, ["models", "verify", "mace-mp-0b3-medium"])
    assert bad.exit_code == 1
    assert "MISMATCH" in bad.output


def test_verify_with_expected_option(tiny_mace_path):
    digest = hashlib.sha256(tiny_mace_path.read_bytes()).hexdigest()
    result = runner.invoke(app, ["models", "verify", str(tiny_mace_path), "--expected", digest])
    assert result.exit_code == 0 and "OK" in result.output
    wrong = runner.invoke(app, ["models", "verify", str(tiny_mace_path), "--expected", "0" * 64])
    assert wrong.exit_code == 1


def test_fetch_offline_explains(monkeypatch, tmp_path):
    import latticebench.models.checkpoints as checkpoints

    monkeypatch.setattr(checkpoints, "is_online", lambda *a, **k: False)
    result = runner.invoke(app, ["models", "fetch", "mace-mpa-0-medium", "--dest", str(tmp_path)])
    assert result.exit_code == 1
    assert "unreachable" in result.output
    assert "mace-mpa-0-medium.model" in result.output
    assert not list(tmp_path.iterdir())  # nothing half-written
