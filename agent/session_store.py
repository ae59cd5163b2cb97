"""Opens the session and customer stores on the database ``PARLANT_STORE`` names.

* ``sqlite`` (the default): one file, ``<home>/parlant.sqlite``, for both stores (see
  ``agent.sqlite_database``). On the first start without that file, the JSON files of
  the ``json`` store found in ``<home>`` are imported into it in one transaction, then
  renamed to ``*.migrated`` (never deleted).
* ``json`` (formerly ``local``): Parlant's JSON files, ``sessions.json`` and
  ``customers.json``. Each write rewrites the whole file.
* ``transient``: memory only.
* ``mongodb://…``: databases ``parlant_sessions`` and ``parlant_customers``.
"""

import contextlib
import gc
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parlant.adapters.db.json_file import JSONFileDocumentDatabase
from parlant.adapters.db.transient import TransientDocumentDatabase
from parlant.core.common import IdGenerator, UniqueId
from parlant.core.customers import CustomerDocumentStore, CustomerStore
from parlant.core.loggers import LogLevel, StdoutLogger
from parlant.core.persistence.document_database import (
    BaseDocument,
    DocumentDatabase,
    identity_loader,
)
from parlant.core.tracer import LocalTracer

from agent.event_stream import EventHub, PublishingSessionStore
from agent.settings import ConfigError
from agent.sqlite_database import Namespaces, SQLiteFile, SQLiteStoreError

logger = logging.getLogger(__name__)

SQLITE_FILE = "parlant.sqlite"
SESSIONS_FILE = "sessions.json"
CUSTOMERS_FILE = "customers.json"
"""Parlant's own name for the ``local`` customer store's file (``{name}.json`` in its home)."""
JSON_FILES = {"sessions": SESSIONS_FILE, "customers": CUSTOMERS_FILE}
"""The sqlite namespace each JSON file is imported into."""
CUSTOMER_COLLECTIONS = ("customers", "customer_tag_associations")
"""The collections whose ids ``CustomerDocumentStore`` draws from its ``IdGenerator``."""
MIGRATED_SUFFIX = ".migrated"
PENDING_RENAMES = "pending_renames"
"""A property of the SQLite file: the JSON files imported but not yet renamed."""


@dataclass(frozen=True)
class Stores:
    sessions: PublishingSessionStore
    customers: CustomerStore | str
    """A store instance, or a name Parlant resolves itself (``local``, ``transient``, a URI)."""


async def open_stores(
    stack: contextlib.AsyncExitStack, store: str, home: Path, hub: EventHub
) -> Stores:
    """The session store (publishing to ``hub``) and customer store named by ``store``.

    Raises:
        ConfigError: the store cannot be opened (e.g. a JSON file to import is broken);
            the message is one line naming ``PARLANT_STORE`` and the file.
    """
    if store == "sqlite":
        file = await _open_sqlite(stack, home)
        sessions = await stack.enter_async_context(
            PublishingSessionStore(file.database("sessions"), hub)
        )
        ids = FreshIdGenerator()
        customers = await stack.enter_async_context(
            CustomerDocumentStore(ids, file.database("customers"))
        )
        ids.taken.update(await _stored_ids(file.database("customers"), CUSTOMER_COLLECTIONS))
        _settle_heap()
        return Stores(sessions=sessions, customers=customers)
    database = await _database(stack, store, home)
    sessions = await stack.enter_async_context(PublishingSessionStore(database, hub))
    return Stores(sessions=sessions, customers="local" if store in ("json", "local") else store)


class FreshIdGenerator(IdGenerator):
    """Parlant's id generator, never handing out an id already in ``taken``.

    Parlant derives a customer's id from a checksum of its name, extra fields and tags
    and a per-process counter that restarts at 1 with each process. With a store that
    outlives the process, the first "Jane Doe" created after a restart would get the id
    of the "Jane Doe" created before it: two customers under one id.
    """

    def __init__(self) -> None:
        super().__init__()
        self.taken: set[str] = set()

    def generate(self, content_checksum: str) -> UniqueId:
        while True:
            candidate = super().generate(content_checksum)
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate


async def _stored_ids(database: DocumentDatabase, collections: Sequence[str]) -> set[str]:
    ids: set[str] = set()
    for name in collections:
        collection = await database.get_collection(name, BaseDocument, identity_loader)
        ids.update(str(document["id"]) for document in await collection.find({}))
    return ids


def _settle_heap() -> None:
    """Exempt what is loaded now (every stored document) from Python's cyclic collector.

    The documents stay in memory for the life of the process; without this, each full
    collection walks all of them, a stall of ~0.2 s at 50,000 events. Frozen objects are
    still freed by reference counting when a document is replaced or deleted.
    """
    gc.collect()
    gc.freeze()


