"""Parlant's REST API and the agent's push stream, as the bridge needs them (aiohttp).

Everything the bridge knows about Parlant comes through here: the handoff marking
(label ``handoff`` + metadata ``handoff``), session events, and the stream of changes.
Responses are parsed into frozen dataclasses once, at this edge.
"""

import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from agent.handoff_protocol import HANDOFF_LABEL, HANDOFF_METADATA_KEY, ApiRequest
from agent.secret import Secret
from slack_bridge.errors import ParlantError, ParlantRejected, ParlantUnavailable
from slack_bridge.ids import EventId, EventKind, EventSource, SessionId

logger = logging.getLogger(__name__)

STREAM_PATH = "/handoff/stream"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
REPLY_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=5)
"""For requests Parlant answers only once the AI has written its reply."""
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5, sock_read=45)


@dataclass(frozen=True)
class HandoffMark:
    reason: str
    requested_at: datetime


@dataclass(frozen=True)
class ParlantSession:
    id: SessionId
    customer_id: str
    agent_id: str
    mode: str
    labels: frozenset[str]
    handoff: HandoffMark | None
    created_at: datetime

    @property
    def handed_off(self) -> bool:
        # The handoff tool writes the label and metadata; the engine switches the mode to
        # manual right after the tool returns, so the marking alone is the signal.
        return HANDOFF_LABEL in self.labels and self.handoff is not None


@dataclass(frozen=True)
class ParlantCustomer:
    name: str
    tags: frozenset[str]
    """Tag ids."""
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class ParlantEvent:
    id: EventId
    session_id: SessionId
    source: EventSource
    kind: EventKind
    offset: int
    created_at: datetime
    message: str
    participant_id: str | None
    participant_name: str | None
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class StreamNotice:
    """One line of the agent's push stream: ``hello``, ``event``, ``session`` or ``ping``."""

    type: str
    session_id: SessionId | None = None
    event: ParlantEvent | None = None


def _time(raw: object) -> datetime:
    return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))


def parse_session(raw: Mapping[str, Any]) -> ParlantSession:
    metadata = raw.get("metadata") or {}
    mark = metadata.get(HANDOFF_METADATA_KEY)
    handoff = None
    if isinstance(mark, Mapping):
        requested = mark.get("requested_at") or raw.get("creation_utc")
        handoff = HandoffMark(reason=str(mark.get("reason") or ""), requested_at=_time(requested))
    return ParlantSession(
        id=SessionId(str(raw["id"])),
        customer_id=str(raw.get("customer_id") or ""),
        agent_id=str(raw.get("agent_id") or ""),
        mode=str(raw.get("mode") or "auto"),
        labels=frozenset(raw.get("labels") or ()),
        handoff=handoff,
        created_at=_time(raw["creation_utc"]),
    )


def parse_event(session_id: str, raw: Mapping[str, Any]) -> ParlantEvent:
    data = raw.get("data")
    data = data if isinstance(data, Mapping) else {}
    participant = data.get("participant")
    participant = participant if isinstance(participant, Mapping) else {}
    return ParlantEvent(
        id=EventId(str(raw["id"])),
        session_id=SessionId(session_id),
        source=EventSource(raw["source"]),
        kind=EventKind(raw["kind"]),
        offset=int(raw["offset"]),
        created_at=_time(raw["creation_utc"]),
        message=str(data.get("message") or ""),
        participant_id=participant.get("id"),
        participant_name=participant.get("display_name"),
        metadata=raw.get("metadata") or {},
    )


def parse_notice(raw: Mapping[str, Any]) -> StreamNotice:
    session_id = raw.get("session_id")
    event = raw.get("event")
    return StreamNotice(
        type=str(raw.get("type")),
        session_id=SessionId(session_id) if session_id else None,
        event=parse_event(session_id, event) if session_id and isinstance(event, Mapping) else None,
    )


def _path(*segments: str) -> str:
    """A URL path whose every segment is quoted: ids never add or climb path levels."""
    return "".join("/" + quote(segment, safe="") for segment in segments)


