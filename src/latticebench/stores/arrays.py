"""Large numpy arrays in the "data" store, addressed by content.

:func:`put_arrays` serialises a dict of arrays to ``np.savez`` bytes (binary, no pickles) with
a small JSON header (kind, meta) and returns its blob id: the SHA-256 of the header and of every
array's name, dtype, shape and bytes. Writing the same arrays twice stores them once and returns
the same id, so re-importing a file changes nothing; reading recomputes the hash, so a damaged
blob is detected rather than returned.

How the bytes travel depends on the data store:

* ``MontyStore`` (embedded): one file per blob, ``<store dir>/<database>/<collection>.blobs/
  <id>.npz``, written atomically. MontyDB accepts >16 MB documents (BSON binary, no size check),
  but it has no index, not even on ``_id``: every query reads and decodes every record of the
  collection, so trajectories stored as records would make each lookup read all of them.
* ``GridFSStore`` (MongoDB): one GridFS file with ``_id`` = blob id; GridFS chunks it, so there is
  no 16 MB limit.
* any other Mongo-like store (``MongoStore``, ``MemoryStore``): documents of at most
  :data:`PART_BYTES` of binary each, numbered parts of one blob, below MongoDB's 16 MB limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latticebench.stores.connection import connect_store, store_description
from latticebench.stores.errors import BlobNotFoundError, DocumentCountError, StoreError
from latticebench.stores.locking import store_lock
from latticebench.stores.size import check_document_size

__all__ = [
    "PART_BYTES",
    "ArrayBlob",
    "array_blob_id",
    "get_arrays",
    "has_blob",
    "load_blob",
    "put_arrays",
]

PART_BYTES = 8 * 1024 * 1024
"""Largest binary payload of one part document (Mongo-like document stores), in bytes."""

HEADER_NAME = "__latticebench__"
"""Name of the JSON header entry inside the npz archive (reserved)."""

FORMAT = "npz-v1"


@dataclass(frozen=True)
class ArrayBlob:
    """Arrays read back from the data store.

    Attributes
    ----------
    blob_id : str
        Content hash (SHA-256, hex).
    kind : str
        What the arrays are, e.g. ``"force_constants"``.
    meta : dict
        JSON metadata given to :func:`put_arrays`.
    arrays : dict of str to ndarray
        The arrays, with their original dtypes and shapes.
    """

    blob_id: str
    kind: str
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]


def _header(kind: str, meta: dict[str, Any]) -> str:
    from monty.json import jsanitize

    if not kind or not isinstance(kind, str):
        raise ValueError("kind must be a non-empty string, e.g. 'force_constants'")
    try:
        return json.dumps(
            {"format": FORMAT, "kind": kind, "meta": jsanitize(meta, strict=True)},
            sort_keys=True,
            separators=(",", ":"),
            allow_nan=False,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"meta of a {kind!r} blob must be JSON data without NaN: {exc}") from exc


def _checked_arrays(arrays: dict[str, Any]) -> dict[str, np.ndarray]:
    if not arrays:
        raise ValueError("put_arrays needs at least one array")
    checked: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == HEADER_NAME or "/" in name:
            raise ValueError(f"invalid array name {name!r}")
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(f"array {name!r} has dtype object; store numbers or fixed strings")
        checked[name] = array
    return checked


def _digest(header: str, arrays: dict[str, np.ndarray]) -> str:
    sha = hashlib.sha256(header.encode())
    for name in sorted(arrays):
        array = arrays[name]
        sha.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        sha.update(array.tobytes(order="C"))
    return sha.hexdigest()


def _serialise(header: str, arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{HEADER_NAME: np.array(header)})
    return buffer.getvalue()


def _deserialise(payload: bytes, blob_id: str, where: str) -> ArrayBlob:
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(str(arrays.pop(HEADER_NAME)))
    except Exception as exc:
        raise StoreError(f"blob {blob_id} in {where} is unreadable: {exc}") from exc
    canonical = json.dumps(header, sort_keys=True, separators=(",", ":"))
    if _digest(canonical, arrays) != blob_id:
        raise StoreError(f"blob {blob_id} in {where} is corrupted: its content hash differs")
    return ArrayBlob(blob_id, header["kind"], header["meta"], arrays)


def _connected(store: Any) -> Any:
    if getattr(store, "_coll", None) is None:
        connect_store(store)
    return store


def _backend(store: Any) -> str:
    from maggma.stores import GridFSStore, MontyStore

    if isinstance(store, MontyStore):
        return "files"
    if isinstance(store, GridFSStore):
        return "gridfs"
    if hasattr(store, "_collection"):
        return "parts"
    raise TypeError(f"cannot store arrays in a {type(store).__name__}")


def _blob_dir(store: Any) -> Path:
    return Path(store.database_path) / store.database_name / f"{store.collection_name}.blobs"


def _check_id(blob_id: str) -> str:
    if (
        not isinstance(blob_id, str)
        or len(blob_id) != 64
        or not set(blob_id) <= set("0123456789abcdef")
    ):
        raise ValueError(f"{blob_id!r} is not a blob id (64 hex digits)")
    return blob_id


# ---- files (MontyStore) -------------------------------------------------------------------


def _files_put(store: Any, blob_id: str, payload: bytes) -> None:
    directory = _blob_dir(store)
    target = directory / f"{blob_id}.npz"
    if target.is_file() and target.stat().st_size == len(payload):
        return
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{blob_id[:12]}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _files_get(store: Any, blob_id: str) -> bytes | None:
    path = _blob_dir(store) / f"{blob_id}.npz"
    return path.read_bytes() if path.is_file() else None


# ---- GridFS --------------------------------------------------------------------------------


def _gridfs_put(store: Any, blob_id: str, payload: bytes, kind: str) -> None:
    import gridfs.errors

    fs = _connected(store)._collection
    if fs.exists(blob_id):
        return
    try:
        fs.put(
            payload,
            _id=blob_id,
            filename=f"{blob_id}.npz",
            metadata={"blob_id": blob_id, "kind": kind, "format": FORMAT},
        )
    except gridfs.errors.FileExists:  # written by a concurrent process: same content
        return


def _gridfs_get(store: Any, blob_id: str) -> bytes | None:
    import gridfs.errors

    fs = _connected(store)._collection
    try:
        return fs.get(blob_id).read()
    except gridfs.errors.NoFile:
        return None


# ---- parts in a Mongo-like documents store -------------------------------------------------


def _parts_put(store: Any, blob_id: str, payload: bytes, kind: str) -> None:
    collection = _connected(store)._collection
    n_parts = max(1, -(-len(payload) // PART_BYTES))
    with store_lock(store):
        if collection.count_documents({"blob_id": blob_id}) == n_parts:
            return
        collection.delete_many({"blob_id": blob_id})  # incomplete leftovers of a failed write
        for part in range(n_parts):
            doc = {
                "blob_id": blob_id,
                "part": part,
                "n_parts": n_parts,
                "kind": kind,
                "format": FORMAT,
                "nbytes": len(payload),
                "data": payload[part * PART_BYTES : (part + 1) * PART_BYTES],
            }
            check_document_size(doc, what=f"blob {blob_id} part {part}")
            collection.insert_one(doc)
        stored = collection.count_documents({"blob_id": blob_id})
        if stored != n_parts:
            raise DocumentCountError(
                f"blob {blob_id}: wrote {n_parts} part(s) to {store_description(store)}, "
                f"{stored} stored"
            )


def _parts_get(store: Any, blob_id: str) -> bytes | None:
    collection = _connected(store)._collection
    parts = sorted(collection.find({"blob_id": blob_id}), key=lambda d: d["part"])
    if not parts:
        return None
    n_parts = parts[0]["n_parts"]
    if [p["part"] for p in parts] != list(range(n_parts)):
        raise BlobNotFoundError(
            f"blob {blob_id} in {store_description(store)} is incomplete: parts "
            f"{[p['part'] for p in parts]} of {n_parts}"
        )
    return b"".join(bytes(p["data"]) for p in parts)


# ---- public API ----------------------------------------------------------------------------


def array_blob_id(arrays: dict[str, np.ndarray], *, kind: str, meta: dict[str, Any]) -> str:
    """The id :func:`put_arrays` will return for these arrays, without writing anything.

    Parameters
    ----------
    arrays : dict of str to array_like
    kind : str
    meta : dict

    Returns
    -------
    str
        64 hex digits (SHA-256 of kind, meta and array contents).
    """
    return _digest(_header(kind, meta), _checked_arrays(arrays))


def put_arrays(
    data_store: Any, arrays: dict[str, np.ndarray], *, kind: str, meta: dict[str, Any]
) -> str:
    """Store arrays in the data store and return their blob id.

    Parameters
    ----------
    data_store : maggma.core.Store
        From :func:`latticebench.stores.get_data_store` (MontyStore or GridFSStore), or any
        Mongo-like store.
    arrays : dict of str to array_like
        Named arrays of any numeric, boolean or fixed-width string dtype and any shape.
    kind : str
        What the arrays are (``"force_constants"``, ``"aimd"``, ``"band"``, ...).
    meta : dict
        JSON-serialisable metadata (units, temperature, source file, ...), no NaN.

    Returns
    -------
    str
        The blob id: 64 hex digits, the SHA-256 of kind, meta and array contents. Equal
        input gives an equal id and is stored once.

    Raises
    ------
    ValueError, TypeError
        For empty input, reserved or invalid names, object arrays or non-JSON meta.
    """
    header = _header(kind, meta)
    checked = _checked_arrays(arrays)
    blob_id = _digest(header, checked)
    payload = _serialise(header, checked)
    backend = _backend(data_store)
    if backend == "files":
        _files_put(data_store, blob_id, payload)
    elif backend == "gridfs":
        _gridfs_put(data_store, blob_id, payload, kind)
    else:
        _parts_put(data_store, blob_id, payload, kind)
    return blob_id


def _payload(data_store: Any, blob_id: str) -> bytes | None:
    backend = _backend(data_store)
    if backend == "files":
        return _files_get(data_store, blob_id)
    if backend == "gridfs":
        return _gridfs_get(data_store, blob_id)
    return _parts_get(data_store, blob_id)


def has_blob(data_store: Any, blob_id: str) -> bool:
    """Whether the data store holds the blob (without verifying its content).

    Parameters
    ----------
    data_store : maggma.core.Store
    blob_id : str

    Returns
    -------
    bool
    """
    _check_id(blob_id)
    backend = _backend(data_store)
    if backend == "files":
        return (_blob_dir(data_store) / f"{blob_id}.npz").is_file()
    if backend == "gridfs":
        return bool(_connected(data_store)._collection.exists(blob_id))
    return bool(_connected(data_store)._collection.count_documents({"blob_id": blob_id}))


def load_blob(data_store: Any, blob_id: str) -> ArrayBlob:
    """Read a blob: arrays, kind and meta, verified against its content hash.

    Parameters
    ----------
    data_store : maggma.core.Store
    blob_id : str

    Returns
    -------
    ArrayBlob

    Raises
    ------
    BlobNotFoundError
        If the data store does not hold the blob.
    StoreError
        If the stored bytes are unreadable or do not hash to ``blob_id``.
    """
    _check_id(blob_id)
    payload = _payload(data_store, blob_id)
    where = store_description(data_store)
    if payload is None:
        raise BlobNotFoundError(f"blob {blob_id} is not in the data store {where}")
    return _deserialise(payload, blob_id, where)


def get_arrays(data_store: Any, blob_id: str) -> dict[str, np.ndarray]:
    """The arrays of a blob, exactly as stored (dtype, shape and values).

    Parameters
    ----------
    data_store : maggma.core.Store
    blob_id : str
        An id returned by :func:`put_arrays`.

    Returns
    -------
    dict of str to ndarray

    Raises
    ------
    BlobNotFoundError
        If the data store does not hold the blob.
    """
    return load_blob(data_store, blob_id).arrays
