"""Loading σ^A(t) traces and bands from a real jobflow JobStore; thresholds; band ticks."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from latticebench.analysis import StabilityThresholds
from latticebench.query import benchmark_rows
from latticebench.report import (
    BandPath,
    annotations_from_docs,
    load_annotations,
    load_extras,
    select_compounds,
)
from tests.report.synthetic import (
    COMPOUNDS,
    MODELS,
    REFERENCE_BAND_COMPOUND,
    THRESHOLDS,
    fcc_band,
    make_docs,
)

ALL_COMPOUNDS = [name for name, _, _ in COMPOUNDS]


def test_traces_and_bands_come_back_exactly_through_the_data_store(synthetic_store, frame):
    store, synthetic = synthetic_store
    # The arrays really live in the additional "data" store: unloaded, the output holds a
    # blob reference, so the loader must resolve it.
    some = frame.dropna(subset=["anharmonicity_job"]).iloc[0]
    raw = store.query_one({"uuid": some["anharmonicity_job"]}, load=False)
    assert raw["output"]["sigma_per_frame"]["store"] == "data"
    raw = store.query_one({"uuid": frame.dropna(subset=["phonon_job"]).iloc[0]["phonon_job"]})
    assert "blob_uuid" in raw["output"]["band"]

    annotations = annotations_from_docs(synthetic.docs)
    extras = load_extras(
        store, frame, reference_bands=annotations.reference_bands, compounds=ALL_COMPOUNDS
    )

    for key, runs in synthetic.traces.items():
        assert len(extras[key].sigma_traces) == len(runs) == 2
        for loaded, stored in zip(extras[key].sigma_traces, runs, strict=True):
            np.testing.assert_array_equal(loaded, np.array(stored))
        assert extras[key].frame_stride == 1
    for key, band in synthetic.bands.items():
        np.testing.assert_array_equal(extras[key].band.frequencies, np.array(band["frequencies"]))
        np.testing.assert_array_equal(extras[key].band.distances, np.array(band["distances"]))
        assert extras[key].band.segment_sizes == (6, 6, 6)
    with_band = {key for key, item in extras.items() if item.band is not None}
    assert with_band == set(synthetic.bands)
    # The reference band reaches every model of its compound, and only that compound.
    with_reference = {key for key, item in extras.items() if item.reference_band is not None}
    assert with_reference == {(REFERENCE_BAND_COMPOUND, model) for model in MODELS}
    expected = np.array(fcc_band(shift=0.2)["frequencies"])
    for model in MODELS:
        got = extras[(REFERENCE_BAND_COMPOUND, model)].reference_band.frequencies
        np.testing.assert_array_equal(got, expected)
    # Rows with nothing stored get no entry.
    assert set(extras) == set(synthetic.traces) | set(synthetic.bands) | with_reference


def test_default_selection_spans_sigma_and_keeps_reference_band_compounds(synthetic_store, frame):
    store, synthetic = synthetic_store
    annotations = annotations_from_docs(synthetic.docs)
    limited = load_extras(
        store, frame, reference_bands=annotations.reference_bands, max_compounds=2
    )
    # Two compounds spanning σ_DFT (the lowest and the highest) plus the reference-band one.
    chosen = {compound for compound, _ in limited}
    assert chosen <= {"Cs2AgBiBr6", "CsAuBr3", REFERENCE_BAND_COMPOUND}
    assert REFERENCE_BAND_COMPOUND in chosen


def test_select_compounds_picks_evenly_spaced_ranks_of_reference_sigma(plain_frame):
    # 11 compounds have σ_DFT; ranks linspace(0, 10, 4) -> 0, 3, 7, 10 in increasing σ_DFT.
    assert select_compounds(plain_frame, 4) == [
        "Cs2AgBiBr6",  # 0.21
        "Cs2AgInI6",  # 0.52
        "Cs2TlBiI6",  # 0.88
        "CsAuBr3",  # 1.34
    ]
    sigma = {name: value for name, _, value in COMPOUNDS}
    known = sorted(ALL_COMPOUNDS[:-1], key=sigma.__getitem__)
    assert select_compounds(plain_frame, 12) == [*known, "Li2NaGaF6"]
    assert select_compounds(plain_frame, 0) == []
    with pytest.raises(ValueError, match="limit"):
        select_compounds(plain_frame, -1)


def test_missing_job_is_skipped_with_a_warning(synthetic_store, frame):
    store, _ = synthetic_store
    broken = frame.copy()
    ghost = str(uuid.uuid4())
    row = broken.index[broken["anharmonicity_job"].notna()][0]
    broken.loc[row, "anharmonicity_job"] = ghost
    key = (broken.loc[row, "compound"], broken.loc[row, "model"])
    with pytest.warns(UserWarning, match=ghost):
        extras = load_extras(store, broken, compounds=[key[0]])
    assert key not in extras or extras[key].sigma_traces == ()


def _store_with(output: dict):
    from jobflow import JobStore, job, run_locally
    from maggma.stores import MemoryStore

    def body():
        return output

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    made = job(body)()
    run_locally(made, store=store, log=False)
    store.connect()
    return store, made.uuid


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"sigma_per_frame": [[[0.1, 0.2]]]}, r"sigma_per_frame\[0\] must have 1 dimension"),
        ({"sigma_per_frame": [["a", "b"]]}, r"sigma_per_frame\[0\] is not a numeric"),
        ({"sigma_per_frame": [[0.1]], "frame_stride": 0}, "frame_stride must be a positive"),
    ],
)
def test_malformed_anharmonicity_output_names_the_job(plain_frame, output, message):
    store, job_uuid = _store_with(output)
    one = plain_frame.iloc[[0]].copy()
    one["anharmonicity_job"] = job_uuid
    with pytest.raises(ValueError, match=message) as error:
        load_extras(store, one)
    assert job_uuid in str(error.value)
    assert repr(one.iloc[0]["compound"]) in str(error.value)


def test_malformed_band_names_the_field(plain_frame):
    band = fcc_band()
    band["segment_sizes"] = [6, 6, 5]
    store, job_uuid = _store_with({"band": band})
    one = plain_frame.iloc[[0]].copy()
    one["phonon_job"] = job_uuid
    with pytest.raises(ValueError, match=r"segment_sizes \[6, 6, 5\] must .* sum to the 18"):
        load_extras(store, one)


def test_repeated_compound_model_rows_are_refused(plain_frame):
    other = plain_frame.assign(protocol_id="proto-other")
    with pytest.raises(ValueError, match="proto-other"):
        load_extras(None, pd.concat([plain_frame, other], ignore_index=True))


def test_annotations_thresholds_agree_or_raise():
    docs = make_docs()
    annotations = annotations_from_docs(docs)
    assert annotations.thresholds == StabilityThresholds(**THRESHOLDS)
    assert set(annotations.reference_bands) == {(REFERENCE_BAND_COMPOUND, m) for m in MODELS}
    odd = docs[5].model_copy(update={"thresholds": {**THRESHOLDS, "stable_max": 1.1}})
    with pytest.raises(ValueError, match="different classification thresholds"):
        annotations_from_docs([*docs, odd])
    bad = docs[0].model_copy(update={"extra": {"reference_band": {"distances": [0.0, 1.0]}}})
    with pytest.raises(ValueError, match=f"compound '{docs[0].compound}'.*frequencies"):
        annotations_from_docs([bad])
    assert annotations_from_docs([]).thresholds is None


def test_load_annotations_reads_only_the_frame_rows_from_a_store():
    from maggma.stores import MemoryStore

    docs = make_docs()
    store = MemoryStore(key="compound")
    store.connect()
    store.update(
        [doc.model_dump(mode="json") for doc in docs],
        key=["dataset", "compound", "model", "protocol_id"],
    )
    frame = benchmark_rows(docs)
    only_first = frame[frame["model"] == MODELS[0]]
    annotations = load_annotations(store, only_first)
    assert set(annotations.reference_bands) == {(REFERENCE_BAND_COMPOUND, MODELS[0])}
    assert annotations.thresholds == StabilityThresholds(**THRESHOLDS)
    assert load_annotations(store, frame.iloc[0:0]).thresholds is None


def test_band_ticks_match_phonopy_path_connections():
    """Labels at breaks are joined exactly where phonopy's own path_connections say so."""
    from ase import Atoms
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    cell = bulk("Cu", "fcc", a=3.6)
    unit = PhonopyAtoms(
        symbols=cell.get_chemical_symbols(),
        cell=cell.cell[:],
        scaled_positions=cell.get_scaled_positions(),
    )
    phonon = Phonopy(unit, supercell_matrix=np.eye(3, dtype=int) * 3, primitive_matrix="P")
    phonon.generate_displacements(distance=0.01)
    forces = []
    for displaced in phonon.supercells_with_displacements:
        atoms = Atoms(
            displaced.symbols,
            cell=displaced.cell,
            scaled_positions=displaced.scaled_positions,
            pbc=True,
        )
        atoms.calc = EMT()
        forces.append(atoms.get_forces())
    phonon.forces = forces
    phonon.produce_force_constants()
    phonon.auto_band_structure(npoints=7)
    bands = phonon.band_structure
    mapping = {
        "qpoints": np.concatenate(bands.qpoints),
        "distances": np.concatenate(bands.distances),
        "frequencies": np.concatenate(bands.frequencies),
        "segment_sizes": [len(q) for q in bands.qpoints],
        "labels": list(bands.labels),
    }
    positions, labels = BandPath.from_mapping(mapping, "test").tick_labels()

    connections = list(bands.path_connections)
    assert False in connections[:-1]  # the FCC path has a break, so joining is tested
    expected, names = [bands.labels[0]], iter(bands.labels[1:])
    for i, connected in enumerate(connections):
        end = next(names)
        last = i == len(connections) - 1
        expected.append(end if connected or last else f"{end}|{next(names)}")
    assert labels == expected
    ends = [float(bands.distances[0][0])] + [float(d[-1]) for d in bands.distances]
    np.testing.assert_allclose(positions, ends)


def test_band_ticks_without_matching_labels_are_unlabelled():
    band = fcc_band()
    band["labels"] = ["G", "X"]
    positions, labels = BandPath.from_mapping(band, "test").tick_labels()
    assert labels == [] and len(positions) == 4
    band = fcc_band()
    band.pop("qpoints")  # no q-points: no break can be seen, 5 labels cannot fit 3 segments
    assert BandPath.from_mapping(band, "test").tick_labels()[1] == []
    assert BandPath.from_mapping(fcc_band(), "test").tick_labels()[1] == [
        "$\\Gamma$",
        "$\\mathrm{X}$|$\\mathrm{K}$",
        "$\\Gamma$",
        "$\\mathrm{L}$",
    ]
