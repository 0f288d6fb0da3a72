"""Natural-key upsert: idempotent, refuses silent changes, records updates, never drops."""

from __future__ import annotations

import pytest
from pymongo.errors import DocumentTooLarge, DuplicateKeyError

from latticebench.stores import (
    MAX_DOCUMENT_BYTES,
    DocumentCountError,
    DocumentTooLargeError,
    upsert_documents,
    verify_stored,
)

KEY = ("dataset", "compound")


def _docs(n: int = 3, **extra) -> list[dict]:
    return [
        {"dataset": "d1", "compound": f"Cs2Ag{b}Br6", "sigma": 0.1 * (i + 1), **extra}
        for i, b in enumerate(["Bi", "Sb", "In", "Ga", "Al"][:n])
    ]


def _stored(store) -> dict[tuple, dict]:
    return {(d["dataset"], d["compound"]): d for d in store.query({})}


def test_insert_then_reimport_changes_nothing(documents_store):
    first = upsert_documents(documents_store, _docs(), KEY, source="test")
    assert first.counts == {"inserted": 3, "unchanged": 0, "updated": 0, "refused": 0}
    before = _stored(documents_store)
    second = upsert_documents(documents_store, _docs(), KEY, source="test")
    assert second.counts == {"inserted": 0, "unchanged": 3, "updated": 0, "refused": 0}
    assert _stored(documents_store) == before  # not even last_updated moved
    assert documents_store.count() == 3


def test_changed_value_is_refused_with_the_differing_fields(documents_store):
    upsert_documents(documents_store, _docs(), KEY, source="test")
    before = _stored(documents_store)
    changed = _docs()
    changed[1]["sigma"] = 0.9
    changed[1]["note"] = "new field"
    report = upsert_documents(documents_store, changed, KEY, source="v2.csv")
    assert report.counts == {"inserted": 0, "unchanged": 2, "updated": 0, "refused": 1}
    (refused,) = report.refused
    assert refused.key == ("d1", "Cs2AgSbBr6")
    assert [(c.field, c.old, c.new) for c in refused.changes] == [
        ("sigma", 0.2, 0.9),
        ("note", None, "new field"),
    ]
    assert _stored(documents_store) == before


def test_update_applies_and_records_history(documents_store):
    upsert_documents(documents_store, _docs(), KEY, source="v1.csv")
    changed = _docs()
    changed[0]["sigma"] = 0.55
    report = upsert_documents(documents_store, changed, KEY, update=True, source="v2.csv")
    assert report.counts == {"inserted": 0, "unchanged": 2, "updated": 1, "refused": 0}
    doc = _stored(documents_store)[("d1", "Cs2AgBiBr6")]
    assert doc["sigma"] == 0.55
    (entry,) = doc["updates"]
    assert entry["source"] == "v2.csv"
    assert entry["changes"] == [{"field": "sigma", "old": pytest.approx(0.1), "new": 0.55}]
    assert entry["when"] == doc["last_updated"]
    again = upsert_documents(documents_store, changed, KEY, update=True, source="v2.csv")
    assert again.counts["unchanged"] == 3
    assert len(_stored(documents_store)[("d1", "Cs2AgBiBr6")]["updates"]) == 1


def test_new_fields_extend_a_document_without_update_and_are_recorded(documents_store):
    upsert_documents(documents_store, _docs(1, heavy={"aimd": "a" * 64}), KEY, source="traj")
    partial = [{"dataset": "d1", "compound": "Cs2AgBiBr6", "heavy": {"force_constants": "f"}}]
    report = upsert_documents(documents_store, partial, KEY, source="phonopy", nested=("heavy",))
    assert report.counts["updated"] == 1
    doc = _stored(documents_store)[("d1", "Cs2AgBiBr6")]
    assert doc["heavy"] == {"aimd": "a" * 64, "force_constants": "f"}
    assert doc["sigma"] == 0.1  # a field the import did not send keeps its value
    assert doc["updates"][0]["changes"] == [
        {"field": "heavy.force_constants", "old": None, "new": "f"}
    ]
    # without nested merging the whole dict differs: refused
    other = [{"dataset": "d1", "compound": "Cs2AgBiBr6", "heavy": {"band": "b"}}]
    assert upsert_documents(documents_store, other, KEY, source="x").counts["refused"] == 1


