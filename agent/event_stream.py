"""Pushes every session event and session change to subscribers, as it is written.

Parlant's REST long-poll costs the server a re-read of the session every 0.25 s per
waiting client, so one long-poll per handed-off session does not scale. Instead the
session store is subclassed: whatever writes an event (customer, AI, human, tool) goes
through ``create_event``, which publishes it to an in-process hub. ``GET /handoff/stream``
serves the hub as newline-delimited JSON, one line per change:

* ``{"type": "hello", "stream_id": ...}`` first: subscribers catch up over REST after it;
* ``{"type": "event", "session_id": ..., "event": {id, source, kind, offset, ...}}``;
* ``{"type": "session", "session_id": ...}`` when mode, labels or metadata change;
* ``{"type": "ping"}`` every ``PING_SECONDS`` while idle.

``?kinds=message,tool`` limits the event lines to those kinds.

The stream carries every customer's messages, so it requires the operator token
(``Authorization: Bearer``; 401 otherwise) whenever one is configured, and serves at most
``MAX_SUBSCRIBERS`` clients at once (503 beyond).

A subscriber that falls too far behind is disconnected rather than blocking writers;
it reconnects and catches up from its stored offsets, so nothing is lost.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Set
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from parlant.core.common import JSONSerializable
from parlant.core.persistence.document_database import DocumentDatabase
from parlant.core.sessions import (
    Event,
    EventKind,
    EventSource,
    Session,
    SessionDocumentStore,
    SessionId,
    SessionUpdateParams,
)

from agent.authorization import is_operator
from agent.secret import Secret

logger = logging.getLogger(__name__)

STREAM_PATH = "/handoff/stream"
PING_SECONDS = 15.0
SUBSCRIBER_BACKLOG = 10_000
MAX_SUBSCRIBERS = 8
Notice = dict[str, Any]


class EventHub:
    """Fan-out of notices to any number of subscribers, without ever blocking a writer."""

    def __init__(
        self, backlog: int = SUBSCRIBER_BACKLOG, max_subscribers: int = MAX_SUBSCRIBERS
    ) -> None:
        self._backlog = backlog
        self._max_subscribers = max_subscribers
        self._subscribers: set[asyncio.Queue[Notice | None]] = set()

    def publish(self, notice: Notice) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(notice)
            except asyncio.QueueFull:
                logger.warning(
                    "a stream subscriber fell %d notices behind; dropping it", self._backlog
                )
                self._subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator["asyncio.Queue[Notice | None]"]:
        queue: asyncio.Queue[Notice | None] = asyncio.Queue(self._backlog)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def full(self) -> bool:
        return len(self._subscribers) >= self._max_subscribers


def event_notice(session_id: str, event: Event) -> Notice:
    return {
        "type": "event",
        "session_id": session_id,
        "event": {
            "id": event.id,
            "source": event.source.value,
            "kind": event.kind.value,
            "offset": event.offset,
            "creation_utc": event.creation_utc.isoformat(),
            "trace_id": event.trace_id,
            "data": event.data,
            "metadata": dict(event.metadata),
            "deleted": event.deleted,
        },
    }


class PublishingSessionStore(SessionDocumentStore):
    """Parlant's session store, publishing each write to an ``EventHub`` once it is stored."""

    def __init__(
        self, database: DocumentDatabase, hub: EventHub, allow_migration: bool = False
    ) -> None:
        super().__init__(database, allow_migration=allow_migration)
        self._hub = hub

    def _session_changed(self, session_id: SessionId) -> None:
        self._hub.publish({"type": "session", "session_id": session_id})

    async def create_event(
        self,
        session_id: SessionId,
        source: EventSource,
        kind: EventKind,
        trace_id: str,
        data: JSONSerializable,
        metadata: Mapping[str, JSONSerializable] = {},
        creation_utc: datetime | None = None,
    ) -> Event:
        event = await super().create_event(
            session_id, source, kind, trace_id, data, metadata, creation_utc
        )
        self._hub.publish(event_notice(session_id, event))
        return event

    async def update_session(self, session_id: SessionId, params: SessionUpdateParams) -> Session:
        session = await super().update_session(session_id, params)
        if {"mode", "metadata", "customer_id", "agent_id"} & set(params):
            self._session_changed(session_id)
        return session

    async def set_metadata(
        self, session_id: SessionId, key: str, value: JSONSerializable
    ) -> Session:
        session = await super().set_metadata(session_id, key, value)
        self._session_changed(session_id)
        return session

    async def unset_metadata(self, session_id: SessionId, key: str) -> Session:
        session = await super().unset_metadata(session_id, key)
        self._session_changed(session_id)
        return session

    async def upsert_labels(self, session_id: SessionId, labels: Set[str]) -> Session:
        session = await super().upsert_labels(session_id, set(labels))
        self._session_changed(session_id)
        return session

    async def remove_labels(self, session_id: SessionId, labels: Set[str]) -> Session:
        session = await super().remove_labels(session_id, set(labels))
        self._session_changed(session_id)
        return session


def _wanted(notice: Notice, kinds: frozenset[str] | None) -> bool:
    return kinds is None or notice["type"] != "event" or notice["event"]["kind"] in kinds


async def _stream(hub: EventHub, kinds: frozenset[str] | None) -> AsyncIterator[bytes]:
    async with hub.subscribe() as queue:
        yield _line({"type": "hello", "stream_id": uuid.uuid4().hex})
        while True:
            try:
                notice = await asyncio.wait_for(queue.get(), PING_SECONDS)
            except TimeoutError:
                yield _line({"type": "ping"})
                continue
            if notice is None:
                return
            if _wanted(notice, kinds):
                yield _line(notice)


def _line(notice: Notice) -> bytes:
    return (json.dumps(notice, default=str, separators=(",", ":")) + "\n").encode()


def add_stream_route(app: FastAPI, hub: EventHub, token: Secret | None) -> None:
    """Serve the hub at ``STREAM_PATH``; with a ``token``, only to callers presenting it.

    Routes added here bypass Parlant's authorization policy, so the check is made here.
    """

    @app.get(STREAM_PATH, include_in_schema=False)
    async def handoff_stream(request: Request, kinds: str | None = None) -> Response:
        if token is not None and not is_operator(request, token):
            return JSONResponse(
                {"detail": "the push stream needs the operator token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if hub.full:
            return JSONResponse({"detail": "too many stream subscribers"}, status_code=503)
        wanted = frozenset(k.strip() for k in kinds.split(",")) if kinds else None
        return StreamingResponse(_stream(hub, wanted), media_type="application/x-ndjson")
