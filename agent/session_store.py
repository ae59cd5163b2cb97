"""Builds the publishing session store on the database ``PARLANT_STORE`` names."""

import contextlib
from pathlib import Path

from parlant.adapters.db.json_file import JSONFileDocumentDatabase
from parlant.adapters.db.transient import TransientDocumentDatabase
from parlant.core.loggers import LogLevel, StdoutLogger
from parlant.core.persistence.document_database import DocumentDatabase
from parlant.core.tracer import LocalTracer

from agent.event_stream import EventHub, PublishingSessionStore
from agent.settings import ConfigError

SESSIONS_FILE = "sessions.json"


async def _database(stack: contextlib.AsyncExitStack, store: str, home: Path) -> DocumentDatabase:
    logger = StdoutLogger(LocalTracer(), LogLevel.WARNING, logger_id="agent.sessions")
    if store == "transient":
        return TransientDocumentDatabase()
    if store == "local":
        return await stack.enter_async_context(
            JSONFileDocumentDatabase(logger, home / SESSIONS_FILE)
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


async def open_session_store(
    stack: contextlib.AsyncExitStack, store: str, home: Path, hub: EventHub
) -> PublishingSessionStore:
    """The session store Parlant would build for ``store``, publishing to ``hub``."""
    database = await _database(stack, store, home)
    return await stack.enter_async_context(PublishingSessionStore(database, hub))
