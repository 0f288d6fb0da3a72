"""Heavy parts: band blobs, loaders, missing parts, frame validation."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.references import AimdFrames, MissingHeavyPartError, load_band
from latticebench.references.heavy import aimd_blob, band_blob, check_force_constants
from latticebench.schemas import ReferenceDoc
from latticebench.stores import connect_store, get_data_store


def test_band_round_trip():
    rng = np.random.default_rng(1)
    q = rng.random((12, 3))
    freqs = rng.normal(size=(12, 30))
    velocities = rng.normal(size=(12, 30, 3))
    blob = band_blob(
        q, np.linspace(0, 1, 12), freqs, group_velocities=velocities, labels=["Γ", "X"]
    )
    data_store = connect_store(get_data_store())
    doc = ReferenceDoc(dataset="d", compound="Cs2AgBiBr6", heavy={"band": blob.put(data_store)})
    band = load_band(doc.to_document(), data_store)
    assert np.array_equal(band["frequencies"], freqs)
    assert np.array_equal(band["group_velocities"], velocities)
    assert band["labels"] == ["Γ", "X"]
    without = band_blob(q, np.linspace(0, 1, 12), freqs)
    assert (
        load_band({"heavy": {"band": without.put(data_store)}}, data_store)["group_velocities"]
        is None
    )


def test_band_shapes_are_checked():
    with pytest.raises(ValueError, match="group_velocities must have shape"):
        band_blob(
            np.zeros((2, 3)), np.zeros(2), np.zeros((2, 4)), group_velocities=np.zeros((2, 4))
        )
    with pytest.raises(ValueError, match="3 rows of frequencies for 2 q-points"):
        band_blob(np.zeros((2, 3)), np.zeros(2), np.zeros((3, 4)))


def test_missing_part_names_the_reference():
    doc = ReferenceDoc(dataset="d", compound="Cs2AgBiBr6")
    with pytest.raises(MissingHeavyPartError, match=r"compound='Cs2AgBiBr6'\) has no band"):
        load_band(doc, connect_store(get_data_store()))


def test_aimd_frames_validate_shapes_and_values():
    ok = dict(
        symbols=["Cs", "Br"],
        positions=np.zeros((3, 2, 3)),
        forces=np.zeros((3, 2, 3)),
        cells=np.tile(np.eye(3) * 5, (3, 1, 1)),
    )
    assert AimdFrames(**ok).run_index.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match=r"forces have shape \(3, 2\)"):
        AimdFrames(**{**ok, "forces": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="1 symbols for 2 atoms"):
        AimdFrames(**{**ok, "symbols": ["Cs"]})
    with pytest.raises(ValueError, match=r"energies must have shape \(3,\)"):
        AimdFrames(**ok, energies=np.zeros(2))
    with pytest.raises(ValueError, match="unknown element symbol"):
        aimd_blob(AimdFrames(**{**ok, "symbols": ["Cs", "Qq"]}))


def test_force_constant_band_uses_the_largest_on_site_block():
    fc = np.zeros((2, 2, 3, 3))
    fc[0, 0] = np.diag([0.1, 0.2, 3.0])
    fc[1, 1] = np.eye(3) * 0.4
    fc[0, 1] = fc[1, 0] = -np.eye(3) * 500.0  # off-site blocks do not count
    assert check_force_constants(fc, 2, where="f").shape == (2, 2, 3, 3)
    with pytest.raises(ValueError, match=r"\|Φ_ii\| is 300 \(atom 0\)"):
        check_force_constants(fc * 100, 2, where="f")
