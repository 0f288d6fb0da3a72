"""The published ASE SQLite schema: σ, formation energy and structure per compound."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.io.ase import AseAtomsAdaptor

from latticebench.references import (
    BadRecordsError,
    DatasetInfo,
    ImportFileError,
    import_ase_db,
)
from latticebench.structures import build_double_perovskite
from tests.references.helpers import reference, store_snapshot

ROWS = {
    "Cs2AgBiBr6": {
        "sigma_300K_single": 0.336,
        "formation_energy": -1.167,
        "sigma_mode_averaged_300K": 1.36,
    },
    "Cs2NaInCl6": {
        "sigma_300K_single": 0.512,
        "formation_energy": -1.9,
        "sigma_mode_averaged_300K": 2.1,
    },
    "Cs3BiI6": {"sigma_300K_single": 1.42, "formation_energy": -0.9},
}


def _atoms(compound: str, a: float | None = None):
    structure = build_double_perovskite(compound, primitive=True, lattice_parameter=a)
    return AseAtomsAdaptor.get_atoms(structure)


def _database(path, rows=ROWS, extra=()):
    import ase.db

    with ase.db.connect(str(path)) as db:
        for i, (compound, pairs) in enumerate(rows.items()):
            db.write(_atoms(compound, 11.0 + 0.1 * i), uid=f"dpv_{compound}", **pairs)
        for atoms, pairs in extra:
            db.write(atoms, **pairs)
    return path


def test_published_schema_imports_sigma_energy_and_structure(tmp_path):
    report = import_ase_db(_database(tmp_path / "double_halide_pv.db"))
    assert report.counts == {"inserted": 3, "unchanged": 0, "updated": 0, "refused": 0, "bad": 0}
    for i, (compound, pairs) in enumerate(ROWS.items()):
        doc = reference(compound, "hdp-chemmater-2022")
        assert doc["sigma_300K"] == pairs["sigma_300K_single"]
        assert doc.get("formation_energy_eV_per_atom") == pairs.get("formation_energy")
        assert doc.get("sigma_weighted_frequency_THz") == pairs.get("sigma_mode_averaged_300K")
        assert doc["sigma_definition"] == "std"
        assert doc["doi"] == "10.1021/acs.chemmater.2c01779"
        assert doc["source"]["location"] == f"row id={i + 1}"
        from pymatgen.core import Structure

        stored = Structure.from_dict(doc["structure"])
        expected = build_double_perovskite(
            compound, primitive=True, lattice_parameter=11.0 + 0.1 * i
        )
        assert len(stored) == 10
        assert np.allclose(stored.lattice.matrix, expected.lattice.matrix, atol=1e-12)
        assert np.allclose(stored.cart_coords, expected.cart_coords, atol=1e-12)
        assert [s.species_string for s in stored] == [s.species_string for s in expected]
    again = import_ase_db(tmp_path / "double_halide_pv.db")
    assert again.counts["unchanged"] == 3 and again.counts["inserted"] == 0


def test_a_row_without_sigma_is_reported_not_kept(tmp_path):
    extra = [(_atoms("Rb2AgBiBr6"), {"uid": "dpv_Rb2AgBiBr6", "formation_energy": -1.0})]
    path = _database(tmp_path / "x.db", extra=extra)
    with pytest.raises(BadRecordsError) as info:
        import_ase_db(path)
    assert "row id=4 (Rb2AgBiBr6): no sigma_300K_single key" in str(info.value)
    assert str(path) in str(info.value)
    assert store_snapshot() == ([], [])
    report = import_ase_db(path, skip_bad=True)
    assert report.counts["inserted"] == 3 and report.counts["bad"] == 1
    assert report.bad[0].compound == "Rb2AgBiBr6"
    docs, _ = store_snapshot()
    assert "Rb2AgBiBr6" not in {d["compound"] for d in docs}


@pytest.mark.parametrize(
    ("atoms_compound", "pairs", "message"),
    [
        (
            "Rb2AgBiBr6",
            {"uid": "dpv_Rb2AgBiBr6", "sigma_300K_single": float("nan")},
            "sigma_300K_single is NaN",
        ),
        ("Rb2AgBiBr6", {"uid": "dpv_Rb2AgZzBr6", "sigma_300K_single": 0.3}, "unknown element 'Zz'"),
        (
            "Rb2AgBiBr6",
            {"uid": "dpv_Rb2-AgBiBr6", "sigma_300K_single": 0.3},
            "unparseable compound name",
        ),
        (
            "Rb2AgBiBr6",
            {"uid": "Rb2AgBiBr6_Pm3m", "sigma_300K_single": 0.3},
            "is not 'dpv_<compound>'",
        ),
        (
            "Rb2AgBiBr6",
            {"uid": "dpv_Rb2AgBiCl6", "sigma_300K_single": 0.3},
            "structure has composition",
        ),
        (
            "Rb2AgBiBr6",
            {"uid": "dpv_Cs2AgBiBr6", "sigma_300K_single": 0.3},
            "appears more than once",
        ),
    ],
)
def test_bad_rows_name_the_row_and_write_nothing(tmp_path, atoms_compound, pairs, message):
    path = _database(tmp_path / "x.db", extra=[(_atoms(atoms_compound), pairs)])
    with pytest.raises(BadRecordsError) as info:
        import_ase_db(path)
    assert "row id=" in str(info.value) and message in str(info.value)
    assert store_snapshot() == ([], [])


def test_a_file_that_is_not_sqlite(tmp_path):
    path = tmp_path / "double_halide_pv.db"
    path.write_text("compound,sigma\nCs2AgBiBr6,0.3\n")
    with pytest.raises(ImportFileError) as info:
        import_ase_db(path)
    assert str(path) in str(info.value) and "not an SQLite database" in str(info.value)
    assert store_snapshot() == ([], [])


def test_an_sqlite_file_that_is_not_an_ase_database(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(ImportFileError, match=r"not a readable ASE database|no rows"):
        import_ase_db(path)


def test_custom_dataset_info(tmp_path):
    info = DatasetInfo(dataset="my-rerun", level_of_theory="DFT PBEsol", sigma_definition="rms")
    import_ase_db(_database(tmp_path / "x.db"), info=info)
    doc = reference("Cs3BiI6", "my-rerun")
    assert (doc["sigma_definition"], doc["level_of_theory"]) == ("rms", "DFT PBEsol")
    assert "doi" not in doc
