"""``latticebench import ...``: summaries, clean errors, --skip-bad, --update."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from latticebench.cli import app
from latticebench.settings import override_settings
from tests.references.helpers import reference, store_snapshot, write_aimd_folder

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def _invoke(*args: str):
    return runner.invoke(app, ["import", *args], env=WIDE)


def _counts_row(output: str) -> list[int]:
    """The numbers of the summary table: records, inserted, unchanged, updated, refused, bad."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 6 and all(c.isdigit() for c in cells):
            return [int(c) for c in cells]
    raise AssertionError(f"no summary row in:\n{output}")


def test_bundled_in_one_command_then_nothing_changes():
    first = _invoke("bundled")
    assert first.exit_code == 0, first.output
    assert _counts_row(first.output) == [1813, 1813, 0, 0, 0, 0]
    second = _invoke("bundled")
    assert second.exit_code == 0, second.output
    assert _counts_row(second.output) == [1813, 0, 1813, 0, 0, 0]


def _csv(tmp_path, rows: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text("name,sigma,e_meV\n" + rows)
    return path


MAP = ["--map", "compound=name", "--map", "sigma_300K=sigma", "--map", "energy=e_meV"]


def test_csv_with_mapping_and_units(tmp_path):
    path = _csv(tmp_path, "Cs2AgBiBr6,0.3,-1167\nCs3BiI6,1.2,-900\n")
    result = _invoke("csv", str(path), "--dataset", "mine", *MAP, "--unit", "energy=meV/atom")
    assert result.exit_code == 0, result.output
    assert _counts_row(result.output) == [2, 2, 0, 0, 0, 0]
    assert reference("Cs3BiI6", "mine")["formation_energy_eV_per_atom"] == -0.9


def test_bad_rows_fail_cleanly_and_write_nothing(tmp_path):
    path = _csv(tmp_path, "Cs2AgBiBr6,0.3,-1167\nCs2AgBiQq6,0.2,-1\n")
    result = _invoke("csv", str(path), "--dataset", "mine", *MAP)
    assert result.exit_code == 1
    assert "error:" in result.output and str(path) in result.output
    assert "line 3 (Cs2AgBiQq6)" in result.output and "--skip-bad" in result.output
    assert "Traceback" not in result.output
    assert store_snapshot() == ([], [])
    skipped = _invoke("csv", str(path), "--dataset", "mine", *MAP, "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert _counts_row(skipped.output) == [2, 1, 0, 0, 0, 1]
    assert "bad line 3 (Cs2AgBiQq6): unparseable compound name" in skipped.output


def test_changed_values_are_refused_until_update(tmp_path):
    _invoke("csv", str(_csv(tmp_path, "Cs2AgBiBr6,0.3,-1167\n")), "--dataset", "mine", *MAP)
    changed = _csv(tmp_path, "Cs2AgBiBr6,0.35,-1167\n", name="v2.csv")
    refused = _invoke("csv", str(changed), "--dataset", "mine", *MAP)
    assert refused.exit_code == 1
    assert "refused (dataset='mine', compound='Cs2AgBiBr6'): sigma_300K: 0.3 -> 0.35" in (
        refused.output
    )
    assert "--update" in refused.output
    assert reference("Cs2AgBiBr6", "mine")["sigma_300K"] == 0.3
    updated = _invoke("csv", str(changed), "--dataset", "mine", *MAP, "--update")
    assert updated.exit_code == 0, updated.output
    assert _counts_row(updated.output) == [1, 0, 0, 1, 0, 0]
    assert reference("Cs2AgBiBr6", "mine")["updates"][0]["changes"][0]["new"] == 0.35


def test_missing_column_and_malformed_options(tmp_path):
    path = _csv(tmp_path, "Cs2AgBiBr6,0.3,-1167\n")
    missing = _invoke("csv", str(path), "--dataset", "mine", "--map", "compound=formula")
    assert missing.exit_code == 1 and "missing column(s) 'formula'" in missing.output
    malformed = _invoke("csv", str(path), "--dataset", "mine", "--map", "compound")
    assert malformed.exit_code == 1 and "--map expects FIELD=VALUE" in malformed.output


def test_vasp_folder_and_truncated_run(tmp_path):
    folder = tmp_path / "Cs2AgBiBr6"
    write_aimd_folder(folder, n_frames=3)
    result = _invoke("vasp", str(folder), "--dataset", "raw")
    assert result.exit_code == 0, result.output
    assert _counts_row(result.output) == [1, 1, 0, 0, 0, 0]
    before = store_snapshot()
    other = tmp_path / "again" / "Cs2AgBiBr6"
    write_aimd_folder(other, n_frames=3, seed=4)
    text = (other / "vasprun.xml").read_text()
    (other / "vasprun.xml").write_text(text[: len(text) * 2 // 3])
    broken = _invoke("vasp", str(other), "--dataset", "raw")
    assert broken.exit_code == 1
    assert str(other / "vasprun.xml") in broken.output and "truncated" in broken.output
    assert store_snapshot() == before


def test_not_sqlite_database(tmp_path):
    path = tmp_path / "double_halide_pv.db"
    path.write_text("hello")
    result = _invoke("ase-db", str(path))
    assert result.exit_code == 1 and "not an SQLite database" in result.output


def test_unreachable_mongodb_is_a_clean_error():
    uri = "mongodb://lb:hunter2@127.0.0.1:1/"
    start = time.monotonic()
    with override_settings(store="mongodb", mongodb_uri=uri, mongodb_timeout_ms=1000):
        result = _invoke("bundled")
    assert time.monotonic() - start < 15
    assert result.exit_code == 1
    assert "no MongoDB server answered at mongodb://lb:***@127.0.0.1:1/" in result.output
    assert "hunter2" not in result.output and "Traceback" not in result.output
