"""The SQLite file itself: its lock, schema, seeding, and the writer thread that owns it.

Knows rows and statements, not Parlant: ``documents(seq, namespace, collection, body)``
with the body as JSON, ``collections(namespace, name)`` and the file's ``properties``.
Every call of ``execute`` is one transaction, run on the one writer thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self, TypeVar

T = TypeVar("T")
Namespaces = Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]
"""namespace → collection → documents, as ``seed`` functions return them."""

FORMAT = "1"
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


class SQLiteStorage:
    """One SQLite file, held by this process, and the writer thread that owns its connection.

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
        self.collection_names: set[tuple[str, str]] = set()
        """``(namespace, name)`` of every collection in the file; kept up by the databases."""
        self._properties: dict[str, str] = {}
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
        self.collection_names = {
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

    def allocate_seq(self) -> int:
        """The sequence number of the next document written (insertion order)."""
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def submit(self, work: Awaitable[T]) -> Awaitable[T]:
        """Run ``work`` to completion even if the awaiting caller is cancelled."""
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return asyncio.shield(task)
