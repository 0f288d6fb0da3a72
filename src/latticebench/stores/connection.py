"""Connect to a store and turn every failure into a readable :class:`StoreConnectionError`.

maggma connects lazily: a ``MongoStore`` with a wrong URI only fails at the first query, with a
long pymongo message. :func:`connect_store` forces a round trip (``ping``) right away, bounded by
the client's server-selection timeout, and reports the URI with its password redacted, the
timeout and the server's error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from latticebench.stores.errors import StoreConnectionError
from latticebench.stores.locking import store_lock

__all__ = ["connect_store", "connected_store", "redact_uri", "store_description"]

_CREDENTIALS = re.compile(r"^(?P<scheme>[a-z0-9+.-]+://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@")


def redact_uri(uri: str) -> str:
    """Replace the password of a connection URI by ``***``.

    Parameters
    ----------
    uri : str
        E.g. ``"mongodb://user:secret@host:27017/db"``.

    Returns
    -------
    str
        E.g. ``"mongodb://user:***@host:27017/db"``; URIs without a password are unchanged.
    """
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", uri)


def _password(uri: str) -> str | None:
    match = _CREDENTIALS.match(uri)
    return match["password"] if match and match["password"] else None


def store_description(store: Any) -> str:
    """A human-readable, password-free name of a store, for messages.

    Parameters
    ----------
    store : maggma.core.Store

    Returns
    -------
    str
        E.g. ``"monty:///data/store/latticebench/references"`` or
        ``"mongodb://u:***@host/ (database 'latticebench', collection 'references')"``.
    """
    uri = getattr(store, "uri", None)
    if uri:
        return (
            f"{redact_uri(uri)} (database {store.database!r}, collection {store.collection_name!r})"
        )
    return redact_uri(str(store.name))


def _mongo_client(store: Any) -> Any | None:
    """The pymongo client behind a connected Mongo/GridFS store (None for MontyDB/mongomock)."""
    import pymongo

    collection = getattr(store, "_files_collection", None)
    if collection is None:
        collection = getattr(store, "_coll", None)
    database = getattr(collection, "database", None)
    client = getattr(database, "client", None)
    return client if isinstance(client, pymongo.MongoClient) else None


def _timeout_ms(store: Any) -> Any:
    kwargs = getattr(store, "mongoclient_kwargs", None) or {}
    return kwargs.get("serverSelectionTimeoutMS", "pymongo's default 30000")


def connect_store[S](store: S) -> S:
    """Connect a maggma store now, proving a MongoDB server answers.

    Parameters
    ----------
    store : maggma.core.Store
        Any maggma store; Mongo and GridFS stores get a ``ping`` round trip.

    Returns
    -------
    maggma.core.Store
        The same store, connected.

    Raises
    ------
    StoreConnectionError
        If the store cannot be opened or no server answers within the configured timeout;
        the message names the store (password redacted), the timeout and the server's error.
    """
    import pymongo.errors

    description = store_description(store)
    uri = getattr(store, "uri", None) or ""
    secret = _password(uri)

    def clean(text: str) -> str:
        text = redact_uri(text)
        return text.replace(secret, "***") if secret else text

    try:
        with store_lock(store):  # MontyDB rewrites its config file on every connect
            store.connect()  # type: ignore[attr-defined]
        client = _mongo_client(store)
        if client is not None:
            client.admin.command("ping")
    except pymongo.errors.ServerSelectionTimeoutError as exc:
        reason = str(exc).split(", Timeout:")[0]
        raise StoreConnectionError(
            f"no MongoDB server answered at {description} within {_timeout_ms(store)} ms "
            f"(setting mongodb_timeout_ms): {clean(reason)}"
        ) from None
    except pymongo.errors.OperationFailure as exc:
        raise StoreConnectionError(
            f"MongoDB at {description} refused the connection (check user, password and "
            f"authSource): {clean(str(exc))}"
        ) from None
    except (pymongo.errors.PyMongoError, OSError, ValueError) as exc:
        raise StoreConnectionError(
            f"cannot open store {description}: {type(exc).__name__}: {clean(str(exc))}"
        ) from None
    return store


@contextmanager
def connected_store[S](store: S) -> Iterator[S]:
    """Context manager: :func:`connect_store` on entry, ``close()`` on exit.

    Parameters
    ----------
    store : maggma.core.Store

    Yields
    ------
    maggma.core.Store
        The connected store.

    Examples
    --------
    >>> from latticebench.stores import connected_store, get_store
    >>> with connected_store(get_store("references")) as refs:  # doctest: +SKIP
    ...     refs.count()
    """
    connect_store(store)
    try:
        yield store
    finally:
        # closing a broken connection must not mask the error that got us here
        with suppress(Exception):
            store.close()  # type: ignore[attr-defined]
