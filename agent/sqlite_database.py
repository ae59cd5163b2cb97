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

Filters follow Parlant's ``matches_filters`` (``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``,
``$lte``, ``$in``, ``$nin``, ``$and``, ``$or``) with MongoDB's answer where that helper
would raise: a missing field matches only ``$ne``/``$nin``, values of different types
never compare, and a logical operator may sit next to field conditions.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self, TypeVar, cast

from parlant.core.persistence.common import Cursor, ObjectId, SortDirection, Where, ensure_is_total
from parlant.core.persistence.document_database import (
    BaseDocument,
    CollectionIndex,
    CollectionSort,
    DeleteResult,
    DocumentCollection,
    DocumentDatabase,
    FindResult,
    InsertResult,
    TDocument,
    UpdateResult,
)
from typing_extensions import override

logger = logging.getLogger(__name__)

T = TypeVar("T")
Document = dict[str, Any]
Namespaces = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
"""namespace → collection → documents, as ``seed`` functions return them."""

FORMAT = "1"
FAILED_MIGRATIONS = "failed_migrations"
SCHEMA = """
CREATE TABLE IF NOT EXISTS properties (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS collections (
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    collection TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_collection ON documents (namespace, collection, seq);
"""
INSERT = "INSERT INTO documents (seq, namespace, collection, body) VALUES (?, ?, ?, ?)"
UPDATE = "UPDATE documents SET body = ? WHERE seq = ?"
DELETE = "DELETE FROM documents WHERE seq = ?"
Statement = tuple[str, Sequence[Any]]


class SQLiteStoreError(Exception):
    """The file cannot be used: held by another process, or not one of ours."""


def dumps(document: Mapping[str, Any]) -> str:
    """A document's stored form; raises ``TypeError`` if it is not JSON.

    ASCII with escapes, so that any Python string (even a lone surrogate) can be stored;
    NaN and infinities are kept, as the JSON store keeps them.
    """
    return json.dumps(document, separators=(",", ":"))


# ---------------------------------------------------------------------------------------
# Filters


def _compare(op: str, value: Any, operand: Any) -> bool:
    try:
        if op == "$gt":
            return bool(value > operand)
        if op == "$gte":
            return bool(value >= operand)
        if op == "$lt":
            return bool(value < operand)
        return bool(value <= operand)
    except TypeError:
        return False


def _field_matches(document: Mapping[str, Any], field: str, condition: Any) -> bool:
    present = field in document
    value = document.get(field)
    if not isinstance(condition, Mapping):
        return present and bool(value == condition)
    for op, operand in condition.items():
        if op == "$eq":
            ok = present and bool(value == operand)
        elif op == "$ne":
            ok = not present or bool(value != operand)
        elif op == "$in":
            ok = present and any(value == candidate for candidate in operand)
        elif op == "$nin":
            ok = not present or all(value != candidate for candidate in operand)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            ok = present and value is not None and _compare(op, value, operand)
        else:
            raise ValueError(f"unsupported filter operator {op!r} on field {field!r}")
        if not ok:
            return False
    return True


def matches(where: Mapping[str, Any], document: Mapping[str, Any]) -> bool:
    """Whether ``document`` satisfies Parlant's ``Where`` filter."""
    for key, condition in where.items():
        if key == "$and":
            if not all(matches(sub, document) for sub in condition):
                return False
        elif key == "$or":
            if not any(matches(sub, document) for sub in condition):
                return False
        elif not _field_matches(document, key, condition):
            return False
    return True


def _equalities(where: Mapping[str, Any]) -> Document:
    """The fields a filter pins to one value: what an upsert adds to the inserted document."""
    pinned: Document = {}
    for key, condition in where.items():
        if key == "$and":
            for sub in condition:
                pinned.update(_equalities(sub))
        elif key == "$or":
            continue
        elif isinstance(condition, Mapping):
            if "$eq" in condition:
                pinned[key] = condition["$eq"]
        else:
            pinned[key] = condition
    return pinned


