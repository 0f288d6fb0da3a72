"""The 16 MB guard: BSON size measured exactly, limit enforced at the documented threshold."""

from __future__ import annotations

import numpy as np
import pytest

from latticebench.stores import MAX_DOCUMENT_BYTES, DocumentTooLargeError, check_document_size
from latticebench.stores.size import BSON_LIMIT_BYTES, bson_size


def _string_doc(total_bytes: int) -> dict:
    # BSON of {"s": <str of L bytes>}: int32 size + type byte + "s\0" + int32 length + L bytes
    # + "\0" + document terminator = L + 13 bytes
    return {"s": "x" * (total_bytes - 13)}


def test_bson_size_matches_the_format():
    assert bson_size(_string_doc(1000)) == 1000
    # float64 element: type + "v\0" + 8 bytes; array of 3 floats is a sub-document
    assert bson_size({"v": 1.5}) == 4 + 1 + 2 + 8 + 1
    assert bson_size({"a": np.array([1.0, 2.0])}) == bson_size({"a": [1.0, 2.0]})


def test_limit_is_16_mib_minus_the_margin_exactly():
    assert MAX_DOCUMENT_BYTES < BSON_LIMIT_BYTES == 16 * 1024 * 1024
    assert check_document_size(_string_doc(MAX_DOCUMENT_BYTES - 1), what="x") == (
        MAX_DOCUMENT_BYTES - 1
    )
    with pytest.raises(DocumentTooLargeError) as info:
        check_document_size(_string_doc(MAX_DOCUMENT_BYTES), what="references (compound='Big')")
    message = str(info.value)
    assert "references (compound='Big')" in message
    assert f"{MAX_DOCUMENT_BYTES / 2**20:.2f} MiB" in message
    assert "put_arrays" in message


def test_unencodable_document_is_a_type_error():
    with pytest.raises(TypeError, match="BSON"):
        check_document_size({"a\x00b": "NUL in a key is not BSON"}, what="x")
