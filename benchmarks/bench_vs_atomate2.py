"""Our phonon stage vs atomate2's force-field PhononMaker: same forces, end-to-end wall time.

Both sides compute the harmonic phonons of Cs2AgBiBr6 (40-atom Fm-3m cell, 2×2×2 supercell of
320 atoms, 0.01 Å, phonopy's 5 symmetry-reduced displaced supercells) with the same model, and
both run with jobflow's ``run_locally`` on the same kind of store, the embedded one
(:func:`latticebench.stores.get_job_store` with ``LATTICEBENCH_DATA_DIR`` pointed at a temporary
folder):

* ours: :class:`latticebench.jobs.phonons.PhononMaker`, one job (one model load, the displaced
  supercells through ``LoadedModel.predict``, force constants, 8×8×8 mesh, band path with group
  velocities, ``phonopy_params.yaml``), with ``symmetrize_force_constants=False`` because
  atomate2 keeps phonopy's plain finite-difference force constants (no symfc projection);
* atomate2: ``atomate2.forcefields.flows.phonons.PhononMaker`` with ``bulk_relax_maker``,
  ``static_energy_maker`` and ``born_maker`` set to None and the supercell matrix passed
  explicitly, so that it runs only the displacement job, one ``ForceFieldStaticMaker`` job per
  displaced supercell (each builds its own calculator, i.e. loads the model) and its
  post-processing job (force constants, band structure, DOS, thermal properties, plots),
  all with atomate2's defaults.

Models: a MACE with random weights built offline
(:func:`latticebench.models.synthetic.build_random_mace`, ``--channels``), float64 on the CPU,
loaded from the same file on both sides (ours through ``load_model(path)``, atomate2 through its
MACE calculator with ``model=path``); and CHGNet 0.3.0 (``chgnet-0.3.0`` vs atomate2's
``CHGNet``, both the weights shipped with the chgnet package), float32 on the CPU.

Fairness: every run (each side, each model, each repetition) happens in a fresh child process
(``spawn``), so neither side inherits the other's loaded model, warmed-up torch kernels or
allocator; ours additionally calls ``clear_model_cache()`` first. Python packages (torch, the
model package, jobflow, phonopy, the side's own modules) are imported in the child before the
clock starts, as a long-lived worker would have them; everything from the flow's first job to
the last output written to the store, model loading included, is timed as one ``run_locally``
call. With ``--repeat N`` the sides alternate in order and the best time of each is kept.
Each run starts on a new, empty embedded store: the MontyDB (SQLite) store has no indexes, so
every write and reference lookup scans the collection and gets slower as earlier runs fill it,
which would penalise whichever side runs later (``--shared-store`` keeps one store for all runs
to show that effect).

Threads: every run uses ``--threads`` torch/OpenMP/BLAS threads (default 1). On a shared
machine with few cores, torch's default (one thread per core) makes a force evaluation 5-15×
slower and erratic whenever another process holds a core (measured: CHGNet on the 320-atom cell
0.4 s with 1 thread, 2-15 s with 2 threads on 2 busy cores), which would swamp the comparison.
One thread is also the conservative choice for the ratio: the force evaluations are the part
both sides share, and they are slowest with one thread. ``--threads 0`` keeps the defaults.

Besides the wall time, each run reports the time inside the model (construction, and the
force evaluations: ours energies+forces in one ``predict`` call, atomate2 energy+forces+stress
in one job per supercell), the time per job and per post-processing phase (phonopy setup,
force constants, band structure, DOS, plots, yaml files, store reads and writes), all measured
by wrapping those functions in the child (``--profile`` adds cProfile's top entries).

Checks (not timed): the displaced supercells atomate2 evaluated (read back from the store) are
compared atom by atom with the ones of our displacement dataset; frequencies are computed by
phonopy from each side's stored force constants at Γ, X, L, W, K and five general q-points and
compared (the issue's gate: 1e-6 THz for the float64 MACE), as are the full force constants.

Usage::

    .venv/bin/python benchmarks/bench_vs_atomate2.py [--model {mace,chgnet,both}] [--channels 64]
        [--repeat 1] [--threads 1] [--socket] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COMPOUND = "Cs2AgBiBr6"
SUPERCELL = (2, 2, 2)
DISPLACEMENT_A = 0.01
FREQUENCY_GATE_THZ = 1e-6
NAMED_QPOINTS = {  # reduced coordinates of the FCC primitive reciprocal cell
    "Γ": (0.0, 0.0, 0.0),
    "X": (0.5, 0.0, 0.5),
    "L": (0.5, 0.5, 0.5),
    "W": (0.5, 0.25, 0.75),
    "K": (0.375, 0.375, 0.75),
}


@dataclass(frozen=True)
class ModelCase:
    """One model as each side names it."""

    label: str
    family: str  # "mace" or "chgnet"
    ours: str  # catalog name or checkpoint path for latticebench
    dtype: str  # "float64" or "float32"


def _quiet() -> None:
    import logging

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)


def _import_common(case: ModelCase, side: str) -> None:
    """Imports a long-lived worker would already have, done before the clock starts."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import jobflow  # noqa: F401
        import phonopy  # noqa: F401
        import torch  # noqa: F401

        import latticebench.stores

        if case.family == "mace":
            import mace.calculators  # noqa: F401  # mace before e3nn
        else:
            import chgnet.model  # noqa: F401
        if side == "ours":
            import latticebench.jobs.phonons  # noqa: F401
        else:
            import atomate2.common.jobs.phonons
            import atomate2.forcefields.flows.phonons  # noqa: F401