def _field_sort_key(field: str) -> Callable[[Mapping[str, Any]], tuple[bool, Any]]:
    """Sorts by one field, a missing or null value first (as MongoDB does)."""

    def key(document: Mapping[str, Any]) -> tuple[bool, Any]:
        value = document.get(field)
        return (value is not None, value)

    return key


# ---------------------------------------------------------------------------------------
# The file


def _lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SQLiteStoreError(f"{path} is in use by another process") from None
    return fd


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
    try:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise SQLiteStoreError(f"{path}: WAL journal not available (got {mode})")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA journal_size_limit=67108864")
        connection.executescript(SCHEMA)
    except BaseException:
        connection.close()
        raise
    return connection


def _write_seed(path: Path, namespaces: Namespaces, properties: Mapping[str, str]) -> int:
    """Create ``path`` holding ``namespaces`` in one transaction; the file appears whole or
    not at all (built next to it, then renamed into place). Returns the document count."""
    building = path.with_name(path.name + ".building")
    for stale in (building, building.with_name(building.name + "-journal")):
        stale.unlink(missing_ok=True)
    count = 0
    try:
        connection = sqlite3.connect(building, isolation_level=None)
        try:
            connection.executescript(SCHEMA)
            connection.execute("BEGIN IMMEDIATE")
            for namespace, collections in namespaces.items():
                for name, documents in collections.items():
                    connection.execute(
                        "INSERT OR IGNORE INTO collections VALUES (?, ?)", (namespace, name)
                    )
                    rows = [
                        (count + n + 1, namespace, name, dumps(doc))
                        for n, doc in enumerate(documents)
                    ]
                    connection.executemany(INSERT, rows)
                    count += len(rows)
            connection.executemany(
                "INSERT OR REPLACE INTO properties VALUES (?, ?)",
                [("format", FORMAT), *properties.items()],
            )
            connection.execute("COMMIT")
        finally:
            connection.close()
        os.replace(building, path)
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    return count


