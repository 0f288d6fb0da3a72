"""Fixtures for the store tests: embedded and in-memory (mongomock) documents stores, GridFS."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["embedded", "mongomock"])
def documents_store(request):
    """A connected documents store: the embedded MontyStore, or maggma's mongomock MemoryStore.

    The mongomock store stands in for a MongoDB server (it has unique indexes, MontyDB has not).
    """
    from maggma.stores import MemoryStore

    from latticebench.stores import connect_store, get_store

    if request.param == "embedded":
        store = get_store("things")
    else:
        store = MemoryStore(f"things-{request.node.name}")
    connect_store(store)
    yield store
    store.close()


@pytest.fixture
def gridfs_store(monkeypatch):
    """The production data store class (GridFSStore from the settings) on mongomock."""
    import maggma.stores.gridfs as maggma_gridfs
    import mongomock_ng
    import mongomock_ng.gridfs

    from latticebench.settings import override_settings
    from latticebench.stores import get_data_store

    mongomock_ng.gridfs.enable_gridfs_integration()
    monkeypatch.setattr(maggma_gridfs, "MongoClient", mongomock_ng.MongoClient)
    with override_settings(store="mongodb", mongodb_uri="mongodb://localhost:27017/"):
        store = get_data_store()
    store.connect()
    yield store
