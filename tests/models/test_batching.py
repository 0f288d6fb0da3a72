"""Batches sized from a memory budget: the planner, edge counts, budgets, and unchanged results."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor

from latticebench.models import LoadedModel, ModelRecord, batching, clear_model_cache, load_model
from latticebench.settings import override_settings
from latticebench.structures import build_double_perovskite

MB = 1e6


def simple_cubic(repeat: tuple[int, int, int]) -> Atoms:
    """Simple cubic lattice, a = 2 Å: 6 neighbours within 2.5 Å (the next shell is at 2.83 Å)."""
    return bulk("Po", "sc", a=2.0).repeat(repeat)


class FakeModel(LoadedModel):
    """A model with a 2.5 Å cutoff and 1 MB per edge: 48 MB per 8-atom simple cubic cell."""

    def __init__(self, device: str = "cpu") -> None:
        self.record = ModelRecord(
            name="fake",
            family="mace",
            package="none",
            package_version="0",
            checkpoint_path="/dev/null",
            checkpoint_sha256="0" * 64,
            source="path",
            dtype="float64",
            device=device,
        )

    @property
    def cutoff(self) -> float:
        return 2.5

    @property
    def bytes_per_edge(self) -> float:
        return 1.0 * MB

    def calculator(self):
        raise NotImplementedError


# --- the planner -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("costs", "budget", "expected"),
    [
        ([1, 1, 1, 1, 1], 2, [(0, 2), (2, 4), (4, 5)]),
        ([1, 1, 1, 1, 1], 10, [(0, 5)]),
        ([1, 1, 1, 1, 1], 1, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]),
        # a chunk may fill the budget exactly; a structure over it runs alone
        ([3, 1, 2, 2, 5, 1], 4, [(0, 2), (2, 4), (4, 5), (5, 6)]),
        ([2.5, 2.5, 0.5, 4.0, 0.1], 3.0, [(0, 1), (1, 3), (3, 4), (4, 5)]),
        ([7], 3, [(0, 1)]),
        ([], 3, []),
    ],
)
def test_plan_chunks_hand_computed(costs, budget, expected):
    assert batching.plan_chunks(costs, budget) == expected


def test_chunk_end_scans_from_start():
    costs = [3, 1, 2, 2, 5, 1]
    assert batching.chunk_end(costs, 0, 4) == 2
    assert batching.chunk_end(costs, 1, 4) == 3  # 1 + 2; adding the next 2 would make 5
    assert batching.chunk_end(costs, 4, 4) == 5  # over the budget alone
    assert batching.chunk_end(costs, 5, 4) == 6
    assert batching.chunk_end(costs, 0, 100) == 6


def test_plan_chunks_rejects_a_non_positive_budget():
    with pytest.raises(ValueError, match="budget"):
        batching.plan_chunks([1.0], 0)


def test_oversized_names_the_structures_over_budget():
    np.testing.assert_array_equal(batching.oversized([3, 1, 2, 2, 5, 1], 4), [4])


def test_fixed_chunks():
    assert batching.fixed_chunks(7, 3) == [(0, 3), (3, 6), (6, 7)]
    assert batching.fixed_chunks(2, 8) == [(0, 2)]
    assert batching.fixed_chunks(0, 2) == []
    with pytest.raises(ValueError, match="at least 1"):
        batching.fixed_chunks(3, 0)


# --- edge counts -------------------------------------------------------------------------------


def test_count_edges_simple_cubic():
    assert batching.count_edges(simple_cubic((2, 2, 2)), 2.5) == 8 * 6
    assert batching.count_edges(simple_cubic((2, 2, 1)), 2.5) == 4 * 6
    # second shell (12 neighbours at 2.83 Å) inside 2.9 Å
    assert batching.count_edges(simple_cubic((2, 2, 2)), 2.9) == 8 * 18


def test_edge_counts_share_one_neighbour_list_per_cell(monkeypatch):
    calls = []
    original = batching.count_edges

    def counting(atoms, cutoff):
        calls.append(len(atoms))
        return original(atoms, cutoff)

    monkeypatch.setattr(batching, "count_edges", counting)
    frames = []
    for seed in range(3):
        frame = simple_cubic((2, 2, 2))
        frame.rattle(0.01, seed=seed)
        frames.append(frame)
    frames.append(simple_cubic((2, 2, 1)))
    counts = batching.edge_counts(frames, 2.5)
    np.testing.assert_array_equal(counts, [48, 48, 48, 24])
    assert calls == [8, 4]


# --- budgets -----------------------------------------------------------------------------------


def test_budget_from_settings():
    with override_settings(batch_memory_gb=0.25):
        assert batching.memory_budget("cpu") == 250_000_000
        assert batching.memory_budget("cuda") == 250_000_000


def test_setting_read_from_environment(monkeypatch):
    from latticebench.settings import reload_settings

    monkeypatch.setenv("LATTICEBENCH_BATCH_MEMORY_GB", "1.5")
    assert reload_settings().batch_memory_gb == 1.5


@pytest.mark.parametrize(
    ("device", "available", "expected"),
    [
        ("cpu", 10e9, batching.CPU_BUDGET_CAP_BYTES),
        ("cpu", 0.4e9, 0.2e9),
        ("cuda", 10e9, 5e9),
        ("cuda:1", 100e9, 50e9),
    ],
)
def test_default_budget(monkeypatch, device, available, expected):
    monkeypatch.setattr(batching, "available_memory", lambda device: int(available))
    assert batching.memory_budget(device) == int(expected)


def test_available_cpu_memory_is_within_physical_memory():
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert 0 < batching.available_memory("cpu") <= total


# --- LoadedModel.chunks ------------------------------------------------------------------------


def test_chunks_from_the_budget():
    model = FakeModel()
    big, small = simple_cubic((2, 2, 2)), simple_cubic((2, 2, 1))  # 48 MB, 24 MB
    with override_settings(batch_memory_gb=0.1):
        assert list(model.chunks([big] * 5)) == [(0, 2), (2, 4), (4, 5)]
        assert list(model.chunks([big, small, small, big, big])) == [(0, 3), (3, 5)]
        assert list(model.chunks([])) == []


def test_explicit_batch_size_wins_over_the_budget(caplog):
    model = FakeModel()
    with override_settings(batch_memory_gb=0.001), caplog.at_level(logging.WARNING):
        assert list(model.chunks([simple_cubic((2, 2, 2))] * 5, batch_size=3)) == [(0, 3), (3, 5)]
    assert not caplog.records


def test_structure_over_budget_runs_alone_with_a_warning(caplog):
    model = FakeModel()
    structures = [simple_cubic((2, 2, 2)), simple_cubic((2, 2, 1)), simple_cubic((2, 2, 2))]
    with override_settings(batch_memory_gb=0.04), caplog.at_level(logging.WARNING):
        assert list(model.chunks(structures)) == [(0, 1), (1, 2), (2, 3)]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 1 and "2 structure(s)" in messages[0]


class FakeMeter:
    """Stands in for CudaPeakMemory: reports the given peaks, one per chunk."""

    def __init__(self, peaks: list[float]) -> None:
        self.peaks = list(peaks)
        self.started = 0

    def start(self) -> None:
        self.started += 1

    def peak_bytes(self) -> int:
        return int(self.peaks.pop(0))


def test_cuda_sizes_the_rest_from_the_first_chunk(monkeypatch):
    model = FakeModel(device="cuda")
    meter = FakeMeter([24 * MB, 10 * MB, 30 * MB, 5 * MB])
    monkeypatch.setattr(batching, "CudaPeakMemory", lambda device: meter)
    structures = [simple_cubic((2, 2, 2))] * 5
    with override_settings(batch_memory_gb=0.1):
        # the estimate (48 MB each) gives 2 per chunk; 24 MB measured for 96 edges = 0.25 MB
        # per edge, 12 MB per structure: the other three fit in one chunk
        assert list(model.chunks(structures)) == [(0, 2), (2, 5)]
        assert meter.started == 2
        # later calls start from the largest figure measured: 0.25 MB/edge, not 10/144 MB
        assert model._measured_bytes_per_edge() == pytest.approx(0.25 * MB)
        assert list(model.chunks(structures * 2)) == [(0, 8), (8, 10)]


# --- real models: the split does not change the numbers ----------------------------------------


def perovskite_frames() -> list[Atoms]:
    """Four rattled 40-atom Cs2AgBiBr6 cells and one rattled 80-atom (2×1×1) cell."""
    unit = AseAtomsAdaptor.get_atoms(build_double_perovskite("Cs2AgBiBr6"))
    frames = []
    for seed, repeat in enumerate([(1, 1, 1), (1, 1, 1), (2, 1, 1), (1, 1, 1), (1, 1, 1)]):
        frame = unit.repeat(repeat)
        frame.rattle(0.05, seed=seed)
        frames.append(frame)
    return frames


def test_mace_results_do_not_depend_on_the_split(tiny_mace_path):
    clear_model_cache()
    model = load_model(tiny_mace_path, device="cpu", dtype="float64")
    frames = perovskite_frames()
    one_at_a_time = model.predict(frames, batch_size=1)
    unit_cost = batching.count_edges(frames[0], model.cutoff) * model.bytes_per_edge
    with override_settings(batch_memory_gb=2.5 * unit_cost / 1e9):
        assert list(model.chunks(frames)) == [(0, 2), (2, 3), (3, 5)]
        by_budget = model.predict(frames)
    for other in (by_budget, model.predict(frames, batch_size=2), model.predict(frames, 5)):
        assert len(other.forces) == len(frames)
        for reference, forces, frame in zip(
            one_at_a_time.forces, other.forces, frames, strict=True
        ):
            assert forces.shape == (len(frame), 3)
            np.testing.assert_allclose(forces, reference, rtol=0, atol=1e-10)
        np.testing.assert_allclose(other.energies, one_at_a_time.energies, rtol=0, atol=1e-9)
    assert np.abs(one_at_a_time.forces[2]).max() > 1e-3  # real forces, not zeros


@pytest.mark.slow
def test_chgnet_results_do_not_depend_on_the_split():
    model = load_model("chgnet-0.3.0", device="cpu")
    frames = perovskite_frames()
    one_at_a_time = model.predict(frames, batch_size=1)
    unit_cost = batching.count_edges(frames[0], model.cutoff) * model.bytes_per_edge
    with override_settings(batch_memory_gb=2.5 * unit_cost / 1e9):
        assert list(model.chunks(frames)) == [(0, 2), (2, 3), (3, 5)]
        by_budget = model.predict(frames)
    for reference, forces in zip(one_at_a_time.forces, by_budget.forces, strict=True):
        np.testing.assert_allclose(forces, reference, rtol=0, atol=1e-5)
    np.testing.assert_allclose(by_budget.energies, one_at_a_time.energies, rtol=0, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_measures_bytes_per_edge(tiny_mace_path):
    clear_model_cache()
    model = load_model(tiny_mace_path, device="cuda", dtype="float64")
    frames = perovskite_frames()
    reference = model.predict(frames, batch_size=1)
    batched = model.predict(frames)
    measured = model._measured_bytes_per_edge()
    assert measured is not None and measured > 0
    for expected, forces in zip(reference.forces, batched.forces, strict=True):
        np.testing.assert_allclose(forces, expected, rtol=0, atol=1e-10)


def test_large_cells_on_the_cpu_default_budget_run_alone_without_a_warning(caplog, monkeypatch):
    """On the CPU with the default budget, one 320-atom cell per pass is the plan, not a problem."""
    monkeypatch.setattr(batching, "available_memory", lambda device: int(0.06e9))  # budget 0.03 GB
    model = FakeModel()
    structures = [simple_cubic((2, 2, 2))] * 2
    with caplog.at_level(logging.INFO):
        assert list(model.chunks(structures)) == [(0, 1), (1, 2)]
    levels = [r.levelno for r in caplog.records if "batch memory budget" in r.getMessage()]
    assert levels == [logging.INFO]
