"""VASP AIMD folders: frames, forces and Φ imported exactly; bad files refused, store unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.references import (
    DatasetInfo,
    ImportFileError,
    import_bundled,
    import_vasp_aimd,
    load_aimd_frames,
    load_force_constants,
)
from latticebench.references.vasp import read_vasprun
from latticebench.schemas import ReferenceDoc
from latticebench.stores import connect_store, get_data_store
from tests.references.helpers import (
    reference,
    spring_force_constants,
    store_snapshot,
    write_aimd_folder,
)

INFO = DatasetInfo(dataset="raw-aimd", level_of_theory="DFT PBE (VASP) AIMD at 300 K")
PRINTED = 5e-9  # vasprun.xml holds 8 decimals


def _import(folder, **kwargs):
    return import_vasp_aimd(folder, **{"info": INFO, **kwargs})


def test_folder_imports_frames_forces_and_force_constants(aimd_folder):
    folder, data = aimd_folder
    report = _import(folder)
    assert report.counts == {"inserted": 1, "unchanged": 0, "updated": 0, "refused": 0, "bad": 0}
    doc = ReferenceDoc.from_document(reference("Cs2AgBiBr6", "raw-aimd"))
    assert set(doc.heavy) == {"aimd", "force_constants"}
    assert doc.halide == "Br" and doc.sigma_300K is None
    assert doc.structure_note == "CONTCAR of the AIMD folder"
    assert len(doc.get_structure()) == 40

    data_store = connect_store(get_data_store())
    frames = load_aimd_frames(doc, data_store)
    assert (frames.n_frames, frames.n_atoms) == (6, 80)
    assert frames.symbols == data["symbols"]
    assert frames.temperature_K == 300.0 and frames.time_step_fs == 1.0
    lattice = data["supercell"].lattice.matrix
    # positions are written wrapped into the cell: compare modulo lattice vectors
    delta = np.linalg.solve(lattice.T, (frames.positions - data["positions"]).reshape(-1, 3).T).T
    assert np.abs(delta - np.round(delta)).max() < 1e-8
    assert np.abs(frames.forces - data["forces"]).max() < PRINTED
    assert np.abs(frames.energies - data["energies"]).max() < PRINTED  # e_fr_energy of the step
    assert np.allclose(frames.cells, np.broadcast_to(lattice, (6, 3, 3)), atol=PRINTED)

    supercell, fc = load_force_constants(doc, data_store)
    assert fc.dtype == np.float64 and np.array_equal(fc, data["fc"])  # hdf5: bit-exact
    assert np.allclose(supercell.cart_coords, data["supercell"].cart_coords, atol=1e-10)
    assert [s.specie.symbol for s in supercell] == data["symbols"]

    again = _import(folder)
    assert again.counts["unchanged"] == 1 and again.counts["inserted"] == 0


def test_our_reader_agrees_with_ase(aimd_folder):
    import ase.io

    folder, _ = aimd_folder
    ours = read_vasprun(folder / "vasprun.xml")
    theirs = ase.io.read(folder / "vasprun.xml", index=":", format="vasp-xml")
    assert len(theirs) == ours.positions.shape[0]
    for frame, atoms in enumerate(theirs):
        assert np.allclose(atoms.get_positions(), ours.positions[frame], atol=1e-9)
        assert np.array_equal(atoms.get_forces(), ours.forces[frame])
        assert atoms.get_potential_energy(force_consistent=True) == ours.energies[frame]


def test_truncated_vasprun_names_the_file_and_leaves_the_store_unchanged(tmp_path):
    import_bundled()
    good = tmp_path / "Cs2AgBiBr6"
    write_aimd_folder(good)
    _import(good, info=DatasetInfo(dataset="hdp-chemmater-2022"))
    before = store_snapshot()

    folder = tmp_path / "other" / "Cs2AgBiBr6"
    write_aimd_folder(folder, seed=3)
    vasprun = folder / "vasprun.xml"
    text = vasprun.read_text()
    cut = text.index("<calculation>", text.index("<calculation>") + 1)  # inside frame 1
    vasprun.write_text(text[: cut + len("<calculation>\n  <scstep>\n   <ener")])
    with pytest.raises(ImportFileError) as info:
        _import(folder, info=DatasetInfo(dataset="hdp-chemmater-2022"))
    message = str(info.value)
    assert str(vasprun) in message
    assert "truncated or malformed XML" in message
    assert "last complete frame 0 (ionic step 1)" in message
    assert store_snapshot() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01garbage" * 100, "truncated or malformed XML at line 1"),
        (b"<?xml version='1.0'?><root><a/></root>", "not a vasprun.xml (root element <root>"),
        (b"<modeling><generator/></modeling>", "no <atominfo>"),
    ],
)
def test_garbage_vasprun(aimd_folder, content, message):
    folder, _ = aimd_folder
    (folder / "vasprun.xml").write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        _import(folder)
    assert str(folder / "vasprun.xml") in str(info.value) and message in str(info.value)
    assert store_snapshot() == ([], [])


def test_a_frame_without_forces_is_named(aimd_folder):
    folder, _ = aimd_folder
    vasprun = folder / "vasprun.xml"
    text = vasprun.read_text()
    start = [i for i in range(len(text)) if text.startswith('<varray name="forces" >', i)][3]
    end = text.index("</varray>", start) + len("</varray>")
    vasprun.write_text(text[:start] + text[end:])
    with pytest.raises(ImportFileError, match=r"frame 3 \(ionic step 4\) has no forces"):
        _import(folder)
    assert store_snapshot() == ([], [])


@pytest.mark.parametrize(
    ("scale", "unit"),
    [(100.0, "eV/nm²"), (1 / 97.17, "Hartree/Bohr²"), (96.485, "kJ/mol/Å²")],
)
def test_force_constants_in_other_units_are_refused(tmp_path, scale, unit):
    folder = tmp_path / "Cs2AgBiBr6"
    write_aimd_folder(folder, fc_scale=scale)
    with pytest.raises(ImportFileError) as info:
        _import(folder)
    message = str(info.value)
    assert str(folder / "force_constants.hdf5") in message
    assert "outside the 0.5-100 eV/Å² expected" in message
    assert store_snapshot() == ([], [])


def test_force_constants_of_another_supercell_are_refused(aimd_folder):
    from phonopy.file_IO import write_force_constants_to_hdf5

    folder, data = aimd_folder
    write_force_constants_to_hdf5(data["fc"][:40, :40], str(folder / "force_constants.hdf5"))
    with pytest.raises(ImportFileError) as info:
        _import(folder)
    assert "force constants have shape (40, 40, 3, 3), but the supercell has 80 atoms" in str(
        info.value
    )
    assert store_snapshot() == ([], [])


def test_nan_force_constants_are_refused(aimd_folder):
    from phonopy.file_IO import write_force_constants_to_hdf5

    folder, data = aimd_folder
    fc = data["fc"].copy()
    fc[3, 17, 1, 2] = np.nan
    write_force_constants_to_hdf5(fc, str(folder / "force_constants.hdf5"))
    with pytest.raises(ImportFileError, match=r"1 force-constant value\(s\) are NaN .*atoms 3, 17"):
        _import(folder)
    assert store_snapshot() == ([], [])


def test_declared_units_other_than_ev_per_a2_are_refused(aimd_folder):
    from phonopy.file_IO import write_force_constants_to_hdf5

    folder, data = aimd_folder
    write_force_constants_to_hdf5(
        data["fc"], str(folder / "force_constants.hdf5"), physical_unit="Ry/au^2"
    )
    with pytest.raises(ImportFileError, match="force constants are in 'Ry/au\\^2'"):
        _import(folder)


def _phonopy_supercell_folder(tmp_path):
    """SPOSCAR, full and compact Φ of phonopy's own 2x2x2 supercell of the primitive cell."""
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms
    from pymatgen.core import Lattice, Structure

    from latticebench.structures import build_double_perovskite

    primitive = build_double_perovskite("Cs2AgBiBr6", primitive=True)
    phonon = Phonopy(
        PhonopyAtoms(
            symbols=[s.specie.symbol for s in primitive],
            cell=primitive.lattice.matrix,
            scaled_positions=primitive.frac_coords,
        ),
        supercell_matrix=2 * np.eye(3, dtype=int),
    )
    cell = phonon.supercell
    supercell = Structure(Lattice(cell.cell), list(cell.symbols), cell.scaled_positions)
    full = spring_force_constants(supercell)
    p2s = np.asarray(phonon.primitive.p2s_map)
    return supercell, full, p2s


