"""Build stores from the settings: embedded (MontyDB/SQLite files) or a MongoDB server.

One code path serves both back ends: callers ask for a collection by name and get a maggma
``Store``; whether it lives in files under ``settings.embedded_store_dir`` or on the server at
``settings.mongodb_uri`` is decided here only.

=============  ======================================  =======================================
store          documents (``get_store``)               arrays (``get_data_store``)
=============  ======================================  =======================================
embedded       ``MontyStore`` (SQLite) per collection  ``MontyStore`` collection ``data``
mongodb        ``MongoStore`` from the URI             ``GridFSStore`` bucket ``data``
=============  ======================================  =======================================

maggma 0.77 deprecates ``MongoURIStore`` / ``GridFSURIStore`` in favour of
``MongoStore.from_uri`` / ``GridFSStore.from_uri``; those are used here (same behaviour).
Stores are returned unconnected; use :func:`latticebench.stores.connect_store` to connect
with a readable error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from latticebench.settings import LatticebenchSettings, get_settings
from latticebench.stores.errors import StoreConfigurationError

if TYPE_CHECKING:
    from jobflow import JobStore
    from maggma.core import Store

__all__ = [
    "DATA_COLLECTION",
    "OUTPUTS_COLLECTION",
    "get_data_store",
    "get_job_store",
    "get_store",
]

OUTPUTS_COLLECTION = "outputs"
"""Collection of jobflow job output documents."""

DATA_COLLECTION = "data"
"""Collection (embedded) or GridFS bucket (MongoDB) of large arrays."""


def _mongoclient_kwargs(settings: LatticebenchSettings) -> dict[str, Any]:
    timeout = settings.mongodb_timeout_ms
    return {"serverSelectionTimeoutMS": timeout, "connectTimeoutMS": timeout}


def _require_uri(settings: LatticebenchSettings) -> str:
    if not settings.mongodb_uri:
        raise StoreConfigurationError(
            "store='mongodb' needs a MongoDB URI: set LATTICEBENCH_MONGODB_URI or 'mongodb_uri' "
            "in latticebench.yaml (or use store='embedded')"
        )
    return settings.mongodb_uri


def get_store(
    collection: str, settings: LatticebenchSettings | None = None, **kwargs: Any
) -> Store:
    """The documents store of one collection.

    Parameters
    ----------
    collection : str
        Collection name, e.g. ``"references"``.
    settings : LatticebenchSettings, optional
        Defaults to :func:`latticebench.settings.get_settings`.
    **kwargs
        Passed to the maggma store (e.g. ``key``).

    Returns
    -------
    maggma.core.Store
        A ``MontyStore`` (SQLite files in ``settings.embedded_store_dir``, database
        ``settings.database``) or a ``MongoStore`` on ``settings.mongodb_uri`` with server
        selection and connection timeouts of ``settings.mongodb_timeout_ms``; not connected.

    Raises
    ------
    StoreConfigurationError
        For store='mongodb' without a URI, or an empty collection name.
    """
    if not collection:
        raise StoreConfigurationError("collection name must not be empty")
    settings = settings or get_settings()
    if settings.store == "embedded":
        from maggma.stores import MontyStore

        return MontyStore(
            collection,
            database_path=str(settings.embedded_store_dir),
            database_name=settings.database,
            storage="sqlite",
            **kwargs,
        )
    from maggma.stores import MongoStore

    return MongoStore.from_uri(
        _require_uri(settings),
        collection,
        database=settings.database,
        mongoclient_kwargs=_mongoclient_kwargs(settings),
        safe_update=False,  # a rejected document must raise, never be logged and dropped
        **kwargs,
    )


def get_data_store(settings: LatticebenchSettings | None = None) -> Store:
    """The store of large arrays ("data").

    Parameters
    ----------
    settings : LatticebenchSettings, optional
        Defaults to :func:`latticebench.settings.get_settings`.

    Returns
    -------
    maggma.core.Store
        Embedded: ``MontyStore`` collection ``"data"``; mongodb: ``GridFSStore`` bucket
        ``"data"`` (no document size limit); not connected.
    """
    settings = settings or get_settings()
    if settings.store == "embedded":
        return get_store(DATA_COLLECTION, settings)
    from maggma.stores import GridFSStore

    return GridFSStore.from_uri(
        _require_uri(settings),
        DATA_COLLECTION,
        database=settings.database,
        mongoclient_kwargs=_mongoclient_kwargs(settings),
    )


def get_job_store(settings: LatticebenchSettings | None = None) -> JobStore:
    """The jobflow ``JobStore`` that local runs and FireWorks workers write to.

    Parameters
    ----------
    settings : LatticebenchSettings, optional
        Defaults to :func:`latticebench.settings.get_settings`.

    Returns
    -------
    jobflow.JobStore
        Documents in collection ``"outputs"``; additional store ``"data"`` from
        :func:`get_data_store` (jobs send large arrays there with ``@job(data=...)``).
    """
    from jobflow import JobStore

    settings = settings or get_settings()
    return JobStore(
        get_store(OUTPUTS_COLLECTION, settings),
        additional_stores={DATA_COLLECTION: get_data_store(settings)},
    )
