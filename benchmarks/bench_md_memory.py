"""Peak memory of a long vs a short MD run: does memory grow with the number of steps.

Runs the same NVT MD (32-atom fcc Cu, Andersen, checkpoint/chunk every 100 steps, every
production step recorded) for a short and a long production, each in a fresh child process,
measured twice:

* tracemalloc: peak of Python-allocated memory during ``MDRun.run`` (numpy arrays included);
* RSS: growth of the process's peak resident set (``ru_maxrss``) over its size just before
  ``MDRun.run`` (measured in a separate child, without tracemalloc's own overhead).

It prints the numbers and the long/short ratios; the goal (issue 3) is a ratio within 10 %.
The RSS growth itself is a few hundred KiB (allocator arenas, page granularity), so its ratio
is noisy; the peak-RSS ratio is the meaningful RSS figure. The exit status is 1 when the
tracemalloc ratio misses the goal. No timings are asserted.

What little still grows is interpreter-level and bounded: Python 3.12's pathlib interns (and
keeps forever) each distinct path component, i.e. each chunk file name, about 0.2 KiB per chunk;
the names repeat from run to run, so a worker process running many MD jobs does not accumulate
them.

The default calculator is a harmonic well around each lattice site (microseconds per call, so
the engine's own memory is what is measured); ``--calculator emt`` uses ASE's EMT instead
(about 2.5 ms per step: a couple of minutes in all).

Usage::

    python benchmarks/bench_md_memory.py [--short 500] [--long 5000] [--calculator emt]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np

GOAL_RATIO = 1.10


def current_rss_kib() -> int:
    """Resident set size of this process now (KiB), from /proc/self/statm."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() // 1024


def make_calculator(name: str, atoms):
    """Return the benchmark's calculator.

    ``"harmonic"``: E = k/2 Σ |r_i - R_i|² with k = 2 eV/Å² around the sites R of ``atoms``;
    ``"emt"``: ASE's effective-medium theory.
    """
    from ase.calculators.calculator import Calculator, all_changes

    if name == "emt":
        from ase.calculators.emt import EMT

        return EMT()

    class HarmonicWells(Calculator):
        implemented_properties = ("energy", "forces")

        def __init__(self, sites, spring_eV_per_A2: float = 2.0):
            super().__init__()
            self.sites = sites.copy()
            self.spring = spring_eV_per_A2

        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            displacement = self.atoms.get_positions() - self.sites
            self.results = {
                "energy": 0.5 * self.spring * float(np.sum(displacement**2)),
                "forces": -self.spring * displacement,
            }

    return HarmonicWells(atoms.get_positions())


def measure(production_steps: int, mode: str, calculator: str) -> dict[str, float]:
    """Run the MD once in this process and return the requested memory figures."""
    from ase.build import bulk

    from latticebench.md import MDParameters, MDRun, TrajectoryReader

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    parameters = MDParameters(
        seed=1,
        equilibration_steps=100,
        production_steps=production_steps,
        record_interval=1,
        checkpoint_interval=100,
    )
    with tempfile.TemporaryDirectory() as scratch:
        # warm-up in another directory: imports, h5py, calculator set-up
        warm = parameters.model_copy(update={"equilibration_steps": 0, "production_steps": 100})
        MDRun(Path(scratch) / "warm", atoms, warm).run(make_calculator(calculator, atoms))
        directory = Path(scratch) / "run"
        if mode == "tracemalloc":
            tracemalloc.start()
            tracemalloc.reset_peak()
            status = MDRun(directory, atoms, parameters).run(make_calculator(calculator, atoms))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result = {"tracemalloc_peak_kib": peak / 1024}
        else:
            before = current_rss_kib()
            status = MDRun(directory, atoms, parameters).run(make_calculator(calculator, atoms))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
            result = {
                "rss_before_kib": before,
                "rss_peak_kib": peak,
                "rss_growth_kib": peak - before,
            }
        n_frames = TrajectoryReader(directory).n_frames
    if status.state != "completed" or n_frames != production_steps:
        raise RuntimeError(f"benchmark run did not complete: {status}")
    return {"production_steps": production_steps, "n_frames": n_frames, **result}


def in_child(production_steps: int, mode: str, calculator: str) -> dict[str, float]:
    """Measure in a fresh interpreter so that peaks of one run cannot hide another's."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(production_steps), mode, calculator],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=500, help="production steps, short run")
    parser.add_argument("--long", type=int, default=5000, help="production steps, long run")
    parser.add_argument("--calculator", choices=("harmonic", "emt"), default="harmonic")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        steps, mode, calculator = args.child
        print(json.dumps(measure(int(steps), mode, calculator)))
        return 0

    print(f"calculator: {args.calculator}; 32 atoms; chunk = checkpoint = 100 steps")
    rows = {}
    for steps in (args.short, args.long):
        rows[steps] = in_child(steps, "tracemalloc", args.calculator) | in_child(
            steps, "rss", args.calculator
        )
    short, long = rows[args.short], rows[args.long]
    print(
        f"{'production steps':>18} {'frames':>7} {'tracemalloc peak':>17} "
        f"{'RSS before':>11} {'RSS peak':>9} {'RSS growth':>11}   (KiB)"
    )
    for row in (short, long):
        print(
            f"{row['production_steps']:>18} {row['n_frames']:>7} "
            f"{row['tracemalloc_peak_kib']:>17.0f} {row['rss_before_kib']:>11.0f} "
            f"{row['rss_peak_kib']:>9.0f} {row['rss_growth_kib']:>11.0f}"
        )
    traced = long["tracemalloc_peak_kib"] / short["tracemalloc_peak_kib"]
    peak_rss = long["rss_peak_kib"] / short["rss_peak_kib"]
    growth = long["rss_growth_kib"] / max(short["rss_growth_kib"], 1)
    print(
        f"ratio long/short: tracemalloc peak {traced:.3f}, RSS peak {peak_rss:.3f}, "
        f"RSS growth {growth:.3f} (growth of {short['rss_growth_kib']:.0f} vs "
        f"{long['rss_growth_kib']:.0f} KiB)"
    )
    verdict = "meets" if traced <= GOAL_RATIO else "MISSES"
    print(
        f"{args.long / args.short:g}x more steps: tracemalloc peak {verdict} the "
        f"within-{GOAL_RATIO - 1:.0%} goal"
    )
    return 0 if traced <= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
