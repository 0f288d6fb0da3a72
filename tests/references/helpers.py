"""Test data in real formats: vasprun.xml, SPOSCAR, phonopy force constants, spring models."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from latticebench.structures import build_double_perovskite


def supercell_80(compound: str = "Cs2AgBiBr6") -> Structure:
    """2x2x2 supercell of the 10-atom primitive cell (80 atoms), ordered by species blocks."""
    return _supercell_80(compound).copy()


@lru_cache
def _supercell_80(compound: str) -> Structure:
    primitive = build_double_perovskite(compound, primitive=True)
    supercell = primitive.make_supercell([2, 2, 2], in_place=False)
    order = sorted(range(len(supercell)), key=lambda i: (supercell[i].species_string, i))
    return Structure(
        supercell.lattice,
        [supercell[i].species_string for i in order],
        supercell.frac_coords[order],
    )


@lru_cache
def _spring_fc_80(compound: str) -> np.ndarray:
    return spring_force_constants(_supercell_80(compound))


def spring_force_constants(structure: Structure, k: float = 2.0, cutoff: float = 4.5) -> np.ndarray:
    """Full force constants (N, N, 3, 3) eV/Å² of central springs k (eV/Å²) within cutoff (Å).

    Φ_ij = -k r̂ r̂ᵀ summed over the images of j within the cutoff, Φ_ii = -Σ_j≠i Φ_ij: symmetric,
    translation-invariant, with the crystal's symmetry.
    """
    n = len(structure)
    fc = np.zeros((n, n, 3, 3))
    centres, neighbours, images, distances = structure.get_neighbor_list(cutoff)
    cart = structure.cart_coords
    lattice = structure.lattice.matrix
    for i, j, image, d in zip(centres, neighbours, images, distances, strict=True):
        vector = cart[j] + image @ lattice - cart[i]
        block = k * np.outer(vector, vector) / d**2
        fc[i, j] -= block
        fc[i, i] += block
    return fc


def md_frames(
    supercell: Structure, fc: np.ndarray, n_frames: int, *, seed: int = 0, amplitude: float = 0.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Displaced frames: Cartesian positions (n, N, 3) Å, forces -Φu + noise (n, N, 3) eV/Å,
    energies (n,) eV."""
    rng = np.random.default_rng(seed)
    n = len(supercell)
    u = rng.normal(scale=amplitude, size=(n_frames, n, 3))
    positions = supercell.cart_coords[None] + u
    forces = -np.einsum("ijab,tjb->tia", fc, u) + rng.normal(scale=0.01, size=u.shape)
    energies = -3.0 * n + 0.5 * np.einsum("tia,tia->t", u, -forces)
    return positions, forces, energies


def _v(rows: np.ndarray, indent: str) -> str:
    return "".join(f"{indent}<v>{''.join(f'{x:17.8f}' for x in row)} </v>\n" for row in rows)


def _crystal(lattice: np.ndarray, indent: str) -> str:
    rec = np.linalg.inv(lattice).T
    return (
        f"{indent}<crystal>\n"
        f'{indent} <varray name="basis" >\n{_v(lattice, indent + "  ")}{indent} </varray>\n'
        f'{indent} <i name="volume">{abs(np.linalg.det(lattice)):17.8f} </i>\n'
        f'{indent} <varray name="rec_basis" >\n{_v(rec, indent + "  ")}{indent} </varray>\n'
        f"{indent}</crystal>\n"
    )


def _structure(lattice: np.ndarray, frac: np.ndarray, indent: str, name: str | None) -> str:
    label = f' name="{name}"' if name else ""
    return (
        f"{indent}<structure{label} >\n{_crystal(lattice, indent + ' ')}"
        f'{indent} <varray name="positions" >\n{_v(frac, indent + "  ")}{indent} </varray>\n'
        f"{indent}</structure>\n"
    )


