"""Parlant's ``DocumentDatabase`` on one SQLite file: crash-safe, and as fast as memory to read.

* **One file, one row per document.** ``documents(seq, namespace, collection, body)``, the
  body as JSON; ``seq`` keeps insertion order. WAL journal with ``synchronous=NORMAL``:
  once a write has returned, it survives a crash (``kill -9``) of the process; a power
  loss may lose the last few commits but never corrupts the file.
* **Every write is one transaction.** ``insert_one``, ``update_one`` and ``delete_one``
  are each one statement committed on its own; loading a collection whose documents
  Parlant migrates, deleting a collection and seeding a new file are one transaction each.
* **Reads come from memory.** Like Parlant's transient store, each collection's documents
  are kept in memory once loaded, with hash indexes on ``id`` and on the leading field of
  every index Parlant asks for (``ensure_indexes``), so lookups by id or session do not
  scan. Memory changes only after the commit succeeded: a failed write changes nothing.
* **The event loop never waits on the disk.** Statements run on one writer thread that
  owns the connection; the loop only serialises the document (tens of microseconds).
  A per-collection lock orders writes, and a write, once started, completes even if its
  caller is cancelled, so memory and file never disagree.
* **Namespaces.** Several Parlant stores can share the file, each in its own namespace:
  every store keeps its version in a collection named ``metadata``, so they must not
  share one ``DocumentDatabase``.
* **One process per file.** An exclusive ``flock`` on ``<file>.lock`` keeps a second
  process (a second agent on the same home) out; it is released when the process dies.
  Readers such as the ``sqlite3`` shell may look at the file at any time; nothing else
  may write to it while the agent runs (the agent would not see the change).

This module is the public entry; the pieces live next to it:

* ``agent.sqlite_storage``: the file, its lock, schema and seeding, the writer thread.
* ``agent.sqlite_filters``: Parlant's ``Where`` filters on documents (MongoDB's answers
  where Parlant's ``matches_filters`` would raise).
* ``agent.sqlite_memory``: a collection's documents in memory, with hash indexes.
* ``agent.sqlite_adapter``: the ``DocumentDatabase`` and ``DocumentCollection`` classes.
"""

from __future__ import annotations

from functools import cached_property

from agent.sqlite_adapter import (
    FAILED_MIGRATIONS,
    SQLiteDocumentCollection,
    SQLiteDocumentDatabase,
)
from agent.sqlite_filters import Document, matches
from agent.sqlite_storage import FORMAT, Namespaces, SQLiteStorage, SQLiteStoreError, dumps

__all__ = [
    "FAILED_MIGRATIONS",
    "FORMAT",
    "Document",
    "Namespaces",
    "SQLiteDocumentCollection",
    "SQLiteDocumentDatabase",
    "SQLiteFile",
    "SQLiteStoreError",
    "dumps",
    "matches",
]


class SQLiteFile(SQLiteStorage):
    """One SQLite file, its writer thread, and the namespaced databases on it.

    Opened with ``async with``; for ``seed`` and the other options see ``SQLiteStorage``.
    """

    @cached_property
    def _databases(self) -> dict[str, SQLiteDocumentDatabase]:
        return {}

    def database(self, namespace: str) -> SQLiteDocumentDatabase:
        """The ``DocumentDatabase`` for one store; the same object for the same namespace."""
        if namespace not in self._databases:
            self._databases[namespace] = SQLiteDocumentDatabase(self, namespace)
        return self._databases[namespace]
