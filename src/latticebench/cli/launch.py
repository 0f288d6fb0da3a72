"""``latticebench launch rapidfire | singleshot --fworker FILE``: FireWorks workers.

Wraps FireWorks' rocket launcher. Unlike ``rlaunch``, it refuses a worker without a category,
exports the worker's ``LATTICEBENCH_*`` env entries to the process, and points jobflow's JobStore
at the store of those settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from latticebench.cli.common import fail
from latticebench.cli.submit import LaunchPadOption

__all__ = ["app"]

app = typer.Typer(
    help="Run FireWorks workers (rocket launcher) for latticebench workflows.",
    no_args_is_help=True,
)

FWorkerOption = Annotated[
    Path,
    typer.Option(
        "--fworker", "-w", help="Worker file with name, category and env (my_fworker.yaml)."
    ),
]
LaunchDir = Annotated[
    Path | None,
    typer.Option("--launch-dir", help="Where launch folders go (default: current directory)."),
]
LogLevel = Annotated[str, typer.Option("--loglvl", help="FireWorks log level.")]


def _launch(mode: Literal["rapidfire", "singleshot"], fworker: Path, launchpad, **options) -> None:
    from pymongo.errors import PyMongoError

    from latticebench.hpc.launchpad import LaunchPadError, open_launchpad
    from latticebench.hpc.workers import WorkerConfigurationError, launch, load_fworker

    try:
        worker = load_fworker(fworker)
        with open_launchpad(launchpad) as pad:
            launch(mode, worker, pad, **options)
    except (WorkerConfigurationError, LaunchPadError, OSError) as exc:
        fail(str(exc))
    except PyMongoError as exc:
        fail(f"LaunchPad database error: {exc}")


@app.command("rapidfire")
def rapidfire(
    fworker: FWorkerOption,
    launchpad: LaunchPadOption = None,
    nlaunches: Annotated[
        int, typer.Option("--nlaunches", min=0, help="Stop after this many (0: until done).")
    ] = 0,
    max_loops: Annotated[
        int, typer.Option("--max-loops", help="At most this many wait-and-check loops (-1: any).")
    ] = -1,
    sleep: Annotated[
        int | None, typer.Option("--sleep", min=1, help="Seconds between loops.")
    ] = None,
    timeout: Annotated[
        int | None, typer.Option("--timeout", min=1, help="Stop launching after this many s.")
    ] = None,
    launch_dir: LaunchDir = None,
    loglvl: LogLevel = "INFO",
) -> None:
    """Keep running fireworks of the worker's category until none is left (or a limit)."""
    _launch(
        "rapidfire",
        fworker,
        launchpad,
        launch_dir=launch_dir,
        nlaunches=nlaunches,
        max_loops=max_loops,
        sleep_time=sleep,
        timeout=timeout,
        log_level=loglvl,
    )


@app.command("singleshot")
def singleshot(
    fworker: FWorkerOption,
    launchpad: LaunchPadOption = None,
    fw_id: Annotated[
        int | None, typer.Option("--fw-id", help="Run this firework (if ready for this worker).")
    ] = None,
    launch_dir: LaunchDir = None,
    loglvl: LogLevel = "INFO",
) -> None:
    """Run one firework of the worker's category."""
    _launch("singleshot", fworker, launchpad, launch_dir=launch_dir, fw_id=fw_id, log_level=loglvl)
