"""``latticebench run``: run a study locally on the configured (default: embedded) stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import typer
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from latticebench.cli.common import console, fail

__all__ = ["execute_study", "print_metrics", "print_results", "run"]


def execute_study(spec, *, force: bool = False, dry_run: bool = False):
    """Plan and run a study with a progress bar; return the run (None for a dry run).

    Parameters
    ----------
    spec : StudySpec
    force : bool
    dry_run : bool
        Print the plan only.

    Returns
    -------
    StudyRun or None
    """
    from latticebench.runner import plan_study, run_study

    if dry_run:
        plan = plan_study(spec, force=force)
        console.print(
            f"study {spec.name}: {len(plan.references)} compounds × {len(spec.models)} models, "
            f"protocol {plan.protocol.protocol_id}: {len(plan.todo)} to run, "
            f"{len(plan.done)} already done"
        )
        for reference, model in plan.todo:
            console.print(f"  would run {reference.compound} × {model}")
        return None
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("planning…", total=None)

        def update(finished: int, total: int, label: str) -> None:
            progress.update(
                task,
                total=total,
                completed=finished,
                description=label or "done",
            )

        result = run_study(spec, force=force, on_progress=update)
    plan = result.plan
    console.print(
        f"protocol {plan.protocol.protocol_id}: ran {len(result.completed)}, "
        f"reused {len(plan.done)}, failed {len(result.failed)} "
        f"({result.wall_time_s:.1f} s)"
    )
    for name, reason in result.failed.items():
        console.print(f"[red]failed[/red] {name}: {reason}", highlight=False, soft_wrap=True)
    return result


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _label(stable) -> str:
    if stable is None or (isinstance(stable, float) and stable != stable):
        return "—"
    return "stable" if bool(stable) else "unstable"


def _compact_table(title: str) -> Table:
    return Table(
        title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True
    )


def print_results(frame: pd.DataFrame) -> None:
    """Print the per-compound comparison (σ^A DFT vs MLIP, stability labels, classes).

    Fits an 80-column terminal: one table per model.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`latticebench.query.load_benchmarks`.
    """
    for model, rows in frame.groupby("model", sort=True):
        table = _compact_table(f"σ^A at 300 K: DFT reference vs {model}")
        for column in (
            "compound", "σ DFT", "σ MLIP", "DFT", "MLIP", "class DFT", "class MLIP", "0 K",
        ):  # fmt: skip
            table.add_column(column, no_wrap=True)
        for row in rows.itertuples():
            harmonic = row.harmonically_stable
            table.add_row(
                row.compound,
                _fmt(row.sigma_dft),
                _fmt(row.sigma_mlip),
                _label(row.stable_dft),
                _label(row.stable_mlip),
                _fmt(row.class_dft),
                _fmt(row.class_mlip),
                "—" if harmonic is None else ("stable" if harmonic else "imag."),
            )
        console.print(table)
    console.print(
        "DFT/MLIP: dynamic stability at 300 K (σ^A ≤ 1); class: weak ≤ 0.5 < moderate ≤ 0.75 "
        "< strong ≤ 1 < unstable; 0 K: harmonic phonons of the MLIP (imag. = imaginary modes)."
    )


_SHOWN_METRICS = (
    ("regression", "mae", "σ MAE"),
    ("regression", "rmse", "σ RMSE"),
    ("regression", "spearman", "σ Spearman ρ"),
    ("regression", "r2", "σ R²"),
    ("stability", "accuracy", "stability accuracy"),
    ("stability", "f1", "stability F1 (unstable)"),
    ("stability", "mcc", "stability MCC"),
    ("anharmonicity_class", "accuracy", "class accuracy"),
)


def print_metrics(frame: pd.DataFrame, *, n_resamples: int = 1000) -> None:
    """Print the metrics per model with 95% bootstrap intervals (rows: metrics).

    Parameters
    ----------
    frame : pandas.DataFrame
    n_resamples : int
    """
    from latticebench.query import metrics_table

    metrics = metrics_table(frame, by=["model"], n_resamples=n_resamples)
    if metrics.empty:
        console.print("too few compounds with both σ^A values for metrics")
        return
    models = sorted(metrics["model"].unique())
    table = _compact_table("Metrics, value [95% bootstrap interval]")
    table.add_column("metric", no_wrap=True)
    for model in models:
        n = int(metrics.loc[metrics["model"] == model, "n"].iloc[0])
        table.add_column(f"{model} (n={n})", no_wrap=True)
    for group, metric, title in _SHOWN_METRICS:
        cells = []
        for model in models:
            hit = metrics[
                (metrics["model"] == model)
                & (metrics["group"] == group)
                & (metrics["metric"] == metric)
            ]
            if hit.empty:
                cells.append("—")
                continue
            r = hit.iloc[0]
            cells.append(f"{_fmt(r.value, 2)} [{_fmt(r.low, 2)}, {_fmt(r.high, 2)}]")
        table.add_row(title, *cells)
    console.print(table)


def run(
    study: Annotated[
        Path | None, typer.Argument(help="Study file (workflows/*.yaml).", show_default=False)
    ] = None,
    compound: Annotated[
        list[str] | None, typer.Option("--compound", "-c", help="Compounds (no study file).")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Models (no study file).")
    ] = None,
    protocol: Annotated[
        Literal["reference", "demo"], typer.Option(help="Protocol preset (no study file).")
    ] = "reference",
    dataset: Annotated[str, typer.Option(help="Reference dataset id.")] = "hdp-chemmater-2022",
    force: Annotated[bool, typer.Option(help="Recompute pairs that already have results.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print what would run.")] = False,
) -> None:
    """Run a benchmark study locally; finished (compound, model, protocol) results are reused."""
    from latticebench.study import StudySpec, StudySpecError

    try:
        if study is not None:
            if compound or model:
                fail("give either a study file or --compound/--model, not both")
            spec = StudySpec.from_yaml(study)
        else:
            if not compound or not model:
                fail("give a study file, or at least one --compound and one --model")
            spec = StudySpec.model_validate(
                {
                    "name": "cli",
                    "dataset": dataset,
                    "compounds": {"names": compound},
                    "models": model,
                    "protocol": {"preset": protocol},
                }
            )
        result = execute_study(spec, force=force, dry_run=dry_run)
    except (StudySpecError, ValueError, OSError, LookupError) as exc:
        fail(str(exc))
    if result is None:
        return
    from latticebench.query import load_benchmarks

    frame = load_benchmarks(
        dataset=spec.dataset,
        models=spec.models,
        protocol_id=result.plan.protocol.protocol_id,
        compounds=[r.compound for r in result.plan.references],
    )
    print_results(frame)
    if result.failed:
        raise typer.Exit(1)
