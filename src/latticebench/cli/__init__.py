"""The ``latticebench`` command line (typer). Each command group lives in its own module."""

from __future__ import annotations

import warnings
from typing import Annotated

import typer

from latticebench.cli.demo import demo
from latticebench.cli.imports import app as imports_app
from latticebench.cli.launch import app as launch_app
from latticebench.cli.models import app as models_app
from latticebench.cli.report import report
from latticebench.cli.run import run
from latticebench.cli.status import status
from latticebench.cli.submit import submit

app = typer.Typer(
    name="latticebench",
    help="Benchmark machine-learned interatomic potentials for lattice dynamics against DFT.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


_DEPENDENCIES = (
    r"(jobflow|e3nn|torch|mace|chgnet|scipy|numpy|ase|pymatgen|phonopy|spglib|maggma|monty"
    r"|montydb|fireworks|custodian|matscipy|torch_ema|opt_einsum)(\..*)?$"
)
"""Modules whose warnings the CLI hides unless --show-warnings."""


@app.callback()
def _options(
    show_warnings: Annotated[
        bool,
        typer.Option(
            "--show-warnings",
            help="Show warnings of the scientific libraries (hidden by default).",
            envvar="LATTICEBENCH_SHOW_WARNINGS",
        ),
    ] = False,
) -> None:
    """Benchmark machine-learned interatomic potentials for lattice dynamics against DFT."""
    if not show_warnings:
        # deprecation notices and numerical remarks raised inside dependencies (jobflow's cd,
        # e3nn's torch.load, scipy's logm under ASE's cell filter) say nothing about results
        warnings.filterwarnings("ignore", module=_DEPENDENCIES)


app.add_typer(models_app, name="models")
app.add_typer(imports_app, name="import")
app.add_typer(launch_app, name="launch")
app.command(name="demo")(demo)
app.command(name="report")(report)
app.command(name="run")(run)
app.command(name="submit")(submit)
app.command(name="status")(status)

__all__ = ["app"]
