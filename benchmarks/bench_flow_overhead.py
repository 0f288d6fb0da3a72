"""Time spent inside the model vs the whole lattice-dynamics flow, stage by stage.

Runs one LatticeDynamicsMaker flow (relax → phonons → MD run(s) → σ^A) with ``run_locally`` on
an in-memory JobStore and times, side by side in the same run:

* the wall time of the whole flow and of each job (``jobflow.Job.run`` is wrapped, so a job's
  time includes resolving its inputs from the store and writing its output document);
* the time spent inside the model's force evaluations (ASE calculator ``calculate`` calls and
  batched ``predict`` calls), attributed to the job that made them.

It prints a table per stage (wall, inside the model, the rest), the σ^A stage's share of the
whole flow (goal < 2 %) and, last, the ratio flow wall time ÷ time inside the model (goal
≤ 1.15); everything but the model is our overhead (jobflow, phonopy, symmetry, the MD engine's
bookkeeping and disk writes, σ^A analysis, serialisation). Nothing asserts on time.

Models: a catalog name (``chgnet-0.3.0`` runs offline), a MACE checkpoint path, or
``small-mace``: a MACE model with random weights and 64 channels built on the fly with
:func:`latticebench.models.synthetic.build_random_mace` (foundation weights cannot be downloaded
offline; the cost of a force evaluation follows the architecture, not the weights). With the
builder's default interaction scale (50 eV) its random forces are small (≲ 0.05 eV/Å on the
320-atom supercell), so the MD stays finite; ``--interaction-scale`` changes the scale.

Model dtypes follow the reference protocol (relax and phonons in float64, MD in float32;
CHGNet always runs in float32); run lengths follow the demo protocol (MD: 50 equilibration +
``--steps`` production steps, ``--md-runs`` runs). ``--profile N`` runs the flow under cProfile
and prints its N most expensive functions (own time, then cumulative time); model calls appear
there too (``torch``, ``mace``, ``chgnet`` frames). ``--blas-threads N`` caps numpy/scipy's BLAS
threads for the whole flow (threadpoolctl), to measure how much of the overhead is BLAS threads
competing with torch's OpenMP threads in the many small LAPACK calls of relax and phonopy.

Usage::

    .venv/bin/python benchmarks/bench_flow_overhead.py [--model chgnet-0.3.0|small-mace]
        [--steps 200] [--md-runs 1] [--profile 25] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import jobflow
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore

from latticebench.flows.lattice_dynamics import LatticeDynamicsMaker
from latticebench.md import MDParameters
from latticebench.models import LoadedModel, load_model
from latticebench.protocol import DEMO_PROTOCOL, REFERENCE_PROTOCOL, Protocol
from latticebench.settings import override_settings

SMALL_MACE = "small-mace"
SIGMA_GOAL = 0.02
RATIO_GOAL = 1.15


class StageClock:
    """Wall time per jobflow job, by job name, while :meth:`installed` is active.

    Attributes
    ----------
    seconds : dict of str to float
        Wall time of each job's ``Job.run`` (s), in execution order.
    current : str or None
        Name of the job running now (None between jobs).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.current: str | None = None

    @contextmanager
    def installed(self) -> Iterator[StageClock]:
        """Wrap ``jobflow.Job.run`` for the duration of the block."""
        original = jobflow.Job.run
        clock = self

        def timed_run(job: jobflow.Job, *args: Any, **kwargs: Any) -> Any:
            name = job.name
            clock.current = name
            start = time.perf_counter()
            try:
                return original(job, *args, **kwargs)
            finally:
                clock.seconds[name] = clock.seconds.get(name, 0.0) + time.perf_counter() - start
                clock.current = None

        jobflow.Job.run = timed_run  # type: ignore[method-assign]
        try:
            yield self
        finally:
            jobflow.Job.run = original  # type: ignore[method-assign]


class ModelClock:
    """Accumulates the wall time spent in a loaded model's calculators and batch predictions.

    Parameters
    ----------
    model : LoadedModel
        The cached model object the jobs will get from ``load_model``; its ``predict`` and
        ``calculator`` are replaced by timed wrappers.
    stages : StageClock
        Time is attributed to ``stages.current`` (the running job).

    Attributes
    ----------
    seconds : dict of str to float
        Time inside the model per job name (s).
    calls : dict of str to int
        Model calls per job name.
    """

    def __init__(self, model: LoadedModel, stages: StageClock) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stages = stages
        self._patch(model)

    def _timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            stage = self._stages.current or "(outside jobs)"
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start
                self.calls[stage] += 1

        return timed

    def _patch(self, model: LoadedModel) -> None:
        make_calculator = model.calculator

        def timed_calculator():
            calc = make_calculator()
            calc.calculate = self._timed(calc.calculate)
            return calc

        model.predict = self._timed(model.predict)  # type: ignore[method-assign]
        model.calculator = timed_calculator  # type: ignore[method-assign]


