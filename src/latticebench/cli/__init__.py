"""The ``latticebench`` command line (typer). Each command group lives in its own module."""

from __future__ import annotations

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
app.add_typer(models_app, name="models")
app.add_typer(imports_app, name="import")
app.add_typer(launch_app, name="launch")
app.command(name="demo")(demo)
app.command(name="report")(report)
app.command(name="run")(run)
app.command(name="submit")(submit)
app.command(name="status")(status)

__all__ = ["app"]
