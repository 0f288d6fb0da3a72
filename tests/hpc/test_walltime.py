"""The wall-time deadline from LATTICEBENCH_MD_WALLTIME_S and SLURM_JOB_END_TIME."""

from __future__ import annotations

import pytest

from latticebench.hpc.walltime import WalltimeError, walltime_deadline

START = 1_700_000_000.0


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"LATTICEBENCH_MD_WALLTIME_S": "3600"}, START + 3600),
        ({"SLURM_JOB_END_TIME": str(int(START) + 600)}, START + 600),
        # both: the earlier wins, whichever it is
        ({"LATTICEBENCH_MD_WALLTIME_S": "3600", "SLURM_JOB_END_TIME": str(int(START) + 600)},
         START + 600),
        ({"LATTICEBENCH_MD_WALLTIME_S": "60", "SLURM_JOB_END_TIME": str(int(START) + 600)},
         START + 60),
        ({"LATTICEBENCH_MD_WALLTIME_S": " ", "SLURM_JOB_END_TIME": ""}, None),
    ],
)  # fmt: skip
def test_deadline(environ, expected):
    assert walltime_deadline(START, environ) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LATTICEBENCH_MD_WALLTIME_S": "2h"}, "LATTICEBENCH_MD_WALLTIME_S='2h' is not a number"),
        ({"SLURM_JOB_END_TIME": "tomorrow"}, "SLURM_JOB_END_TIME='tomorrow' is not a number"),
        ({"LATTICEBENCH_MD_WALLTIME_S": "-5"}, "must not be negative"),
    ],
)
def test_bad_values_are_named(environ, message):
    with pytest.raises(WalltimeError, match=message):
        walltime_deadline(START, environ)


def test_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("LATTICEBENCH_MD_WALLTIME_S", "10")
    monkeypatch.delenv("SLURM_JOB_END_TIME", raising=False)
    assert walltime_deadline(START) == START + 10
