"""MD under custodian: checkpointed segments, error handlers, a wall-time budget, a validator.

One call of :func:`supervise_md` runs custodian over a stream of segment jobs. Each segment
continues the run from its checkpoint for at most ``segment_steps`` steps
(``MDRun.run(calculator, max_steps=...)``), then custodian asks the handlers whether something
went wrong:

* a health stop (NaN/inf forces, temperature runaway, atoms too close) → the time step is halved
  and the run continues from its last checkpoint (:class:`ExplodingMDHandler`), at most
  ``max_timestep_halvings`` times per run; one more stop raises :class:`MDSupervisionError`;
* the device ran out of memory → the run continues from its checkpoint on
  ``oom_fallback_device`` (:class:`OutOfMemoryHandler`); out of memory there too raises;
* the wall-time budget (:func:`latticebench.hpc.walltime.walltime_deadline`) would not cover
  another segment → no further segment starts: the run is left ``paused`` at a checkpoint and
  can be resumed by calling again (the MD job replaces itself with its continuation);
* the finished run has a frame with non-finite forces → :class:`MDSupervisionError`
  (:class:`NonFiniteFramesValidator`).

Every correction is kept in the run directory (``checkpoint.h5``, ``supervision.json``), so a
FireWorks rerun of the job continues with the same corrections and limits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custodian.custodian import Custodian, CustodianError, Job, ValidationError
from pydantic import Field

from latticebench.hpc.md_handlers import (
    ExplodingMDHandler,
    NonFiniteFramesValidator,
    OutOfMemoryHandler,
    find_non_finite_frame,
    read_supervision_state,
    write_error,
)
from latticebench.md import MDParameters, MDRun, MDStatus, read_checkpoint, read_status
from latticebench.md.status import STATUS_FILE
from latticebench.msonable import ParameterModel

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import BaseCalculator

__all__ = [
    "CalculatorFactory",
    "MDSegment",
    "MDSupervisionError",
    "MDWalltimeError",
    "SupervisedRun",
    "SupervisionParameters",
    "current_time",
    "is_out_of_memory",
    "supervise_md",
]

logger = logging.getLogger(__name__)

CalculatorFactory = Callable[[str | None], "BaseCalculator"]
"""``factory(device)`` → an ASE calculator on that torch device (None: the configured one)."""


def current_time() -> float:
    """Unix time (s): the clock of the supervisor (one place, so tests can replace it)."""
    return time.time()


class SupervisionParameters(ParameterModel):
    """How an MD run is supervised (execution settings: they do not enter the protocol id)."""

    segment_steps: int = Field(
        default=500,
        ge=1,
        description="Integration steps per custodian job; each ends with a checkpoint (steps).",
    )
    max_timestep_halvings: int = Field(
        default=3,
        ge=0,
        description="Health stops corrected by halving the time step, per run (count).",
    )
    oom_fallback_device: str | None = Field(
        default="cpu",
        description="Torch device to continue on after running out of memory (None: give up).",
    )
    walltime_margin_s: float = Field(
        default=60.0,
        ge=0.0,
        description="Wall time kept free before the deadline for writing results (s).",
    )


class MDSupervisionError(RuntimeError):
    """The supervised MD run failed for good; the message says why and what was tried.

    FireWorks stores ``to_dict()`` with the failed launch (``_exception._details``).
    """

    def __init__(self, reason: str, *, directory: Path, step: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.directory = str(directory)
        self.step = step

    def to_dict(self) -> dict[str, Any]:
        """JSON-able details: reason, run directory, step."""
        return {"reason": self.reason, "directory": self.directory, "step": self.step}


class MDWalltimeError(MDSupervisionError):
    """No wall time was left to run even one segment; the run is resumable from its checkpoint."""


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is a device out-of-memory error (torch's, CUDA's or MPS's)."""
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):
        pass
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


@dataclass
class _RunContext:
    """What the segment jobs of one supervised call share (not serialised by custodian)."""

    directory: Path
    atoms: Atoms
    parameters: MDParameters
    calculator_for: CalculatorFactory
    device: str | None
    clock: Callable[[], float]
    calculators: dict[str | None, BaseCalculator] = field(default_factory=dict)
    segment_wall_s: list[float] = field(default_factory=list)
    segment_steps_done: list[int] = field(default_factory=list)

    def current_device(self) -> str | None:
        state = read_supervision_state(self.directory)
        return state.device if state.device is not None else self.device

    def calculator(self, device: str | None) -> BaseCalculator:
        if device not in self.calculators:
            self.calculators[device] = self.calculator_for(device)
        return self.calculators[device]

    def open_run(self) -> MDRun:
        if read_checkpoint(self.directory) is not None:
            return MDRun.open(self.directory)
        return MDRun(self.directory, self.atoms, self.parameters)