class ModelClock:
    """Wall time spent loading the model and evaluating forces, summed over a run's jobs."""

    def __init__(self) -> None:
        self.load_s = 0.0
        self.loads = 0
        self.forces_s = 0.0
        self.evaluations = 0

    def wrap(self, function, kind: str):
        """``function`` with its wall time added to ``kind`` ("load" or "forces")."""
        clock = self

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if kind == "load":
                    clock.load_s += time.perf_counter() - start
                    clock.loads += 1
                else:
                    clock.forces_s += time.perf_counter() - start
                    clock.evaluations += 1

        return timed

    def instrument_ours(self) -> None:
        """Time ``load_model`` as the job calls it, and ``predict`` of what it returns."""
        import latticebench.jobs.phonons as module

        load = module.load_model

        def load_and_wrap(*args, **kwargs):
            loaded = self.wrap(load, "load")(*args, **kwargs)
            loaded.predict = self.wrap(loaded.predict, "forces")  # one call: all supercells
            return loaded

        module.load_model = load_and_wrap

    def instrument_atomate2(self) -> None:
        """Time each static job's calculator construction and its single-point calculation."""
        from atomate2.ase.utils import AseRelaxer
        from atomate2.forcefields.utils import ForceFieldMixin

        ForceFieldMixin._get_calculator = self.wrap(ForceFieldMixin._get_calculator, "load")
        AseRelaxer.relax = self.wrap(AseRelaxer.relax, "forces")


def _ours_flow(case: ModelCase, structure):
    from latticebench.jobs.phonons import PhononMaker
    from latticebench.models import clear_model_cache
    from latticebench.protocol import PhononParameters

    clear_model_cache()
    parameters = PhononParameters(
        supercell=SUPERCELL,
        displacement_A=DISPLACEMENT_A,
        dtype=case.dtype,
        symmetrize_force_constants=False,
    )
    job = PhononMaker(model=case.ours, parameters=parameters, device="cpu").make(
        structure, compound=COMPOUND
    )
    return job, job.uuid


def _atomate2_flow(case: ModelCase, structure, socket: bool):
    from atomate2.forcefields.flows.phonons import PhononMaker
    from atomate2.forcefields.jobs import ForceFieldStaticMaker

    if case.family == "mace":
        static = ForceFieldStaticMaker(
            force_field_name="MACE-MP-0",
            calculator_kwargs={"model": case.ours, "default_dtype": "float64", "device": "cpu"},
        )
    else:
        static = ForceFieldStaticMaker(
            force_field_name="CHGNet", calculator_kwargs={"use_device": "cpu"}
        )
    maker = PhononMaker(
        bulk_relax_maker=None,
        static_energy_maker=None,
        born_maker=None,
        phonon_displacement_maker=static,
        displacement=DISPLACEMENT_A,
        socket=socket,
    )
    flow = maker.make(structure, supercell_matrix=np.diag(SUPERCELL).tolist())
    return flow, flow.output.uuid


