"""Benchmark results as pandas DataFrames, and their metrics per model, halide and DFT class.

Examples
--------
>>> from latticebench.query import load_benchmarks, metrics_table
>>> frame = load_benchmarks(dataset="hdp-chemmater-2022")  # doctest: +SKIP
>>> metrics_table(frame, by=["model", "halide"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from latticebench.analysis import StabilityThresholds, metrics_with_ci
from latticebench.schemas.benchmark import BenchmarkDoc

__all__ = [
    "BENCHMARK_COLUMNS",
    "benchmark_rows",
    "confusion_matrices",
    "load_benchmarks",
    "metrics_table",
]

BENCHMARK_COLUMNS: dict[str, str] = {
    "dataset": "reference dataset id",
    "compound": "compound name",
    "halide": "X-site element",
    "model": "model name",
    "protocol_id": "protocol id",
    "form": "σ^A form compared ('std' or 'rms')",
    "sigma_dft": "reference σ^A",
    "sigma_mlip": "MLIP σ^A (same form as the reference)",
    "sigma_error": "MLIP − reference σ^A",
    "sigma_se_mlip": "block standard error of the MLIP σ^A",
    "stable_dft": "reference: σ^A ≤ stable_max",
    "stable_mlip": "MLIP: σ^A ≤ stable_max",
    "class_dft": "reference anharmonicity class",
    "class_mlip": "MLIP anharmonicity class",
    "harmonically_stable": "MLIP: no imaginary harmonic modes",
    "lowest_frequency_THz": "MLIP lowest harmonic frequency (THz)",
    "imaginary_mode_fraction": "MLIP fraction of imaginary mesh modes",
    "lattice_parameter_A": "MLIP relaxed lattice parameter (Å)",
    "relax_converged": "relaxation reached fmax",
    "md_complete": "every MD run finished",
    "failure_reason": "why the MLIP σ^A is missing (a failed step), else None",
    "sigma_reference_rescored": "decomposition: DFT frames / DFT F / DFT Φ",
    "sigma_force_only": "decomposition: DFT frames / MLIP F / DFT Φ",
    "sigma_force_and_hessian": "decomposition: DFT frames / MLIP F / MLIP Φ",
    "sigma_full": "decomposition: MLIP MD frames / MLIP F / MLIP Φ",
    "force_rmse_eV_per_A": "MLIP vs DFT force RMSE on DFT frames (eV/Å)",
    "omega_squared_rmse_THz2": "MLIP vs reference ω² RMSE on the band path (THz²)",
    "group_velocity_rmse_THz_A": "MLIP vs reference group-velocity RMSE (THz·Å)",
    "anharmonicity_job": "uuid of the MLIP anharmonicity job",
    "phonon_job": "uuid of the MLIP phonon job",
}
"""Columns of :func:`benchmark_rows` and what they hold (units in the text)."""


def _row(doc: BenchmarkDoc) -> dict[str, Any]:
    decomposition = doc.decomposition
    errors = doc.phonon_errors
    return {
        "dataset": doc.dataset,
        "compound": doc.compound,
        "halide": doc.halide,
        "model": doc.model,
        "protocol_id": doc.protocol_id,
        "form": doc.mlip.form,
        "sigma_dft": doc.reference.sigma,
        "sigma_mlip": doc.mlip.sigma,
        "sigma_error": doc.sigma_error,
        "sigma_se_mlip": doc.mlip.standard_error,
        "stable_dft": doc.reference.stable,
        "stable_mlip": doc.mlip.stable,
        "class_dft": doc.reference.anharmonicity_class,
        "class_mlip": doc.mlip.anharmonicity_class,
        "harmonically_stable": doc.mlip.harmonically_stable,
        "lowest_frequency_THz": doc.mlip.lowest_frequency_THz,
        "imaginary_mode_fraction": doc.mlip.imaginary_mode_fraction,
        "lattice_parameter_A": doc.mlip.lattice_parameter_A,
        "relax_converged": doc.mlip.relax_converged,
        "md_complete": doc.mlip.md_complete,
        "failure_reason": doc.mlip.failure_reason,
        "sigma_reference_rescored": decomposition.sigma_reference if decomposition else None,
        "sigma_force_only": decomposition.sigma_force_only if decomposition else None,
        "sigma_force_and_hessian": (
            decomposition.sigma_force_and_hessian if decomposition else None
        ),
        "sigma_full": decomposition.sigma_full if decomposition else None,
        "force_rmse_eV_per_A": decomposition.force_rmse_eV_per_A if decomposition else None,
        "omega_squared_rmse_THz2": errors.omega_squared_rmse_THz2 if errors else None,
        "group_velocity_rmse_THz_A": errors.group_velocity_rmse_THz_A if errors else None,
        "anharmonicity_job": doc.job_uuids.get("anharmonicity"),
        "phonon_job": doc.job_uuids.get("phonons"),
    }


def benchmark_rows(docs: Iterable[BenchmarkDoc | Mapping[str, Any]]) -> pd.DataFrame:
    """One row per benchmark document, columns as in :data:`BENCHMARK_COLUMNS`.

    Parameters
    ----------
    docs : iterable of BenchmarkDoc or dict
        Documents (dicts as stored are validated).

    Returns
    -------
    pandas.DataFrame
        Sorted by model, then compound.
    """
    rows = [
        _row(doc if isinstance(doc, BenchmarkDoc) else BenchmarkDoc.model_validate(_strip(doc)))
        for doc in docs
    ]
    frame = pd.DataFrame(rows, columns=list(BENCHMARK_COLUMNS))
    return frame.sort_values(["model", "compound"], kind="stable").reset_index(drop=True)


def _strip(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("_id", "updates", "last_updated")}


def load_benchmarks(
    store=None,
    *,
    dataset: str | None = None,
    models: Sequence[str] | None = None,
    protocol_id: str | None = None,
    compounds: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Query the ``benchmarks`` collection into a DataFrame.

    Parameters
    ----------
    store : maggma Store, optional
        Default: ``latticebench.stores.get_store("benchmarks")`` from the settings.
    dataset, protocol_id : str, optional
        Filters.
    models, compounds : sequence of str, optional
        Filters.

    Returns
    -------
    pandas.DataFrame
        See :func:`benchmark_rows`.
    """
    from latticebench.stores import BENCHMARKS_COLLECTION, get_store

    store = store if store is not None else get_store(BENCHMARKS_COLLECTION)
    criteria: dict[str, Any] = {}
    if dataset is not None:
        criteria["dataset"] = dataset
    if protocol_id is not None:
        criteria["protocol_id"] = protocol_id
    if models:
        criteria["model"] = {"$in": list(models)}
    if compounds:
        criteria["compound"] = {"$in": list(compounds)}
    store.connect()
    try:
        docs = list(store.query(criteria=criteria))
    finally:
        store.close()
    return benchmark_rows(docs)