def vasprun_text(
    symbols: list[str],
    lattice: np.ndarray,
    positions: np.ndarray,
    forces: np.ndarray,
    energies: np.ndarray,
    *,
    potim: float = 1.0,
    tebeg: float = 300.0,
) -> str:
    """A vasprun.xml of an MD run in VASP's layout (Cartesian positions in, fractional out)."""
    species = list(dict.fromkeys(symbols))
    inverse = np.linalg.inv(lattice)
    out = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n',
        ' <generator>\n  <i name="program" type="string">vasp </i>\n'
        '  <i name="version" type="string">6.3.2  </i>\n </generator>\n',
        ' <incar>\n  <i type="string" name="PREC">accurate</i>\n'
        '  <i name="IBRION">      0</i>\n'
        f'  <i name="NSW">{len(positions):7d}</i>\n'
        f'  <i name="POTIM">{potim:16.8f}</i>\n'
        f'  <i name="TEBEG">{tebeg:16.8f}</i>\n </incar>\n',
        ' <kpoints>\n  <generation param="Gamma">\n'
        '   <v type="int" name="divisions">       1        1        1 </v>\n'
        '  </generation>\n  <varray name="kpointlist" >\n'
        "   <v>       0.00000000       0.00000000       0.00000000 </v>\n  </varray>\n"
        '  <varray name="weights" >\n   <v>       1.00000000 </v>\n  </varray>\n </kpoints>\n',
        ' <parameters>\n  <separator name="electronic" >\n'
        '   <i type="int" name="NELM">     60</i>\n  </separator>\n'
        '  <separator name="ionic" >\n   <i type="int" name="IBRION">      0</i>\n'
        '   <i name="POTIM">      9.99900000</i>\n  </separator>\n </parameters>\n',
        f" <atominfo>\n  <atoms>{len(symbols):8d} </atoms>\n  <types>{len(species):8d} </types>\n"
        '  <array name="atoms" >\n   <dimension dim="1">ion</dimension>\n'
        '   <field type="string">element</field>\n   <field type="int">atomtype</field>\n'
        "   <set>\n",
        *(f"    <rc><c>{s:2s}</c><c>{species.index(s) + 1:4d}</c></rc>\n" for s in symbols),
        '   </set>\n  </array>\n  <array name="atomtypes" >\n'
        '   <dimension dim="1">type</dimension>\n   <field type="int">atomspertype</field>\n'
        '   <field type="string">element</field>\n   <field>mass</field>\n'
        '   <field>valence</field>\n   <field type="string">pseudopotential</field>\n'
        "   <set>\n",
        *(
            f"    <rc><c>{symbols.count(s):4d}</c><c>{s:2s}</c><c>100.0</c><c>9.0</c>"
            f"<c>  PAW_PBE {s} 01Jan2000</c></rc>\n"
            for s in species
        ),
        "   </set>\n  </array>\n </atominfo>\n",
        _structure(lattice, np.mod(positions[0] @ inverse, 1.0), " ", "initialpos"),
    ]
    for r, f, e in zip(positions, forces, energies, strict=True):
        frac = np.mod(r @ inverse, 1.0)
        out.append(
            " <calculation>\n  <scstep>\n   <energy>\n"
            f'    <i name="e_fr_energy">{e + 7.0:17.8f} </i>\n'
            f'    <i name="e_wo_entrp">{e + 7.0:17.8f} </i>\n'
            f'    <i name="e_0_energy">{e + 7.0:17.8f} </i>\n   </energy>\n  </scstep>\n'
            + _structure(lattice, frac, "  ", None)
            + f'  <varray name="forces" >\n{_v(f, "   ")}  </varray>\n'
            + f'  <varray name="stress" >\n{_v(np.zeros((3, 3)), "   ")}  </varray>\n'
            + "  <energy>\n"
            f'   <i name="e_fr_energy">{e:17.8f} </i>\n'
            f'   <i name="e_wo_entrp">{e - 0.001:17.8f} </i>\n'
            f'   <i name="e_0_energy">{e - 0.002:17.8f} </i>\n'
            '   <i name="kinetic">       1.00000000 </i>\n'
            f'   <i name="total">{e + 1.0:17.8f} </i>\n  </energy>\n'
            '  <time name="totalsc">    1.00    1.00</time>\n </calculation>\n'
        )
    out.append(_structure(lattice, np.mod(positions[-1] @ inverse, 1.0), " ", "finalpos"))
    out.append("</modeling>\n")
    return "".join(out)


def write_aimd_folder(
    folder: Path,
    compound: str = "Cs2AgBiBr6",
    *,
    n_frames: int = 6,
    fc_scale: float = 1.0,
    fc_format: str = "hdf5",
    seed: int = 0,
) -> dict:
    """A VASP AIMD folder: vasprun.xml, SPOSCAR, force constants, CONTCAR.

    Returns the arrays written (supercell, fc, positions, forces, energies).
    """
    from phonopy.file_IO import write_FORCE_CONSTANTS, write_force_constants_to_hdf5
    from pymatgen.io.vasp import Poscar

    folder.mkdir(parents=True, exist_ok=True)
    supercell = supercell_80(compound)
    fc = _spring_fc_80(compound).copy()
    positions, forces, energies = md_frames(supercell, fc, n_frames, seed=seed)
    symbols = [s.specie.symbol for s in supercell]
    (folder / "vasprun.xml").write_text(
        vasprun_text(symbols, supercell.lattice.matrix, positions, forces, energies)
    )
    Poscar(supercell).write_file(folder / "SPOSCAR")
    Poscar(build_double_perovskite(compound)).write_file(folder / "CONTCAR")
    if fc_format == "hdf5":
        write_force_constants_to_hdf5(fc * fc_scale, str(folder / "force_constants.hdf5"))
    elif fc_format == "text":
        write_FORCE_CONSTANTS(fc * fc_scale, str(folder / "FORCE_CONSTANTS"))
    return {
        "supercell": supercell,
        "fc": fc * fc_scale,
        "positions": positions,
        "forces": forces,
        "energies": energies,
        "symbols": symbols,
    }


def store_snapshot() -> tuple[list[dict], list[str]]:
    """Everything in the configured embedded store: reference documents and blob files."""
    from latticebench.settings import get_settings
    from latticebench.stores import connect_store, get_store

    settings = get_settings()
    store = connect_store(get_store("references"))
    docs = sorted(
        ({k: v for k, v in d.items() if k != "_id"} for d in store.query()),
        key=lambda d: (d["dataset"], d["compound"]),
    )
    root = settings.embedded_store_dir
    blobs = sorted(str(p.relative_to(root)) for p in root.rglob("*.npz")) if root.exists() else []
    return docs, blobs


def reference(compound: str, dataset: str) -> dict:
    """The stored reference document of one compound."""
    from latticebench.stores import connect_store, get_store

    store = connect_store(get_store("references"))
    found = list(store.query({"dataset": dataset, "compound": compound}))
    assert len(found) == 1, found
    return found[0]
