"""At start-up: operator replies posted while the bridge was not listening.

Slack gives up redelivering an event after three retries, and Socket Mode delivers nothing
while disconnected. So the bridge reads every open thread (``conversations.replies``) and
relays the human replies it has no record of, in order; the store keeps it exactly once.
"""

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.delivery import OperatorRelay
from slack_bridge.inbound_messages import Intent, parse_thread_message
from slack_bridge.store import Conversation, HandoffStore

logger = logging.getLogger(__name__)
PAGE_SIZE = 200


async def _thread_messages(
    client: AsyncWebClient, conversation: Conversation
) -> AsyncIterator[Mapping[str, Any]]:
    cursor: str | None = None
    while True:
        response = await client.conversations_replies(
            channel=conversation.channel or "",
            ts=conversation.thread_ts or "",
            limit=PAGE_SIZE,
            cursor=cursor,
        )
        for message in response.get("messages") or []:
            yield message
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor or not response.get("has_more", True):
            return


async def relay_missed_replies(
    client: AsyncWebClient, store: HandoffStore, relay: OperatorRelay
) -> int:
    """Relay the replies of open threads the bridge never saw; returns how many.

    The caller holds deliveries to these sessions (``OperatorRelay.hold``) before it starts,
    so the missed replies go first, in the thread's order; each thread is released once read.
    """
    relayed = 0
    conversations = [
        c
        for c in await store.conversations(handed_off=True)
        if c.channel is not None and c.thread_ts is not None
    ]
    for conversation in conversations:
        try:
            relayed += await _relay_thread(client, store, relay, conversation)
        finally:
            relay.release(conversation.session_id)
    if relayed:
        logger.info("relayed %d thread replies posted while the bridge was away", relayed)
    return relayed


async def _relay_thread(
    client: AsyncWebClient, store: HandoffStore, relay: OperatorRelay, conversation: Conversation
) -> int:
    assert conversation.channel is not None
    relayed = 0
    try:
        messages = [m async for m in _thread_messages(client, conversation)]
    except SlackApiError as error:
        logger.warning(
            "could not read thread %s: %s", conversation.ref, error.response.get("error")
        )
        return 0
    replies = [
        reply
        for message in messages
        if (reply := parse_thread_message({**message, "channel": conversation.channel})) is not None
        and reply.intent is not Intent.NOTE
        and reply.text
    ]
    known = await store.known_slack_messages(conversation.channel, [r.ts for r in replies])
    for reply in sorted(replies, key=lambda r: float(r.ts)):
        if reply.ts in known:
            continue
        taken = await relay.submit(reply.for_session(conversation.session_id))
        relayed += int(taken)
    return relayed
