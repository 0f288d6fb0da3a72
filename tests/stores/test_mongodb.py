"""The MongoDB code path against a real server (set LATTICEBENCH_TEST_MONGODB_URI to run).

Everything goes to a throw-away database that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from latticebench.settings import override_settings
from latticebench.stores import (
    REFERENCE_KEY,
    connect_store,
    get_arrays,
    get_data_store,
    get_job_store,
    get_store,
    put_arrays,
    upsert_documents,
)

pytestmark = pytest.mark.mongodb

URI = os.environ.get("LATTICEBENCH_TEST_MONGODB_URI")


@pytest.fixture
def mongodb_settings():
    if not URI:
        pytest.skip("set LATTICEBENCH_TEST_MONGODB_URI to run the MongoDB tests")
    database = f"latticebench_test_{uuid.uuid4().hex[:12]}"
    with override_settings(store="mongodb", mongodb_uri=URI, database=database) as settings:
        yield settings
        store = connect_store(get_store("references"))
        store._collection.database.client.drop_database(database)


def test_upsert_with_unique_index_on_a_server(mongodb_settings):
    from pymongo.errors import DuplicateKeyError

    store = connect_store(get_store("references"))
    docs = [{"dataset": "d", "compound": "Cs2AgBiBr6", "sigma_300K": 0.33}]
    assert upsert_documents(store, docs, REFERENCE_KEY, source="t").counts["inserted"] == 1
    assert upsert_documents(store, docs, REFERENCE_KEY, source="t").counts["unchanged"] == 1
    with pytest.raises(DuplicateKeyError):
        store._collection.insert_one(dict(docs[0]))
    changed = [{**docs[0], "sigma_300K": 0.4}]
    assert upsert_documents(store, changed, REFERENCE_KEY, source="t").counts["refused"] == 1


def test_gridfs_arrays_over_16_mb(mongodb_settings):
    data = connect_store(get_data_store())
    big = {"positions": np.random.default_rng(0).normal(size=(2_200_000, 1))}
    blob_id = put_arrays(data, big, kind="aimd", meta={"T": 300})
    assert np.array_equal(get_arrays(data, blob_id)["positions"], big["positions"])


def test_bundled_import_on_a_server(mongodb_settings):
    from latticebench.references import import_bundled

    assert import_bundled().counts["inserted"] == 1813
    assert import_bundled().counts["unchanged"] == 1813


def test_job_store_on_a_server(mongodb_settings):
    store = get_job_store()
    store.connect()
    assert store.docs_store.collection_name == "outputs"