async def _database(stack: contextlib.AsyncExitStack, store: str, home: Path) -> DocumentDatabase:
    logger = StdoutLogger(LocalTracer(), LogLevel.WARNING, logger_id="agent.sessions")
    if store == "transient":
        return TransientDocumentDatabase()
    if store in ("json", "local"):
        return await stack.enter_async_context(
            JSONFileDocumentDatabase(logger, home / SESSIONS_FILE)
        )
    if not store.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"PARLANT_STORE must be sqlite, json, transient or a mongodb:// URI, got {store!r}"
        )
    try:
        from parlant.adapters.db.mongo_db import MongoDocumentDatabase
        from pymongo import AsyncMongoClient
    except ImportError:
        raise ConfigError(
            "PARLANT_STORE is a MongoDB URI but pymongo is missing: pip install 'parlant[mongo]'"
        ) from None
    client = await stack.enter_async_context(AsyncMongoClient[dict[str, object]](store))
    return await stack.enter_async_context(
        MongoDocumentDatabase(client, database_name="parlant_sessions", logger=logger)
    )


# ---------------------------------------------------------------------------------------
# sqlite, and the import of the json store's files


class _ImportError(Exception):
    def __init__(self, source: Path, reason: str) -> None:
        super().__init__(reason)
        self.source = source
        self.reason = reason


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read_json_store(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The collections of one of Parlant's JSON files, checked to be what it writes."""
    try:
        text = path.read_text(encoding="utf-8")
        raw = json.loads(text) if text.strip() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _ImportError(path, _one_line(str(error))) from error
    if not isinstance(raw, dict):
        raise _ImportError(path, "not a JSON object of collections")
    for name, documents in raw.items():
        if not isinstance(documents, list) or not all(isinstance(d, dict) for d in documents):
            raise _ImportError(path, f"collection {name!r} is not a list of documents")
    return raw


def _json_sources(home: Path) -> dict[str, Path]:
    return {ns: home / name for ns, name in JSON_FILES.items() if (home / name).is_file()}


def _rename_migrated(source: Path) -> Path:
    target = source.with_name(source.name + MIGRATED_SUFFIX)
    n = 1
    while target.exists():
        target = source.with_name(f"{source.name}{MIGRATED_SUFFIX}.{n}")
        n += 1
    source.rename(target)
    return target


async def _open_sqlite(stack: contextlib.AsyncExitStack, home: Path) -> SQLiteFile:
    path = home / SQLITE_FILE
    sources = {} if path.exists() else _json_sources(home)
    counts: dict[str, int] = {}

    def seed() -> Namespaces:
        namespaces: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for namespace, source in sources.items():
            namespaces[namespace] = _read_json_store(source)
            counts[source.name] = sum(len(docs) for docs in namespaces[namespace].values())
        return namespaces

    pending = json.dumps(sorted(source.name for source in sources.values()))
    file = SQLiteFile(
        path,
        seed=seed if sources else None,
        seed_properties={PENDING_RENAMES: pending} if sources else {},
    )
    try:
        await stack.enter_async_context(file)
    except _ImportError as error:
        raise ConfigError(
            f"PARLANT_STORE=sqlite: cannot import {error.source} into {path.name}"
            f" ({error.reason}); fix or move that file, or start with PARLANT_STORE=json"
        ) from error
    except SQLiteStoreError as error:
        raise ConfigError(f"PARLANT_STORE=sqlite: {_one_line(str(error))}") from error
    except (OSError, sqlite3.Error) as error:
        action = f"import {', '.join(map(str, sources.values()))} into" if sources else "open"
        raise ConfigError(
            f"PARLANT_STORE=sqlite: cannot {action} {path}: {_one_line(str(error))}"
        ) from error

    await _finish_migration(file, home, counts)
    return file


async def _finish_migration(file: SQLiteFile, home: Path, counts: dict[str, int]) -> None:
    """Rename the imported JSON files, also after a crash between import and rename."""
    pending = file.properties.get(PENDING_RENAMES)
    if pending is None:
        stale = [name for name in JSON_FILES.values() if (home / name).is_file()]
        if stale:
            logger.warning(
                "PARLANT_STORE=sqlite uses %s; %s in %s %s not read",
                SQLITE_FILE,
                " and ".join(stale),
                home,
                "is" if len(stale) == 1 else "are",
            )
        return
    renamed = []
    for name in json.loads(pending):
        source = home / name
        if source.is_file():
            target = _rename_migrated(source)
            detail = f" ({counts[name]} documents)" if name in counts else ""
            renamed.append(f"{name}{detail} -> {target.name}")
    await file.set_property(PENDING_RENAMES, None)
    if renamed:
        logger.warning(
            "PARLANT_STORE=sqlite: imported the json store into %s; renamed %s",
            file.path,
            ", ".join(renamed),
        )
