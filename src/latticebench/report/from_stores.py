"""Write the report straight from the configured stores (used by ``report`` and ``demo``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["report_from_stores"]


def report_from_stores(
    folder: Path,
    *,
    dataset: str | None = None,
    models: Sequence[str] | None = None,
    protocol_id: str | None = None,
    compounds: Sequence[str] | None = None,
    title: str | None = None,
    n_resamples: int = 1000,
) -> tuple[Path, pd.DataFrame]:
    """Load benchmark documents, σ^A(t) traces and bands, and write the HTML report.

    Parameters
    ----------
    folder : Path
        Where ``index.html`` and ``figures/`` go.
    dataset, protocol_id : str, optional
        Filters.
    models, compounds : sequence of str, optional
        Filters.
    title : str, optional
    n_resamples : int
        Bootstrap resamples of the confidence intervals.

    Returns
    -------
    (Path, pandas.DataFrame)
        The ``index.html`` written, and the benchmark rows it shows.
    """
    from latticebench.query import load_benchmarks
    from latticebench.report import DEFAULT_TITLE, load_annotations, load_extras, write_report
    from latticebench.stores import BENCHMARKS_COLLECTION, get_job_store, get_store

    benchmarks = get_store(BENCHMARKS_COLLECTION)
    frame = load_benchmarks(
        benchmarks,
        dataset=dataset,
        models=list(models) if models else None,
        protocol_id=protocol_id,
        compounds=list(compounds) if compounds else None,
    )
    annotations = load_annotations(benchmarks, frame)
    extras = {}
    if not frame.empty:
        job_store = get_job_store()
        try:
            extras = load_extras(job_store, frame, reference_bands=annotations.reference_bands)
        finally:
            job_store.close()
    index = write_report(
        frame,
        folder,
        extras=extras,
        title=title or DEFAULT_TITLE,
        thresholds=annotations.thresholds,
        n_resamples=n_resamples,
    )
    return index, frame
