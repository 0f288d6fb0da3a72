"""Batched vs one-at-a-time model evaluation: rescoring AIMD-like frames and phonon supercells.

Two stages of the benchmark evaluate many structures with one model through
``LoadedModel.predict``:

* rescoring: ``--frames`` (default 1,000) frames of the 320-atom Cs2AgBiBr6 2×2×2 supercell,
  rattled (0.08 Å) like the snapshots of a DFT AIMD run at 300 K;
* phonons: the 5 displaced supercells (0.01 Å) of the same supercell, from
  ``latticebench.phonons``.

Each is evaluated with ``batch_size=1`` and with the automatic batch (sized from the memory
budget; ``--batch-size N`` fixes it instead, ``--batch-memory-gb`` sets the budget), each in a
fresh child process, for CHGNet 0.3.0 (float32) and a random-weight MACE with 64 channels
(``build_random_mace``, the size of a small foundation model) in float64 and float32. It prints
the times, their ratio (one at a time / batched: above 1 means batching is faster), the peak
memory of each call above what the process held before it (CUDA: ``max_memory_allocated``; CPU:
growth of the peak resident set ``ru_maxrss``), the largest force difference between the two
ways, and what the full 1,000-frame rescoring would take. Nothing is asserted.

Usage::

    python benchmarks/bench_batching.py [--frames 1000] [--device auto] [--model all]
                                        [--batch-size N] [--batch-memory-gb X] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MODELS = {
    "chgnet": ("chgnet-0.3.0", "float32"),
    "mace64-f64": ("mace64", "float64"),
    "mace64-f32": ("mace64", "float32"),
}
TASKS = ("rescore", "phonons")
FULL_FRAMES = 1000


def unit_cell():
    """The 40-atom cubic Cs2AgBiBr6 cell of the structure builder, as ase.Atoms."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from latticebench.structures import build_double_perovskite

    return AseAtomsAdaptor.get_atoms(build_double_perovskite("Cs2AgBiBr6"))


def supercell():
    """The 320-atom 2×2×2 supercell of :func:`unit_cell`."""
    return unit_cell().repeat((2, 2, 2))


def rescore_frames(n_frames: int) -> list:
    """``n_frames`` copies of the supercell with Gaussian displacements of 0.08 Å (seeded)."""
    cell = supercell()
    frames = []
    for seed in range(n_frames):
        frame = cell.copy()
        frame.rattle(stdev=0.08, seed=seed)
        frames.append(frame)
    return frames


def phonon_supercells() -> list:
    """The symmetry-reduced displaced supercells (2×2×2, 0.01 Å) of the phonon stage."""
    from latticebench import phonons
    from latticebench.structures import build_double_perovskite

    phonon = phonons.make_phonopy(build_double_perovskite("Cs2AgBiBr6"), (2, 2, 2))
    return phonons.displaced_supercells(phonon, 0.01)


