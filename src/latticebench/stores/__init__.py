"""Stores: where documents and large arrays live (embedded MontyDB files or MongoDB + GridFS).

The public API:

* :func:`get_store`, :func:`get_data_store`, :func:`get_job_store`: stores from the settings;
* :func:`connect_store` / :func:`connected_store`: connect with a readable error;
* :func:`upsert_documents`: idempotent writes on natural keys (:class:`UpsertReport`);
* :func:`check_document_size`: the 16 MB guard;
* :func:`put_arrays` / :func:`get_arrays`: content-addressed arrays in the data store.
"""

from __future__ import annotations

from latticebench.schemas.benchmark import BENCHMARK_KEY
from latticebench.stores.arrays import (
    PART_BYTES,
    ArrayBlob,
    array_blob_id,
    get_arrays,
    has_blob,
    load_blob,
    put_arrays,
)
from latticebench.stores.connection import (
    connect_store,
    connected_store,
    redact_uri,
    store_description,
)
from latticebench.stores.errors import (
    BlobNotFoundError,
    DocumentCountError,
    DocumentTooLargeError,
    StoreConfigurationError,
    StoreConnectionError,
    StoreError,
)
from latticebench.stores.factory import (
    DATA_COLLECTION,
    OUTPUTS_COLLECTION,
    get_data_store,
    get_job_store,
    get_store,
)
from latticebench.stores.locking import store_lock
from latticebench.stores.size import MAX_DOCUMENT_BYTES, bson_size, check_document_size
from latticebench.stores.upsert import (
    BOOKKEEPING_FIELDS,
    FieldChange,
    KeyChanges,
    UpsertReport,
    ensure_unique_index,
    upsert_documents,
    verify_stored,
)

REFERENCES_COLLECTION = "references"
"""Collection of DFT reference documents; natural key :data:`REFERENCE_KEY`."""

REFERENCE_KEY = ("dataset", "compound")
"""Natural key of the ``references`` collection."""

BENCHMARKS_COLLECTION = "benchmarks"
"""Collection of benchmark results; natural key :data:`BENCHMARK_KEY`."""


__all__ = [
    "BENCHMARKS_COLLECTION",
    "BENCHMARK_KEY",
    "BOOKKEEPING_FIELDS",
    "DATA_COLLECTION",
    "MAX_DOCUMENT_BYTES",
    "OUTPUTS_COLLECTION",
    "PART_BYTES",
    "REFERENCES_COLLECTION",
    "REFERENCE_KEY",
    "ArrayBlob",
    "BlobNotFoundError",
    "DocumentCountError",
    "DocumentTooLargeError",
    "FieldChange",
    "KeyChanges",
    "StoreConfigurationError",
    "StoreConnectionError",
    "StoreError",
    "UpsertReport",
    "array_blob_id",
    "bson_size",
    "check_document_size",
    "connect_store",
    "connected_store",
    "ensure_unique_index",
    "get_arrays",
    "get_data_store",
    "get_job_store",
    "get_store",
    "has_blob",
    "load_blob",
    "put_arrays",
    "redact_uri",
    "store_description",
    "store_lock",
    "upsert_documents",
    "verify_stored",
]
