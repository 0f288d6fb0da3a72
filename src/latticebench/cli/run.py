"""``latticebench run``: run a study locally on the configured (default: embedded) stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import typer
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


def print_results(frame: pd.DataFrame) -> None:
    """Print the per-compound comparison table (σ^A DFT vs MLIP, stability, classes).

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`latticebench.query.load_benchmarks`.
    """
    table = Table(title="σ^A at 300 K: DFT reference vs MLIP")
    for column in (
        "compound", "X", "model", "σ DFT", "σ MLIP", "DFT", "MLIP", "class DFT", "class MLIP",
        "harmonic (0 K)",
    ):  # fmt: skip
        table.add_column(column, no_wrap=column == "compound")
    for row in frame.itertuples():
        harmonic = row.harmonically_stable
        table.add_row(
            row.compound,
            _fmt(row.halide),
            str(row.model),
            _fmt(row.sigma_dft),
            _fmt(row.sigma_mlip),
            _label(row.stable_dft),
            _label(row.stable_mlip),
            _fmt(row.class_dft),
            _fmt(row.class_mlip),
            "—" if harmonic is None else ("stable" if harmonic else "imaginary modes"),
        )
    console.print(table)


def print_metrics(frame: pd.DataFrame, *, n_resamples: int = 1000) -> None:
    """Print the metrics per model with 95% bootstrap intervals.

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
    shown = (
        ("regression", "mae", "MAE"),
        ("regression", "rmse", "RMSE"),
        ("regression", "spearman", "Spearman ρ"),
        ("stability", "accuracy", "stability acc."),
        ("stability", "mcc", "stability MCC"),
        ("anharmonicity_class", "accuracy", "class acc."),
    )
    table = Table(title="Metrics (95% bootstrap interval)")
    table.add_column("model")
    table.add_column("n")
    for _, _, title in shown:
        table.add_column(title)
    for model, rows in metrics.groupby("model", sort=True):
        cells = []
        for group, metric, _ in shown:
            hit = rows[(rows["group"] == group) & (rows["metric"] == metric)]
            if hit.empty:
                cells.append("—")
                continue
            r = hit.iloc[0]
            cells.append(f"{_fmt(r.value, 2)} [{_fmt(r.low, 2)}, {_fmt(r.high, 2)}]")
        table.add_row(str(model), str(int(rows["n"].iloc[0])), *cells)
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