def benchmark_protocol(steps: int, md_runs: int, equilibration: int) -> Protocol:
    """The demo protocol's run lengths with the reference protocol's model dtypes.

    Parameters
    ----------
    steps : int
        MD production steps.
    md_runs : int
        Independent MD runs.
    equilibration : int
        MD equilibration steps.

    Returns
    -------
    Protocol
    """
    return DEMO_PROTOCOL.model_copy(
        update={
            "relax": DEMO_PROTOCOL.relax.model_copy(
                update={"dtype": REFERENCE_PROTOCOL.relax.dtype}
            ),
            "phonons": DEMO_PROTOCOL.phonons.model_copy(
                update={"dtype": REFERENCE_PROTOCOL.phonons.dtype}
            ),
            "md_dtype": REFERENCE_PROTOCOL.md_dtype,
            "md": MDParameters(
                seed=1,
                equilibration_steps=equilibration,
                production_steps=steps,
                checkpoint_interval=50,
            ),
            "n_md_runs": md_runs,
        }
    )


def print_profile(profile: cProfile.Profile, top: int) -> None:
    """Print the ``top`` functions by own time and by cumulative time.

    Parameters
    ----------
    profile : cProfile.Profile
        Profile of the whole flow.
    top : int
        Number of rows.
    """
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(stream.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--model", default="chgnet-0.3.0", help=f"catalog name, checkpoint path or {SMALL_MACE}"
    )
    parser.add_argument("--compound", default="Cs2AgBiBr6")
    parser.add_argument("--steps", type=int, default=200, help="MD production steps")
    parser.add_argument("--equilibration", type=int, default=50, help="MD equilibration steps")
    parser.add_argument("--md-runs", type=int, default=1, help="independent MD runs")
    parser.add_argument("--mace-channels", type=int, default=64, help=f"channels of {SMALL_MACE}")
    parser.add_argument(
        "--interaction-scale",
        type=float,
        default=50.0,
        help=f"interaction energy scale of {SMALL_MACE}, eV",
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile the flow, print N rows"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="cap numpy/scipy BLAS threads (default: no cap)",
    )
    args = parser.parse_args()

    protocol = benchmark_protocol(args.steps, args.md_runs, args.equilibration)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    stages = StageClock()
    profile = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory() as tmp, override_settings(data_dir=Path(tmp)):
        model = args.model
        if model == SMALL_MACE:
            from latticebench.models.synthetic import build_random_mace

            model = str(
                build_random_mace(
                    Path(tmp) / "small-mace.model",
                    channels=args.mace_channels,
                    interaction_scale=args.interaction_scale,
                )
            )
        clocks = [
            ModelClock(load_model(model, dtype=dtype, device="cpu"), stages)
            for dtype in {protocol.relax.dtype, protocol.phonons.dtype, protocol.md_dtype}
        ]
        flow = LatticeDynamicsMaker(model=model, protocol=protocol, device="cpu").make(
            args.compound
        )
        blas: AbstractContextManager[Any] = nullcontext()
        if args.blas_threads:
            from threadpoolctl import threadpool_limits

            blas = threadpool_limits(args.blas_threads, user_api="blas")
        with stages.installed(), blas:
            if profile is not None:
                profile.enable()
            start = time.perf_counter()
            responses = run_locally(flow, store=store, create_folders=True, root_dir=tmp, log=False)
            wall = time.perf_counter() - start
            if profile is not None:
                profile.disable()
    if len(responses) != len(flow.jobs):
        raise SystemExit("a job failed; nothing measured")

    inside: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for clock in clocks:
        for stage, seconds in clock.seconds.items():
            inside[stage] += seconds
            calls[stage] += clock.calls[stage]
    total_inside = sum(inside.values())
    sigma_job = flow.jobs[-1].name
    print(
        f"model: {args.model}, compound: {args.compound}, dtypes: relax {protocol.relax.dtype}, "
        f"phonons {protocol.phonons.dtype}, MD {protocol.md_dtype}; MD: {args.md_runs} x "
        f"({args.equilibration} + {args.steps}) steps of {protocol.md.timestep_fs:g} fs; "
        f"BLAS threads: {args.blas_threads or 'uncapped'}"
    )
    if args.model == SMALL_MACE:
        print(
            f"small MACE: random weights, {args.mace_channels} channels, interaction scale "
            f"{args.interaction_scale:g} eV"
        )
    header = f"{'stage':<24} {'wall (s)':>9} {'model (s)':>10} {'calls':>6} {'other (s)':>10}"
    print(f"{header} {'share of flow':>14}")
    rows = [(name, seconds) for name, seconds in stages.seconds.items()]
    rows.append(("jobflow between jobs", wall - sum(stages.seconds.values())))
    for name, seconds in rows:
        model_s = inside.get(name, 0.0)
        print(
            f"{name:<24} {seconds:>9.2f} {model_s:>10.2f} {calls.get(name, 0):>6} "
            f"{seconds - model_s:>10.2f} {seconds / wall:>13.1%}"
        )
    print(
        f"{'flow total':<24} {wall:>9.2f} {total_inside:>10.2f} {sum(calls.values()):>6} "
        f"{wall - total_inside:>10.2f} {1:>13.1%}"
    )
    sigma_share = stages.seconds.get(sigma_job, 0.0) / wall
    print(
        f"σ^A stage ({sigma_job!r}) share of the flow: {sigma_share:.2%} (goal < {SIGMA_GOAL:.0%})"
    )
    if profile is not None:
        print_profile(profile, args.profile)
    print(f"ratio flow / model        {wall / total_inside:8.3f} (goal ≤ {RATIO_GOAL})")


if __name__ == "__main__":
    main()
