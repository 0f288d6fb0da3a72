"""Size safety: no document at or above MongoDB's 16 MiB BSON limit reaches a documents store.

MongoDB refuses documents whose BSON encoding exceeds 16 MiB (16,777,216 bytes); the embedded
MontyDB store would accept them, which would make the embedded data impossible to move to a
server later. :func:`check_document_size` therefore applies the server's limit, minus a margin
for the command envelope and for bookkeeping fields added on write, everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BSON_LIMIT_BYTES", "MAX_DOCUMENT_BYTES", "bson_size", "check_document_size"]

BSON_LIMIT_BYTES = 16 * 1024 * 1024
"""MongoDB's maximum BSON document size in bytes."""

SIZE_MARGIN_BYTES = 512 * 1024
"""Head room kept below the limit for the write command and bookkeeping fields, in bytes."""

MAX_DOCUMENT_BYTES = BSON_LIMIT_BYTES - SIZE_MARGIN_BYTES
"""Documents whose BSON encoding is this many bytes or more are refused."""


def bson_size(doc: dict[str, Any]) -> int:
    """Size of a document's BSON encoding.

    Parameters
    ----------
    doc : dict
        The document; numpy scalars and arrays are converted as the stores convert them.

    Returns
    -------
    int
        Encoded size in bytes.

    Raises
    ------
    TypeError
        If the document cannot be BSON-encoded (e.g. a non-string key).
    """
    import bson
    from monty.json import jsanitize

    try:
        return len(bson.encode(jsanitize(doc, allow_bson=True)))
    except bson.errors.InvalidDocument as exc:
        raise TypeError(f"document cannot be stored in MongoDB/BSON: {exc}") from exc


def check_document_size(doc: dict[str, Any], *, what: str) -> int:
    """Refuse a document that is too large for a documents store.

    Parameters
    ----------
    doc : dict
        The document to be written.
    what : str
        How to name the document in the error, e.g. ``"references (dataset='x', compound='y')"``.

    Returns
    -------
    int
        The BSON size in bytes (below :data:`MAX_DOCUMENT_BYTES`).

    Raises
    ------
    DocumentTooLargeError
        If the BSON size is at least :data:`MAX_DOCUMENT_BYTES`; the message names ``what``
        and the size, and says where large arrays belong.
    """
    from latticebench.stores.errors import DocumentTooLargeError

    size = bson_size(doc)
    if size >= MAX_DOCUMENT_BYTES:
        raise DocumentTooLargeError(
            f"document {what} is {size / 2**20:.2f} MiB as BSON, at or above the "
            f"{MAX_DOCUMENT_BYTES / 2**20:.2f} MiB limit (MongoDB's 16 MiB minus a "
            f"{SIZE_MARGIN_BYTES // 1024} KiB margin); put large arrays in the 'data' store "
            f"(latticebench.stores.put_arrays) and keep only their blob id in the document"
        )
    return size