class MDSegment(Job):
    """One custodian job: continue the run from its checkpoint for at most ``steps`` steps.

    Parameters
    ----------
    steps : int
        Integration steps of this segment.
    index : int
        Position of the segment in this call (1-based; for custodian's log).
    """

    def __init__(self, steps: int, index: int) -> None:
        self.steps = steps
        self.index = index
        self._context: _RunContext | None = None

    def setup(self, directory: str = "./") -> None:
        """Nothing to prepare: the run directory is the input."""

    def run(self, directory: str = "./") -> None:
        """Run the segment in-process; out-of-memory errors are left for the handler.

        Returns
        -------
        None
            No process: custodian checks the handlers as soon as this returns.
        """
        context = self._context
        if context is None:
            raise RuntimeError("MDSegment has no run context; use supervise_md()")
        path = Path(directory)
        (path / STATUS_FILE).unlink(missing_ok=True)  # a call that raises must leave no status
        device = context.current_device()
        run = context.open_run()
        checkpoint = run.checkpoint
        start_step = checkpoint.step if checkpoint is not None else 0
        started = context.clock()
        try:
            status = run.run(context.calculator(device), max_steps=self.steps)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            context.calculators.pop(device, None)
            _free_device_memory()
            write_error(path, "out_of_memory", f"{type(exc).__name__}: {exc}", device=device)
            logger.warning("MD segment ran out of memory on %s: %s", device, exc)
            return
        context.segment_wall_s.append(context.clock() - started)
        context.segment_steps_done.append(max(status.step - start_step, 0))

    def postprocess(self, directory: str = "./") -> None:
        """Nothing to collect: the run directory holds the result."""

    @property
    def name(self) -> str:
        """``MDSegment <index>``."""
        return f"MDSegment {self.index}"


def _free_device_memory() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


@dataclass
class SupervisedRun:
    """Outcome of :func:`supervise_md`.

    Attributes
    ----------
    status : MDStatus
        Status of the last segment (``completed``, or ``paused`` when the wall time ran out).
    device : str or None
        Device of the last segment (None: the configured one).
    corrections : list of dict
        Every correction of the run, oldest first: the MD parameter changes of the checkpoint
        and the supervisor's device changes, each ``{step, field, old, new, reason}``.
    custodian_log : list of dict
        custodian's record of this call: per segment, its corrections (handler, errors,
        actions).
    started_from_step : int
        Global step of the checkpoint this call continued from (0: a fresh start).
    segments : int
        Segments run in this call.
    walltime_paused : bool
        True when the call stopped because the wall-time budget would not cover another
        segment.
    """

    status: MDStatus
    device: str | None
    corrections: list[dict[str, Any]]
    custodian_log: list[dict[str, Any]]
    started_from_step: int
    segments: int
    walltime_paused: bool


def _segments(
    context: _RunContext,
    supervision: SupervisionParameters,
    deadline: float | None,
    clock: Callable[[], float],
    stopped_for_time: list[bool],
) -> Iterator[MDSegment]:
    """Segment jobs until the run is complete or the wall time would not cover another one."""
    index = 0
    while True:
        status = read_status(context.directory)
        if status is not None and status.state == "completed" and index > 0:
            return
        if deadline is not None:
            estimate = _segment_estimate(context, supervision.segment_steps)
            if clock() + estimate + supervision.walltime_margin_s > deadline:
                stopped_for_time.append(True)
                return
        index += 1
        segment = MDSegment(steps=supervision.segment_steps, index=index)
        segment._context = context
        yield segment


def _segment_estimate(context: _RunContext, steps: int) -> float:
    """Wall time (s) the next segment of ``steps`` steps should take, from the last one."""
    for wall, done in zip(
        reversed(context.segment_wall_s), reversed(context.segment_steps_done), strict=True
    ):
        if done > 0:
            return wall / done * steps
    return 0.0


def _describe_failure(exc: CustodianError, directory: Path, max_halvings: int) -> str:
    """A readable reason for a custodian failure of the MD run."""
    if isinstance(exc, ValidationError):
        bad = find_non_finite_frame(directory)
        where = f" (frame {bad[0]}, step {bad[1]})" if bad is not None else ""
        return f"the finished MD trajectory holds non-finite forces{where}; rejected"
    handler = getattr(exc, "handler", None)
    if isinstance(handler, OutOfMemoryHandler):
        return (
            f"out of memory on {handler.last_device} ({handler.last_message}) and no other "
            f"device to fall back to (oom_fallback_device={handler.fallback_device!r})"
        )
    status = read_status(directory)
    checkpoint = read_checkpoint(directory)
    if status is not None and status.state == "stopped":
        corrections = checkpoint.corrections if checkpoint is not None else ()
        halvings = [c for c in corrections if c.field == "timestep_fs"]
        history = " → ".join(
            [f"{halvings[0].old:g}", *(f"{c.new:g}" for c in halvings)] if halvings else []
        )
        tried = f" (time step {history} fs)" if halvings else ""
        return (
            f"MD keeps exploding: {status.reason}; still failing after {len(halvings)} of "
            f"{max_halvings} allowed timestep halvings{tried}"
        )
    return f"MD supervision gave up: {exc}"