PHASES = (  # (module, class or None, function, phase label); none of these calls another
    ("phonopy", "Phonopy", "__init__", "phonopy setup (symmetry)"),
    ("phonopy", "Phonopy", "produce_force_constants", "force constants"),
    ("phonopy", "Phonopy", "run_band_structure", "band structure"),
    ("phonopy", "Phonopy", "write_yaml_band_structure", "band yaml write"),
    ("ruamel.yaml.main", "YAML", "load", "yaml parsing (band yaml read back)"),
    ("phonopy", "Phonopy", "run_mesh", "mesh"),
    ("phonopy", "Phonopy", "run_total_dos", "DOS"),
    ("phonopy", "Phonopy", "write_total_dos", "DOS"),
    ("phonopy", "Phonopy", "run_thermal_properties", "thermal properties"),
    ("pymatgen.phonon.plotter", "PhononBSPlotter", "save_plot", "PDF plots"),
    ("pymatgen.phonon.plotter", "PhononDosPlotter", "save_plot", "PDF plots"),
    ("phonopy", "Phonopy", "save", "phonopy yaml write"),
    ("jobflow", "JobStore", "update", "store writes (incl. serialisation)"),
    ("jobflow", "JobStore", "get_output", "store reads (references)"),
)


class PhaseClock:
    """Wall time per phase of the post-processing and bookkeeping, summed over a run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def instrument(self) -> None:
        """Wrap the functions of :data:`PHASES` (in this process only)."""
        import importlib

        for module_name, class_name, function_name, label in PHASES:
            owner = importlib.import_module(module_name)
            owner = getattr(owner, class_name) if class_name else owner
            setattr(owner, function_name, self._timed(getattr(owner, function_name), label))

    def _timed(self, function, label: str):
        clock = self

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                clock.seconds[label] = clock.seconds.get(label, 0.0) + time.perf_counter() - start
                clock.calls[label] = clock.calls.get(label, 0) + 1

        return timed


def _time_jobs(records: list[tuple[str, float]]) -> None:
    """Record the wall time of every ``Job.run`` (jobflow calls it once per job)."""
    from jobflow import Job

    run = Job.run

    def timed_run(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return run(self, *args, **kwargs)
        finally:
            records.append((self.name, time.perf_counter() - start))

    Job.run = timed_run  # type: ignore[method-assign]


def _displaced_from_ours(yaml_text: str, folder: Path) -> tuple[list, list]:
    """Our displaced supercells and displacement dataset, rebuilt from ``phonopy_params.yaml``."""
    import phonopy

    path = folder / "ours_phonopy_params.yaml"
    path.write_text(yaml_text)
    phonon = phonopy.load(path, produce_fc=False, log_level=0)
    cells = [
        (np.array(c.cell), np.array(c.scaled_positions), list(c.symbols))
        for c in phonon.supercells_with_displacements
    ]
    dataset = [(int(d["number"]), list(d["displacement"])) for d in phonon.dataset["first_atoms"]]
    return cells, dataset


def _displaced_from_atomate2(store, flow) -> list[tuple[np.ndarray, np.ndarray, list]]:
    from pymatgen.core import Structure

    (job,) = [j for j in flow.jobs if j.name == "generate_phonon_displacements"]
    structures = store.get_output(job.uuid, load=True)
    out = []
    for s in structures:
        s = s if isinstance(s, Structure) else Structure.from_dict(s)
        out.append((s.lattice.matrix, s.frac_coords, [site.specie.symbol for site in s]))
    return out


def _atomate2_products(doc: dict, folder: Path) -> list[str]:
    """What atomate2's post-processing job computed and wrote besides the force constants."""
    from pymatgen.io.phonopy import get_pmg_structure
    from pymatgen.io.vasp import Kpoints

    from latticebench import phonons
    from latticebench.structures import build_double_perovskite

    settings = doc.get("phonopy_settings") or {}
    kppa = settings.get("kpoint_density_dos") or 7000
    primitive = phonons.make_phonopy(build_double_perovskite(COMPOUND), SUPERCELL).primitive
    dos_mesh = Kpoints.automatic_density(get_pmg_structure(primitive), kppa, force_gamma=True)
    bands = doc.get("phonon_bandstructure") or {}
    dos = doc.get("phonon_dos") or {}
    products = [
        f"band structure ({len(bands.get('qpoints', []))} q-points, "
        f"{settings.get('npoints_band') or 101} per segment, written to yaml and read back)",
        f"total DOS (tetrahedron, {'x'.join(map(str, dos_mesh.kpts[0]))} mesh from "
        f"kppa {kppa}, {len(dos.get('frequencies', []))} frequency points)",
    ]
    if doc.get("temperatures"):
        products.append(f"thermal properties ({len(doc['temperatures'])} temperatures)")
    if doc.get("thermal_displacement_data"):
        products.append("thermal displacement matrices")
    products.append("full Φ (N×N) stored")
    files = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    products.append("files: " + ", ".join(files))
    return products