class ParlantClient:
    """Parlant's REST API over one shared aiohttp session."""

    def __init__(self, base_url: str, http: aiohttp.ClientSession, token: Secret) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._token = token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.reveal()}"}

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        what: str,
        timeout: aiohttp.ClientTimeout = REQUEST_TIMEOUT,
    ) -> Any:
        url = f"{self._base}{path}"
        try:
            async with self._http.request(
                method,
                url,
                params=params,
                json=body,
                headers=self._headers(),
                timeout=timeout,
            ) as response:
                if response.status >= 500:
                    message = f"{what}: Parlant answered {response.status}"
                    raise ParlantUnavailable(message, response.status)
                if response.status >= 400:
                    detail = (await response.text())[:300]
                    raise ParlantRejected(f"{what}: {response.status} {detail}", response.status)
                return (
                    await response.json() if response.content_type == "application/json" else None
                )
        except ParlantError:
            raise
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ParlantUnavailable(f"{what}: {type(error).__name__}: {error}", None) from error

    async def handed_off_sessions(self) -> list[ParlantSession]:
        """Every session carrying the handoff marking (label, metadata and manual mode).

        Raises:
            ParlantUnavailable: Parlant could not be reached.
        """
        raw = await self._request(
            "GET", "/sessions", params={"labels": HANDOFF_LABEL}, what="list handed-off sessions"
        )
        items = raw.get("items", []) if isinstance(raw, Mapping) else raw
        sessions = [parse_session(item) for item in items]
        return [s for s in sessions if s.handed_off]

    async def session(self, session_id: SessionId) -> ParlantSession | None:
        """The session, or ``None`` if Parlant does not know it.

        Raises:
            ParlantUnavailable: Parlant could not be reached.
        """
        try:
            raw = await self._request(
                "GET", _path("sessions", session_id), what=f"read {session_id}"
            )
        except ParlantRejected as error:
            if error.status == 404:
                return None
            raise
        return parse_session(raw)

    async def customer(self, customer_id: str) -> ParlantCustomer:
        """The customer's display name (``Guest`` when Parlant has none), tags and metadata.

        Raises:
            ParlantUnavailable: Parlant could not be reached.
        """
        try:
            raw = await self._request("GET", _path("customers", customer_id), what="read customer")
        except ParlantRejected:
            return ParlantCustomer("Guest", frozenset(), {})
        metadata = raw.get("metadata") or {}
        return ParlantCustomer(
            name=str(raw.get("name") or "Guest"),
            tags=frozenset(str(tag) for tag in raw.get("tags") or ()),
            metadata={str(key): str(value) for key, value in metadata.items()},
        )

    async def active_journeys(self, session_id: SessionId) -> list[str]:
        """Ids of the journeys active in the session's latest completed turn (each turn
        ends with a ``ready`` status event listing them).

        Raises:
            ParlantUnavailable: Parlant could not be reached.
            ParlantRejected: unknown session.
        """
        raw = await self._request(
            "GET",
            _path("sessions", session_id, "events"),
            params={"min_offset": "0", "kinds": "status", "wait_for_data": "0"},
            what=f"list status events of {session_id}",
        )
        for event in reversed(raw):
            data = (event.get("data") or {}).get("data") or {}
            if isinstance(data, Mapping) and data.get("stage") == "completed":
                journeys = data.get("matched_journeys") or []
                return [str(j["id"]) for j in journeys if isinstance(j, Mapping) and "id" in j]
        return []

    async def journey_title(self, journey_id: str) -> str | None:
        """A journey's title, or ``None`` if Parlant does not know it.

        Raises:
            ParlantUnavailable: Parlant could not be reached.
        """
        return await self._name("journeys", journey_id, "title")

    async def tag_name(self, tag_id: str) -> str | None:
        """A tag's name, or ``None`` if Parlant does not know the tag.

        Raises:
            ParlantUnavailable: Parlant could not be reached.
        """
        return await self._name("tags", tag_id, "name")

    async def _name(self, collection: str, item_id: str, field: str) -> str | None:
        try:
            raw = await self._request(
                "GET", _path(collection, item_id), what=f"read {collection} {item_id}"
            )
        except ParlantRejected:
            return None
        return str(raw.get(field) or "") or None

    async def events(
        self, session_id: SessionId, min_offset: int, kinds: str = "message"
    ) -> list[ParlantEvent]:
        """Events at or after ``min_offset``, without waiting for new ones.

        Raises:
            ParlantUnavailable: Parlant could not be reached.
            ParlantRejected: unknown session.
        """
        raw = await self._request(
            "GET",
            _path("sessions", session_id, "events"),
            params={"min_offset": str(min_offset), "kinds": kinds, "wait_for_data": "0"},
            what=f"list events of {session_id}",
        )
        return [parse_event(session_id, item) for item in raw]

    async def post_message(
        self,
        session_id: SessionId,
        source: EventSource,
        text: str,
        participant: Mapping[str, str] | None,
        metadata: Mapping[str, str],
    ) -> ParlantEvent:
        """Add a message to the session as a human operator or on behalf of the AI.

        Raises:
            ParlantUnavailable: Parlant could not be reached (retry later).
            ParlantRejected: Parlant refused the message (e.g. 404 unknown session).
        """
        body: dict[str, Any] = {
            "kind": "message",
            "source": source.value,
            "message": text,
            "metadata": dict(metadata),
        }
        if participant is not None:
            body["participant"] = dict(participant)
        raw = await self._request(
            "POST", _path("sessions", session_id, "events"), body=body, what=f"post to {session_id}"
        )
        return parse_event(session_id, raw)

    async def perform(self, request: ApiRequest) -> Any:
        """One request the handoff module defines (``agent.handoff_protocol``).

        Raises:
            ParlantUnavailable: Parlant could not be reached, or its answer was lost.
            ParlantRejected: Parlant refused the request (e.g. 404 unknown session).
        """
        return await self._request(
            request.method,
            request.path,
            body=request.body,
            what=request.what,
            timeout=REPLY_TIMEOUT if request.awaits_reply else REQUEST_TIMEOUT,
        )

    async def stream(self) -> AsyncIterator[StreamNotice]:
        """The agent's push stream; ends (or raises) when the connection drops.

        Raises:
            ParlantUnavailable: the stream could not be opened or broke.
            ParlantRejected: the agent has no push stream (404): use polling instead.
        """
        url = f"{self._base}{STREAM_PATH}"
        try:
            async with self._http.get(
                url, params={"kinds": "message"}, headers=self._headers(), timeout=STREAM_TIMEOUT
            ) as response:
                if response.status in (401, 403):
                    raise ParlantUnavailable(
                        f"the push stream refused the token ({response.status}):"
                        " check PARLANT_API_TOKEN",
                        response.status,
                    )
                if response.status == 404:
                    raise ParlantRejected("the agent has no push stream", 404)
                if response.status != 200:
                    raise ParlantUnavailable(f"stream answered {response.status}", response.status)
                async for line in response.content:
                    if line.strip():
                        yield parse_notice(json.loads(line))
        except ParlantError:
            raise
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as error:
            raise ParlantUnavailable(
                f"stream broke: {type(error).__name__}: {error}", None
            ) from error
