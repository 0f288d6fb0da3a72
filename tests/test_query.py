"""Benchmark documents as DataFrames and their grouped metrics."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.analysis import metrics_with_ci
from latticebench.query import BENCHMARK_COLUMNS, benchmark_rows, confusion_matrices, metrics_table
from latticebench.schemas.benchmark import BenchmarkDoc, MLIPSummary, ReferenceSummary
from latticebench.schemas.provenance import Provenance


def _doc(compound, model, halide, sigma_dft, sigma_mlip):
    return BenchmarkDoc(
        dataset="d",
        compound=compound,
        model=model,
        protocol_id="p",
        halide=halide,
        reference=ReferenceSummary(sigma=sigma_dft),
        mlip=MLIPSummary(sigma=sigma_mlip, form="std"),
        thresholds={},
        provenance=Provenance(),
    )


@pytest.fixture
def frame():
    rng = np.random.default_rng(3)
    docs = []
    for model in ("m1", "m2"):
        for i in range(30):
            dft = float(rng.uniform(0.1, 1.6))
            mlip = None if i == 7 else float(max(0.01, dft + rng.normal(0, 0.2)))
            docs.append(_doc(f"C{i}", model, ("F", "Cl", "Br", "I")[i % 4], dft, mlip))
    return benchmark_rows(docs)


def test_rows_have_the_documented_columns(frame):
    assert list(frame.columns) == list(BENCHMARK_COLUMNS)
    assert len(frame) == 60
    assert frame.loc[(frame.model == "m1") & (frame.compound == "C7"), "sigma_mlip"].isna().all()


def test_metrics_table_equals_the_analysis_functions(frame):
    table = metrics_table(frame, by=["model"], n_resamples=200, seed=4)
    mine = frame[frame.model == "m2"].dropna(subset=["sigma_dft", "sigma_mlip"])
    direct = metrics_with_ci(mine.sigma_dft, mine.sigma_mlip, n_resamples=200, seed=4)
    row = table[(table.model == "m2") & (table.metric == "rmse")].iloc[0]
    assert row.n == 29 and row.n_missing == 1
    assert (row.value, row.low, row.high) == pytest.approx(
        tuple(direct["regression"]["rmse"][k] for k in ("value", "low", "high"))
    )
    mcc = table[(table.model == "m2") & (table.group == "stability") & (table.metric == "mcc")]
    assert mcc.iloc[0].value == pytest.approx(direct["stability"]["mcc"]["value"])
    # reproducible with the seed
    again = metrics_table(frame, by=["model"], n_resamples=200, seed=4)
    assert again.equals(table)


def test_grouping_by_halide_and_class(frame):
    table = metrics_table(frame, by=["model", "halide"], n_resamples=50)
    assert set(table.halide) == set(frame.halide)
    assert (
        table.groupby(["model", "halide"]).n.first().sum()
        == frame.dropna(subset=["sigma_mlip"]).shape[0]
    )


def test_confusion_matrices_count_every_usable_row(frame):
    matrices = confusion_matrices(frame)
    for model in ("m1", "m2"):
        total = np.asarray(matrices[model]["stability"]["matrix"]).sum()
        assert total == 29
        assert np.asarray(matrices[model]["anharmonicity_class"]["matrix"]).sum() == 29
