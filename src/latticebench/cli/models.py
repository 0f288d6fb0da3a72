"""``latticebench models list | fetch NAME | verify NAME``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from latticebench.cli.common import console, fail
from latticebench.models import (
    CATALOG,
    REFERENCE_STUDY_MODELS,
    ModelNotFoundError,
    UnknownModelError,
    fetch_checkpoint,
    resolve_checkpoint,
    sha256_file,
)

app = typer.Typer(help="Named MLIP models: list them, fetch checkpoints, verify files.")


@app.command("list")
def list_models(
    paths: Annotated[bool, typer.Option("--paths", help="Print checkpoint paths.")] = False,
) -> None:
    """List the named models and whether each checkpoint is on this machine."""
    table = Table(title="latticebench models")
    table.add_column("name", no_wrap=True)
    for column in ("family", "reference study", "on disk", "licence", "description"):
        table.add_column(column, overflow="fold")
    for spec in CATALOG.values():
        try:
            found = resolve_checkpoint(spec.name, allow_download=False)
            location = str(found.path) if paths else found.source
        except ModelNotFoundError:
            location = "[yellow]missing[/yellow]"
        table.add_row(
            spec.name,
            spec.family,
            "yes" if spec.name in REFERENCE_STUDY_MODELS else "",
            location,
            spec.license.split(" (")[0],
            spec.description,
        )
    console.print(table)


@app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help="Catalog name, e.g. mace-mpa-0-medium.")],
    dest: Annotated[
        Path | None,
        typer.Option(help="Folder to download into (default: model dir, else the MACE cache)."),
    ] = None,
) -> None:
    """Download a model checkpoint (needs internet) and record its SHA-256."""
    try:
        found = fetch_checkpoint(name, destination=dest)
    except (ModelNotFoundError, UnknownModelError) as exc:
        fail(str(exc))
    console.print(f"{found.name}: {found.path} ({found.source})")
    console.print(f"sha256 {sha256_file(found.path)}")


@app.command("verify")
def verify(
    name: Annotated[str, typer.Argument(help="Catalog name or checkpoint path.")],
    expected: Annotated[str | None, typer.Option(help="SHA-256 the file must have (hex).")] = None,
) -> None:
    """Print a checkpoint's SHA-256 and check it against the expected or recorded one.

    The expected hash is ``--expected`` when given, else the ``<file>.sha256`` sidecar that
    ``models fetch`` writes. Exit code 1 when they differ.
    """
    try:
        found = resolve_checkpoint(name, allow_download=False)
    except (ModelNotFoundError, UnknownModelError) as exc:
        fail(str(exc))
    digest = sha256_file(found.path)
    console.print(f"{digest}  {found.path}")
    sidecar = found.path.with_name(found.path.name + ".sha256")
    want = expected or (sidecar.read_text().split()[0] if sidecar.is_file() else None)
    if want is None:
        console.print("no expected hash given or recorded; nothing to compare")
        return
    if want.lower() != digest:
        console.print(f"[red]MISMATCH[/red]: expected {want}")
        raise typer.Exit(1)
    console.print("[green]OK[/green]: matches the expected hash")
