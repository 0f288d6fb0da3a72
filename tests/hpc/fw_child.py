"""Child process of the lost-run test: run a checked-out firework's task like a worker's rocket.

Usage: ``python -m tests.hpc.fw_child FW.json WORKER.yaml``. The test process checked the
firework out of its (in-memory) LaunchPad, so the launch is RUNNING there; this process does the
work, and the test kills it.
"""

from __future__ import annotations

import sys

import torch
from fireworks import Firework

from latticebench.hpc.workers import load_fworker, worker_session


def main(firework_file: str, worker_file: str) -> None:
    torch.set_num_threads(1)
    firework = Firework.from_file(firework_file)
    with worker_session(load_fworker(worker_file)):
        for task in firework.tasks:
            task.run_task(dict(firework.spec))


if __name__ == "__main__":
    main(*sys.argv[1:3])
