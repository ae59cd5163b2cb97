"""Human handoff for Parlant agents: the tool, its durable marking, and helpers.

Any Parlant 3.3 agent can import this module. A handed-off session is:

* in ``manual`` mode (the AI stops answering),
* labelled ``handoff`` (so ``GET /sessions?labels=handoff`` finds it), and
* carrying session metadata ``handoff = {"reason": str, "requested_at": ISO-8601 UTC}``.

What that marking and a hand-back mean over the REST API is defined in
``agent.handoff_protocol`` (re-exported here), which processes that must not import
``parlant.sdk`` (the Slack bridge) use directly.
If ``BRIDGE_URL`` is set, the tool also tells the bridge at once (``POST
<BRIDGE_URL>/parlant/handoff`` with ``PARLANT_API_TOKEN`` as its bearer token); that notice
is a shortcut, never needed for correctness.
No ``from __future__ import annotations``: ``@p.tool`` needs real annotations.
"""

import asyncio
import logging
import os

import aiohttp
import parlant.sdk as p
from parlant.core.sessions import SessionId, SessionStore

from agent.handoff_protocol import (
    HANDOFF_LABEL,
    HANDOFF_METADATA_KEY,
    MAX_REASON_LENGTH,
    RETURNED_TO_AI_EVENT,
    hand_back_patch,
    hand_back_requests,
    handoff_record,
    is_handed_off,
)

__all__ = [
    "HANDOFF_LABEL",
    "HANDOFF_METADATA_KEY",
    "MAX_REASON_LENGTH",
    "RETURNED_TO_AI_EVENT",
    "hand_back",
    "hand_back_patch",
    "handoff_record",
    "initiate_human_handoff",
    "is_handed_off",
    "mark_handed_off",
    "notify_bridge",
]

logger = logging.getLogger(__name__)

BRIDGE_URL_VARIABLE = "BRIDGE_URL"
TOKEN_VARIABLE = "PARLANT_API_TOKEN"
NOTICE_TIMEOUT = aiohttp.ClientTimeout(total=3)
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)
SPEAK_TIMEOUT = aiohttp.ClientTimeout(total=120)
"""Parlant answers the "AI, speak now" request only once the reply is generated."""
_notices: set[asyncio.Task[None]] = set()


async def hand_back(
    http: aiohttp.ClientSession,
    parlant_url: str,
    session_id: str,
    *,
    token: str | None = None,
    instruction: str | None = None,
    speak: bool = True,
) -> None:
    """Return a session to the AI over Parlant's REST API and clear its handoff marking.

    Sends ``hand_back_requests`` in order: the session goes back to ``auto`` without its
    label and metadata, a ``custom`` event ``RETURNED_TO_AI_EVENT`` is written, and with
    ``speak`` the AI replies at once — following ``instruction`` (the operator's words) if
    given, else welcoming the customer back. With ``speak=False`` the AI says nothing until
    the customer's next message. ``token`` is sent as ``Authorization: Bearer``; without
    it, ``http`` must carry the operator's credentials itself.

    Raises:
        aiohttp.ClientResponseError: Parlant rejected a request (e.g. 404 unknown session,
            401/403 without the operator token); later requests are not sent.
        aiohttp.ClientError: Parlant could not be reached.
        TimeoutError: Parlant did not answer in time (the AI's reply may still come).
        ValueError: ``session_id`` is empty or only dots.
    """
    base = parlant_url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for request in hand_back_requests(session_id, instruction=instruction, speak=speak):
        async with http.request(
            request.method,
            base + request.path,
            json=request.body,
            headers=headers,
            timeout=SPEAK_TIMEOUT if request.awaits_reply else REQUEST_TIMEOUT,
        ) as response:
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
