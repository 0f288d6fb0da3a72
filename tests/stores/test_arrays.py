"""Array blobs: exact round trips on every back end, content addressing, large payloads."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.stores import (
    MAX_DOCUMENT_BYTES,
    PART_BYTES,
    BlobNotFoundError,
    StoreError,
    array_blob_id,
    connect_store,
    get_arrays,
    get_data_store,
    has_blob,
    load_blob,
    put_arrays,
)

RNG = np.random.default_rng(7)
ARRAYS = {
    "force_constants": RNG.normal(size=(4, 4, 3, 3)),
    "float32": RNG.normal(size=(5, 2)).astype(np.float32),
    "with_nan": np.array([1.0, np.nan, -np.inf, -0.0]),
    "numbers": np.array([55, 47, 83, 35], dtype=np.int64),
    "int8": np.array([[-3, 4]], dtype=np.int8),
    "mask": np.array([True, False, True]),
    "complex": np.array([1 + 2j, -0.5j]),
    "symbols": np.array(["Cs", "Ag", "Bi", "Br"]),
    "scalar": np.array(300.0),
    "empty": np.zeros((0, 3)),
    "fortran": np.asfortranarray(RNG.normal(size=(3, 4))),
}


def _identical(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes("C") == b.tobytes("C")


def _data_store(kind: str, gridfs_store=None):
    if kind == "gridfs":
        return gridfs_store
    if kind == "parts":
        from maggma.stores import MemoryStore

        store = MemoryStore("data-parts")
        store.connect()
        return store
    return connect_store(get_data_store())


@pytest.fixture(params=["embedded", "gridfs", "parts"])
def data_store(request):
    gridfs_store = request.getfixturevalue("gridfs_store") if request.param == "gridfs" else None
    return _data_store(request.param, gridfs_store)


def test_round_trip_is_exact(data_store):
    blob_id = put_arrays(data_store, ARRAYS, kind="test", meta={"T": 300, "note": "Å"})
    back = get_arrays(data_store, blob_id)
    assert set(back) == set(ARRAYS)
    for name, array in ARRAYS.items():
        assert _identical(back[name], array), name
    blob = load_blob(data_store, blob_id)
    assert (blob.kind, blob.meta) == ("test", {"T": 300, "note": "Å"})


def test_ids_address_content_and_equal_content_is_stored_once(data_store):
    first = put_arrays(data_store, ARRAYS, kind="test", meta={"a": 1})
    assert first == array_blob_id(ARRAYS, kind="test", meta={"a": 1})
    assert put_arrays(data_store, dict(reversed(ARRAYS.items())), kind="test", meta={"a": 1}) == (
        first
    )
    changed = {**ARRAYS, "numbers": ARRAYS["numbers"].astype(np.int32)}
    others = {
        put_arrays(data_store, ARRAYS, kind="test", meta={"a": 2}),
        put_arrays(data_store, ARRAYS, kind="other", meta={"a": 1}),
        put_arrays(data_store, changed, kind="test", meta={"a": 1}),
    }
    assert first not in others and len(others) == 3
    assert has_blob(data_store, first)


def test_payloads_over_16_mb(data_store):
    big = {"positions": RNG.normal(size=(1100, 80, 3, 10))}  # 21 MB of float64
    assert big["positions"].nbytes > 16 * 2**20
    blob_id = put_arrays(data_store, big, kind="aimd", meta={})
    assert _identical(get_arrays(data_store, blob_id)["positions"], big["positions"])


def test_parts_stay_below_the_document_limit():
    store = _data_store("parts")
    big = {"x": RNG.normal(size=(3 * PART_BYTES // 8 + 5,))}
    blob_id = put_arrays(store, big, kind="k", meta={})
    parts = list(store._collection.find({"blob_id": blob_id}))
    assert len(parts) == 4
    assert all(len(p["data"]) <= PART_BYTES < MAX_DOCUMENT_BYTES for p in parts)
    store._collection.delete_one({"blob_id": blob_id, "part": 2})
    with pytest.raises(BlobNotFoundError, match=r"incomplete: parts \[0, 1, 3\] of 4"):
        get_arrays(store, blob_id)
    assert put_arrays(store, big, kind="k", meta={}) == blob_id  # rewrites the missing part
    assert _identical(get_arrays(store, blob_id)["x"], big["x"])


def test_embedded_blobs_are_files_and_damage_is_detected():
    store = connect_store(get_data_store())
    blob_id = put_arrays(store, {"x": np.arange(100.0)}, kind="k", meta={})
    (path,) = _blob_files()
    assert path.name == f"{blob_id}.npz"
    intact = path.read_bytes()
    payload = bytearray(intact)
    payload[payload.index(np.arange(100.0)[50:51].tobytes())] ^= 0xFF  # flip one stored value
    path.write_bytes(bytes(payload))
    with pytest.raises(StoreError, match="unreadable"):  # the zip checksum catches it
        get_arrays(store, blob_id)
    other = put_arrays(store, {"x": np.arange(100.0) + 1}, kind="k", meta={})
    path.write_bytes((path.parent / f"{other}.npz").read_bytes())  # valid file, wrong content
    with pytest.raises(StoreError, match="corrupted: its content hash differs"):
        get_arrays(store, blob_id)
    path.write_bytes(intact)
    assert np.array_equal(get_arrays(store, blob_id)["x"], np.arange(100.0))


def _blob_files():
    from latticebench.settings import get_settings

    return get_settings().embedded_store_dir.rglob("*.npz")


def test_missing_blob_names_the_id(data_store):
    missing = "0" * 64
    with pytest.raises(BlobNotFoundError) as info:
        get_arrays(data_store, missing)
    assert missing in str(info.value)
    assert not has_blob(data_store, missing)


@pytest.mark.parametrize(
    ("arrays", "meta", "error", "message"),
    [
        ({}, {}, ValueError, "at least one array"),
        ({"o": np.array([{}, 1], dtype=object)}, {}, TypeError, "dtype object"),
        ({"__latticebench__": np.zeros(1)}, {}, ValueError, "invalid array name"),
        ({"x": np.zeros(1)}, {"t": float("nan")}, ValueError, "JSON data without NaN"),
    ],
)
def test_invalid_input(arrays, meta, error, message):
    with pytest.raises(error, match=message):
        put_arrays(connect_store(get_data_store()), arrays, kind="k", meta=meta)


def test_montydb_keeps_bytes_and_has_no_size_limit():
    """What the embedded back end does by itself (why the size guard lives in our code)."""
    store = connect_store(get_data_store())
    payload = RNG.bytes(17 * 2**20)
    store._collection.insert_one({"name": "raw", "data": payload})
    (doc,) = store._collection.find({"name": "raw"})
    assert doc["data"] == payload  # stored as BSON binary, accepted above MongoDB's 16 MiB
