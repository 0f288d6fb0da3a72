"""Store factory: embedded by default, MongoDB by URI, the jobflow JobStore."""

from __future__ import annotations

import pytest
from maggma.stores import GridFSStore, MongoStore, MontyStore

from latticebench.settings import get_settings, override_settings
from latticebench.stores import (
    StoreConfigurationError,
    connect_store,
    get_data_store,
    get_job_store,
    get_store,
)


def test_embedded_by_default_without_configuration():
    settings = get_settings()
    assert settings.store == "embedded"
    store = get_store("references")
    assert isinstance(store, MontyStore)
    assert store.database_path == str(settings.data_dir / "store")
    assert store.database_name == "latticebench"
    connect_store(store)
    store._collection.insert_one({"compound": "Cs2AgBiBr6"})
    assert (settings.data_dir / "store" / "latticebench" / "references.collection").is_file()
    # a second store object on the same files sees the document
    assert connect_store(get_store("references")).count() == 1
    assert isinstance(get_data_store(), MontyStore)
    assert get_data_store().collection_name == "data"


def test_mongodb_uri_builds_server_stores_with_timeouts_and_no_silent_drops():
    uri = "mongodb://user:pw@db.example.org:27017/"
    with override_settings(store="mongodb", mongodb_uri=uri, mongodb_timeout_ms=1234):
        docs = get_store("references")
        data = get_data_store()
    assert type(docs) is MongoStore
    assert (docs.uri, docs.database, docs.collection_name) == (uri, "latticebench", "references")
    expected = {"serverSelectionTimeoutMS": 1234, "connectTimeoutMS": 1234}
    assert docs.mongoclient_kwargs == expected
    assert docs.safe_update is False
    assert isinstance(data, GridFSStore)
    assert (data.uri, data.collection_name, data.mongoclient_kwargs) == (uri, "data", expected)


def test_mongodb_without_uri_is_a_configuration_error():
    with override_settings(store="mongodb"), pytest.raises(StoreConfigurationError) as info:
        get_store("references")
    assert "LATTICEBENCH_MONGODB_URI" in str(info.value)


def _make_forces(n: int):
    import numpy as np
    from jobflow import Response

    return Response(output={"n": n, "forces": np.arange(3.0 * n).reshape(n, 3)})


def test_job_store_runs_a_flow_locally_with_arrays_in_the_data_store():
    import numpy as np
    from jobflow import Flow, job, run_locally

    make = job(_make_forces, data="forces")
    first = make(4)
    flow = Flow([first])
    store = get_job_store()
    assert store.docs_store.collection_name == "outputs"
    assert set(store.additional_stores) == {"data"}
    root = get_settings().runs_dir
    root.mkdir(parents=True)
    run_locally(flow, store=store, ensure_success=True, root_dir=root)

    fresh = get_job_store()
    fresh.connect()
    output = fresh.get_output(first.uuid, load=True)
    assert np.array_equal(np.asarray(output["forces"]), np.arange(12.0).reshape(4, 3))
    document = fresh.query_one({"uuid": first.uuid})
    assert "blob_uuid" in document["output"]["forces"]  # the array itself lives in "data"
    assert fresh.additional_stores["data"].count({"job_uuid": first.uuid}) == 1
