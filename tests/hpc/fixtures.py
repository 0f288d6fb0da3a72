"""Fixtures shared by the HPC and CLI tests: an embedded LaunchPad, worker files, tiny studies.

Import the fixtures into a test module (or a conftest) to use them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from latticebench.settings import clear_settings_cache
from latticebench.study import StudySpec

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
MONGODB_URI = os.environ.get("LATTICEBENCH_TEST_MONGODB_URI")

TINY_OVERRIDES = {
    "relax": {"max_steps": 8},
    "phonons": {"supercell": [1, 1, 1], "mesh": [4, 4, 4], "band_points": 5},
    "md": {"equilibration_steps": 10, "production_steps": 20, "checkpoint_interval": 10},
}
"""Every step real, all tiny: 40-atom cell for phonons and MD, 30 MD steps, 20 frames."""


@dataclass
class Backend:
    """Where the test's LaunchPad and stores live.

    Attributes
    ----------
    name : {"mongomock", "mongodb"}
    launchpad_file : Path
        LaunchPad description for ``--launchpad``.
    store_file : Path or None
        FireWorks' mongomock file (None on a MongoDB server).
    worker_env : dict
        ``LATTICEBENCH_*`` settings a worker of this test must use.
    """

    name: str
    launchpad_file: Path
    store_file: Path | None
    worker_env: dict[str, str]


def _mongomock_file_mode(tmp_path: Path, monkeypatch) -> Path:
    """Set up FireWorks' MONGOMOCK_SERVERSTORE_FILE mode in this process.

    FireWorks switches its MongoClient to ``mongomock_persistence.MongoClient`` when it is
    imported with that variable set; FireWorks is already imported here, so the same switch is
    made on its modules. Without mongomock-persistence (``fireworks[mongomock]``) the LaunchPad
    lives in one in-memory mongomock server shared by every client of the test instead.
    """
    import fireworks.core.launchpad as launchpad_module
    from fireworks import fw_config

    store_file = tmp_path / "launchpad-store.json"
    try:
        import mongomock.gridfs
        import mongomock_persistence

        client = mongomock_persistence.MongoClient
        mongomock.gridfs.enable_gridfs_integration()
        monkeypatch.setenv("MONGOMOCK_SERVERSTORE_FILE", str(store_file))
        monkeypatch.setattr(fw_config, "MONGOMOCK_SERVERSTORE_FILE", str(store_file))
    except ImportError:
        import mongomock_ng
        import mongomock_ng.gridfs
        from mongomock_ng.store import ServerStore

        server = ServerStore()
        mongomock_ng.gridfs.enable_gridfs_integration()

        class SharedServerClient(mongomock_ng.MongoClient):
            """Every client sees the same server, and closing one keeps its data."""

            def __init__(self, *args, **kwargs):
                super().__init__(_store=server)

            def close(self):
                self._closed = True

        client = SharedServerClient

        store_file = None
    monkeypatch.setattr(fw_config, "MongoClient", client)
    monkeypatch.setattr(launchpad_module, "MongoClient", client)
    return store_file


def _mongomock_backend(tmp_path: Path, monkeypatch) -> Backend:
    store_file = _mongomock_file_mode(tmp_path, monkeypatch)
    launchpad_file = tmp_path / "my_launchpad.yaml"
    launchpad_file.write_text(
        yaml.safe_dump({"host": "localhost", "name": "latticebench_test", "strm_lvl": "ERROR"})
    )
    data_dir = os.environ["LATTICEBENCH_DATA_DIR"]  # the per-test folder of tests/conftest.py
    return Backend("mongomock", launchpad_file, store_file, {"LATTICEBENCH_DATA_DIR": data_dir})


@pytest.fixture
def embedded_backend(tmp_path, monkeypatch):
    """FireWorks' mongomock LaunchPad and the embedded stores (no server)."""
    return _mongomock_backend(tmp_path, monkeypatch)


@pytest.fixture(params=["mongomock", pytest.param("mongodb", marks=pytest.mark.mongodb)])
def backend(request, tmp_path, monkeypatch):
    """An embedded LaunchPad and the embedded stores, or both on the test MongoDB server."""
    if request.param == "mongomock":
        yield _mongomock_backend(tmp_path, monkeypatch)
        return
    data_dir = os.environ["LATTICEBENCH_DATA_DIR"]
    launchpad_file = tmp_path / "my_launchpad.yaml"
    if not MONGODB_URI:
        pytest.skip("set LATTICEBENCH_TEST_MONGODB_URI to run against a MongoDB server")
    suffix = uuid.uuid4().hex[:10]
    fireworks_db, store_db = f"lb_test_fw_{suffix}", f"lb_test_{suffix}"
    launchpad_file.write_text(
        yaml.safe_dump(
            {"host": MONGODB_URI, "uri_mode": True, "name": fireworks_db, "strm_lvl": "ERROR"}
        )
    )
    env = {
        "LATTICEBENCH_DATA_DIR": data_dir,
        "LATTICEBENCH_STORE": "mongodb",
        "LATTICEBENCH_MONGODB_URI": MONGODB_URI,
        "LATTICEBENCH_DATABASE": store_db,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_settings_cache()
    yield Backend("mongodb", launchpad_file, None, env)
    import pymongo

    client = pymongo.MongoClient(MONGODB_URI, serverSelectionTimeoutMS=5000)
    client.drop_database(fireworks_db)
    client.drop_database(store_db)
    client.close()


def write_worker(path: Path, name: str, category, env: dict[str, str] | None = None) -> Path:
    """A FireWorks worker file (``category`` None writes a worker without a category)."""
    data = {"name": name, "query": "{}", "env": {"LATTICEBENCH_DEVICE": "cpu", **(env or {})}}
    if category is not None:
        data["category"] = category
    path.write_text(yaml.safe_dump(data))
    return path


def _worker_files(folder: Path, env: dict[str, str]) -> dict[str, Path]:
    folder.mkdir()
    return {
        "gpu": write_worker(folder / "gpu.yaml", "test-gpu", "gpu", env),
        "cpu": write_worker(folder / "cpu.yaml", "test-cpu", "cpu", env),
        "none": write_worker(folder / "none.yaml", "test-none", None, env),
    }


@pytest.fixture
def workers(tmp_path, backend):
    """Worker files for :func:`backend`: gpu, cpu, and one without a category."""
    return _worker_files(tmp_path / "workers", backend.worker_env)


@pytest.fixture
def embedded_workers(tmp_path, embedded_backend):
    """Worker files for :func:`embedded_backend`: gpu, cpu, and one without a category."""
    return _worker_files(tmp_path / "workers", embedded_backend.worker_env)


def tiny_study(model: Path | str, *, limit: int = 2, name: str = "demo") -> StudySpec:
    """``workflows/demo.yaml`` restricted to ``limit`` compounds, one tiny model, tiny protocol."""
    data = StudySpec.from_yaml(WORKFLOWS / "demo.yaml").model_dump(mode="json")
    data["name"] = name
    data["compounds"]["limit"] = limit
    data["models"] = [str(model)]
    data["protocol"]["overrides"] = TINY_OVERRIDES
    data["resources"]["device"] = "cpu"
    return StudySpec.model_validate(data)


def write_study(path: Path, spec: StudySpec) -> Path:
    """Write a study spec as YAML (what ``latticebench submit`` reads)."""
    path.write_text(yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False))
    return path
