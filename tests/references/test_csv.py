"""CSV tables: column mapping, unit conversion, bad rows (all-or-nothing / --skip-bad)."""

from __future__ import annotations

import pytest

from latticebench.references import BadRecordsError, ImportFileError, import_csv
from tests.references.helpers import reference, store_snapshot

HEADER = "name,sigma,formation_energy_meV,freq_cm\n"
GOOD_ROWS = [
    "Cs2AgBiBr6,0.336,-1167.2,45.0\n",
    "Cs2NaInCl6,0.512,-1900.0,60.0\n",
    "CsK2AlF6,0.701,-2500.5,100.0\n",
]
MAPPING = {"compound": "name", "sigma_300K": "sigma", "energy": "formation_energy_meV"}
MAPPING_FREQ = {**MAPPING, "frequency": "freq_cm"}
UNITS = {"energy": "meV/atom", "frequency": "cm-1"}


def _write(tmp_path, rows, header=HEADER, name="table.csv"):
    path = tmp_path / name
    path.write_text(header + "".join(rows))
    return path


def _import(path, **kwargs):
    options = {"dataset": "my-dft", "mapping": MAPPING_FREQ, "units": UNITS}
    return import_csv(path, **{**options, **kwargs})


def test_mapping_and_units_convert_to_the_schema(tmp_path):
    report = _import(_write(tmp_path, GOOD_ROWS), sigma_definition="rms", citation="me 2025")
    assert report.counts["inserted"] == 3
    doc = reference("Cs2AgBiBr6", "my-dft")
    assert doc["sigma_300K"] == 0.336
    assert doc["formation_energy_eV_per_atom"] == pytest.approx(-1.1672, rel=1e-12)
    # 1 cm^-1 = c * 100 cm/m / 1e12 THz = 0.0299792458 THz
    assert doc["sigma_weighted_frequency_THz"] == pytest.approx(45.0 * 0.0299792458, rel=1e-12)
    assert (doc["sigma_definition"], doc["halide"], doc["citation"]) == ("rms", "Br", "me 2025")
    assert doc["source"] == {"file": str(tmp_path / "table.csv"), "location": "line 2"}
    assert reference("CsK2AlF6", "my-dft")["halide"] == "F"