def current_rss_bytes() -> int:
    """Resident set size of this process now, from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def load(name: str, device: str, workdir: Path):
    """Load a benchmark model; random MACE weights are read from ``workdir/mace64.model``."""
    import mace.calculators  # noqa: F401  # mace before e3nn

    from latticebench.models import load_model

    model, dtype = MODELS[name]
    source = workdir / "mace64.model" if model == "mace64" else model
    return load_model(source, dtype=dtype, device=device)  # type: ignore[arg-type]


def child(
    task: str, name: str, device: str, frames: int, batch: str, workdir: Path, threads: int
) -> dict:
    """Evaluate one task with one model one way; save the forces, return times and memory."""
    import torch

    from latticebench.models import batching

    model = load(name, device, workdir)
    structures = rescore_frames(frames) if task == "rescore" else phonon_supercells()
    batch_size = None if batch == "auto" else int(batch)
    if threads:
        torch.set_num_threads(threads)
    # warm-up (lazy initialisation) on the 40-atom cell: a warm-up as large as the timed
    # structures would leave its freed memory in the process and hide the timed call's peak
    warm_up = unit_cell()
    warm_up.rattle(0.08, seed=12345)
    model.predict([warm_up], batch_size=1)

    seen: list[tuple[int, int]] = []
    plan = model.chunks

    def recorded(structures, batch_size=None):
        for chunk in plan(structures, batch_size):
            seen.append(chunk)
            yield chunk

    model.chunks = recorded  # type: ignore[method-assign]
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    else:
        before = current_rss_bytes()
    start = time.perf_counter()
    predictions = model.predict(structures, batch_size=batch_size)
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) - before
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    forces_file = workdir / f"{task}-{name}-{batch}.npy"
    np.save(forces_file, np.stack(predictions.forces))
    sizes = [stop - start for start, stop in seen]
    return {
        "seconds": seconds,
        "peak_bytes": max(int(peak), 0),
        "largest_chunk": max(sizes),
        "chunks": len(sizes),
        "budget_gb": batching.memory_budget(device) / 1e9,
        "device": str(model.record.device),
        "forces": str(forces_file),
    }


def run_child(args: argparse.Namespace, task: str, name: str, batch: str, workdir: Path) -> dict:
    """Run :func:`child` in a fresh interpreter (its own peak memory) and return its result."""
    env = dict(os.environ)
    if args.batch_memory_gb is not None:
        env["LATTICEBENCH_BATCH_MEMORY_GB"] = str(args.batch_memory_gb)
    command = [sys.executable, "-W", "ignore", __file__, "--child", task, name, batch]
    command += ["--frames", str(args.frames), "--device", args.device, "--workdir", str(workdir)]
    command += ["--threads", str(args.threads)]
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"child {task} {name} {batch} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=FULL_FRAMES, help="rescored frames")
    parser.add_argument("--device", default="auto", help="torch device (auto: cuda if present)")
    parser.add_argument("--model", choices=[*MODELS, "all"], default="all")
    parser.add_argument("--batch-size", type=int, help="fixed batched size (default: automatic)")
    parser.add_argument("--batch-memory-gb", type=float, help="budget of the automatic batch")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--child", nargs=3, metavar=("TASK", "MODEL", "BATCH"))
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    if args.child:
        task, name, batch = args.child
        result = child(task, name, args.device, args.frames, batch, args.workdir, args.threads)
        print(json.dumps(result))
        return

    import mace.calculators  # noqa: F401  # mace before e3nn

    from latticebench.models import detect_device
    from latticebench.models.synthetic import build_random_mace

    args.device = detect_device(args.device)
    names = list(MODELS) if args.model == "all" else [args.model]
    batched = "auto" if args.batch_size is None else str(args.batch_size)
    header = (
        f"{'task':8} {'model':11} {'device':7} {'batched':>17} {'one-by-one s':>12} "
        f"{'batched s':>10} {'ratio':>6} {'peak MB 1/batched':>18} {'max|ΔF| eV/Å':>13}"
    )
    print(f"frames: {args.frames} × 320 atoms; phonons: displaced 320-atom supercells")
    print(header)
    print("-" * len(header))
    ratios, full_run = [], []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if any(MODELS[name][0] == "mace64" for name in names):
            build_random_mace(workdir / "mace64.model", channels=64)
        for name in names:
            for task in TASKS:
                one = run_child(args, task, name, "1", workdir)
                many = run_child(args, task, name, batched, workdir)
                difference = float(np.max(np.abs(np.load(one["forces"]) - np.load(many["forces"]))))
                ratio = one["seconds"] / many["seconds"]
                ratios.append(f"{task}/{name} {ratio:.2f}")
                label = f"{batched}: ≤{many['largest_chunk']} ×{many['chunks']}"
                peaks = f"{one['peak_bytes'] / 1e6:.0f}/{many['peak_bytes'] / 1e6:.0f}"
                print(
                    f"{task:8} {name:11} {many['device']:7} {label:>17} {one['seconds']:12.2f} "
                    f"{many['seconds']:10.2f} {ratio:6.2f} {peaks:>18} {difference:13.1e}",
                    flush=True,
                )
                if task == "rescore":
                    scale = FULL_FRAMES / args.frames
                    full_run.append(
                        f"{name}: {one['seconds'] * scale:.0f} s one by one, "
                        f"{many['seconds'] * scale:.0f} s batched"
                    )
        budget = many["budget_gb"]
    print(f"batch memory budget of the automatic batch: {budget:.3g} GB")
    print(f"rescoring {FULL_FRAMES} frames, extrapolated: " + "; ".join(full_run))
    print("ratios (one-by-one time / batched time): " + ", ".join(ratios))


if __name__ == "__main__":
    main()
