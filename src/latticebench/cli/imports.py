"""``latticebench import bundled | csv | ase-db | vasp | trajectory | phonopy``.

Every command imports into the configured store (embedded by default; see ``latticebench.yaml``)
and prints what happened: inserted, unchanged, updated, refused and bad records. Bad input
stops the import with a message naming the file and the row/frame/field, and nothing is
written, unless ``--skip-bad`` lands the good records. Changed values for stored compounds are
refused (exit code 1) unless ``--update`` applies them; each applied change is recorded in the
document's ``updates`` history.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from latticebench.cli.common import console, fail

app = typer.Typer(
    help="Import DFT reference data (bundled table, CSV, ASE db, VASP AIMD, trajectories, phonopy)."
)

Update = Annotated[
    bool, typer.Option("--update", help="Apply changed values (recorded) instead of refusing.")
]
SkipBad = Annotated[
    bool,
    typer.Option("--skip-bad", help="Import the good records, list and count the bad ones."),
]
Dataset = Annotated[str, typer.Option("--dataset", help="Dataset id, e.g. 'my-dft-2025'.")]
LevelOfTheory = Annotated[
    str | None, typer.Option("--level-of-theory", help="e.g. 'DFT PBEsol (VASP) AIMD at 300 K'.")
]
Citation = Annotated[str | None, typer.Option("--citation", help="Publication to cite.")]
Doi = Annotated[str | None, typer.Option("--doi", help="DOI, e.g. 10.1021/...")]
SigmaDefinition = Annotated[
    str, typer.Option("--sigma-definition", help="rms, std or unspecified.")
]
Temperature = Annotated[
    float | None, typer.Option("--temperature", help="MD temperature in K (overrides the file).")
]
TimeStep = Annotated[
    float | None, typer.Option("--time-step", help="MD time step in fs (overrides the file).")
]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, target = value.partition("=")
        if not sep or not name.strip():
            fail(f"{option} expects FIELD=VALUE, got {value!r}")
        pairs[name.strip()] = target.strip()
    return pairs


def _info(
    dataset: str,
    level_of_theory: str | None,
    citation: str | None,
    doi: str | None,
    sigma_definition: str | None = None,
    selection_note: str | None = None,
) -> Any:
    from latticebench.references import DatasetInfo

    if sigma_definition not in (None, "rms", "std", "unspecified"):
        fail(f"--sigma-definition must be rms, std or unspecified, got {sigma_definition!r}")
    return DatasetInfo(
        dataset=dataset,
        level_of_theory=level_of_theory,
        citation=citation,
        doi=doi,
        selection_note=selection_note,
        sigma_definition=sigma_definition,
    )


def _show(report: Any) -> None:
    """Print the summary table, the refused and the bad records; exit 1 if any was refused."""
    upsert = report.upsert
    table = Table(title=f"import {report.file} -> dataset {report.dataset!r}")
    for column in ("records", "inserted", "unchanged", "updated", "refused", "bad"):
        table.add_column(column, justify="right")
    counts = report.counts
    table.add_row(str(report.n_records), *(str(counts[k]) for k in list(counts)))
    console.print(table)
    for item in upsert.updated:
        console.print(f"updated ({upsert.describe_key(item.key)}): {', '.join(item.fields)}")
    for bad in report.bad:
        console.print(f"[yellow]bad[/yellow] {bad}", markup=True, highlight=False)
    if upsert.refused:
        for item in upsert.refused[:50]:
            changes = "; ".join(f"{c.field}: {c.old!r} -> {c.new!r}" for c in item.changes)
            console.print(
                f"[red]refused[/red] ({upsert.describe_key(item.key)}): {changes}",
                markup=True,
                highlight=False,
            )
        fail(
            f"{len(upsert.refused)} stored document(s) hold other values than {report.file}; "
            f"nothing was changed for them. Re-run with --update to apply the new values "
            f"(each change is recorded in the document's updates history)."
        )


def _run(action: Callable[[], Any]) -> None:
    from pydantic import ValidationError

    from latticebench.references import BadRecordsError, ImportFileError
    from latticebench.stores import StoreError

    try:
        report = action()
    except (ImportFileError, BadRecordsError, StoreError, ValidationError, ValueError) as exc:
        fail(str(exc))
    _show(report)


@app.command("bundled")
def bundled(update: Update = False, skip_bad: SkipBad = False) -> None:
    """Import the bundled 1,813-compound table (J. Yang et al., Chem. Mater. 2022)."""
    from latticebench.references import import_bundled

    _run(lambda: import_bundled(update=update, skip_bad=skip_bad))


@app.command("csv")
def csv_table(
    path: Annotated[Path, typer.Argument(help="CSV file, one row per compound.")],
    dataset: Dataset,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=column, e.g. sigma_300K=sigma (repeatable)."),
    ] = None,
    unit: Annotated[
        list[str] | None,
        typer.Option("--unit", help="FIELD=unit, e.g. energy=meV/atom (repeatable)."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Column to leave unread (repeatable).")
    ] = None,
    level_of_theory: LevelOfTheory = None,
    citation: Citation = None,
    doi: Doi = None,
    selection_note: Annotated[
        str | None, typer.Option("--selection-note", help="What the table leaves out.")
    ] = None,
    sigma_definition: SigmaDefinition = "unspecified",
    update: Update = False,
    skip_bad: SkipBad = False,
) -> None:
    """Import a CSV table with a column mapping and declared units."""
    from latticebench.references import import_csv

    info = _info(dataset, level_of_theory, citation, doi, sigma_definition, selection_note)
    _run(
        lambda: import_csv(
            path,
            dataset=info.dataset,
            mapping=_pairs(mapping, "--map"),
            units=_pairs(unit, "--unit"),
            ignore_columns=tuple(ignore or ()),
            level_of_theory=info.level_of_theory,
            citation=info.citation,
            doi=info.doi,
            selection_note=info.selection_note,
            sigma_definition=info.sigma_definition,
            update=update,
            skip_bad=skip_bad,
        )
    )


@app.command("ase-db")
def ase_db(
    path: Annotated[Path, typer.Argument(help="ASE SQLite database (double_halide_pv.db).")],
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Dataset id (default: the published hdp-chemmater-2022)."),
    ] = None,
    uid_prefix: Annotated[str, typer.Option(help="uid prefix before the compound.")] = "dpv_",
    level_of_theory: LevelOfTheory = None,
    citation: Citation = None,
    doi: Doi = None,
    sigma_definition: Annotated[
        str | None, typer.Option("--sigma-definition", help="rms, std or unspecified.")
    ] = None,
    update: Update = False,
    skip_bad: SkipBad = False,
) -> None:
    """Import the published database (ASE SQLite, uid 'dpv_<compound>')."""
    from latticebench.references import PUBLISHED_DB_INFO, import_ase_db

    info = PUBLISHED_DB_INFO
    if dataset is not None or any(v is not None for v in (level_of_theory, citation, doi)):
        info = _info(
            dataset or PUBLISHED_DB_INFO.dataset,
            level_of_theory,
            citation,
            doi,
            sigma_definition or "unspecified",
        )
    elif sigma_definition is not None:
        info = _info(info.dataset, info.level_of_theory, info.citation, info.doi, sigma_definition)
    _run(
        lambda: import_ase_db(
            path, info=info, uid_prefix=uid_prefix, update=update, skip_bad=skip_bad
        )
    )


@app.command("vasp")
def vasp(
    folder: Annotated[Path, typer.Argument(help="One compound's VASP AIMD folder.")],
    dataset: Dataset,
    compound: Annotated[
        str | None, typer.Option(help="Compound name (default: the folder's name).")
    ] = None,
    vasprun: Annotated[
        list[Path] | None,
        typer.Option("--vasprun", help="Production run file (repeatable; default vasprun*.xml)."),
    ] = None,
    sposcar: Annotated[Path | None, typer.Option(help="Supercell file (default SPOSCAR).")] = None,
    force_constants: Annotated[
        Path | None,
        typer.Option(help="force_constants.hdf5 or FORCE_CONSTANTS (default: found in folder)."),
    ] = None,
    contcar: Annotated[Path | None, typer.Option(help="Relaxed cell (default CONTCAR).")] = None,
    skip_frames: Annotated[
        int, typer.Option(help="Frames dropped at the start of each run.", min=0)
    ] = 0,
    temperature: Temperature = None,
    time_step: TimeStep = None,
    level_of_theory: LevelOfTheory = None,
    citation: Citation = None,
    doi: Doi = None,
    update: Update = False,
) -> None:
    """Import a VASP AIMD folder: frames and forces, force constants, relaxed structure."""
    from latticebench.references import import_vasp_aimd

    info = _info(dataset, level_of_theory, citation, doi)
    _run(
        lambda: import_vasp_aimd(
            folder,
            info=info,
            compound=compound,
            vasprun=list(vasprun) if vasprun else None,
            sposcar=sposcar,
            force_constants=force_constants,
            contcar=contcar,
            skip_frames=skip_frames,
            temperature_K=temperature,
            time_step_fs=time_step,
            update=update,
        )
    )


@app.command("trajectory")
def trajectory(
    path: Annotated[Path, typer.Argument(help="extxyz or ASE .traj file with forces.")],
    dataset: Dataset,
    compound: Annotated[str, typer.Option(help="Compound name, e.g. Cs2AgBiBr6.")],
    file_format: Annotated[
        str | None, typer.Option("--format", help="ASE format (default from the suffix).")
    ] = None,
    temperature: Temperature = None,
    time_step: TimeStep = None,
    level_of_theory: LevelOfTheory = None,
    citation: Citation = None,
    doi: Doi = None,
    update: Update = False,
) -> None:
    """Import AIMD frames with forces from an extxyz / ASE trajectory file."""
    from latticebench.references import import_trajectory

    info = _info(dataset, level_of_theory, citation, doi)
    _run(
        lambda: import_trajectory(
            path,
            compound=compound,
            info=info,
            file_format=file_format,
            temperature_K=temperature,
            time_step_fs=time_step,
            update=update,
        )
    )


@app.command("phonopy")
def phonopy_command(
    path: Annotated[Path, typer.Argument(help="phonopy_params.yaml / phonopy.yaml or folder.")],
    dataset: Dataset,
    compound: Annotated[str, typer.Option(help="Compound name, e.g. Cs2AgBiBr6.")],
    force_sets: Annotated[
        Path | None, typer.Option(help="FORCE_SETS (default: beside the yaml file).")
    ] = None,
    level_of_theory: LevelOfTheory = None,
    citation: Citation = None,
    doi: Doi = None,
    update: Update = False,
) -> None:
    """Import phonopy force constants (from forces in the yaml or FORCE_SETS)."""
    from latticebench.references import import_phonopy

    info = _info(dataset, level_of_theory, citation, doi)
    _run(
        lambda: import_phonopy(
            path, compound=compound, info=info, force_sets=force_sets, update=update
        )
    )
