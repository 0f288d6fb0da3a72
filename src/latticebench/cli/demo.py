"""``latticebench demo``: the offline main job.

Until the benchmark flow lands this runs the real structure and model code path: it builds the
Fm-3m cells of a few compounds from their names, loads ``chgnet-0.3.0`` through the registry and
evaluates energies and forces in one batch.
"""

from __future__ import annotations

import time
from typing import Annotated

import numpy as np
import typer
from pymatgen.io.ase import AseAtomsAdaptor
from rich.console import Console
from rich.table import Table

from latticebench.models import load_model
from latticebench.structures import build_double_perovskite, parse_compound

DEMO_COMPOUNDS = ("Cs2AgBiBr6", "Cs2NaInCl6", "CsK2AlF6", "Cs3BiI6")

console = Console()


def demo(
    model: Annotated[str, typer.Option(help="Model name or checkpoint path.")] = "chgnet-0.3.0",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
) -> None:
    """Build a few double perovskites and evaluate a model on them (offline)."""
    start = time.perf_counter()
    loaded = load_model(model, device=device, dtype="float32")
    record = loaded.record
    console.print(
        f"model {record.name} ({record.family} {record.package_version}, {record.dtype}, "
        f"{record.device}) sha256 {record.checkpoint_sha256[:12]}…"
    )
    structures = [build_double_perovskite(name) for name in DEMO_COMPOUNDS]
    atoms = [AseAtomsAdaptor.get_atoms(s) for s in structures]
    predictions = loaded.predict(atoms, batch_size=len(atoms))
    table = Table(title="Ideal Fm-3m cells from ionic radii, evaluated by the model")
    for column in ("compound", "pattern", "atoms", "a (Å)", "E (eV/atom)", "max |F| (eV/Å)"):
        table.add_column(column)
    for name, structure, energy, forces in zip(
        DEMO_COMPOUNDS, structures, predictions.energies, predictions.forces, strict=True
    ):
        table.add_row(
            name,
            parse_compound(name).pattern,
            str(len(structure)),
            f"{structure.lattice.a:.3f}",
            f"{energy / len(structure):.4f}",
            f"{np.abs(forces).max():.2e}",
        )
    console.print(table)
    console.print(f"done in {time.perf_counter() - start:.1f} s")