def run_side(
    side: str,
    case: ModelCase,
    work: str,
    data_dir: str,
    profile: bool = False,
    socket: bool = False,
    threads: int = 1,
) -> dict[str, Any]:
    """One side's phonon run in this (fresh) process: time it, then read its results back."""
    os.environ["LATTICEBENCH_DATA_DIR"] = data_dir  # read by get_settings(), not yet called
    _quiet()
    _import_common(case, side)
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    from jobflow import run_locally

    from latticebench.stores import get_job_store
    from latticebench.structures import build_double_perovskite

    structure = build_double_perovskite(COMPOUND)
    root = Path(work) / f"{side}-{case.label}-{os.getpid()}"
    root.mkdir(parents=True)
    records: list[tuple[str, float]] = []
    _time_jobs(records)
    clock = ModelClock()
    if side == "ours":
        clock.instrument_ours()
    else:
        clock.instrument_atomate2()
    phases = PhaseClock()
    phases.instrument()
    store = get_job_store()
    if side == "ours":
        flow, output_uuid = _ours_flow(case, structure)
    else:
        flow, output_uuid = _atomate2_flow(case, structure, socket)

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        responses = run_locally(
            flow, store=store, create_folders=True, root_dir=root, log=False, ensure_success=True
        )
    wall = time.perf_counter() - start
    phase_times = [
        (label, seconds, phases.calls[label]) for label, seconds in phases.seconds.items()
    ]
    model_times = (clock.load_s, clock.loads, clock.forces_s, clock.evaluations)
    profile_text = None
    if profiler is not None:
        import pstats

        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(
            int(os.environ.get("BENCH_PROFILE_LINES", "30"))
        )
        profile_text = buffer.getvalue()

    # --- untimed: read the results back from the store ---
    store.connect()
    doc = store.get_output(output_uuid, load=True)
    if side == "ours":
        fc = np.asarray(doc["force_constants"], dtype=float)
        displaced, dataset = _displaced_from_ours(doc["phonopy_params_yaml"], root)
        products = [
            f"{'x'.join(map(str, doc['mesh']['mesh']))} mesh frequencies (irreducible points)",
            f"band path ({len(doc['band']['qpoints'])} q-points, with group velocities)",
            "Γ frequencies",
            "compact Φ stored",
            "files: phonopy_params.yaml",
        ]
    else:
        fc_field = doc["force_constants"]
        fc = np.asarray(
            fc_field["force_constants"] if isinstance(fc_field, dict) else fc_field, dtype=float
        )
        displaced, dataset = _displaced_from_atomate2(store, flow), None
        folder = Path((doc.get("jobdirs") or {}).get("taskdoc_run_job_dir") or "")
        products = _atomate2_products(doc, folder)
    store.close()
    return {
        "side": side,
        "wall_s": wall,
        "load_s": model_times[0],
        "loads": model_times[1],
        "forces_s": model_times[2],
        "evaluations": model_times[3],
        "phases": phase_times,
        "n_jobs": len(responses),
        "jobs": records,
        "force_constants": fc,
        "supercell_matrix": np.asarray(doc["supercell_matrix"], dtype=int),
        "primitive_matrix": np.asarray(doc["primitive_matrix"], dtype=float),
        "displaced": displaced,
        "dataset": dataset,
        "products": products,
        "profile": profile_text,
    }