class SQLiteFile:
    """One SQLite file, its writer thread, and the namespaced databases on it.

    ``seed``, if given, is called when the file does not exist yet (after the lock is
    taken): what it returns is written into the new file in one transaction, together
    with ``seed_properties``. If ``seed`` raises, no file is created.
    """

    def __init__(
        self,
        path: Path,
        *,
        seed: Callable[[], Namespaces] | None = None,
        seed_properties: Mapping[str, str] = {},
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = path
        self._seed = seed
        self._seed_properties = dict(seed_properties)
        self._busy_timeout = busy_timeout
        self._lock_fd: int | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self._next_seq = 1
        self._collections: set[tuple[str, str]] = set()
        self._properties: dict[str, str] = {}
        self._databases: dict[str, SQLiteDocumentDatabase] = {}
        self._pending: set[asyncio.Task[Any]] = set()
        self.seeded: int | None = None
        """Documents written from ``seed`` when this open created the file, else ``None``."""

    async def __aenter__(self) -> Self:
        self._lock_fd = _lock(self.path)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        try:
            await self._run(self._open)
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._close()

    def _open(self) -> None:
        if self._seed is not None and not self.path.exists():
            self.seeded = _write_seed(self.path, self._seed(), self._seed_properties)
        connection = _connect(self.path, self._busy_timeout)
        self._connection = connection
        self._properties = dict(connection.execute("SELECT key, value FROM properties"))
        fmt = self._properties.setdefault("format", FORMAT)
        if fmt != FORMAT:
            raise SQLiteStoreError(f"{self.path}: unknown format {fmt!r} (this agent: {FORMAT})")
        connection.execute("INSERT OR IGNORE INTO properties VALUES ('format', ?)", (FORMAT,))
        self._collections = {
            (str(namespace), str(name))
            for namespace, name in connection.execute("SELECT namespace, name FROM collections")
        }
        (last,) = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM documents").fetchone()
        self._next_seq = int(last) + 1

    async def _close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._executor is not None:
            if self._connection is not None:
                await self._run(self._connection.close)
                self._connection = None
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def database(self, namespace: str) -> SQLiteDocumentDatabase:
        """The ``DocumentDatabase`` for one store; the same object for the same namespace."""
        if namespace not in self._databases:
            self._databases[namespace] = SQLiteDocumentDatabase(self, namespace)
        return self._databases[namespace]

    @property
    def properties(self) -> Mapping[str, str]:
        return dict(self._properties)

    async def set_property(self, key: str, value: str | None) -> None:
        """Store (or, with ``None``, remove) one of the file's own properties."""
        if value is None:
            await self.execute([("DELETE FROM properties WHERE key = ?", (key,))])
            self._properties.pop(key, None)
        else:
            await self.execute([("INSERT OR REPLACE INTO properties VALUES (?, ?)", (key, value))])
            self._properties[key] = value

    # -- the writer thread ------------------------------------------------------------

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise SQLiteStoreError(f"{self.path} is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _statements(self, statements: Sequence[Statement]) -> None:
        connection = self._connection
        if connection is None:
            raise SQLiteStoreError(f"{self.path} is closed")
        if len(statements) == 1:  # one statement is its own transaction
            connection.execute(*statements[0])
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            for sql, parameters in statements:
                connection.execute(sql, parameters)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    async def execute(self, statements: Sequence[Statement]) -> None:
        """Run ``statements`` as one transaction on the writer thread."""
        await self._run(self._statements, statements)

    def _select(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._connection is None:
            raise SQLiteStoreError(f"{self.path} is closed")
        return list(self._connection.execute(sql, parameters))

    async def select(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._run(self._select, sql, parameters)

    def _allocate_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _submit(self, work: Awaitable[T]) -> Awaitable[T]:
        """Run ``work`` to completion even if the awaiting caller is cancelled."""
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return asyncio.shield(task)


# ---------------------------------------------------------------------------------------
# Databases and collections


class SQLiteDocumentDatabase(DocumentDatabase):
    """One namespace of a ``SQLiteFile``: what one Parlant document store is given."""

    def __init__(self, file: SQLiteFile, namespace: str) -> None:
        self._file = file
        self._namespace = namespace
        self._collections: dict[str, SQLiteDocumentCollection[Any]] = {}
        self._lock = asyncio.Lock()

    @property
    def namespace(self) -> str:
        return self._namespace

    def _exists(self, name: str) -> bool:
        return (self._namespace, name) in self._file._collections

    async def _create(self, name: str, schema: type[TDocument]) -> SQLiteDocumentCollection[Any]:
        await self._file.execute(
            [("INSERT OR IGNORE INTO collections VALUES (?, ?)", (self._namespace, name))]
        )
        self._file._collections.add((self._namespace, name))
        collection = SQLiteDocumentCollection(self._file, self, name, schema, [])
        self._collections[name] = collection
        return collection

    @override
    async def create_collection(
        self, name: str, schema: type[TDocument]
    ) -> SQLiteDocumentCollection[TDocument]:
        async with self._lock:
            if self._exists(name):
                raise ValueError(f'Collection "{name}" already exists')
            return await self._create(name, schema)

    @override
    async def get_collection(
        self,
        name: str,
        schema: type[TDocument],
        document_loader: Callable[[BaseDocument], Awaitable[TDocument | None]],
    ) -> SQLiteDocumentCollection[TDocument]:
        async with self._lock:
            if collection := self._collections.get(name):
                return collection
            if not self._exists(name):
                raise ValueError(f'Collection "{name}" does not exist')
            return await self._load(name, schema, document_loader)

    @override
    async def get_or_create_collection(
        self,
        name: str,
        schema: type[TDocument],
        document_loader: Callable[[BaseDocument], Awaitable[TDocument | None]],
    ) -> SQLiteDocumentCollection[TDocument]:
        async with self._lock:
            if collection := self._collections.get(name):
                return collection
            if self._exists(name):
                return await self._load(name, schema, document_loader)
            return await self._create(name, schema)

    @override
    async def delete_collection(self, name: str) -> None:
        async with self._lock:
            if not self._exists(name):
                raise ValueError(f'Collection "{name}" does not exist')
            collection = self._collections.pop(name, None)
            statements: list[Statement] = [
                (
                    "DELETE FROM documents WHERE namespace = ? AND collection = ?",
                    (self._namespace, name),
                ),
                (
                    "DELETE FROM collections WHERE namespace = ? AND name = ?",
                    (self._namespace, name),
                ),
            ]
            if collection is None:
                await self._file.execute(statements)
            else:
                async with collection._lock:
                    await self._file.execute(statements)
                    collection._drop()
            self._file._collections.discard((self._namespace, name))

    async def _load(
        self,
        name: str,
        schema: type[TDocument],
        document_loader: Callable[[BaseDocument], Awaitable[TDocument | None]],
    ) -> SQLiteDocumentCollection[Any]:
        """Read a collection, pass each document through Parlant's loader (its migrations),
        and store what changed in one transaction: migrated documents rewritten, documents
        the loader rejects moved to ``failed_migrations``."""
        rows = await self._file.select(
            "SELECT seq, body FROM documents WHERE namespace = ? AND collection = ? ORDER BY seq",
            (self._namespace, name),
        )
        loaded: list[tuple[int, Document]] = []
        rewritten: list[Statement] = []
        failed: list[tuple[int, str]] = []
        for seq, body in rows:
            document = json.loads(body)
            try:
                result = await document_loader(cast(BaseDocument, document))
            except Exception as error:
                logger.error(
                    "%s/%s: cannot load document %s (%s); moved to %s",
                    self._namespace,
                    name,
                    document.get("id"),
                    error,
                    FAILED_MIGRATIONS,
                )
                failed.append((seq, body))
                continue
            if result is None:
                logger.warning(
                    "%s/%s: document %s was not loaded; moved to %s",
                    self._namespace,
                    name,
                    document.get("id"),
                    FAILED_MIGRATIONS,
                )
                failed.append((seq, body))
                continue
            new_body = dumps(result)
            if new_body != body:  # migrated (or changed in place) by the loader
                rewritten.append((UPDATE, (new_body, seq)))
                document = json.loads(new_body)
            loaded.append((seq, document))

        statements = list(rewritten)
        if failed:
            statements.append(
                (
                    "INSERT OR IGNORE INTO collections VALUES (?, ?)",
                    (self._namespace, FAILED_MIGRATIONS),
                )
            )
            statements.extend(
                ("UPDATE documents SET collection = ? WHERE seq = ?", (FAILED_MIGRATIONS, seq))
                for seq, _ in failed
            )
        if statements:
            await self._file.execute(statements)
        if failed:
            self._file._collections.add((self._namespace, FAILED_MIGRATIONS))
            if failed_collection := self._collections.get(FAILED_MIGRATIONS):
                failed_collection._adopt([(seq, json.loads(body)) for seq, body in failed])

        collection = SQLiteDocumentCollection(self._file, self, name, schema, loaded)
        self._collections[name] = collection
        return collection


class _HashIndex:
    """Sequence numbers of the documents by the value of one field."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._buckets: dict[Any, set[int]] = {}
        self._unhashable: set[int] = set()  # documents whose value is a list or object

    def add(self, seq: int, document: Mapping[str, Any]) -> None:
        if self.field not in document:
            return
        try:
            self._buckets.setdefault(document[self.field], set()).add(seq)
        except TypeError:
            self._unhashable.add(seq)

    def remove(self, seq: int, document: Mapping[str, Any]) -> None:
        if self.field not in document:
            return
        value = document[self.field]
        try:
            bucket = self._buckets.get(value)
        except TypeError:
            self._unhashable.discard(seq)
            return
        if bucket is not None:
            bucket.discard(seq)
            if not bucket:
                del self._buckets[value]

    def lookup(self, value: Any) -> set[int] | None:
        """Every document whose field may equal ``value`` (``None``: cannot tell)."""
        try:
            bucket = self._buckets.get(value)
        except TypeError:
            return None
        if bucket is None:
            return set(self._unhashable)
        return bucket | self._unhashable if self._unhashable else bucket


def _smaller(a: set[int] | None, b: set[int] | None) -> set[int] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if len(a) <= len(b) else b


class SQLiteDocumentCollection(DocumentCollection[TDocument]):
    def __init__(
        self,
        file: SQLiteFile,
        database: SQLiteDocumentDatabase,
        name: str,
        schema: type[TDocument],
        documents: Iterable[tuple[int, Document]],
    ) -> None:
        self._file = file
        self._database = database
        self._name = name
        self._schema = schema
        self._documents: dict[int, Document] = dict(documents)  # seq → document, seq order
        self._indexes: dict[str, _HashIndex] = {}
        self._lock = asyncio.Lock()
        self._dropped = False
        self._add_index("id")

    # -- memory -----------------------------------------------------------------------

    def _add_index(self, field: str) -> None:
        if field in self._indexes:
            return
        index = _HashIndex(field)
        for seq, document in self._documents.items():
            index.add(seq, document)
        self._indexes[field] = index

    def _put(self, seq: int, document: Document) -> None:
        self._documents[seq] = document
        for index in self._indexes.values():
            index.add(seq, document)

    def _forget(self, seq: int) -> None:
        document = self._documents.pop(seq)
        for index in self._indexes.values():
            index.remove(seq, document)

    def _replace(self, seq: int, document: Document) -> None:
        old = self._documents[seq]
        for index in self._indexes.values():
            index.remove(seq, old)
            index.add(seq, document)
        self._documents[seq] = document

    def _adopt(self, documents: Sequence[tuple[int, Document]]) -> None:
        """Documents moved in from another collection (failed migrations), in seq order."""
        for seq, document in documents:
            self._put(seq, document)
        self._documents = dict(sorted(self._documents.items()))

    def _drop(self) -> None:
        self._dropped = True
        self._documents.clear()
        for field in list(self._indexes):
            self._indexes[field] = _HashIndex(field)

    def _check_live(self) -> None:
        if self._dropped:
            raise ValueError(f'Collection "{self._name}" was deleted')

    def _candidates(self, where: Mapping[str, Any]) -> set[int] | None:
        """A superset of the documents ``where`` can match, from the indexes (``None``:
        every document)."""
        best: set[int] | None = None
        for key, condition in where.items():
            if key == "$and":
                for sub in condition:
                    best = _smaller(best, self._candidates(sub))
            elif key == "$or":
                union: set[int] | None = set()
                for sub in condition:
                    found = self._candidates(sub)
                    if found is None or union is None:
                        union = None
                        break
                    union = union | found
                best = _smaller(best, union)
            elif index := self._indexes.get(key):
                if not isinstance(condition, Mapping):
                    best = _smaller(best, index.lookup(condition))
                elif "$eq" in condition:
                    best = _smaller(best, index.lookup(condition["$eq"]))
                elif "$in" in condition:
                    either: set[int] | None = set()
                    for value in condition["$in"]:
                        found = index.lookup(value)
                        if found is None or either is None:
                            either = None
                            break
                        either = either | found
                    best = _smaller(best, either)
        return best

    def _matching(self, where: Mapping[str, Any]) -> list[tuple[int, Document]]:
        """The documents matching ``where``, in insertion order."""
        candidates = self._candidates(where)
        if candidates is None:
            return [(seq, doc) for seq, doc in self._documents.items() if matches(where, doc)]
        documents = self._documents
        return [
            (seq, documents[seq]) for seq in sorted(candidates) if matches(where, documents[seq])
        ]

    def _first(self, where: Mapping[str, Any]) -> tuple[int, Document] | None:
        candidates = self._candidates(where)
        if candidates is None:
            for seq, document in self._documents.items():
                if matches(where, document):
                    return seq, document
            return None
        for seq in sorted(candidates):
            document = self._documents[seq]
            if matches(where, document):
                return seq, document
        return None

    # -- reads ------------------------------------------------------------------------

    @override
    async def find(
        self,
        filters: Where,
        limit: int | None = None,
        cursor: Cursor | None = None,
        sort_direction: SortDirection | None = None,
    ) -> FindResult[TDocument]:
        direction = sort_direction or SortDirection.ASC
        descending = direction == SortDirection.DESC
        documents = [doc for _, doc in self._matching(cast(Mapping[str, Any], filters))]
        documents.sort(
            key=lambda d: (d.get("creation_utc") or "", d.get("id") or ""), reverse=descending
        )
        if cursor is not None:
            after = (str(cursor.creation_utc), str(cursor.id))
            documents = [
                d
                for d in documents
                if (
                    (str(d.get("creation_utc", "")), str(d.get("id", ""))) < after
                    if descending
                    else (str(d.get("creation_utc", "")), str(d.get("id", ""))) > after
                )
            ]
        total_count = len(documents)
        if limit is not None and total_count > limit:
            page = documents[:limit]
            next_cursor = (
                Cursor(
                    creation_utc=str(page[-1].get("creation_utc", "")),
                    id=ObjectId(str(page[-1].get("id", ""))),
                )
                if page
                else None
            )
            return FindResult(
                items=cast(list[TDocument], page),
                total_count=total_count,
                has_more=True,
                next_cursor=next_cursor,
            )
        return FindResult(
            items=cast(list[TDocument], documents),
            total_count=total_count,
            has_more=False,
            next_cursor=None,
        )

    @override
    async def find_one(
        self,
        filters: Where,
        sort: CollectionSort | None = None,
    ) -> TDocument | None:
        where = cast(Mapping[str, Any], filters)
        if not sort:
            found = self._first(where)
            return cast(TDocument, found[1]) if found else None
        documents = [doc for _, doc in self._matching(where)]
        for field, direction in reversed(sort):
            documents.sort(key=_field_sort_key(field), reverse=direction == SortDirection.DESC)
        return cast(TDocument, documents[0]) if documents else None

    @override
    async def ensure_indexes(self, indexes: Sequence[CollectionIndex]) -> None:
        for index in indexes:
            if index.fields:
                self._add_index(index.fields[0][0])

    # -- writes -----------------------------------------------------------------------

    @override
    async def insert_one(self, document: TDocument) -> InsertResult:
        ensure_is_total(document, self._schema)
        body = dumps(document)
        return await self._file._submit(self._insert(body))

    async def _insert(self, body: str) -> InsertResult:
        async with self._lock:
            self._check_live()
            seq = self._file._allocate_seq()
            await self._file.execute([(INSERT, (seq, self._database.namespace, self._name, body))])
            self._put(seq, json.loads(body))
        return InsertResult(acknowledged=True)

    @override
    async def update_one(
        self,
        filters: Where,
        params: TDocument,
        upsert: bool = False,
    ) -> UpdateResult[TDocument]:
        dumps(params)  # not JSON: fail here, before anything is written
        return await self._file._submit(
            self._update(cast(Mapping[str, Any], filters), dict(params), upsert)
        )

    async def _update(
        self, where: Mapping[str, Any], params: Document, upsert: bool
    ) -> UpdateResult[TDocument]:
        async with self._lock:
            self._check_live()
            found = self._first(where)
            if found is not None:
                seq, old = found
                merged = {**old, **params}
                body = dumps(merged)
                if merged == old:
                    return UpdateResult(True, 1, 0, cast(TDocument, old))
                await self._file.execute([(UPDATE, (body, seq))])
                new = json.loads(body)
                self._replace(seq, new)
                return UpdateResult(True, 1, 1, cast(TDocument, new))
            if not upsert:
                return UpdateResult(True, 0, 0, None)
            document = {**_equalities(where), **params}
            ensure_is_total(document, self._schema)
            body = dumps(document)
            seq = self._file._allocate_seq()
            await self._file.execute([(INSERT, (seq, self._database.namespace, self._name, body))])
            inserted = json.loads(body)
            self._put(seq, inserted)
            return UpdateResult(True, 0, 0, cast(TDocument, inserted))

    @override
    async def delete_one(self, filters: Where) -> DeleteResult[TDocument]:
        return await self._file._submit(self._delete(cast(Mapping[str, Any], filters)))

    async def _delete(self, where: Mapping[str, Any]) -> DeleteResult[TDocument]:
        async with self._lock:
            self._check_live()
            found = self._first(where)
            if found is None:
                return DeleteResult(acknowledged=True, deleted_count=0, deleted_document=None)
            seq, document = found
            await self._file.execute([(DELETE, (seq,))])
            self._forget(seq)
        return DeleteResult(
            acknowledged=True, deleted_count=1, deleted_document=cast(TDocument, document)
        )
