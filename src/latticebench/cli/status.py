"""``latticebench status``: local store contents and, with a LaunchPad, workflow states."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from latticebench.cli.common import console, fail
from latticebench.cli.submit import LaunchPadOption

__all__ = ["status"]

_STATE_ORDER = (
    "COMPLETED", "RUNNING", "RESERVED", "READY", "WAITING", "PAUSED", "FIZZLED", "DEFUSED",
    "ARCHIVED",
)  # fmt: skip


def _print_store_summary() -> None:
    from latticebench.hpc.monitoring import store_summary

    summary = store_summary()
    console.print(f"stores: {summary.location}", highlight=False, soft_wrap=True)
    references = Table(title="Reference documents")
    references.add_column("dataset")
    references.add_column("documents", justify="right")
    for dataset, count in summary.references.items():
        references.add_row(str(dataset), str(count))
    if not summary.references:
        references.add_row("—", "0")
    console.print(references)
    benchmarks = Table(title="Benchmark documents")
    benchmarks.add_column("model")
    benchmarks.add_column("protocol id")
    benchmarks.add_column("documents", justify="right")
    for (model, protocol_id), count in summary.benchmarks.items():
        benchmarks.add_row(str(model), str(protocol_id), str(count))
    if not summary.benchmarks:
        benchmarks.add_row("—", "—", "0")
    console.print(benchmarks)


def _print_launchpad(pad, max_failures: int) -> None:
    from latticebench.hpc.monitoring import failed_fireworks, workflow_states_by_model

    by_model = workflow_states_by_model(pad)
    seen = {state for counts in by_model.values() for state in counts}
    states = [s for s in _STATE_ORDER if s in seen] + sorted(seen - set(_STATE_ORDER))
    table = Table(title="Workflows per model (LaunchPad)")
    table.add_column("model")
    for state in states:
        table.add_column(state.lower(), justify="right")
    table.add_column("total", justify="right")
    for model, counts in by_model.items():
        table.add_row(model, *(str(counts.get(s, 0)) for s in states), str(sum(counts.values())))
    if not by_model:
        console.print("no latticebench workflows on the LaunchPad")
    else:
        console.print(table)
    failed = failed_fireworks(pad)
    if not failed:
        return
    console.print(f"[red]{len(failed)} failed firework(s)[/red]")
    for fw in failed[:max_failures]:
        where = f"{fw.compound} × {fw.model}" if fw.compound else fw.workflow
        console.print(
            f"  fw {fw.fw_id} {fw.name} ({where}): {fw.reason}", highlight=False, soft_wrap=True
        )
    if len(failed) > max_failures:
        console.print(f"  … and {len(failed) - max_failures} more (--failures N shows more)")


def status(
    launchpad: LaunchPadOption = None,
    failures: Annotated[
        int, typer.Option("--failures", min=0, help="List at most this many failed fireworks.")
    ] = 20,
) -> None:
    """Summarise the local stores and, when a LaunchPad is configured, the workflows on it."""
    from pymongo.errors import PyMongoError

    from latticebench.hpc.launchpad import LaunchPadError, open_launchpad
    from latticebench.stores import StoreError

    try:
        _print_store_summary()
        with open_launchpad(launchpad, required=launchpad is not None) as pad:
            if pad is None:
                console.print(
                    "no LaunchPad configured (--launchpad FILE, ./my_launchpad.yaml or "
                    "FW_CONFIG_FILE): workflow states not shown"
                )
                return
            _print_launchpad(pad, failures)
    except (LaunchPadError, StoreError, OSError) as exc:
        fail(str(exc))
    except PyMongoError as exc:
        fail(f"LaunchPad database error: {exc}")
