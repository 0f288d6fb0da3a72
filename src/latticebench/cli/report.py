"""``latticebench report``: write the HTML benchmark report from the configured stores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from latticebench.cli.common import console, fail


def report(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for index.html and figures/ (default: <data dir>/report).",
        ),
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this reference dataset.")] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Only these models (repeatable).")
    ] = None,
    protocol_id: Annotated[str | None, typer.Option(help="Only this protocol id.")] = None,
    title: Annotated[str | None, typer.Option(help="Page title.")] = None,
    bootstrap_resamples: Annotated[
        int,
        typer.Option(min=1, help="Bootstrap resamples of the 95% confidence intervals."),
    ] = 1000,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the report in a web browser.")
    ] = False,
) -> None:
    """Write an HTML report of the benchmark results and print the path of its index.html."""
    from latticebench.report.from_stores import report_from_stores
    from latticebench.settings import get_settings

    handled = _handled_errors()
    folder = output if output is not None else get_settings().data_dir / "report"
    try:
        with console.status("reading results and drawing figures…"):
            index, frame = report_from_stores(
                folder,
                dataset=dataset,
                models=model or None,
                protocol_id=protocol_id,
                title=title,
                n_resamples=bootstrap_resamples,
            )
    except handled as exc:
        fail(str(exc))
    if frame.empty:
        console.print("no benchmark results match this selection; the report says so")
    console.print(str(index.resolve()), highlight=False, soft_wrap=True)
    if open_browser:
        import webbrowser

        if not webbrowser.open(index.resolve().as_uri()):
            console.print("could not open a web browser; open the path above yourself")


def _handled_errors() -> tuple[type[BaseException], ...]:
    from latticebench.stores import StoreError

    return (ValueError, OSError, StoreError)