def in_fresh_process(*args) -> dict[str, Any]:
    """Run :func:`run_side` in a new interpreter (spawned, nothing inherited)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_side, *args).result()


def displacement_difference(ours: list, theirs: list) -> float:
    """Max |Δr| (Å) between two lists of displaced supercells; inf if they do not match."""
    if len(ours) != len(theirs):
        return float("inf")
    worst = 0.0
    for (cell_a, frac_a, sym_a), (cell_b, frac_b, sym_b) in zip(ours, theirs, strict=True):
        if sym_a != sym_b or frac_a.shape != frac_b.shape:
            return float("inf")
        delta = frac_a - frac_b
        delta -= np.round(delta)
        worst = max(
            worst,
            float(np.abs(cell_a - cell_b).max()),
            float(np.abs(delta @ cell_a).max()),
        )
    return worst


def frequencies(result: dict[str, Any], qpoints: np.ndarray) -> np.ndarray:
    """Phonopy frequencies (THz) at ``qpoints`` from one side's stored force constants."""
    from latticebench import phonons
    from latticebench.structures import build_double_perovskite

    phonon = phonons.phonopy_with_force_constants(
        build_double_perovskite(COMPOUND),
        result["supercell_matrix"],
        result["primitive_matrix"],
        result["force_constants"],
    )
    phonon.run_qpoints(qpoints)
    return np.array(phonon.qpoints.frequencies)


def full_fc(result: dict[str, Any]) -> np.ndarray:
    from latticebench import phonons
    from latticebench.structures import build_double_perovskite

    phonon = phonons.phonopy_with_force_constants(
        build_double_perovskite(COMPOUND),
        result["supercell_matrix"],
        result["primitive_matrix"],
        result["force_constants"],
    )
    return phonons.full_force_constants(phonon)


def compare(case: ModelCase, args: argparse.Namespace, work: str) -> dict[str, Any]:
    best: dict[str, dict[str, Any]] = {}
    for repetition in range(args.repeat):
        order = ("atomate2", "ours") if repetition % 2 == 0 else ("ours", "atomate2")
        for side in order:
            data_dir = Path(work) / (
                "data" if args.shared_store else f"data-{case.label}-{side}-{repetition}"
            )
            result = in_fresh_process(
                side, case, work, str(data_dir), args.profile, args.socket, args.threads
            )
            print(f"  {case.label:14s} {side:9s} run {repetition + 1}: {result['wall_s']:7.2f} s")
            if side not in best or result["wall_s"] < best[side]["wall_s"]:
                best[side] = result
    ours, theirs = best["ours"], best["atomate2"]
    rng = np.random.default_rng(0)
    qpoints = np.vstack([np.array(list(NAMED_QPOINTS.values())), rng.uniform(-0.5, 0.5, (5, 3))])
    df = float(np.abs(frequencies(ours, qpoints) - frequencies(theirs, qpoints)).max())
    dfc = float(np.abs(full_fc(ours) - full_fc(theirs)).max())
    return {
        "case": case,
        "ours": ours,
        "atomate2": theirs,
        "ratio": theirs["wall_s"] / ours["wall_s"],
        "max_df": df,
        "max_dfc": dfc,
        "max_dr": displacement_difference(ours["displaced"], theirs["displaced"]),
        "n_displaced": len(ours["displaced"]),
    }


def _job_breakdown(result: dict[str, Any]) -> str:
    groups: dict[str, list[float]] = {}
    for name, seconds in result["jobs"]:
        key = "Force field static" if name.startswith("Force field static") else name
        groups.setdefault(key, []).append(seconds)
    return "; ".join(
        f"{name} {sum(times):.2f} s"
        + (f" ({len(times)}×, {sum(times) / len(times):.2f} s each)" if len(times) > 1 else "")
        for name, times in groups.items()
    )


def _phase_breakdown(result: dict[str, Any]) -> str:
    phases = sorted(result["phases"], key=lambda item: -item[1])
    other = result["wall_s"] - result["load_s"] - result["forces_s"] - sum(p[1] for p in phases)
    return "; ".join(
        [f"{label} {seconds:.2f} s" + (f" ({n}×)" if n > 1 else "") for label, seconds, n in phases]
        + [f"everything else (jobflow, task documents, ...) {other:.2f} s"]
    )


