"""``latticebench demo``: the offline main job.

Imports the bundled DFT reference table, benchmarks CHGNet 0.3.0 (weights ship with chgnet) on
8 compounds (2 per halide, spread over the σ^A classes) with the reduced demo protocol on the
embedded store, prints the comparison and the metrics, and writes the HTML report. A second run
reuses every finished result.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from latticebench.cli.common import console, fail
from latticebench.cli.run import execute_study, print_metrics, print_results


def demo(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Report folder (default: <data dir>/demo-report)."),
    ] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
) -> None:
    """Run the offline demo benchmark and write its report."""
    from latticebench.report.from_stores import report_from_stores
    from latticebench.settings import get_settings
    from latticebench.study import DEMO_STUDY, StudySpecError

    start = time.perf_counter()
    settings = get_settings()
    spec = DEMO_STUDY.model_copy(
        update={"resources": DEMO_STUDY.resources.model_copy(update={"device": device})}
    )
    console.print(
        f"latticebench demo: data in {settings.data_dir} "
        f"({'embedded store' if settings.store == 'embedded' else 'MongoDB'})"
    )
    try:
        result = execute_study(spec)
    except (StudySpecError, ValueError, OSError, LookupError) as exc:
        fail(str(exc))
    assert result is not None
    compounds = [reference.compound for reference in result.plan.references]
    folder = output if output is not None else settings.data_dir / "demo-report"
    with console.status("writing the report…"):
        index, frame = report_from_stores(
            folder,
            dataset=spec.dataset,
            models=spec.models,
            protocol_id=result.plan.protocol.protocol_id,
            compounds=compounds,
            title="latticebench demo: CHGNet 0.3.0 vs DFT (reduced protocol)",
        )
    print_results(frame)
    print_metrics(frame)
    console.print(f"report: {index.resolve()}", highlight=False, soft_wrap=True)
    console.print(f"demo finished in {time.perf_counter() - start:.1f} s")
    if result.failed:
        raise typer.Exit(1)
