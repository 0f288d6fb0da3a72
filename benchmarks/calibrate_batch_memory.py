"""Memory per graph edge of MLIP forward+backward passes on the CPU (peak RSS of child processes).

The batch planner (``latticebench.models.batching``) estimates a structure's memory as
``edges within cutoff × bytes per edge``. This script measures bytes per edge: for each model
it evaluates k = 1, 2, 4 rattled 320-atom Cs2AgBiBr6 supercells in one batched pass
(``LoadedModel.predict(..., batch_size=k)``), each k in a fresh child process, and records the
growth of the peak resident set (``ru_maxrss``) over the process's size just before the call
(after loading the model and one warm-up evaluation of the 40-atom cell). The slope of a
straight-line fit of growth against edges is the bytes per edge; the intercept is what a pass
costs whatever its size. It prints them beside the estimate the package uses now.

For MACE, the bytes per edge of the first (smallest) batch divided by the dtype's size are fitted
once more, against the model's message width (``MaceModel.message_width``), which gives the two
constants of ``MaceModel.bytes_per_edge``. The smallest batch is the costliest per edge (a pass
has a fixed cost on top of the per-edge one), so the constants err on the safe side for larger
batches.

Usage::

    python benchmarks/calibrate_batch_memory.py [--copies 1 2 4] [--models chgnet mace64 ...]

Model names: ``chgnet``, ``maceC`` (float64, C channels) and ``maceC-f32`` (float32).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def current_rss_bytes() -> int:
    """Resident set size of this process now, from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def load(name: str, workdir: Path):
    """Load a model by benchmark name (building random MACE weights when needed)."""
    import mace.calculators  # noqa: F401  # mace before e3nn

    from latticebench.models import load_model
    from latticebench.models.synthetic import build_random_mace

    if name == "chgnet":
        return load_model("chgnet-0.3.0", device="cpu", dtype="float32")
    channels, _, precision = name.removeprefix("mace").partition("-")
    path = workdir / f"mace-{channels}.model"
    if not path.exists():
        build_random_mace(path, channels=int(channels))
    return load_model(path, device="cpu", dtype="float32" if precision == "f32" else "float64")


def child(name: str, copies: int, workdir: Path) -> dict:
    """Peak-RSS growth of one batched evaluation of ``copies`` supercells (run in a child)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from latticebench.models.batching import count_edges
    from latticebench.structures import build_double_perovskite

    model = load(name, workdir)
    unit = AseAtomsAdaptor.get_atoms(build_double_perovskite("Cs2AgBiBr6"))
    frames = []
    for seed in range(copies):
        frame = unit.repeat((2, 2, 2))
        frame.rattle(0.05, seed=seed)
        frames.append(frame)
    model.predict([unit], batch_size=1)
    edges = sum(count_edges(frame, model.cutoff) for frame in frames)
    before = current_rss_bytes()
    model.predict(frames, batch_size=copies)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "edges": edges,
        "growth": peak - before,
        "estimate": model.bytes_per_edge,
        "width": getattr(model, "message_width", None),
        "itemsize": 8 if model.record.dtype == "float64" else 4,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--models", nargs="+", default=["chgnet", "mace8", "mace64", "mace128", "mace64-f32"]
    )
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "COPIES", "WORKDIR"))
    args = parser.parse_args()
    if args.child:
        name, copies, workdir = args.child
        print(json.dumps(child(name, int(copies), Path(workdir))))
        return

    mace_points = []
    print(f"{'model':>11} {'edges':>7} {'growth MB':>10} {'B/edge':>8}")
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            rows = []
            for copies in args.copies:
                out = subprocess.run(
                    [
                        sys.executable,
                        "-W",
                        "ignore",
                        __file__,
                        "--child",
                        name,
                        str(copies),
                        workdir,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(
                    f"{name:>11} {row['edges']:7d} {row['growth'] / 1e6:10.1f} "
                    f"{row['growth'] / row['edges']:8.0f}",
                    flush=True,
                )
            edges = np.array([r["edges"] for r in rows], dtype=float)
            growth = np.array([r["growth"] for r in rows], dtype=float)
            slope, intercept = (
                np.polyfit(edges, growth, 1) if len(rows) > 1 else (growth[0] / edges[0], 0.0)
            )
            print(
                f"{name:>11}: slope {slope:8.0f} B/edge, intercept {intercept / 1e6:6.1f} MB, "
                f"package estimate {rows[0]['estimate']:8.0f} B/edge"
                + (f", message width {rows[0]['width']}" if rows[0]["width"] else "")
            )
            if rows[0]["width"]:
                first = rows[0]
                mace_points.append(
                    (first["width"], first["growth"] / first["edges"] / first["itemsize"])
                )
    if len(mace_points) > 1:
        widths, numbers = np.array(mace_points).T
        a, b = np.polyfit(widths, numbers, 1)
        print(
            f"MACE, first batch size ({args.copies[0]}): numbers per edge = "
            f"{a:.2f} × message width + {b:.0f}"
        )


if __name__ == "__main__":
    main()
