"""``latticebench submit STUDY.yaml``: add a study's missing workflows to a FireWorks LaunchPad."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from latticebench.cli.common import console, fail

__all__ = ["LaunchPadOption", "print_submission", "submit"]

LaunchPadOption = Annotated[
    Path | None,
    typer.Option(
        "--launchpad",
        "-l",
        help="LaunchPad file (default: ./my_launchpad.yaml, then FireWorks' LAUNCHPAD_LOC).",
        show_default=False,
    ),
]


def print_submission(report, *, verbose: bool = False) -> None:
    """Print what a submission added (or would add) and what it skipped, and why.

    Parameters
    ----------
    report : latticebench.hpc.submission.SubmissionReport
    verbose : bool
        List every skipped key, not only the counts per reason.
    """
    verb = "would add" if report.dry_run else "added"
    per_category = ", ".join(f"{c} {n}" for c, n in sorted(report.categories().items()))
    console.print(
        f"study {report.study}, protocol {report.protocol_id}: {verb} "
        f"{len(report.submitted)} workflow(s), {report.n_fireworks} firework(s)"
        + (f" ({per_category})" if per_category else "")
        + f"; skipped {len(report.skipped)}",
        highlight=False,
        soft_wrap=True,
    )
    for wf in report.submitted:
        ids = f" (fw {wf.fw_ids[0]}–{wf.fw_ids[-1]})" if wf.fw_ids else ""
        console.print(f"  {verb} {wf.name}{ids}", highlight=False, soft_wrap=True)
        if wf.previous_states:
            console.print(
                f"    resubmitted: earlier workflow(s) {', '.join(wf.previous_states)} stay on "
                "the LaunchPad (`lpad rerun_fws -i <fw_id>` would rerun one instead)",
                highlight=False,
                soft_wrap=True,
            )
    reasons = Counter(skip.reason for skip in report.skipped)
    for reason, count in sorted(reasons.items()):
        console.print(f"  skipped {count}: {reason}", highlight=False, soft_wrap=True)
    if verbose:
        for skip in report.skipped:
            console.print(
                f"    {' | '.join(skip.key)}: {skip.reason}", highlight=False, soft_wrap=True
            )
    if report.dry_run and not report.launchpad_checked:
        console.print(
            "  no LaunchPad configured: workflows already queued there were not checked",
            highlight=False,
        )


def submit(
    study: Annotated[Path, typer.Argument(help="Study file (workflows/*.yaml).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be added; add nothing.")
    ] = False,
    launchpad: LaunchPadOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every skipped benchmark key.")
    ] = False,
) -> None:
    """Submit a study to FireWorks: one workflow per (compound × model) not yet queued or done.

    Model jobs (relax, phonons, MD, rescoring) get the study's GPU category, the light ones
    (σ^A, comparison) its CPU category. Keys whose workflow is queued, running or completed, or
    that have a benchmark document, are skipped; failed (FIZZLED/DEFUSED) ones are resubmitted.
    """
    from pymongo.errors import PyMongoError

    from latticebench.hpc.launchpad import LaunchPadError, open_launchpad
    from latticebench.hpc.submission import submit_study
    from latticebench.study import StudySpec, StudySpecError

    try:
        spec = StudySpec.from_yaml(study)
        with open_launchpad(launchpad, required=not dry_run) as pad:
            report = submit_study(spec, pad, dry_run=dry_run)
    except (StudySpecError, LaunchPadError, ValueError, OSError, LookupError) as exc:
        fail(str(exc))
    except PyMongoError as exc:
        fail(f"LaunchPad database error: {exc}")
    print_submission(report, verbose=verbose)