def test_reimport_changes_nothing_and_a_changed_value_needs_update(tmp_path):
    path = _write(tmp_path, GOOD_ROWS)
    _import(path)
    again = _import(path)
    assert again.counts == {"inserted": 0, "unchanged": 3, "updated": 0, "refused": 0, "bad": 0}
    before = store_snapshot()
    changed = _write(tmp_path, [GOOD_ROWS[0].replace("0.336", "0.400"), *GOOD_ROWS[1:]])
    refused = _import(changed)
    assert refused.counts["refused"] == 1
    assert [(c.field, c.old, c.new) for c in refused.upsert.refused[0].changes] == [
        ("sigma_300K", 0.336, 0.4)
    ]
    assert store_snapshot() == before
    updated = _import(changed, update=True)
    assert updated.counts["updated"] == 1
    doc = reference("Cs2AgBiBr6", "my-dft")
    assert doc["sigma_300K"] == 0.4
    assert doc["updates"][0]["changes"] == [{"field": "sigma_300K", "old": 0.336, "new": 0.4}]
    assert doc["updates"][0]["source"] == f"import {changed}"


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("Rb2AgBiBr6,nan,-1000,40\n", "line 5 (Rb2AgBiBr6): column 'sigma' is NaN"),
        ("Cs2AgXxBr6,0.3,-1000,40\n", "line 5 (Cs2AgXxBr6): unparseable compound name"),
        ("Cs2AgBiBr6x,0.3,-1000,40\n", "line 5 (Cs2AgBiBr6x): unparseable compound name"),
        ("Cs2QbBiBr6,0.3,-1000,40\n", "unknown element 'Qb'"),
        ("Rb2AgBiBr6,0.3,,40\n", "line 5 (Rb2AgBiBr6): no value for column 'formation_energy_meV'"),
        ("Rb2AgBiBr6,high,-1000,40\n", "column 'sigma' = 'high' is not a number"),
        ("Rb2AgBiBr6,0.3,-1000\n", "line 5 (Rb2AgBiBr6): 3 cells for 4 columns"),
        ("Rb2AgBiBr6,-0.3,-1000,40\n", "sigma_300K: Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_row_names_file_and_line_and_writes_nothing(tmp_path, bad_row, message):
    path = _write(tmp_path, [*GOOD_ROWS, bad_row])
    _import(_write(tmp_path, GOOD_ROWS[:1], name="earlier.csv"))  # the store is not empty
    before = store_snapshot()
    with pytest.raises(BadRecordsError) as info:
        _import(path)
    text = str(info.value)
    assert str(path) in text and message in text
    assert "1 of 4 record(s) are bad; nothing was imported" in text
    assert store_snapshot() == before


def test_the_same_compound_twice_is_refused(tmp_path):
    path = _write(tmp_path, [*GOOD_ROWS, GOOD_ROWS[1].replace("0.512", "0.6")])
    with pytest.raises(BadRecordsError) as info:
        _import(path)
    text = str(info.value)
    assert "line 3 (Cs2NaInCl6): compound 'Cs2NaInCl6' appears more than once" in text
    assert "(also line 5)" in text
    assert store_snapshot() == ([], [])


def test_skip_bad_lands_the_good_rows_and_lists_the_bad(tmp_path):
    rows = [
        *GOOD_ROWS,
        "Cs2AgXxBr6,0.3,-1000,40\n",
        "Cs2AgBiBr6,nan,-1000,40\n",  # also a duplicate of line 2
    ]
    report = _import(_write(tmp_path, rows), skip_bad=True)
    assert report.counts == {"inserted": 2, "unchanged": 0, "updated": 0, "refused": 0, "bad": 3}
    reasons = {(b.location, b.compound): b.reason for b in report.bad}
    assert set(reasons) == {
        ("line 5", "Cs2AgXxBr6"),
        ("line 6", "Cs2AgBiBr6"),
        ("line 2", "Cs2AgBiBr6"),
    }
    assert "NaN" in reasons[("line 6", "Cs2AgBiBr6")]
    assert "appears more than once" in reasons[("line 2", "Cs2AgBiBr6")]
    docs, _ = store_snapshot()
    assert [d["compound"] for d in docs] == ["Cs2NaInCl6", "CsK2AlF6"]


@pytest.mark.parametrize(
    ("header", "kwargs", "message"),
    [
        ("name,sigma,freq_cm\n", {}, "missing column(s) 'formation_energy_meV' (for "),
        (HEADER, {"mapping": {"compound": "compound"}}, "missing column(s) 'compound' (for comp"),
        (
            HEADER,
            {"mapping": {**MAPPING_FREQ, "sigma_300k": "sigma"}},
            "cannot map to unknown field(s) ['sigma_300k']",
        ),
        (HEADER, {"mapping": MAPPING, "units": {"energy": "meV/atom"}}, "['freq_cm'] map to no"),
        (HEADER, {"units": {"energy": "J"}}, "unknown unit 'J' for formation_energy_eV_per_atom"),
        (HEADER, {"units": {"sigma_300K": "%"}}, "unknown unit '%' for sigma_300K"),
        (HEADER, {"units": {**UNITS, "tolerance_factor": "1"}}, "units declared for field(s)"),
        ("name,name,sigma\n", {}, "repeated column names"),
    ],
)
def test_column_problems_name_file_and_column(tmp_path, header, kwargs, message):
    path = _write(tmp_path, GOOD_ROWS, header=header)
    with pytest.raises(ImportFileError) as info:
        _import(path, **kwargs)
    assert str(path) in str(info.value) and message in str(info.value)
    assert store_snapshot() == ([], [])


def test_ignored_columns_and_identity_mapping(tmp_path):
    path = _write(
        tmp_path,
        ["Cs2AgBiBr6,Br,0.3,1.5,comment\n"],
        header="compound,halide,sigma_300K,sigma_weighted_frequency_THz,notes\n",
    )
    with pytest.raises(ImportFileError, match=r"\['notes'\] map to no field"):
        import_csv(path, dataset="d")
    import_csv(path, dataset="d", ignore_columns=["notes"])
    assert reference("Cs2AgBiBr6", "d")["sigma_weighted_frequency_THz"] == 1.5


def test_halide_column_must_agree_with_the_name(tmp_path):
    path = _write(tmp_path, ["Cs2AgBiBr6,I,0.3\n"], header="compound,halide,sigma_300K\n")
    with pytest.raises(BadRecordsError, match="says halide 'I', but 'Cs2AgBiBr6' has X = 'Br'"):
        import_csv(path, dataset="d")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file"), (b"compound,sigma_300K\n", "no data rows"), (b"\xff\xfe\x00bin", "CSV")],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        import_csv(path, dataset="d")
