"""The SQLite ``DocumentDatabase``: Parlant's contract, checked against its transient store."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, TypedDict, cast

import pytest
from parlant.adapters.db.transient import TransientDocumentDatabase
from parlant.core.common import IdGenerator, Version
from parlant.core.customers import CustomerDocumentStore
from parlant.core.persistence.common import ObjectId, SortDirection, Where
from parlant.core.persistence.document_database import (
    BaseDocument,
    CollectionIndex,
    DocumentCollection,
    identity_loader,
    identity_loader_for,
)
from parlant.core.sessions import EventKind, EventSource, SessionDocumentStore

from agent.sqlite_database import SQLiteFile, SQLiteStoreError


class Doc(TypedDict, total=False):
    id: ObjectId
    creation_utc: str
    version: Version.String
    name: str
    group: str
    size: int
    tags: list[str]


load_doc = identity_loader_for(Doc)


def doc(n: int, group: str, size: int, **extra: Any) -> Doc:
    return cast(
        Doc,
        {
            "id": ObjectId(f"d{n:02}"),
            "creation_utc": f"2026-01-01T00:00:{n % 7:02}",  # ties broken by id
            "version": "1",
            "name": f"doc {n}",
            "group": group,
            "size": size,
            "tags": [group, f"t{n % 3}"],
            **extra,
        },
    )


DOCS = [doc(n, "ab"[n % 2], n * 10 % 70) for n in range(20)]


@pytest.fixture
async def file(tmp_path: Path) -> AsyncIterator[SQLiteFile]:
    async with SQLiteFile(tmp_path / "store.sqlite") as opened:
        yield opened


async def _filled(file: SQLiteFile, indexed: bool) -> DocumentCollection[Doc]:
    collection = await file.database("test").get_or_create_collection("docs", Doc, load_doc)
    if indexed:
        await collection.ensure_indexes([CollectionIndex(fields=(("group", SortDirection.ASC),))])
    for d in DOCS:
        await collection.insert_one(d)
    return collection


async def _transient() -> DocumentCollection[Doc]:
    collection = await TransientDocumentDatabase().get_or_create_collection("docs", Doc, load_doc)
    for d in DOCS:
        await collection.insert_one(d)
    return collection


def _ids(documents: Iterable[BaseDocument]) -> list[str]:
    return [d["id"] for d in documents]


FILTERS: list[dict[str, Any]] = [
    {},
    {"id": {"$eq": "d07"}},
    {"id": {"$eq": "missing"}},
    {"group": {"$eq": "a"}},
    {"group": {"$ne": "a"}},
    {"size": {"$gt": 30}},
    {"size": {"$gte": 30}},
    {"size": {"$lt": 30}},
    {"size": {"$lte": 30}},
    {"size": {"$gt": 10, "$lt": 50}},
    {"group": {"$in": ["a", "c"]}},
    {"id": {"$in": ["d01", "d05", "nope"]}},
    {"group": {"$nin": ["a"]}},
    {"group": {"$eq": "a"}, "size": {"$gte": 40}},
    {"$and": [{"group": {"$eq": "b"}}, {"size": {"$lt": 40}}]},
    {"$or": [{"id": {"$eq": "d02"}}, {"size": {"$eq": 60}}]},
    {"$or": [{"group": {"$eq": "a"}, "size": {"$eq": 0}}, {"id": {"$eq": "d03"}}]},
    {"$and": [{"$or": [{"group": {"$eq": "a"}}, {"size": {"$lt": 20}}]}, {"size": {"$ne": 0}}]},
    {"$or": []},
]


@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "indexed"])
@pytest.mark.parametrize("where", FILTERS, ids=[str(f) for f in FILTERS])
async def test_filters_match_the_transient_store(
    file: SQLiteFile, where: dict[str, Any], indexed: bool
) -> None:
    ours = await _filled(file, indexed)
    reference = await _transient()
    for direction in (SortDirection.ASC, SortDirection.DESC):
        expected = await reference.find(cast(Where, where), sort_direction=direction)
        found = await ours.find(cast(Where, where), sort_direction=direction)
        assert _ids(found.items) == _ids(expected.items)
        assert found.total_count == expected.total_count
    first = await ours.find_one(cast(Where, where))
    expected_first = await reference.find_one(cast(Where, where))
    assert (first and first["id"]) == (expected_first and expected_first["id"])


async def test_missing_fields_and_mixed_types_do_not_raise(file: SQLiteFile) -> None:
    # Parlant's matches_filters raises KeyError/TypeError here; MongoDB answers instead.
    collection = await file.database("test").get_or_create_collection(
        "loose", BaseDocument, identity_loader
    )
    partial = {k: v for k, v in doc(3, "a", 5).items() if k != "size"}
    for document in (doc(1, "a", 5), {**doc(2, "a", 5), "size": "large"}, partial):
        await collection.insert_one(cast(BaseDocument, document))

    def where(condition: dict[str, Any]) -> Where:
        return cast(Where, {"size": condition})

    assert _ids(await collection.find(where({"$gt": 1}))) == ["d01"]
    assert _ids(await collection.find(where({"$ne": 5}))) == ["d02", "d03"]
    assert _ids(await collection.find(where({"$nin": [5]}))) == ["d02", "d03"]
    assert _ids(await collection.find(where({"$in": [5, "large"]}))) == ["d01", "d02"]


async def test_pagination_with_cursor_matches_the_transient_store(file: SQLiteFile) -> None:
    ours = await _filled(file, indexed=True)
    reference = await _transient()
    for direction in (SortDirection.ASC, SortDirection.DESC):
        pages: list[list[str]] = []
        expected_pages: list[list[str]] = []
        for collection, into in ((ours, pages), (reference, expected_pages)):
            cursor = None
            while True:
                page = await collection.find(
                    {"group": {"$eq": "a"}}, limit=3, cursor=cursor, sort_direction=direction
                )
                into.append(_ids(page.items))
                if not page.has_more:
                    break
                cursor = page.next_cursor
        assert pages == expected_pages
        assert sum(len(p) for p in pages) == 10


async def test_find_one_sorts_by_the_given_fields(file: SQLiteFile) -> None:
    collection = await _filled(file, indexed=True)
    largest = await collection.find_one(
        {"group": {"$eq": "b"}}, sort=(("size", SortDirection.DESC), ("id", SortDirection.ASC))
    )
    assert largest is not None and (largest["size"], largest["id"]) == (60, "d13")
    smallest = await collection.find_one({}, sort=(("size", SortDirection.ASC),))
    assert smallest is not None and smallest["id"] == "d00"


async def test_update_merges_fields_and_upsert_inserts_once(file: SQLiteFile) -> None:
    collection = await _filled(file, indexed=False)

    result = await collection.update_one({"id": {"$eq": "d04"}}, {"size": 999})
    assert (result.matched_count, result.modified_count) == (1, 1)
    assert result.updated_document is not None
    assert result.updated_document["size"] == 999
    assert result.updated_document["name"] == "doc 4"

    same = await collection.update_one({"id": {"$eq": "d04"}}, {"size": 999})
    assert (same.matched_count, same.modified_count) == (1, 0)

    missing = await collection.update_one({"id": {"$eq": "new"}}, {"size": 1})
    assert (missing.matched_count, missing.updated_document) == (0, None)

    fresh = doc(50, "c", 1)
    inserted = await collection.update_one({"id": {"$eq": "d50"}}, fresh, upsert=True)
    assert inserted.matched_count == 0 and inserted.updated_document == fresh
    again = await collection.update_one({"id": {"$eq": "d50"}}, {"size": 2}, upsert=True)
    assert again.matched_count == 1
    assert _ids((await collection.find({"group": {"$eq": "c"}})).items) == ["d50"]

    with pytest.raises(TypeError):  # an upsert must still be a whole document
        await collection.update_one({"id": {"$eq": "d51"}}, {"size": 2}, upsert=True)
    assert await collection.find_one({"id": {"$eq": "d51"}}) is None


async def test_delete_removes_one_document(file: SQLiteFile) -> None:
    collection = await _filled(file, indexed=True)
    deleted = await collection.delete_one({"group": {"$eq": "a"}})
    assert deleted.deleted_count == 1
    assert deleted.deleted_document is not None and deleted.deleted_document["id"] == "d00"
    assert await collection.find_one({"id": {"$eq": "d00"}}) is None
    assert (await collection.find({"group": {"$eq": "a"}})).total_count == 9
    nothing = await collection.delete_one({"id": {"$eq": "d00"}})
    assert (nothing.deleted_count, nothing.deleted_document) == (0, None)


async def test_everything_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SQLiteFile(path) as file:
        collection = await _filled(file, indexed=False)
        await collection.update_one({"id": {"$eq": "d03"}}, {"name": "renamed"})
        await collection.delete_one({"id": {"$eq": "d05"}})
        await collection.insert_one(doc(30, "a", 3))
        before = (await collection.find({})).items

    async with SQLiteFile(path) as file:
        reopened = await file.database("test").get_collection("docs", Doc, load_doc)
        after = (await reopened.find({})).items
        assert after == before
        assert [d["id"] for d in (await reopened.find({"id": {"$in": ["d03", "d05"]}}))] == ["d03"]
        renamed = await reopened.find_one({"id": {"$eq": "d03"}})
        assert renamed is not None and renamed["name"] == "renamed"
        in_order = await reopened.find_one({"group": {"$eq": "a"}, "size": {"$lt": 5}})
        assert in_order is not None and in_order["id"] == "d00"  # insertion order kept


async def test_a_document_that_is_not_json_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_or_create_collection("docs", Doc, load_doc)
        await collection.insert_one(doc(1, "a", 1))
        with pytest.raises(TypeError):
            await collection.insert_one(cast(Doc, {**doc(2, "a", 1), "tags": {object()}}))
        with pytest.raises(TypeError):
            await collection.update_one({"id": {"$eq": "d01"}}, cast(Doc, {"size": object()}))
        assert _ids((await collection.find({})).items) == ["d01"]
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_collection("docs", Doc, load_doc)
        assert (await collection.find({})).items == [doc(1, "a", 1)]


async def test_any_python_string_and_float_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    odd = doc(1, "a", 1, note="caf\u00e9 \U0001f600 \ud800 \x00", ratio=float("inf"))
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_or_create_collection("docs", Doc, load_doc)
        await collection.insert_one(odd)
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_collection("docs", Doc, load_doc)
        assert (await collection.find({})).items == [odd]


async def test_a_write_that_cannot_commit_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SQLiteFile(path, busy_timeout=0.05) as file:
        collection = await file.database("test").get_or_create_collection("docs", Doc, load_doc)
        await collection.insert_one(doc(1, "a", 1))

        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await collection.insert_one(doc(2, "a", 1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await collection.update_one({"id": {"$eq": "d01"}}, {"size": 7})
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                await collection.delete_one({"id": {"$eq": "d01"}})
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()

        assert (await collection.find({})).items == [doc(1, "a", 1)]
        await collection.insert_one(doc(3, "a", 1))
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_collection("docs", Doc, load_doc)
        assert _ids((await collection.find({})).items) == ["d01", "d03"]


async def test_a_cancelled_write_still_lands_in_memory_and_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_or_create_collection("docs", Doc, load_doc)
        writes = [asyncio.create_task(collection.insert_one(doc(n, "a", n))) for n in range(10)]
        await asyncio.sleep(0)
        for task in writes[::2]:
            task.cancel()
        await asyncio.gather(*writes, return_exceptions=True)
        await asyncio.sleep(0.2)
        in_memory = (await collection.find({})).items
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_collection("docs", Doc, load_doc)
        assert (await collection.find({})).items == in_memory


async def test_collections_and_namespaces_are_isolated(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SQLiteFile(path) as file:
        first = file.database("one")
        second = file.database("two")
        a = await first.get_or_create_collection("docs", Doc, load_doc)
        b = await second.get_or_create_collection("docs", Doc, load_doc)
        c = await first.get_or_create_collection("others", Doc, load_doc)
        await a.insert_one(doc(1, "a", 1))
        await b.insert_one(doc(2, "b", 2))
        await c.insert_one(doc(3, "c", 3))
        assert _ids((await a.find({})).items) == ["d01"]
        assert _ids((await b.find({})).items) == ["d02"]
        assert _ids((await c.find({})).items) == ["d03"]

        with pytest.raises(ValueError):
            await first.create_collection("docs", Doc)
        with pytest.raises(ValueError):
            await second.get_collection("others", Doc, load_doc)
        await first.delete_collection("docs")
        with pytest.raises(ValueError):
            await first.get_collection("docs", Doc, load_doc)
        with pytest.raises(ValueError):
            await a.insert_one(doc(4, "a", 4))

    async with SQLiteFile(path) as file:
        two = await file.database("two").get_collection("docs", Doc, load_doc)
        assert _ids((await two.find({})).items) == ["d02"]
        others = await file.database("one").get_collection("others", Doc, load_doc)
        assert _ids((await others.find({})).items) == ["d03"]
        fresh = await file.database("one").get_or_create_collection("docs", Doc, load_doc)
        assert (await fresh.find({})).items == []


async def test_loader_migrations_are_stored_and_failures_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with SQLiteFile(path) as file:
        collection = await file.database("test").get_or_create_collection("docs", Doc, load_doc)
        for n in range(4):
            await collection.insert_one(doc(n, "a", n, version="0"))

    async def migrate(document: BaseDocument) -> Doc | None:
        d = cast(Doc, document)
        if d["size"] == 1:
            return None
        if d["size"] == 2:
            raise KeyError("broken")
        return cast(Doc, {**d, "version": "1", "name": d["name"].upper()})

    async with SQLiteFile(path) as file:
        database = file.database("test")
        migrated = await database.get_collection("docs", Doc, migrate)
        assert [(d["id"], d["name"]) for d in await migrated.find({})] == [
            ("d00", "DOC 0"),
            ("d03", "DOC 3"),
        ]

    async with SQLiteFile(path) as file:
        database = file.database("test")
        stored = await database.get_collection("docs", Doc, load_doc)
        assert {d["version"] for d in await stored.find({})} == {"1"}
        failed = await database.get_collection("failed_migrations", BaseDocument, identity_loader)
        assert [d["id"] for d in await failed.find({})] == ["d01", "d02"]


async def test_a_failing_seed_creates_no_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"

    def broken_seed() -> dict[str, dict[str, list[dict[str, Any]]]]:
        raise ValueError("cannot read the source")

    with pytest.raises(ValueError, match="cannot read"):
        async with SQLiteFile(path, seed=broken_seed):
            pass
    assert not path.exists()

    async with SQLiteFile(path, seed=lambda: {"ns": {"docs": [dict(d) for d in DOCS[:3]]}}) as file:
        assert file.seeded == 3
        collection = await file.database("ns").get_collection("docs", Doc, load_doc)
        assert _ids((await collection.find({})).items) == ["d00", "d01", "d02"]
        await collection.insert_one(doc(9, "a", 9))  # sequence numbers continue after the seed
        assert _ids((await collection.find({})).items)[-1] == "d09"


async def test_a_second_opener_of_the_file_is_refused(file: SQLiteFile) -> None:
    with pytest.raises(SQLiteStoreError, match="in use"):
        async with SQLiteFile(file.path):
            pass


async def test_parlant_session_and_customer_stores_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    async with (
        SQLiteFile(path) as file,
        SessionDocumentStore(file.database("sessions")) as sessions,
        CustomerDocumentStore(IdGenerator(), file.database("customers")) as customers,
    ):
        customer = await customers.create_customer("Ada")
        session = await sessions.create_session(customer.id, agent_id=cast(Any, "agent"))
        for n in range(3):
            await sessions.create_event(
                session.id, EventSource.CUSTOMER, EventKind.MESSAGE, "trace", {"n": n}
            )
        await sessions.upsert_labels(session.id, {"vip"})
        await sessions.set_metadata(session.id, "k", {"v": 1})
        await sessions.update_session(session.id, {"mode": "manual"})

    async with (
        SQLiteFile(path) as file,
        SessionDocumentStore(file.database("sessions")) as sessions,
        CustomerDocumentStore(IdGenerator(), file.database("customers")) as customers,
    ):
        assert (await customers.read_customer(customer.id)).name == "Ada"
        reread = await sessions.read_session(session.id)
        assert (reread.mode, set(reread.labels)) == ("manual", {"vip"})
        assert reread.metadata == {"k": {"v": 1}}
        events = await sessions.list_events(session.id)
        assert [(e.offset, e.data) for e in events] == [(n, {"n": n}) for n in range(3)]
        fourth = await sessions.create_event(
            session.id, EventSource.HUMAN_AGENT, EventKind.MESSAGE, "trace", {"n": 3}
        )
        assert fourth.offset == 3
