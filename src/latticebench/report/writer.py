"""``write_report``: the benchmark report as a self-contained folder (index.html + figures/).

The folder is built in a hidden staging folder inside ``directory`` and swapped in when
complete, so a failure never leaves a half-written report; an earlier report in the same folder
is replaced, anything else there is left alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from latticebench.analysis import StabilityThresholds
from latticebench.report.data import ExtrasKey, ReportExtras, check_unique_rows
from latticebench.report.page import PageOptions, render_page

__all__ = ["DEFAULT_TITLE", "REQUIRED_COLUMNS", "write_report"]

DEFAULT_TITLE = "latticebench: MLIP against DFT lattice dynamics"
"""Title of a report when none is given."""

REQUIRED_COLUMNS: tuple[str, ...] = (
    "dataset",
    "compound",
    "halide",
    "model",
    "protocol_id",
    "form",
    "sigma_dft",
    "sigma_mlip",
    "sigma_error",
    "sigma_se_mlip",
    "stable_dft",
    "stable_mlip",
    "class_dft",
    "class_mlip",
    "harmonically_stable",
    "lowest_frequency_THz",
    "sigma_reference_rescored",
    "sigma_force_only",
    "sigma_force_and_hessian",
    "force_rmse_eV_per_A",
    "omega_squared_rmse_THz2",
    "group_velocity_rmse_THz_A",
)
"""Columns of :func:`latticebench.query.benchmark_rows` the report reads."""

_MARKER = ".latticebench-report"
"""File that marks a ``figures`` folder as written by this module (safe to replace)."""


def write_report(
    frame: pd.DataFrame,
    directory: str | os.PathLike[str],
    *,
    extras: Mapping[ExtrasKey, ReportExtras] | None = None,
    title: str = DEFAULT_TITLE,
    thresholds: StabilityThresholds | Mapping[str, float] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    max_traces: int = 8,
    max_bands: int = 8,
) -> Path:
    """Write the HTML benchmark report into ``directory``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Benchmark rows from :func:`latticebench.query.benchmark_rows` or
        :func:`latticebench.query.load_benchmarks`; an empty frame gives a page saying that
        there are no results yet.
    directory : path
        Output folder (created). It receives ``index.html`` and ``figures/*.png``, referenced
        by relative paths, so the folder can be moved or zipped.
    extras : mapping, optional
        ``(compound, model) -> ReportExtras`` from :func:`latticebench.report.load_extras`
        (σ^A(t) traces, phonon bands); without it those sections say so.
    title : str
        Page title.
    thresholds : StabilityThresholds or mapping, optional
        Classification thresholds (those recorded in the benchmark documents, see
        :func:`latticebench.report.load_annotations`); default ``StabilityThresholds()``.
    n_resamples, seed : int
        Bootstrap settings of the confidence intervals (:func:`latticebench.query.metrics_table`).
    max_traces, max_bands : int
        At most this many compounds get a σ^A(t) figure / a band-structure figure.

    Returns
    -------
    Path
        ``directory / "index.html"``.

    Raises
    ------
    ValueError
        Missing columns, repeated (compound, model) rows, or invalid thresholds.
    FileExistsError
        ``directory`` holds an ``index.html`` or ``figures`` that this function did not write.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"benchmark frame lacks the column(s) {missing}; use benchmark_rows()")
    check_unique_rows(frame)
    options = PageOptions(
        title=title,
        thresholds=_thresholds(thresholds),
        n_resamples=n_resamples,
        seed=seed,
        max_traces=max_traces,
        max_bands=max_bands,
    )
    target = Path(directory)
    with _staged(target) as staging:
        text = render_page(frame, staging / "figures", options, extras)
        (staging / "index.html").write_text(text, encoding="utf-8")
    return target / "index.html"


def _thresholds(value: StabilityThresholds | Mapping[str, float] | None) -> StabilityThresholds:
    if value is None:
        return StabilityThresholds()
    if isinstance(value, StabilityThresholds):
        return value
    try:
        return StabilityThresholds(**dict(value))
    except TypeError as exc:
        raise ValueError(f"thresholds {dict(value)} are not valid: {exc}") from exc


def _ours(path: Path) -> bool:
    """Whether an existing index.html or figures folder was written by write_report."""
    if path.is_dir():
        return (path / _MARKER).is_file()
    with path.open("rb") as handle:
        return b'content="latticebench report"' in handle.read(4096)


@contextmanager
def _staged(target: Path) -> Iterator[Path]:
    """Yield a staging folder; on success move its index.html and figures/ into ``target``."""
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"report output {target} exists and is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    page, figures = target / "index.html", target / "figures"
    for existing in (page, figures):
        if existing.exists() and not _ours(existing):
            raise FileExistsError(
                f"{existing} exists and was not written by latticebench report; "
                "choose another output folder"
            )
    staging = Path(tempfile.mkdtemp(prefix=".report-staging-", dir=target))
    try:
        (staging / "figures").mkdir()
        (staging / "figures" / _MARKER).write_text("written by latticebench report\n")
        yield staging
        retired = staging / "previous-figures"
        if figures.exists():
            figures.rename(retired)
        (staging / "figures").rename(figures)
        (staging / "index.html").replace(page)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