def test_ignored_fields_are_stored_but_not_compared(documents_store):
    upsert_documents(documents_store, _docs(1, source="a.csv"), KEY, source="a", ignore=["source"])
    report = upsert_documents(
        documents_store, _docs(1, source="copy/a.csv"), KEY, source="b", ignore=["source"]
    )
    assert report.counts["unchanged"] == 1
    assert _stored(documents_store)[("d1", "Cs2AgBiBr6")]["source"] == "a.csv"


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        (_docs(2) + _docs(1), "appears twice in the batch: documents #0 and #2"),
        ([{"dataset": "d1", "sigma": 1.0}], "document #0 has no value for key field 'compound'"),
        ([{"dataset": "d1", "compound": "X", "updates": []}], "bookkeeping field(s) ['updates']"),
    ],
)
def test_bad_batches_write_nothing(documents_store, docs, message):
    with pytest.raises(ValueError) as info:
        upsert_documents(documents_store, docs, KEY, source="test")
    assert message in str(info.value)
    assert documents_store.count() == 0


def test_dry_run_writes_nothing(documents_store):
    report = upsert_documents(documents_store, _docs(), KEY, source="t", dry_run=True)
    assert report.counts["inserted"] == 3 and report.dry_run
    assert documents_store.count() == 0


def test_oversized_document_refused_and_batch_not_written(documents_store):
    docs = _docs()
    docs[2]["blob"] = "x" * MAX_DOCUMENT_BYTES
    with pytest.raises(DocumentTooLargeError) as info:
        upsert_documents(documents_store, docs, KEY, source="t")
    assert "compound='Cs2AgInBr6'" in str(info.value)
    assert documents_store.count() == 0


def test_history_that_would_outgrow_the_limit_is_refused(documents_store):
    half = MAX_DOCUMENT_BYTES // 2 + 1000
    upsert_documents(documents_store, _docs(1, text="a" * half), KEY, source="t")
    with pytest.raises(DocumentTooLargeError):  # new value + old value in the history
        upsert_documents(documents_store, _docs(1, text="b" * half), KEY, update=True, source="t")
    assert _stored(documents_store)[("d1", "Cs2AgBiBr6")]["text"][0] == "a"


def test_existing_duplicates_are_reported_not_hidden(documents_store):
    from latticebench.stores.locking import embedded_lock_path

    documents_store._collection.insert_one(_docs(1)[0])
    if embedded_lock_path(documents_store) is None:
        # a back end with indexes: after an upsert the unique index forbids a second copy
        upsert_documents(documents_store, _docs(1), KEY, source="t")
        with pytest.raises(DuplicateKeyError):
            documents_store._collection.insert_one(_docs(1)[0])
        return
    documents_store._collection.insert_one(_docs(1)[0])  # MontyDB has no unique index
    with pytest.raises(DocumentCountError, match="already holds 2 documents"):
        upsert_documents(documents_store, _docs(1), KEY, source="t")


def test_unique_index_on_backends_that_have_indexes():
    from maggma.stores import MemoryStore

    store = MemoryStore("indexed")
    store.connect()
    upsert_documents(store, _docs(2), KEY, source="t")
    indexes = store._collection.index_information()
    assert indexes["natural_key_dataset_compound"]["unique"] is True
    with pytest.raises(DuplicateKeyError):
        store._collection.insert_one(_docs(1)[0])


def test_maggma_safe_update_drops_silently_and_the_count_check_catches_it(monkeypatch):
    """maggma 0.77.1 MongoStore.update(safe_update=True) retries a rejected batch one document
    at a time and only logs the documents the server refuses; verify_stored raises."""
    from maggma.stores import MemoryStore

    store = MemoryStore("safe", key="compound")
    store.safe_update = True  # the MongoStore option (MemoryStore's constructor does not take it)
    store.connect()
    collection = store._collection
    real_bulk_write = collection.bulk_write

    def server_rejects_big_one(requests, ordered=True):
        if any(r._filter.get("compound") == "Cs2AgSbBr6" for r in requests):
            raise DocumentTooLarge("BSON document too large")
        return real_bulk_write(requests, ordered=ordered)

    monkeypatch.setattr(collection, "bulk_write", server_rejects_big_one)
    docs = _docs(3)
    store.update(docs, key=list(KEY))  # no exception: the drop is silent
    assert store.count() == 2
    with pytest.raises(DocumentCountError) as info:
        verify_stored(store, docs, KEY)
    assert "missing 1: (dataset='d1', compound='Cs2AgSbBr6')" in str(info.value)
    assert "sent 3 document(s)" in str(info.value)


def test_a_write_that_loses_a_document_raises(documents_store, monkeypatch):
    collection = documents_store._collection
    real_insert_many = collection.insert_many

    def lossy_insert_many(docs, *args, **kwargs):
        return real_insert_many(docs[:-1], *args, **kwargs)

    monkeypatch.setattr(collection, "insert_many", lossy_insert_many)
    with pytest.raises(DocumentCountError) as info:
        upsert_documents(documents_store, _docs(), KEY, source="t")
    assert "missing 1: (dataset='d1', compound='Cs2AgInBr6')" in str(info.value)