@pytest.mark.parametrize("fmt", ["hdf5", "text"])
def test_compact_force_constants_expand_to_the_full_array(tmp_path, fmt):
    from phonopy.file_IO import write_FORCE_CONSTANTS, write_force_constants_to_hdf5
    from pymatgen.io.vasp import Poscar

    from latticebench.references.force_constants import read_force_constants_file

    supercell, full, p2s = _phonopy_supercell_folder(tmp_path)
    assert len(p2s) == 10 and len(supercell) == 80
    compact = full[p2s]
    if fmt == "hdf5":
        path = tmp_path / "force_constants.hdf5"
        write_force_constants_to_hdf5(compact, str(path), p2s_map=p2s)
    else:
        path = tmp_path / "FORCE_CONSTANTS"
        write_FORCE_CONSTANTS(compact, str(path), p2s_map=p2s)  # 15 decimals
    # the spring model's translation-equivalent blocks agree to rounding (~20 terms of <= 12
    # eV/Å² summed in different orders): ~1e-14; an index mix-up would be off by O(1)
    tolerance = 1e-12
    Poscar(supercell).write_file(tmp_path / "SPOSCAR")
    expanded = read_force_constants_file(path, supercell)
    assert expanded.shape == (80, 80, 3, 3)
    assert np.abs(expanded - full).max() <= tolerance


def test_full_force_constants_text_file(tmp_path):
    folder = tmp_path / "Cs2AgBiBr6"
    data = write_aimd_folder(folder, fc_format="text")
    _import(folder)
    doc = reference("Cs2AgBiBr6", "raw-aimd")
    _, fc = load_force_constants(doc, connect_store(get_data_store()))
    assert np.abs(fc - data["fc"]).max() < 1e-13