def supervise_md(
    directory: str | Path,
    atoms: Atoms,
    parameters: MDParameters,
    calculator_for: CalculatorFactory,
    *,
    device: str | None = None,
    supervision: SupervisionParameters | None = None,
    deadline: float | None = None,
    clock: Callable[[], float] | None = None,
) -> SupervisedRun:
    """Run (or resume) an MD run under custodian until it completes or the wall time runs out.

    Parameters
    ----------
    directory : str or Path
        Run directory (a checkpoint there is continued).
    atoms : ase.Atoms
        Starting structure (used when the directory holds no run yet).
    parameters : MDParameters
        Parameters of a new run (a continued run keeps its own, corrections included).
    calculator_for : callable
        ``calculator_for(device)`` → ASE calculator on that device (None: configured device).
    device : str, optional
        Configured device (recorded in corrections when the fallback replaces it).
    supervision : SupervisionParameters, optional
    deadline : float, optional
        Unix time (s) by which this call must have returned; None = no limit.
    clock : callable, optional
        Current Unix time (s); default :func:`current_time`.

    Returns
    -------
    SupervisedRun

    Raises
    ------
    MDSupervisionError
        Exploding MD past the halving limit, out of memory on the fallback device, or a
        finished trajectory with non-finite forces; the checkpoint and its frames are kept.
    MDWalltimeError
        When the wall time does not cover even the first segment.
    """
    supervision = supervision or SupervisionParameters()
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    clock = clock or current_time
    context = _RunContext(path, atoms, parameters, calculator_for, device, clock)
    before = read_checkpoint(path)
    started_from = before.step if before is not None else 0
    stopped_for_time: list[bool] = []
    limit = supervision.max_timestep_halvings + 2  # halvings + one device switch + the last try
    custodian = Custodian(
        handlers=[
            ExplodingMDHandler(max_halvings=supervision.max_timestep_halvings),
            OutOfMemoryHandler(fallback_device=supervision.oom_fallback_device),
        ],
        jobs=_segments(context, supervision, deadline, clock, stopped_for_time),
        validators=[NonFiniteFramesValidator()],
        max_errors=limit,
        max_errors_per_job=limit,
        polling_time_step=0,
        terminate_on_nonzero_returncode=False,
        directory=str(path),
    )
    try:
        run_log = custodian.run()
    except CustodianError as exc:
        status = read_status(path)
        raise MDSupervisionError(
            _describe_failure(exc, path, supervision.max_timestep_halvings),
            directory=path,
            step=status.step if status is not None else None,
        ) from exc
    segments = len(context.segment_wall_s)
    if segments == 0 and stopped_for_time:
        checkpoint = read_checkpoint(path)
        step = checkpoint.step if checkpoint is not None else 0
        left = (deadline or 0.0) - clock()
        raise MDWalltimeError(
            f"no wall time left for an MD segment ({left:.0f} s to the deadline, "
            f"{supervision.walltime_margin_s:g} s kept free); the run in {path} is resumable "
            f"from step {step}: rerun the job in a new allocation",
            directory=path,
            step=step,
        )
    status = read_status(path)
    if status is None:
        raise RuntimeError(f"{path}: the MD segments left no status file")
    return SupervisedRun(
        status=status,
        device=context.current_device(),
        corrections=_all_corrections(path),
        custodian_log=_summarise(run_log),
        started_from_step=started_from,
        segments=segments,
        walltime_paused=bool(stopped_for_time) and status.state != "completed",
    )


def _all_corrections(directory: Path) -> list[dict[str, Any]]:
    """MD parameter corrections (checkpoint) and device corrections, ordered by step."""
    checkpoint = read_checkpoint(directory)
    md = [c.to_dict() for c in checkpoint.corrections] if checkpoint is not None else []
    device = read_supervision_state(directory).corrections
    return sorted([*md, *device], key=lambda c: c["step"])


def _summarise(run_log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The custodian run log as plain JSON: per segment with corrections, what was done."""
    summary = []
    for entry in run_log:
        corrections = entry.get("corrections") or []
        if not corrections:
            continue
        summary.append(
            {
                "job": entry["job"].get("@class", "MDSegment")
                + f" {entry['job'].get('index', '')}".rstrip(),
                "corrections": [
                    {
                        "handler": type(c["handler"]).__name__,
                        "errors": list(c.get("errors") or []),
                        "actions": c.get("actions"),
                    }
                    for c in corrections
                ],
            }
        )
    return summary
