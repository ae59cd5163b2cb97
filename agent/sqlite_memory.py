"""One collection's documents in memory, with hash indexes: pure logic, no I/O.

Like Parlant's transient store, a collection's documents are kept in memory once loaded,
in insertion (``seq``) order, with hash indexes on ``id`` and on the leading field of
every index Parlant asks for, so that lookups by id or session do not scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agent.sqlite_filters import Document, matches


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


class InMemoryDocuments:
    """A collection's documents by sequence number, in seq order, indexed on ``id``."""

    def __init__(self, documents: Iterable[tuple[int, Document]]) -> None:
        self._documents: dict[int, Document] = dict(documents)  # seq → document, seq order
        self._indexes: dict[str, _HashIndex] = {}
        self.add_index("id")

    def add_index(self, field: str) -> None:
        if field in self._indexes:
            return
        index = _HashIndex(field)
        for seq, document in self._documents.items():
            index.add(seq, document)
        self._indexes[field] = index

    def put(self, seq: int, document: Document) -> None:
        self._documents[seq] = document
        for index in self._indexes.values():
            index.add(seq, document)

    def forget(self, seq: int) -> None:
        document = self._documents.pop(seq)
        for index in self._indexes.values():
            index.remove(seq, document)

    def replace(self, seq: int, document: Document) -> None:
        old = self._documents[seq]
        for index in self._indexes.values():
            index.remove(seq, old)
            index.add(seq, document)
        self._documents[seq] = document

    def adopt(self, documents: Sequence[tuple[int, Document]]) -> None:
        """Documents moved in from another collection (failed migrations), in seq order."""
        for seq, document in documents:
            self.put(seq, document)
        self._documents = dict(sorted(self._documents.items()))

    def clear(self) -> None:
        """Forget every document; the indexes stay, empty."""
        self._documents.clear()
        for field in list(self._indexes):
            self._indexes[field] = _HashIndex(field)

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

    def matching(self, where: Mapping[str, Any]) -> list[tuple[int, Document]]:
        """The documents matching ``where``, in insertion order."""
        candidates = self._candidates(where)
        if candidates is None:
            return [(seq, doc) for seq, doc in self._documents.items() if matches(where, doc)]
        documents = self._documents
        return [
            (seq, documents[seq]) for seq in sorted(candidates) if matches(where, documents[seq])
        ]

    def first(self, where: Mapping[str, Any]) -> tuple[int, Document] | None:
        """The first document (in insertion order) matching ``where``."""
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
