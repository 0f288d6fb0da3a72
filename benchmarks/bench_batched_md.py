"""Batched MD of many compounds (torch-sim backend) vs the ASE engine one compound at a time.

Runs the same Andersen NVT MD (same seeds, so the same trajectories) of ``--compounds``
double-perovskite supercells twice in one process: with the ASE engine, one compound after the
other (mace's ASE calculator), and with :class:`latticebench.torchsim.BatchedMDRun`, all
compounds in one batch (one batched model call per step). Prints both wall times, the time
spent inside the model in each, their ratio, and how much of the batched run is our own
bookkeeping (thermostat, health checks, trajectory writes) rather than the model.

On a GPU the batch fills the device; on a CPU the model's work is the same either way and the
ratio shows what batching saves in per-call overhead.

Usage::

    .venv/bin/python benchmarks/bench_batched_md.py [--compounds 4] [--steps 40]
        [--channels 32] [--device auto] [--repeat 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from latticebench.md import HealthLimits, MDParameters, MDRun, TrajectoryReader
from latticebench.models import detect_device, load_model
from latticebench.models.synthetic import build_random_mace
from latticebench.structures import build_double_perovskite

COMPOUNDS = ("Cs2AgBiBr6", "Cs2NaInCl6", "Cs2KBiCl6", "Cs2AgInBr6", "Rb2NaBiI6", "Cs2NaSbCl6")


class Clock:
    """Wall time accumulated inside wrapped callables."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, function):
        """``function`` timed into this clock."""

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        return timed


def cells(n: int, repeat: int):
    from pymatgen.io.ase import AseAtomsAdaptor

    names = [COMPOUNDS[i % len(COMPOUNDS)] for i in range(n)]
    out = []
    for name in names:
        atoms = AseAtomsAdaptor.get_atoms(build_double_perovskite(name))
        out.append((name, atoms.repeat(repeat)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=40, help="production steps (plus 10)")
    parser.add_argument("--channels", type=int, default=32, help="MACE feature channels")
    parser.add_argument(
        "--repeat", type=int, default=1, help="supercell repeat of the 40-atom cell"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()

    from latticebench.torchsim import BatchedMDRun, BatchEntry, torchsim_model

    device = detect_device(args.device)
    work = Path(tempfile.mkdtemp(prefix="bench-batched-md-"))
    model_path = build_random_mace(
        work / "mace.model", channels=args.channels, interaction_scale=1.0
    )
    loaded = load_model(model_path, dtype=args.dtype, device=device)
    parameters = MDParameters(
        seed=1,
        equilibration_steps=10,
        production_steps=args.steps,
        checkpoint_interval=10,
        health=HealthLimits(max_temperature_factor=1e3, min_distance_A=0.1),
    )
    systems = cells(args.compounds, args.repeat)
    n_atoms = sum(len(atoms) for _, atoms in systems)
    print(
        f"{args.compounds} compounds, {n_atoms} atoms in all, {parameters.total_steps} steps, "
        f"random MACE ({args.channels} channels, {args.dtype}) on {device}"
    )

    # warm-up: first calls of either path compile kernels and allocate
    calc = loaded.calculator()
    warm = systems[0][1].copy()
    warm.calc = calc
    warm.get_forces()
    model = torchsim_model(loaded)

    ase_clock = Clock()
    calc.calculate = ase_clock.wrap(calc.calculate)
    start = time.perf_counter()
    for i, (_, atoms) in enumerate(systems):
        MDRun(work / f"ase-{i}", atoms, parameters.model_copy(update={"seed": i})).run(calc)
    ase_wall = time.perf_counter() - start

    batch_clock = Clock()
    model.forward = batch_clock.wrap(model.forward)
    entries = [
        BatchEntry(
            f"{name}-{i}", work / f"batch-{i}", atoms, parameters.model_copy(update={"seed": i})
        )
        for i, (name, atoms) in enumerate(systems)
    ]
    start = time.perf_counter()
    statuses = BatchedMDRun(entries).run(model)
    batch_wall = time.perf_counter() - start
    states = {s.state for s in statuses.values()}

    deviation = max(
        float(
            np.abs(
                TrajectoryReader(work / f"ase-{i}").read(["positions"])["positions"]
                - TrajectoryReader(work / f"batch-{i}").read(["positions"])["positions"]
            ).max()
        )
        for i in range(len(systems))
    )
    print(f"{'':28} {'wall (s)':>10} {'in model (s)':>13} {'model calls':>12} {'ours':>7}")
    for label, wall, clock in (
        ("ASE engine, one at a time", ase_wall, ase_clock),
        ("torch-sim batch", batch_wall, batch_clock),
    ):
        ours = 1 - clock.seconds / wall
        print(f"{label:28} {wall:10.2f} {clock.seconds:13.2f} {clock.calls:12d} {ours:7.1%}")
    print(f"batched runs: {sorted(states)}; max |Δposition| vs the ASE engine: {deviation:.1e} Å")
    print(
        f"batched MD vs one at a time: {ase_wall / batch_wall:.2f}x faster; "
        f"batched wall / time in model: {batch_wall / batch_clock.seconds:.2f}"
    )


if __name__ == "__main__":
    main()
