"""After a start or a Socket Mode reconnection: operator replies posted while the bridge was
not listening.

Slack gives up redelivering an event after three retries, and Socket Mode delivers nothing
while disconnected. The bridge records until when it was listening (``listening_until``,
a heartbeat in the store); afterwards it reads each handoff channel's history once
(``conversations.history``: thread parents carry ``latest_reply``) and reads only the
threads with a reply newer than that, from that moment on (``conversations.replies`` with
``oldest``). Without a record (the first start) every open thread is read. The store keeps
each reply exactly once, whichever way it arrives.

Threads whose newest reply the bridge has not seen are read first, their deliveries held so
the missed replies go out in order. A thread whose newest reply the bridge posted or relayed
can still hide an older one it missed — the bridge goes on posting customers' messages while
Socket Mode reconnects — so it is read too, afterwards, without holding its deliveries: a
reply found there is late, never lost.
"""

import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.delivery import OperatorRelay
from slack_bridge.ids import ChannelId, Ts
from slack_bridge.inbound_messages import Intent, parse_thread_message
from slack_bridge.slack_reads import messages
from slack_bridge.store import Conversation, HandoffStore

logger = logging.getLogger(__name__)
MARGIN_SECONDS = 60.0
"""Read replies from this long before the recorded moment: Slack's clock and ours differ,
and an event can still be on its way when the listening ends."""


async def latest_replies(
    client: AsyncWebClient, channel: ChannelId, threads: Iterable[Ts], since: float
) -> dict[Ts, Ts]:
    """Of ``threads`` (their parents in ``channel``), those whose newest reply is newer than
    ``since``, with that reply's ts: one history read of the channel from the oldest on."""
    wanted = set(threads)
    if not wanted:
        return {}
    oldest = min(float(ts) for ts in wanted)
    found: dict[Ts, Ts] = {}
    async for message in messages(
        client.conversations_history, channel=channel, oldest=f"{oldest - 1:.6f}"
    ):
        ts, latest = message.get("ts"), message.get("latest_reply")
        if ts in wanted and latest and float(latest) > since:
            found[Ts(str(ts))] = Ts(str(latest))
    return found


async def _unseen(
    store: HandoffStore, channel: ChannelId, open_here: list[Conversation], latest: dict[Ts, Ts]
) -> set[Ts]:
    """The threads whose newest reply the bridge neither posted nor relayed."""
    known = await store.known_slack_messages(channel, list(latest.values()))
    own = {c.thread_ts: c.last_post_ts for c in open_here}
    return {
        thread for thread, reply in latest.items() if reply not in known and reply != own[thread]
    }


async def relay_missed_replies(
    client: AsyncWebClient,
    store: HandoffStore,
    relay: OperatorRelay,
    listening_until: float | None,
) -> int:
    """Relay the replies of open threads the bridge never saw; returns how many.

    The caller holds deliveries to these sessions (``OperatorRelay.hold``) before it starts,
    so the missed replies go first, in the thread's order; a thread is released once read,
    or at once when it has nothing new.
    """
    conversations = [
        c
        for c in await store.conversations(handed_off=True)
        if c.channel is not None and c.thread_ts is not None
    ]
    since = None if listening_until is None else listening_until - MARGIN_SECONDS
    relayed = read = checked = 0
    by_channel: dict[ChannelId, list[Conversation]] = {}
    for conversation in conversations:
        assert conversation.channel is not None
        by_channel.setdefault(conversation.channel, []).append(conversation)
    for channel, open_here in by_channel.items():
        first, then = open_here, []
        if since is not None:
            try:
                latest = await latest_replies(
                    client, channel, (c.thread_ts for c in open_here if c.thread_ts), since
                )
                unseen = await _unseen(store, channel, open_here, latest)
            except SlackApiError as error:
                logger.warning("could not read #%s: %s", channel, error.response.get("error"))
                latest, unseen = {}, {c.thread_ts for c in open_here if c.thread_ts}
            first = [c for c in open_here if c.thread_ts in unseen]
            then = [c for c in open_here if c.thread_ts in latest and c.thread_ts not in unseen]
            for other in open_here:
                if other.thread_ts not in unseen:
                    relay.release(other.session_id)
        for conversation in first:
            try:
                relayed += await _relay_thread(client, store, relay, conversation, since)
                read += 1
            finally:
                relay.release(conversation.session_id)
        for conversation in then:
            relayed += await _relay_thread(client, store, relay, conversation, since)
            checked += 1
    logger.info(
        "catch-up: %d of %d open thread(s) had replies to read (%d more checked); %d relayed",
        read,
        len(conversations),
        checked,
        relayed,
    )
    return relayed


async def _relay_thread(
    client: AsyncWebClient,
    store: HandoffStore,
    relay: OperatorRelay,
    conversation: Conversation,
    since: float | None,
) -> int:
    assert conversation.channel is not None and conversation.thread_ts is not None
    window = {} if since is None else {"oldest": f"{since:.6f}"}
    try:
        read = [
            m
            async for m in messages(
                client.conversations_replies,
                channel=conversation.channel,
                ts=conversation.thread_ts,
                **window,
            )
        ]
    except SlackApiError as error:
        logger.warning(
            "could not read thread %s: %s", conversation.ref, error.response.get("error")
        )
        return 0
    replies = [
        reply
        for message in read
        if (reply := parse_thread_message({**message, "channel": conversation.channel})) is not None
        and reply.intent is not Intent.NOTE
        and reply.text
    ]
    known = await store.known_slack_messages(conversation.channel, [r.ts for r in replies])
    relayed = 0
    for reply in sorted(replies, key=lambda r: float(r.ts)):
        if reply.ts in known:
            continue
        relayed += int(await relay.submit(reply.for_session(conversation.session_id)))
    return relayed
