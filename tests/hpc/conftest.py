"""Fixtures of the HPC tests: one torch thread, a fake clock, an embedded LaunchPad, studies."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run far faster on one thread than on two contended ones."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class FakeClock:
    """A Unix clock that advances by ``tick`` seconds on every reading."""

    def __init__(self, start: float = 1_000_000.0, tick: float = 1.0) -> None:
        self.now = start
        self.tick = tick
        self.readings = 0

    def __call__(self) -> float:
        self.now += self.tick
        self.readings += 1
        return self.now


@pytest.fixture
def fake_clock():
    return FakeClock()


from tests.hpc.fixtures import (  # noqa: E402, F401  (fixtures for tests/hpc)
    backend,
    embedded_backend,
    embedded_workers,
    workers,
)