def report(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'model':13s} {'stage':9s} {'wall (s)':>8s} {'load (s)':>9s} {'forces (s)':>10s} "
        f"{'rest (s)':>8s} {'jobs':>4s}  {'atomate2/ours':>13s} {'max |Δf| THz':>12s}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        for side in ("ours", "atomate2"):
            res = r[side]
            rest = res["wall_s"] - res["load_s"] - res["forces_s"]
            tail = f"  {r['ratio']:13.2f} {r['max_df']:12.1e}" if side == "atomate2" else ""
            print(
                f"{r['case'].label:13s} {side:9s} {res['wall_s']:8.2f} "
                f"{res['load_s']:6.2f} ×{res['loads']} {res['forces_s']:10.2f} "
                f"{rest:8.2f} {res['n_jobs']:4d}{tail}"
            )
    print(
        "load: model construction (ours once; atomate2 once per static job); forces: the model "
        "on the displaced supercells (ours: energies+forces, one predict call; atomate2: "
        "energy+forces+stress, one job each); rest: jobflow, store, phonopy post-processing"
    )
    print()
    for r in results:
        label = r["case"].label
        dr = r["max_dr"]
        same = dr <= 1e-12
        dataset = ", ".join(
            f"atom {n + 1} {np.round(v, 6).tolist()}" for n, v in r["ours"]["dataset"]
        )
        print(
            f"{label}: displaced supercells {'identical' if same else 'DIFFERENT'} "
            f"({r['n_displaced']} each, max |Δr| {dr:.1e} Å; dataset: {dataset})"
        )
        gate = ""
        if r["case"].dtype == "float64":
            verdict = "passes" if r["max_df"] <= FREQUENCY_GATE_THZ else "FAILS"
            gate = f"; gate {FREQUENCY_GATE_THZ:g} THz {verdict}"
        print(
            f"{label}: max |Δf| {r['max_df']:.1e} THz at {len(NAMED_QPOINTS)} high-symmetry + "
            f"5 general q-points, max |ΔΦ| {r['max_dfc']:.1e} eV/Å²{gate}"
        )
        for side in ("ours", "atomate2"):
            print(f"  {side} jobs: {_job_breakdown(r[side])}")
            print(f"  {side} post-processing: " + "; ".join(r[side]["products"]))
            print(f"  {side} time by phase: {_phase_breakdown(r[side])}")
            if r[side]["profile"]:
                print(r[side]["profile"])
    print()
    ratios = ", ".join(
        f"{r['ratio']:.1f}x" + (" faster" if i == 0 else "") + f" ({r['case'].label})"
        for i, r in enumerate(results)
    )
    worst = max(r["max_df"] for r in results)
    print(f"vs atomate2: ours {ratios}; max |Δf| {worst:.0e} THz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mace", "chgnet", "both"), default="both")
    parser.add_argument("--channels", type=int, default=64, help="channels of the random MACE")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (best is kept)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch/OpenMP/BLAS threads in every run (0: the libraries' defaults)",
    )
    parser.add_argument(
        "--socket",
        action="store_true",
        help="atomate2 with socket=True (all displacements in one static job; not its default)",
    )
    parser.add_argument(
        "--shared-store",
        action="store_true",
        help="one embedded store for all runs (default: a new, empty one per run)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile's top entries of each run"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-vs-atomate2-") as tmp:
        if args.threads > 0:  # inherited by the spawned runs before they import numpy/torch
            for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ[variable] = str(args.threads)
        cases = []
        if args.model in ("mace", "both"):
            from latticebench.models.synthetic import build_random_mace

            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                warnings.simplefilter("ignore")
                path = build_random_mace(
                    Path(tmp) / f"mace-{args.channels}.model", channels=args.channels
                )
            cases.append(ModelCase(f"mace-{args.channels}", "mace", str(path), "float64"))
        if args.model in ("chgnet", "both"):
            cases.append(ModelCase("chgnet-0.3.0", "chgnet", "chgnet-0.3.0", "float32"))

        print(
            f"{COMPOUND}: 40-atom Fm-3m cell, {'x'.join(map(str, SUPERCELL))} supercell, "
            f"{DISPLACEMENT_A} Å; every run in a fresh process, on "
            + (
                "one embedded store shared by all runs"
                if args.shared_store
                else "a new embedded store"
            )
            + "; "
            f"threads: {args.threads or 'library defaults'}"
            + ("; atomate2 socket=True" if args.socket else "")
        )
        results = [compare(case, args, tmp) for case in cases]
    print()
    report(results)


if __name__ == "__main__":
    main()
