"""Human handoff for Parlant agents: the tool, its durable marking, and helpers.

Any Parlant 3.3 agent can import this module. A handed-off session is:

* in ``manual`` mode (the AI stops answering),
* labelled ``handoff`` (so ``GET /sessions?labels=handoff`` finds it), and
* carrying session metadata ``handoff = {"reason": str, "requested_at": ISO-8601 UTC}``.

Other processes (the Slack bridge) rely only on this marking and Parlant's REST API.
If ``BRIDGE_URL`` is set, the tool also tells the bridge at once (``POST
<BRIDGE_URL>/parlant/handoff`` with ``PARLANT_API_TOKEN`` as its bearer token); that notice
is a shortcut, never needed for correctness.
No ``from __future__ import annotations``: ``@p.tool`` needs real annotations.
"""

import asyncio
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import parlant.sdk as p
from parlant.core.sessions import SessionId, SessionStore

logger = logging.getLogger(__name__)

HANDOFF_LABEL = "handoff"
HANDOFF_METADATA_KEY = "handoff"
MAX_REASON_LENGTH = 2000
BRIDGE_URL_VARIABLE = "BRIDGE_URL"
TOKEN_VARIABLE = "PARLANT_API_TOKEN"
NOTICE_TIMEOUT = aiohttp.ClientTimeout(total=3)
_notices: set[asyncio.Task[None]] = set()


def handoff_record(reason: str, requested_at: datetime | None = None) -> dict[str, str]:
    """The metadata value stored under ``handoff``; always the same two keys."""
    when = requested_at or datetime.now(UTC)
    cleaned = " ".join(reason.split())[:MAX_REASON_LENGTH] or "No reason given"
    return {"reason": cleaned, "requested_at": when.astimezone(UTC).isoformat()}


def is_handed_off(session: Mapping[str, Any]) -> bool:
    """Whether a session (as returned by Parlant's REST API) is handed off to a human."""
    metadata = session.get("metadata") or {}
    return (
        session.get("mode") == "manual"
        and HANDOFF_LABEL in (session.get("labels") or [])
        and isinstance(metadata.get(HANDOFF_METADATA_KEY), dict)
    )


def hand_back_patch() -> dict[str, Any]:
    """The ``PATCH /sessions/{id}`` body that returns a session to the AI."""
    return {
        "mode": "auto",
        "metadata": {"set": {}, "unset": [HANDOFF_METADATA_KEY]},
        "labels": {"upsert": [], "remove": [HANDOFF_LABEL]},
    }


async def hand_back(http: aiohttp.ClientSession, parlant_url: str, session_id: str) -> None:
    """Return a session to the AI over Parlant's REST API and clear its handoff marking.

    The AI does not speak by itself on hand-back; it answers the next customer message.

    Raises:
        aiohttp.ClientResponseError: Parlant rejected the update (e.g. 404 unknown session).
        aiohttp.ClientError: Parlant could not be reached.
    """
    url = f"{parlant_url.rstrip('/')}/sessions/{quote(session_id, safe='')}"
    async with http.patch(url, json=hand_back_patch()) as response:
        response.raise_for_status()


async def mark_handed_off(store: SessionStore, session_id: str, reason: str) -> dict[str, str]:
    """Label the session and (re)write its handoff record in the given session store."""
    record = handoff_record(reason)
    await store.set_metadata(SessionId(session_id), HANDOFF_METADATA_KEY, record)
    await store.upsert_labels(SessionId(session_id), {HANDOFF_LABEL})
    return record


async def notify_bridge(bridge_url: str, session_id: str, token: str | None) -> None:
    """Tell the bridge a session was handed off; failures are logged (it reconciles anyway)."""
    url = f"{bridge_url.rstrip('/')}/parlant/handoff"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with (
            aiohttp.ClientSession(timeout=NOTICE_TIMEOUT) as http,
            http.post(url, json={"session_id": session_id}, headers=headers) as response,
        ):
            if response.status >= 300:
                logger.warning("bridge answered %s to the handoff notice", response.status)
    except (aiohttp.ClientError, TimeoutError) as error:
        logger.warning("could not notify the bridge at %s: %s", url, type(error).__name__)


def _notify_in_background(session_id: str) -> None:
    bridge_url = os.environ.get(BRIDGE_URL_VARIABLE, "").strip()
    if not bridge_url:
        return
    token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    task = asyncio.get_running_loop().create_task(notify_bridge(bridge_url, session_id, token))
    _notices.add(task)
    task.add_done_callback(_notices.discard)


@p.tool
async def initiate_human_handoff(context: p.ToolContext, reason: str) -> p.ToolResult:
    """Hand the conversation to a human (Tier-2) agent when the AI cannot adequately help."""
    store: SessionStore = context.plugin_data["container"][SessionStore]
    record = await mark_handed_off(store, context.session_id, reason)
    _notify_in_background(context.session_id)
    return p.ToolResult(
        data=f"Human handoff initiated because: {record['reason']}",
        control={"mode": "manual"},
    )
