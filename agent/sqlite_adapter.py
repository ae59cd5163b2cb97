"""Parlant's ``DocumentDatabase`` and ``DocumentCollection`` on a ``SQLiteStorage``.

A ``SQLiteDocumentDatabase`` is one namespace of the file; its collections answer reads
from memory (``InMemoryDocuments``) and write through the storage's writer thread. A
per-collection lock orders writes, and a write, once started, completes even if its
caller is cancelled; memory changes only after the commit succeeded.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, cast

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

from agent.sqlite_filters import Document, equalities, field_sort_key
from agent.sqlite_memory import InMemoryDocuments
from agent.sqlite_storage import DELETE, INSERT, UPDATE, SQLiteStorage, Statement, dumps

logger = logging.getLogger("agent.sqlite_database")  # the name it has always logged under

FAILED_MIGRATIONS = "failed_migrations"


class SQLiteDocumentDatabase(DocumentDatabase):
    """One namespace of a ``SQLiteStorage``: what one Parlant document store is given."""

    def __init__(self, file: SQLiteStorage, namespace: str) -> None:
        self._file = file
        self._namespace = namespace
        self._collections: dict[str, SQLiteDocumentCollection[Any]] = {}
        self._lock = asyncio.Lock()

    @property
    def namespace(self) -> str:
        return self._namespace

    def _exists(self, name: str) -> bool:
        return (self._namespace, name) in self._file.collection_names

    async def _create(self, name: str, schema: type[TDocument]) -> SQLiteDocumentCollection[Any]:
        await self._file.execute(
            [("INSERT OR IGNORE INTO collections VALUES (?, ?)", (self._namespace, name))]
        )
        self._file.collection_names.add((self._namespace, name))
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
            self._file.collection_names.discard((self._namespace, name))

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
            self._file.collection_names.add((self._namespace, FAILED_MIGRATIONS))
            if failed_collection := self._collections.get(FAILED_MIGRATIONS):
                failed_collection._memory.adopt([(seq, json.loads(body)) for seq, body in failed])

        collection = SQLiteDocumentCollection(self._file, self, name, schema, loaded)
        self._collections[name] = collection
        return collection


class SQLiteDocumentCollection(DocumentCollection[TDocument]):
    def __init__(
        self,
        file: SQLiteStorage,
        database: SQLiteDocumentDatabase,
        name: str,
        schema: type[TDocument],
        documents: Iterable[tuple[int, Document]],
    ) -> None:
        self._file = file
        self._database = database
        self._name = name
        self._schema = schema
        self._memory = InMemoryDocuments(documents)
        self._lock = asyncio.Lock()
        self._dropped = False

    def _drop(self) -> None:
        self._dropped = True
        self._memory.clear()

    def _check_live(self) -> None:
        if self._dropped:
            raise ValueError(f'Collection "{self._name}" was deleted')

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
        documents = [doc for _, doc in self._memory.matching(cast(Mapping[str, Any], filters))]
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
            found = self._memory.first(where)
            return cast(TDocument, found[1]) if found else None
        documents = [doc for _, doc in self._memory.matching(where)]
        for field, direction in reversed(sort):
            documents.sort(key=field_sort_key(field), reverse=direction == SortDirection.DESC)
        return cast(TDocument, documents[0]) if documents else None

    @override
    async def ensure_indexes(self, indexes: Sequence[CollectionIndex]) -> None:
        for index in indexes:
            if index.fields:
                self._memory.add_index(index.fields[0][0])

    # -- writes -----------------------------------------------------------------------

    @override
    async def insert_one(self, document: TDocument) -> InsertResult:
        ensure_is_total(document, self._schema)
        body = dumps(document)
        return await self._file.submit(self._insert(body))

    async def _insert(self, body: str) -> InsertResult:
        async with self._lock:
            self._check_live()
            seq = self._file.allocate_seq()
            await self._file.execute([(INSERT, (seq, self._database.namespace, self._name, body))])
            self._memory.put(seq, json.loads(body))
        return InsertResult(acknowledged=True)

    @override
    async def update_one(
        self,
        filters: Where,
        params: TDocument,
        upsert: bool = False,
    ) -> UpdateResult[TDocument]:
        dumps(params)  # not JSON: fail here, before anything is written
        return await self._file.submit(
            self._update(cast(Mapping[str, Any], filters), dict(params), upsert)
        )

    async def _update(
        self, where: Mapping[str, Any], params: Document, upsert: bool
    ) -> UpdateResult[TDocument]:
        async with self._lock:
            self._check_live()
            found = self._memory.first(where)
            if found is not None:
                seq, old = found
                merged = {**old, **params}
                body = dumps(merged)
                if merged == old:
                    return UpdateResult(True, 1, 0, cast(TDocument, old))
                await self._file.execute([(UPDATE, (body, seq))])
                new = json.loads(body)
                self._memory.replace(seq, new)
                return UpdateResult(True, 1, 1, cast(TDocument, new))
            if not upsert:
                return UpdateResult(True, 0, 0, None)
            document = {**equalities(where), **params}
            ensure_is_total(document, self._schema)
            body = dumps(document)
            seq = self._file.allocate_seq()
            await self._file.execute([(INSERT, (seq, self._database.namespace, self._name, body))])
            inserted = json.loads(body)
            self._memory.put(seq, inserted)
            return UpdateResult(True, 0, 0, cast(TDocument, inserted))

    @override
    async def delete_one(self, filters: Where) -> DeleteResult[TDocument]:
        return await self._file.submit(self._delete(cast(Mapping[str, Any], filters)))

    async def _delete(self, where: Mapping[str, Any]) -> DeleteResult[TDocument]:
        async with self._lock:
            self._check_live()
            found = self._memory.first(where)
            if found is None:
                return DeleteResult(acknowledged=True, deleted_count=0, deleted_document=None)
            seq, document = found
            await self._file.execute([(DELETE, (seq,))])
            self._memory.forget(seq)
        return DeleteResult(
            acknowledged=True, deleted_count=1, deleted_document=cast(TDocument, document)
        )
