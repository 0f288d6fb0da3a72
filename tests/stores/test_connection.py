"""Connecting: readable errors, bounded time, redacted passwords."""

from __future__ import annotations

import time

import pytest

from latticebench.settings import override_settings
from latticebench.stores import (
    StoreConnectionError,
    connect_store,
    connected_store,
    get_data_store,
    get_store,
    redact_uri,
)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mongodb://user:secret@host:27017/db", "mongodb://user:***@host:27017/db"),
        ("mongodb+srv://u:p%40ss@cluster.example.net/", "mongodb+srv://u:***@cluster.example.net/"),
        ("mongodb://host:27017/", "mongodb://host:27017/"),
        ("mongodb://onlyuser@host/", "mongodb://onlyuser@host/"),
    ],
)
def test_redact_uri(uri, expected):
    assert redact_uri(uri) == expected


def test_unreachable_mongodb_fails_fast_with_a_readable_message():
    uri = "mongodb://reader:s3cret-pw@127.0.0.1:1/"
    with override_settings(store="mongodb", mongodb_uri=uri, mongodb_timeout_ms=1000):
        for store in (get_store("references"), get_data_store()):
            start = time.monotonic()
            with pytest.raises(StoreConnectionError) as info:
                connect_store(store)
            elapsed = time.monotonic() - start
            message = str(info.value)
            assert elapsed < 15, elapsed
            assert "no MongoDB server answered at mongodb://reader:***@127.0.0.1:1/" in message
            assert "within 1000 ms" in message
            assert "refused" in message.lower()  # the server's (socket's) own error
            assert "s3cret-pw" not in message
            assert info.value.__cause__ is None  # no pymongo traceback chained for users


def test_connected_store_context_manager_raises_the_same_error():
    with (
        override_settings(
            store="mongodb", mongodb_uri="mongodb://127.0.0.1:1/", mongodb_timeout_ms=500
        ),
        pytest.raises(StoreConnectionError, match="within 500 ms"),
        connected_store(get_store("references")),
    ):
        pytest.fail("the block must not run")


def test_embedded_store_in_an_unusable_directory_names_it(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the data directory should be")
    with override_settings(data_dir=blocker), pytest.raises(StoreConnectionError) as info:
        connect_store(get_store("references"))
    assert str(blocker) in str(info.value)


def test_embedded_connected_store_closes_and_reopens():
    with connected_store(get_store("references")) as store:
        store._collection.insert_one({"dataset": "d", "compound": "Cs2AgBiBr6"})
    with connected_store(get_store("references")) as again:
        assert again.count({"dataset": "d"}) == 1
