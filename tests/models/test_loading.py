"""Loading models through the registry: provenance, per-process cache, dtype guard."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import torch
from pymatgen.io.ase import AseAtomsAdaptor

from latticebench.models import (
    ModelLoadError,
    clear_model_cache,
    load_count,
    load_model,
    preserve_torch_default_dtype,
)
from latticebench.structures import build_double_perovskite


@pytest.fixture
def supercell_320():
    atoms = AseAtomsAdaptor.get_atoms(
        build_double_perovskite("Cs2AgBiBr6", lattice_parameter=11.3)
    ).repeat((2, 2, 2))
    atoms.rattle(0.03, seed=7)
    return atoms


def test_tiny_mace_by_path(tiny_mace_path, supercell_320):
    clear_model_cache()
    model = load_model(tiny_mace_path, device="cpu", dtype="float64")
    record = model.record
    expected = subprocess.run(
        ["sha256sum", str(tiny_mace_path)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert record.checkpoint_sha256 == expected
    assert (record.family, record.dtype, record.device, record.source) == (
        "mace",
        "float64",
        "cpu",
        "path",
    )
    assert record.package == "mace-torch" and record.package_version
    atoms = supercell_320.copy()
    atoms.calc = model.calculator()
    forces = atoms.get_forces()
    assert forces.shape == (320, 3)
    assert np.isfinite(forces).all()
    assert np.abs(forces).max() > 1e-6  # a real, non-trivial model
    # batched prediction agrees with the calculator
    batch = model.predict([supercell_320, supercell_320], batch_size=2)
    np.testing.assert_allclose(batch.forces[0], forces, atol=1e-10)
    np.testing.assert_allclose(batch.forces[1], forces, atol=1e-10)
    assert batch.energies[0] == pytest.approx(atoms.get_potential_energy(), abs=1e-8)


def test_second_load_is_a_cache_hit(tiny_mace_path, monkeypatch):
    clear_model_cache()
    calls = []
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(a) or real_load(*a, **k))
    before = load_count(tiny_mace_path)
    first = load_model(tiny_mace_path, device="cpu")
    second = load_model(str(tiny_mace_path), device="cpu")
    assert first is second
    assert load_count(tiny_mace_path) == before + 1
    assert len(calls) == 1
    # another dtype is another model
    assert load_model(tiny_mace_path, device="cpu", dtype="float32") is not first


def test_default_dtype_unchanged_after_float64_load(tiny_mace_path):
    clear_model_cache()
    assert torch.get_default_dtype() == torch.float32
    load_model(tiny_mace_path, device="cpu", dtype="float64")
    assert torch.get_default_dtype() == torch.float32


def test_default_dtype_unchanged_after_failed_load(tmp_path, monkeypatch):
    import mace.calculators

    def change_dtype_then_fail(*args, **kwargs):
        torch.set_default_dtype(torch.float64)  # what MACE loaders do
        raise RuntimeError("simulated broken checkpoint")

    monkeypatch.setattr(mace.calculators, "MACECalculator", change_dtype_then_fail)
    path = tmp_path / "broken.model"
    path.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="simulated broken checkpoint"):
        load_model(path, device="cpu", dtype="float64")
    assert torch.get_default_dtype() == torch.float32


def test_corrupt_checkpoint_names_the_file(tmp_path):
    path = tmp_path / "corrupt.model"
    path.write_bytes(b"this is not a torch file")
    with pytest.raises(ModelLoadError, match=str(path)):
        load_model(path, device="cpu")
    assert torch.get_default_dtype() == torch.float32


def test_guard_restores_dtype_when_body_raises():
    with pytest.raises(ValueError), preserve_torch_default_dtype():
        torch.set_default_dtype(torch.float64)
        raise ValueError
    assert torch.get_default_dtype() == torch.float32


@pytest.mark.slow
def test_chgnet_offline_on_cs2agbibr6():
    model = load_model("chgnet-0.3.0", device="cpu")
    assert model.record.dtype == "float32"
    assert model.record.source == "package"
    atoms = AseAtomsAdaptor.get_atoms(build_double_perovskite("Cs2AgBiBr6", lattice_parameter=11.3))
    atoms.rattle(0.02, seed=3)
    atoms.calc = model.calculator()
    forces = atoms.get_forces()
    assert forces.shape == (40, 3) and np.isfinite(forces).all()
    # the rattled cell is not at equilibrium: real forces, and a sensible energy scale
    assert 1e-3 < np.abs(forces).max() < 5.0
    assert -5.0 < atoms.get_potential_energy() / len(atoms) < -1.0
    # the batch path gives the same numbers
    batch = model.predict([atoms])
    np.testing.assert_allclose(batch.forces[0], forces, atol=1e-4)
    # stress only when asked for, and then CHGNet's own calculator's value
    assert "stress" not in atoms.calc.results
    from chgnet.model.dynamics import CHGNetCalculator

    reference = atoms.copy()
    reference.calc = CHGNetCalculator(model=model._model, use_device="cpu")
    np.testing.assert_allclose(atoms.get_stress(), reference.get_stress(), atol=1e-6)
    np.testing.assert_allclose(atoms.get_forces(), reference.get_forces(), atol=1e-5)


def test_device_auto_picks_cpu_without_cuda():
    from latticebench.models import detect_device

    assert detect_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert detect_device("cuda:1") == "cuda:1"
