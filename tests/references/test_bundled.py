"""The bundled 1,813-compound table imports completely, exactly and idempotently."""

from __future__ import annotations

import pandas as pd
import pytest

from latticebench.references import HDP_CHEMMATER_2022, import_bundled
from latticebench.stores import connect_store, get_store

COLUMNS = (
    "sigma_300K",
    "sigma_weighted_frequency_THz",
    "formation_energy_eV_per_atom",
    "tolerance_factor",
    "octahedral_factor",
    "octahedral_mismatch",
)


def test_bundled_table_into_a_fresh_embedded_store(reference_csv):
    table = pd.read_csv(reference_csv).set_index("compound")
    assert len(table) == 1813

    first = import_bundled()
    assert first.counts == {"inserted": 1813, "unchanged": 0, "updated": 0, "refused": 0, "bad": 0}

    store = connect_store(get_store("references"))
    docs = {d["compound"]: d for d in store.query({"dataset": "hdp-chemmater-2022"})}
    assert store.count() == 1813 and set(docs) == set(table.index)
    for compound, row in table.iterrows():
        doc = docs[compound]
        for column in COLUMNS:
            assert doc[column] == row[column], (compound, column)  # exact: same float parsing
        assert doc["halide"] == row["halide"]
        assert doc["citation"].endswith("Chem. Mater. 2022")
        assert doc["doi"] == "10.1021/acs.chemmater.2c01779"
        assert "sigma >= 2" in doc["selection_note"]
        assert doc["sigma_definition"] == "std"
        assert doc["sigma_temperature_K"] == 300.0
        assert doc["level_of_theory"] == HDP_CHEMMATER_2022.level_of_theory
        assert "structure" not in doc  # the table has none; no guessed structure is stored
    assert docs["Cs2AgBiBr6"]["source"] == {
        "file": "latticebench.data/hdp_dft_sigma_300K.csv",
        "location": f"line {list(table.index).index('Cs2AgBiBr6') + 2}",
    }

    second = import_bundled()
    assert second.counts == {"inserted": 0, "unchanged": 1813, "updated": 0, "refused": 0, "bad": 0}
    assert store.count() == 1813


@pytest.mark.parametrize("update", [False, True])
def test_a_changed_stored_value_is_refused_or_restored_with_history(update):
    import_bundled()
    store = connect_store(get_store("references"))
    store._collection.update_one({"compound": "Cs2AgBiBr6"}, {"$set": {"sigma_300K": 9.0}})
    report = import_bundled(update=update)
    doc = next(store.query({"compound": "Cs2AgBiBr6"}))
    if not update:
        assert report.counts["refused"] == 1 and report.counts["unchanged"] == 1812
        assert report.upsert.refused[0].changes[0].field == "sigma_300K"
        assert doc["sigma_300K"] == 9.0 and "updates" not in doc
    else:
        assert report.counts["updated"] == 1
        assert doc["sigma_300K"] == pytest.approx(0.33576, abs=1e-5)
        (entry,) = doc["updates"]
        assert entry["changes"] == [{"field": "sigma_300K", "old": 9.0, "new": doc["sigma_300K"]}]
        assert "hdp_dft_sigma_300K.csv" in entry["source"]
