"""Shared fixtures: isolated settings and caches, a tiny MACE model, the DFT reference table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from latticebench.settings import clear_settings_cache

SRC = Path(__file__).resolve().parents[1] / "src"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFERENCE_CSV = SHARED_DATA / "hdp_dft_sigma_300K.csv"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    """Point data dir, model dir, MACE cache and config at empty temporary folders."""
    home = tmp_path_factory.mktemp("lb-home")
    for name in list(os.environ):
        if name.startswith("LATTICEBENCH_") and name != "LATTICEBENCH_TEST_MONGODB_URI":
            monkeypatch.delenv(name)
    monkeypatch.setenv("LATTICEBENCH_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    clear_settings_cache()
    yield home
    clear_settings_cache()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child Python process that imports this checkout's ``src``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def build_tiny_mace(path: Path, *, seed: int = 0, r_max: float = 5.0) -> Path:
    """Build a small but complete MACE model with mace's own classes and save it like a checkpoint.

    Random weights (seeded), all elements up to Bi, float64; the file is loaded exactly as a
    foundation-model checkpoint is (``torch.load`` of a pickled ``ScaleShiftMACE``).
    """
    from latticebench.models.synthetic import build_random_mace

    return build_random_mace(path, seed=seed, r_max=r_max)


@pytest.fixture(scope="session")
def tiny_mace_path(tmp_path_factory) -> Path:
    """Path of a tiny float64 MACE checkpoint built for this test session."""
    return build_tiny_mace(tmp_path_factory.mktemp("models") / "tiny-mace.model")


@pytest.fixture(scope="session")
def reference_csv() -> Path:
    """The published DFT table: ../shared/data when present, else the copy shipped as package data.

    Tests that need it skip with a message when neither exists.
    """
    if REFERENCE_CSV.is_file():
        return REFERENCE_CSV
    from importlib.resources import files

    bundled = Path(str(files("latticebench.data") / "hdp_dft_sigma_300K.csv"))
    if bundled.is_file():
        return bundled
    pytest.skip(f"reference table found neither at {REFERENCE_CSV} nor at {bundled}")
