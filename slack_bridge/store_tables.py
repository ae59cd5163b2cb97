"""The SQLite connection the store's tables share, and the three ways they use it."""

from collections.abc import Sequence
from typing import Any

import aiosqlite


class SqliteTables:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def _one(self, sql: str, *args: object) -> Sequence[Any] | None:
        rows = await self._all(sql, *args)
        return rows[0] if rows else None

    async def _all(self, sql: str, *args: object) -> list[Sequence[Any]]:
        # One trip to aiosqlite's thread (a cursor's execute, fetch and close are three).
        return list(await self._db.execute_fetchall(sql, args))

    async def _write(self, sql: str, *args: object) -> int:
        async with self._db.execute(sql, args) as cursor:
            changed = cursor.rowcount
        await self._db.commit()
        return changed
