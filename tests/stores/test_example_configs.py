"""The example configuration files at the repository root are valid and match the factory."""

from __future__ import annotations

from pathlib import Path

import yaml

from latticebench.settings import LatticebenchSettings, get_settings, reload_settings
from latticebench.stores import get_job_store

ROOT = Path(__file__).resolve().parents[2]


def test_latticebench_yaml_example_is_valid_settings(monkeypatch):
    monkeypatch.delenv("LATTICEBENCH_DATA_DIR")
    monkeypatch.setenv("LATTICEBENCH_CONFIG_FILE", str(ROOT / "latticebench.yaml.example"))
    settings = reload_settings()
    assert isinstance(settings, LatticebenchSettings)
    assert settings.store == "embedded" and settings.database == "latticebench"
    assert settings.data_dir == Path("~/.local/share/latticebench").expanduser()
    production_block = (ROOT / "latticebench.yaml.example").read_text().split("Production")[1]
    commented = "\n".join(
        line.removeprefix("# ")
        for line in production_block.splitlines()
        if line.removeprefix("# ").split(":")[0] in LatticebenchSettings.model_fields
    )
    production = LatticebenchSettings(**yaml.safe_load(commented))
    assert production.store == "mongodb" and production.mongodb_timeout_ms == 5000


def _jobflow_spec(text: str) -> dict:
    return yaml.safe_load(text)["JOB_STORE"]


def test_jobflow_yaml_example_builds_the_same_layout_as_the_factory():
    from jobflow import JobStore
    from maggma.stores import GridFSStore, MongoStore, MontyStore

    text = (ROOT / "jobflow.yaml.example").read_text()
    production = JobStore.from_dict_spec(_jobflow_spec(text))
    assert type(production.docs_store) is MongoStore
    assert isinstance(production.additional_stores["data"], GridFSStore)
    for store in (production.docs_store, production.additional_stores["data"]):
        assert store.mongoclient_kwargs["serverSelectionTimeoutMS"] == 5000
        assert store.database == "latticebench"

    embedded_text = "\n".join(
        line[2:] for line in text.split("replace JOB_STORE above with")[1].splitlines()[1:]
    )
    embedded = JobStore.from_dict_spec(_jobflow_spec(embedded_text))
    ours = get_job_store()
    assert isinstance(embedded.docs_store, MontyStore)
    for theirs, mine in (
        (embedded.docs_store, ours.docs_store),
        (embedded.additional_stores["data"], ours.additional_stores["data"]),
    ):
        assert (theirs.collection_name, theirs.database_name, theirs.storage) == (
            mine.collection_name,
            mine.database_name,
            mine.storage,
        )
    assert get_settings().embedded_store_dir.name == "store"
