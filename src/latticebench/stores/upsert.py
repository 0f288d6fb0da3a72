"""Idempotent upsert on natural keys, with refusal of silent changes and a change history.

Documents are identified by a natural key (e.g. ``("dataset", "compound")`` for ``references``,
``("dataset", "compound", "model", "protocol_id")`` for ``benchmarks``), never by ``_id``.
For each document sent, :func:`upsert_documents` decides:

============  ===========================================================================
outcome       when
============  ===========================================================================
inserted      no stored document has the key
unchanged     every field sent equals the stored value
updated       fields are added that the stored document lacks (always allowed), or values
              differ and ``update=True``; an ``updates`` history entry records when, the
              source and each field's old -> new value
refused       values differ and ``update=False``: nothing is written for that key
============  ===========================================================================

Fields a document does not send keep their stored values (a partial import, e.g. AIMD frames
for a compound whose σ came from a table, extends the stored document). Fields named in
``nested`` are compared and merged one level down (``heavy.aimd`` separately from
``heavy.force_constants``). ``_id``, ``updates`` and ``last_updated`` are bookkeeping, managed
here and never compared.

Uniqueness: a unique compound index on the key where the back end has indexes (MongoDB,
mongomock); MontyDB has none, so the whole check-and-write runs under an exclusive file lock
(:func:`latticebench.stores.locking.store_lock`) and the code enforces one document per key.
After writing, the stored documents for the keys sent are counted again: each key must be
present exactly once, otherwise :class:`DocumentCountError` (maggma's ``safe_update`` logs and
drops documents the server rejects; that can never pass silently here).

On a MongoDB server without transactions a failure in the middle of a batch can leave the
earlier documents of the batch written; the count check then names what is missing.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from latticebench.stores.connection import connect_store, store_description
from latticebench.stores.errors import DocumentCountError, StoreError
from latticebench.stores.locking import embedded_lock_path, store_lock
from latticebench.stores.size import check_document_size

__all__ = [
    "BOOKKEEPING_FIELDS",
    "FieldChange",
    "KeyChanges",
    "UpsertReport",
    "ensure_unique_index",
    "upsert_documents",
    "verify_stored",
]

BOOKKEEPING_FIELDS = frozenset({"_id", "updates", "last_updated"})
"""Fields managed by the store layer, never part of a document's payload."""

KeyValue = tuple[Any, ...]


@dataclass(frozen=True)
class FieldChange:
    """One field whose stored value differs from the value sent.

    Attributes
    ----------
    field : str
        Field name; ``"parent.child"`` for fields compared one level down.
    old : Any
        Stored value (None when the field was absent).
    new : Any
        Value sent.
    """

    field: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        """The history-entry form ``{"field", "old", "new"}``."""
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class KeyChanges:
    """The changes for one natural key.

    Attributes
    ----------
    key : tuple
        Values of the key fields, in key order.
    changes : list of FieldChange
        Differing (or added) fields.
    """

    key: KeyValue
    changes: list[FieldChange]

    @property
    def fields(self) -> list[str]:
        """Names of the fields in :attr:`changes`."""
        return [c.field for c in self.changes]


