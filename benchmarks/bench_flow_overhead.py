"""Time spent inside the model vs the whole lattice-dynamics flow.

Runs one LatticeDynamicsMaker flow (relax → phonons → MD → σ^A) with ``run_locally`` on an
in-memory JobStore and times, side by side in the same run, the wall time of the whole flow and
the time spent inside the model's force evaluations (ASE calculator calls and batched
predictions). Prints both and their ratio; the rest is our overhead (jobflow, phonopy, the MD
engine's bookkeeping and disk writes, σ^A analysis, serialisation).

Usage::

    .venv/bin/python benchmarks/bench_flow_overhead.py [--model chgnet-0.3.0] [--steps 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore

from latticebench.flows.lattice_dynamics import LatticeDynamicsMaker
from latticebench.md import MDParameters
from latticebench.models import LoadedModel, load_model
from latticebench.protocol import DEMO_PROTOCOL
from latticebench.settings import override_settings


class ModelClock:
    """Accumulates the wall time spent in a loaded model's calculators and batch predictions."""

    def __init__(self, model: LoadedModel) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._patch(model)

    def _patch(self, model: LoadedModel) -> None:
        clock = self
        predict = model.predict
        make_calculator = model.calculator

        def timed_predict(*args, **kwargs):
            start = time.perf_counter()
            try:
                return predict(*args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - start
                clock.calls += 1

        def timed_calculator():
            calc = make_calculator()
            calculate = calc.calculate

            def timed_calculate(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return calculate(*args, **kwargs)
                finally:
                    clock.seconds += time.perf_counter() - start
                    clock.calls += 1

            calc.calculate = timed_calculate
            return calc

        model.predict = timed_predict  # type: ignore[method-assign]
        model.calculator = timed_calculator  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="chgnet-0.3.0")
    parser.add_argument("--compound", default="Cs2AgBiBr6")
    parser.add_argument("--steps", type=int, default=200, help="MD production steps")
    args = parser.parse_args()

    protocol = DEMO_PROTOCOL.model_copy(
        update={
            "md": MDParameters(
                seed=1, equilibration_steps=50, production_steps=args.steps, checkpoint_interval=50
            )
        }
    )
    clocks = []
    for dtype in {protocol.relax.dtype, protocol.phonons.dtype, protocol.md_dtype}:
        clocks.append(ModelClock(load_model(args.model, dtype=dtype, device="cpu")))
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    with tempfile.TemporaryDirectory() as tmp, override_settings(data_dir=Path(tmp)):
        flow = LatticeDynamicsMaker(model=args.model, protocol=protocol, device="cpu").make(
            args.compound
        )
        start = time.perf_counter()
        responses = run_locally(flow, store=store, create_folders=True, root_dir=tmp, log=False)
        wall = time.perf_counter() - start
    if len(responses) != len(flow.jobs):
        raise SystemExit("a job failed; nothing measured")
    inside = sum(c.seconds for c in clocks)
    calls = sum(c.calls for c in clocks)
    print(f"model: {args.model}, compound: {args.compound}, MD production steps: {args.steps}")
    print(f"flow wall time            {wall:8.2f} s")
    print(f"inside the model          {inside:8.2f} s  ({calls} calls)")
    print(f"overhead (everything else) {wall - inside:7.2f} s")
    print(f"ratio flow / model        {wall / inside:8.3f}")


if __name__ == "__main__":
    main()