def metrics_table(
    frame: pd.DataFrame,
    *,
    by: Sequence[str] = ("model",),
    thresholds: StabilityThresholds | None = None,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Classification and regression metrics of MLIP vs reference σ^A, per group, with CIs.

    Rows lacking either σ^A are left out (counted in ``n_missing``).

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`benchmark_rows` / :func:`load_benchmarks`.
    by : sequence of str
        Grouping columns, e.g. ``["model"]``, ``["model", "halide"]``, ``["model", "class_dft"]``.
    thresholds : StabilityThresholds, optional
    n_resamples, confidence, seed
        Bootstrap settings (seeded: the table is reproducible).

    Returns
    -------
    pandas.DataFrame
        Long format: the ``by`` columns, ``n``, ``n_missing``, ``group`` (regression, stability,
        anharmonicity_class), ``metric``, ``value``, ``low``, ``high``.
    """
    columns = [*by, "n", "n_missing", "group", "metric", "value", "low", "high"]
    records: list[dict[str, Any]] = []
    if frame.empty:
        return pd.DataFrame(columns=columns)
    for key, group in frame.groupby(list(by), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        usable = group.dropna(subset=["sigma_dft", "sigma_mlip"])
        base = dict(zip(by, key, strict=True))
        base.update(n=len(usable), n_missing=len(group) - len(usable))
        if len(usable) < 2:
            continue
        result = metrics_with_ci(
            usable["sigma_dft"].to_numpy(float),
            usable["sigma_mlip"].to_numpy(float),
            thresholds=thresholds,
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )
        for group_name in ("regression", "stability", "anharmonicity_class"):
            for metric, value in result[group_name].items():
                if isinstance(value, dict) and "value" in value:
                    records.append(
                        {
                            **base,
                            "group": group_name,
                            "metric": metric,
                            "value": value["value"],
                            "low": value["low"],
                            "high": value["high"],
                        }
                    )
    out = pd.DataFrame(records, columns=columns)
    return out.astype({"value": float, "low": float, "high": float}) if len(out) else out


def confusion_matrices(
    frame: pd.DataFrame, thresholds: StabilityThresholds | None = None
) -> dict[str, dict[str, Any]]:
    """Stability and class confusion matrices per model (rows = DFT, columns = MLIP).

    Rows lacking either σ^A are left out; a model without usable rows has no entry.

    Parameters
    ----------
    frame : pandas.DataFrame
    thresholds : StabilityThresholds, optional

    Returns
    -------
    dict
        ``{model: {"stability": {"labels", "matrix"}, "anharmonicity_class": {...}}}``.
    """
    from latticebench.analysis import (
        ANHARMONICITY_CLASSES,
        STABILITY_LABELS,
        anharmonicity_class,
        confusion_matrix,
        stability_labels,
    )

    frame = frame.dropna(subset=["sigma_dft", "sigma_mlip"])

    out: dict[str, dict[str, Any]] = {}
    for model, group in frame.groupby("model", sort=True):
        true = group["sigma_dft"].to_numpy(float)
        pred = group["sigma_mlip"].to_numpy(float)
        out[str(model)] = {
            "stability": {
                "labels": list(STABILITY_LABELS),
                "matrix": np.asarray(
                    confusion_matrix(
                        stability_labels(true, thresholds),
                        stability_labels(pred, thresholds),
                        STABILITY_LABELS,
                    )
                ).tolist(),
            },
            "anharmonicity_class": {
                "labels": list(ANHARMONICITY_CLASSES),
                "matrix": np.asarray(
                    confusion_matrix(
                        anharmonicity_class(true, thresholds),
                        anharmonicity_class(pred, thresholds),
                        ANHARMONICITY_CLASSES,
                    )
                ).tolist(),
            },
        }
    return out