@dataclass
class UpsertReport:
    """What an upsert did (or, for ``dry_run``, would do).

    Attributes
    ----------
    collection : str
        Redacted name of the store.
    key_fields : tuple of str
    inserted, unchanged : list of tuple
        Keys inserted / found equal.
    updated, refused : list of KeyChanges
        Keys changed (with their field changes) / left alone because values differ and
        ``update`` was False.
    dry_run : bool
        True when nothing was written.
    """

    collection: str
    key_fields: tuple[str, ...]
    inserted: list[KeyValue] = field(default_factory=list)
    unchanged: list[KeyValue] = field(default_factory=list)
    updated: list[KeyChanges] = field(default_factory=list)
    refused: list[KeyChanges] = field(default_factory=list)
    dry_run: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Number of keys per outcome: inserted, unchanged, updated, refused."""
        return {
            "inserted": len(self.inserted),
            "unchanged": len(self.unchanged),
            "updated": len(self.updated),
            "refused": len(self.refused),
        }

    @property
    def written_keys(self) -> list[KeyValue]:
        """Keys whose document is (or would be) written: inserted and updated."""
        return [*self.inserted, *(k.key for k in self.updated)]

    def describe_key(self, key: KeyValue) -> str:
        """``"dataset='x', compound='y'"`` for a key tuple."""
        return ", ".join(f"{f}={v!r}" for f, v in zip(self.key_fields, key, strict=True))

    def summary(self) -> str:
        """One line with the counts, e.g. ``"3 inserted, 0 unchanged, 0 updated, 1 refused"``."""
        return ", ".join(f"{n} {what}" for what, n in self.counts.items())


def _collection(store: Any) -> Any:
    if getattr(store, "_coll", None) is None:
        connect_store(store)
    return store._collection


def _key_of(doc: dict[str, Any], key: Sequence[str], position: int) -> KeyValue:
    values = []
    for name in key:
        value = doc.get(name)
        if value is None:
            raise ValueError(f"document #{position} has no value for key field {name!r}")
        if not isinstance(value, str | int | float | bool):
            raise TypeError(
                f"document #{position}: key field {name!r} must be a string or number, "
                f"got {type(value).__name__}"
            )
        values.append(value)
    return tuple(values)


def _criteria(key: Sequence[str], keys: Iterable[KeyValue]) -> dict[str, Any]:
    """Equality criteria on the key fields that take one value; the rest is filtered in Python.

    MontyDB evaluates ``$in`` in Python at a cost of (documents x values); one equality on the
    dataset plus a Python filter is fast on both back ends for the typical batch.
    """
    keys = list(keys)
    criteria: dict[str, Any] = {}
    for i, name in enumerate(key):
        values = {k[i] for k in keys}
        if len(values) == 1:
            criteria[name] = next(iter(values))
    return criteria


def _find_by_key(
    collection: Any, key: Sequence[str], keys: Iterable[KeyValue], projection: Any = None
) -> dict[KeyValue, list[dict[str, Any]]]:
    wanted = set(keys)
    found: dict[KeyValue, list[dict[str, Any]]] = {}
    if not wanted:
        return found
    for doc in collection.find(_criteria(key, wanted), projection):
        k = tuple(doc.get(name) for name in key)
        if k in wanted:
            found.setdefault(k, []).append(doc)
    return found


def _payload_items(doc: dict[str, Any], nested: Iterable[str]) -> dict[str, Any]:
    nested = set(nested)
    items: dict[str, Any] = {}
    for name, value in doc.items():
        if name in BOOKKEEPING_FIELDS:
            continue
        if name in nested and isinstance(value, dict):
            for sub, sub_value in value.items():
                items[f"{name}.{sub}"] = sub_value
        else:
            items[name] = value
    return items


def _merge(stored: dict[str, Any], new: dict[str, Any], nested: Iterable[str]) -> dict[str, Any]:
    merged = {k: v for k, v in stored.items() if k != "_id"}
    for name, value in new.items():
        if name in nested and isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = {**merged[name], **value}
        else:
            merged[name] = value
    return merged


def _normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """What the store will hand back for ``doc``: numpy -> Python, tuples -> lists, via BSON."""
    import bson
    from monty.json import jsanitize

    return bson.decode(bson.encode(jsanitize(doc, allow_bson=True)))


def ensure_unique_index(store: Any, key: Sequence[str]) -> bool:
    """Create a unique compound index on ``key`` where the back end supports one.

    Parameters
    ----------
    store : maggma.core.Store
    key : sequence of str

    Returns
    -------
    bool
        True if the index exists now; False for MontyDB (no unique indexes: the upsert code
        and the file lock enforce uniqueness there).

    Raises
    ------
    StoreError
        If the collection already holds duplicates, so the index cannot be built.
    """
    if embedded_lock_path(store) is not None:
        return False
    import pymongo.errors

    collection = _collection(store)
    try:
        collection.create_index(
            [(name, 1) for name in key], unique=True, name="natural_key_" + "_".join(key)
        )
    except pymongo.errors.OperationFailure as exc:
        raise StoreError(
            f"cannot create the unique index on {key} in {store_description(store)}: {exc}"
        ) from exc
    return True


def verify_stored(store: Any, docs: Sequence[dict[str, Any]], key: Sequence[str]) -> int:
    """Check that every key of ``docs`` is stored exactly once.

    Parameters
    ----------
    store : maggma.core.Store
    docs : sequence of dict
        The documents that were sent (only their key fields are read).
    key : sequence of str
        The natural key fields.

    Returns
    -------
    int
        The number of stored documents for those keys (equal to the number of keys).

    Raises
    ------
    DocumentCountError
        Naming the missing and the duplicated keys.
    """
    keys = [_key_of(doc, key, i) for i, doc in enumerate(docs)]
    projection = {name: 1 for name in key}
    found = _find_by_key(_collection(store), key, keys, projection)
    missing = [k for k in dict.fromkeys(keys) if k not in found]
    duplicated = {k: len(v) for k, v in found.items() if len(v) > 1}
    stored = sum(len(v) for v in found.values())
    if missing or duplicated:

        def show(k: KeyValue) -> str:
            return "(" + ", ".join(f"{f}={v!r}" for f, v in zip(key, k, strict=True)) + ")"

        parts = [
            f"sent {len(set(keys))} document(s) to {store_description(store)} but "
            f"{stored} are stored for their keys"
        ]
        if missing:
            shown = ", ".join(show(k) for k in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            parts.append(f"missing {len(missing)}: {shown}{more}")
        if duplicated:
            shown = ", ".join(f"{show(k)} x{n}" for k, n in list(duplicated.items())[:10])
            parts.append(f"duplicated {len(duplicated)}: {shown}")
        raise DocumentCountError("; ".join(parts))
    return stored


def upsert_documents(
    store: Any,
    docs: Sequence[dict[str, Any]],
    key: tuple[str, ...],
    *,
    update: bool = False,
    source: str,
    nested: Iterable[str] = (),
    ignore: Iterable[str] = (),
    dry_run: bool = False,
) -> UpsertReport:
    """Insert new keys, leave equal ones alone, refuse or record changes.

    Parameters
    ----------
    store : maggma.core.Store
        A Mongo-like documents store (MontyStore, MongoStore, MemoryStore); connected on
        demand.
    docs : sequence of dict
        Documents, each holding every key field; no ``_id``, ``updates`` or
        ``last_updated`` (those are managed here).
    key : tuple of str
        The natural key fields.
    update : bool
        Apply differing values (recorded in the document's ``updates`` history) instead of
        refusing them.
    source : str
        Where the values come from (file, command); recorded in history entries.
    nested : iterable of str
        Dict fields compared and merged per sub-key.
    ignore : iterable of str
        Fields sent and stored on insert, but not compared (provenance such as ``source``).
    dry_run : bool
        Classify only; write nothing.

    Returns
    -------
    UpsertReport

    Raises
    ------
    ValueError
        For a key sent twice, a missing key field or a bookkeeping field in a document.
    DocumentTooLargeError
        If any document (after merging with its history) is too large; nothing is written.
    DocumentCountError
        If, after writing, a key is missing or duplicated in the store.
    """
    key = tuple(key)
    if not key:
        raise ValueError("key must name at least one field")
    nested = tuple(nested)
    ignored = set(ignore)
    description = store_description(store)
    report = UpsertReport(collection=description, key_fields=key, dry_run=dry_run)

    prepared: list[tuple[KeyValue, dict[str, Any]]] = []
    positions: dict[KeyValue, int] = {}
    for i, doc in enumerate(docs):
        reserved = BOOKKEEPING_FIELDS.intersection(doc)
        if reserved:
            raise ValueError(f"document #{i} sets bookkeeping field(s) {sorted(reserved)}")
        k = _key_of(doc, key, i)
        if k in positions:
            raise ValueError(
                f"key ({report.describe_key(k)}) appears twice in the batch: "
                f"documents #{positions[k]} and #{i}"
            )
        positions[k] = i
        clean = _normalise(doc)
        check_document_size(clean, what=f"{description} ({report.describe_key(k)})")
        prepared.append((k, clean))

    with store_lock(store):
        collection = _collection(store)
        ensure_unique_index(store, key)
        existing = _find_by_key(collection, key, (k for k, _ in prepared))
        now = _dt.datetime.now(_dt.UTC)
        inserts: list[dict[str, Any]] = []
        replacements: list[tuple[Any, dict[str, Any]]] = []
        for k, doc in prepared:
            stored_docs = existing.get(k, [])
            if len(stored_docs) > 1:
                raise DocumentCountError(
                    f"{description} already holds {len(stored_docs)} documents for "
                    f"({report.describe_key(k)}); remove the duplicates before writing"
                )
            if not stored_docs:
                report.inserted.append(k)
                inserts.append({**doc, "last_updated": now})
                continue
            stored = stored_docs[0]
            old_items = _payload_items(stored, nested)
            changed: list[FieldChange] = []
            added: list[FieldChange] = []
            for path, value in _payload_items(doc, nested).items():
                if path.split(".")[0] in ignored:
                    continue
                old = old_items.get(path)
                if old is None:
                    if value is not None:
                        added.append(FieldChange(path, None, value))
                elif old != value:
                    changed.append(FieldChange(path, old, value))
            if not changed and not added:
                report.unchanged.append(k)
                continue
            if changed and not update:
                report.refused.append(KeyChanges(k, changed + added))
                continue
            changes = changed + added
            report.updated.append(KeyChanges(k, changes))
            merged = _merge(stored, {n: v for n, v in doc.items() if n not in ignored}, nested)
            history = list(stored.get("updates") or [])
            history.append(
                {"when": now, "source": source, "changes": [c.as_dict() for c in changes]}
            )
            merged["updates"] = history
            merged["last_updated"] = now
            check_document_size(merged, what=f"{description} ({report.describe_key(k)})")
            replacements.append((stored["_id"], merged))

        if dry_run:
            return report
        _write(collection, inserts, replacements, description)
        verify_stored(store, [doc for _, doc in prepared], key)
    return report


def _write(
    collection: Any,
    inserts: list[dict[str, Any]],
    replacements: list[tuple[Any, dict[str, Any]]],
    description: str,
) -> None:
    import pymongo.errors

    try:
        if inserts:
            collection.insert_many([dict(d) for d in inserts], ordered=True)
        for _id, doc in replacements:
            result = collection.replace_one({"_id": _id}, doc)
            if result.matched_count != 1:
                raise DocumentCountError(
                    f"{description}: the document being updated (_id {_id}) vanished during "
                    f"the write"
                )
    except pymongo.errors.BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        codes = Counter(e.get("code") for e in errors)
        hint = (
            " (duplicate key: another process wrote the same key at the same time; run the "
            "import again, it will find the stored documents)"
            if 11000 in codes
            else ""
        )
        first = errors[0].get("errmsg", "") if errors else str(exc)
        raise StoreError(
            f"writing {len(inserts)} document(s) to {description} failed after "
            f"{exc.details.get('nInserted', 0)} inserted{hint}: {first}"
        ) from exc