def test_truncated_force_constants_text_file(tmp_path):
    folder = tmp_path / "Cs2AgBiBr6"
    write_aimd_folder(folder, fc_format="text")
    path = folder / "FORCE_CONSTANTS"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[: len(lines) // 2]))
    with pytest.raises(ImportFileError, match="FORCE_CONSTANTS: truncated"):
        _import(folder)


def test_frames_and_sposcar_must_list_the_same_atoms(aimd_folder):
    from pymatgen.io.vasp import Poscar

    folder, data = aimd_folder
    shuffled = data["supercell"].copy()
    br = [i for i, s in enumerate(shuffled) if s.specie.symbol == "Br"]
    shuffled.replace(br[0], "Br", coords=shuffled[br[5]].frac_coords)
    shuffled.replace(br[5], "Br", coords=data["supercell"][br[0]].frac_coords)
    Poscar(shuffled).write_file(folder / "SPOSCAR")
    with pytest.raises(
        ImportFileError, match=r"atom \d+ \(Br\) of frame 0 is .* from its position"
    ):
        _import(folder)


def test_wrong_compound_or_folder_name(aimd_folder, tmp_path):
    folder, _ = aimd_folder
    with pytest.raises(ImportFileError, match="atoms make Cs2AgBiBr6, but 'Cs2AgSbBr6' is"):
        _import(folder, compound="Cs2AgSbBr6")
    renamed = folder.rename(tmp_path / "run-1")
    with pytest.raises(ImportFileError, match=r"unparseable compound name 'run-1'.*compound="):
        _import(renamed)
    assert _import(renamed, compound="Cs2AgBiBr6").counts["inserted"] == 1


def test_a_changed_trajectory_is_refused_then_recorded_with_update(tmp_path):
    first = tmp_path / "a" / "Cs2AgBiBr6"
    write_aimd_folder(first, seed=1)
    _import(first)
    old_id = reference("Cs2AgBiBr6", "raw-aimd")["heavy"]["aimd"]
    second = tmp_path / "b" / "Cs2AgBiBr6"
    write_aimd_folder(second, seed=2)
    before = store_snapshot()
    refused = _import(second)
    assert refused.counts["refused"] == 1
    assert refused.upsert.refused[0].fields == ["heavy.aimd"]
    assert store_snapshot() == before  # not even the new blob was written
    updated = _import(second, update=True)
    assert updated.counts["updated"] == 1
    doc = reference("Cs2AgBiBr6", "raw-aimd")
    (change,) = doc["updates"][0]["changes"]
    assert change == {"field": "heavy.aimd", "old": old_id, "new": doc["heavy"]["aimd"]}
    assert doc["heavy"]["aimd"] != old_id


def test_raw_data_extends_the_bundled_document(aimd_folder):
    import_bundled()
    folder, _ = aimd_folder
    report = _import(folder, info=DatasetInfo(dataset="hdp-chemmater-2022"))
    assert report.counts["updated"] == 1  # additions need no --update
    doc = reference("Cs2AgBiBr6", "hdp-chemmater-2022")
    assert doc["sigma_300K"] == pytest.approx(0.33576, abs=1e-5)  # kept
    assert set(doc["heavy"]) == {"aimd", "force_constants"}
    fields = {c["field"] for c in doc["updates"][0]["changes"]}
    assert fields == {"heavy.aimd", "heavy.force_constants", "structure", "structure_note"}


def test_skip_frames_and_several_runs(tmp_path):
    folder = tmp_path / "Cs2AgBiBr6"
    data = write_aimd_folder(folder)
    (folder / "vasprun_2.xml").write_text((folder / "vasprun.xml").read_text())
    _import(folder, skip_frames=2)
    frames = load_aimd_frames(reference("Cs2AgBiBr6", "raw-aimd"), connect_store(get_data_store()))
    assert frames.n_frames == 8
    assert frames.run_index.tolist() == [0] * 4 + [1] * 4
    assert np.abs(frames.forces[4] - data["forces"][2]).max() < PRINTED
    with pytest.raises(ImportFileError, match="skip_frames=6 leaves none"):
        _import(folder, skip_frames=6)


def test_vasprun_is_parsed_with_bounded_memory(tmp_path):
    """The parser keeps arrays, not the XML tree: its peak stays far below a full parse's."""
    import tracemalloc
    import xml.etree.ElementTree as ET

    from tests.references.helpers import md_frames, supercell_80, vasprun_text

    supercell = supercell_80()
    fc = spring_force_constants(supercell)
    positions, forces, energies = md_frames(supercell, fc, 150)
    path = tmp_path / "vasprun.xml"
    symbols = [s.specie.symbol for s in supercell]
    path.write_text(vasprun_text(symbols, supercell.lattice.matrix, positions, forces, energies))

    tracemalloc.start()
    try:
        ET.parse(path)
        tree_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        frames = read_vasprun(path)
        parser_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert frames.positions.shape == (150, 80, 3)
    assert parser_peak < 0.4 * tree_peak, (parser_peak, tree_peak)
