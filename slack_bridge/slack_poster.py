"""Posting into Slack threads at Slack's pace, in order, each post exactly once.

Slack allows about one ``chat.postMessage`` per second per channel (short bursts are
fine), shared by every thread of the handoff channel. Each channel gets one worker; when
Slack's pace lets it post, it asks its ``PostQueue`` what matters most (a new handoff's root,
then live messages, then history; threads in turn at equal priority). When several
messages for one thread are waiting, they go out as one post.

Every post carries a key in its Slack message metadata. When the outcome of an attempt is
unknown — a timeout, a dropped connection, a 5xx after Slack may have stored the post —
the worker looks for that key among the thread's newest messages before trying again, so
a post is never repeated (the client used here never retries a post by itself). A thread
Slack refuses for good (locked, its root deleted) is parked: its posts are answered
``None`` at once and the other threads go on. Anything else is retried with backoff until
Slack takes the post: an outage delays messages and never drops them.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.ids import ChannelId, Ts
from slack_bridge.paced_client import TokenBucket
from slack_bridge.post_queue import PostQueue
from slack_bridge.posts import Post, Shown, combined, shown_in
from slack_bridge.retry import Backoff

logger = logging.getLogger(__name__)

# Slack answers these when the post itself is malformed: retrying it cannot help.
PERMANENT_ERRORS = frozenset(
    {"invalid_blocks", "msg_too_long", "no_text", "invalid_arguments", "too_many_attachments"}
)
# ... and these when the thread will never take a reply again.
THREAD_ERRORS = frozenset(
    {"cannot_reply_to_message", "restricted_action_thread_locked", "thread_not_found"}
)
# Errors after which Slack may nonetheless have stored the post.
UNKNOWN_OUTCOME_ERRORS = frozenset(
    {"fatal_error", "internal_error", "request_timeout", "service_unavailable"}
)
SEARCH_LIMIT = 100
ROOT_SEARCH_SECONDS = 900.0


class ChannelPoster:
    """The single writer of one channel: most urgent first, paced, with retries."""

    def __init__(
        self,
        client: AsyncWebClient,
        channel: ChannelId,
        rate: float,
        burst: int,
        max_backoff: float = 30.0,
    ) -> None:
        self._client = client
        self._channel = channel
        self._bucket = TokenBucket(rate, burst)
        self._max_backoff = max_backoff
        self._queue = PostQueue()
        self._wakeup = asyncio.Event()
        self._parked: dict[Ts, str] = {}
        self._newest: dict[Ts, Ts] = {}
        """Per thread, the newest post this worker saw accepted: searches start there."""

    def submit(self, thread_ts: Ts | None, post: Post) -> None:
        if thread_ts is not None and thread_ts in self._parked:
            post.posted.set_result(None)
            return
        self._queue.add(thread_ts, post)
        self._wakeup.set()

    def parked(self, thread_ts: Ts) -> str | None:
        """Why Slack refuses the thread for good, if it does."""
        return self._parked.get(thread_ts)

    def unpark(self, thread_ts: Ts) -> None:
        self._parked.pop(thread_ts, None)

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            # Choose only once Slack's pace allows a post: what came meanwhile may matter more.
            await self._bucket.take()
            thread_ts, batch = self._queue.take()
            ts = await self._deliver(thread_ts, batch)
            for post in batch:
                if not post.posted.done():
                    post.posted.set_result(ts)
            if ts is None and thread_ts is not None and thread_ts in self._parked:
                for waiting in self._queue.drop(thread_ts):
                    waiting.posted.set_result(None)

    async def _deliver(self, thread_ts: Ts | None, batch: list[Post]) -> Ts | None:
        post = batch[0] if len(batch) == 1 else combined(batch)
        backoff = Backoff(cap=self._max_backoff)
        outcome_unknown = False
        while True:
            try:
                if outcome_unknown and (found := await self._find(thread_ts, post.key)):
                    logger.info("post %s was already in Slack (%s)", post.key, found)
                    return self._accepted(thread_ts, found)
                response = await self._client.chat_postMessage(
                    channel=self._channel,
                    thread_ts=thread_ts,
                    text=post.text,
                    blocks=list(post.blocks) if post.blocks else None,
                    mrkdwn=True,
                    reply_broadcast=post.broadcast if thread_ts else None,
                    metadata=post.slack_metadata(),
                    username=post.username,
                    icon_emoji=post.icon_emoji,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                return self._accepted(thread_ts, Ts(str(response["ts"])))
            except SlackApiError as error:
                code = str(error.response.get("error", ""))
                if code in PERMANENT_ERRORS:
                    logger.error(
                        "Slack refused a post to %s thread %s for good (%s); %d message(s) lost",
                        self._channel,
                        thread_ts,
                        code,
                        len(batch),
                    )
                    return None
                if code in THREAD_ERRORS and thread_ts is not None:
                    logger.error("thread %s refuses posts (%s): parked", thread_ts, code)
                    self._parked[thread_ts] = code
                    return None
                status = error.response.status_code
                outcome_unknown = outcome_unknown or status >= 500 or code in UNKNOWN_OUTCOME_ERRORS
                reason = code or str(status)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                outcome_unknown = True  # Slack may have stored it before the answer was lost
                reason = type(error).__name__
            delay = await backoff.wait()
            logger.warning(
                "post to %s failed (%s); retried after %.1fs", self._channel, reason, delay
            )

    def _accepted(self, thread_ts: Ts | None, ts: Ts) -> Ts:
        if thread_ts is not None:
            self._newest[thread_ts] = ts
        return ts

    async def _find(self, thread_ts: Ts | None, key: str) -> Ts | None:
        """The ts of this worker's post with ``key``, if Slack has it.

        Raises:
            SlackApiError, aiohttp.ClientError: Slack could not be asked (still unknown).
        """
        after = self._newest.get(thread_ts) if thread_ts is not None else None
        for message in await self.newest_messages(thread_ts, after):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return Ts(str(message["ts"]))
        return None

    async def newest_messages(
        self, thread_ts: Ts | None, after: Ts | None
    ) -> list[Mapping[str, Any]]:
        """The bot's messages of a thread (or, for ``None``, the channel's recent top-level
        messages) from ``after`` on, with their metadata, oldest first."""
        messages: list[Mapping[str, Any]] = []
        cursor: str | None = None
        while True:
            if thread_ts is None:
                oldest = after or f"{time.time() - ROOT_SEARCH_SECONDS:.6f}"
                response = await self._client.conversations_history(
                    channel=self._channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=SEARCH_LIMIT,
                    cursor=cursor,
                )
            else:
                response = await self._client.conversations_replies(
                    channel=self._channel,
                    ts=thread_ts,
                    oldest=after or thread_ts,
                    inclusive=True,  # the post at ``after`` may show more than was counted
                    include_all_metadata=True,
                    limit=SEARCH_LIMIT,
                    cursor=cursor,
                )
            messages.extend(m for m in response.get("messages") or () if m.get("bot_id"))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return sorted(messages, key=lambda m: float(m["ts"]))


class SlackPoster:
    """Hands each channel's posts to that channel's worker."""

    def __init__(
        self,
        client: AsyncWebClient,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
        rate: float = 1.0,
        burst: int = 3,
    ) -> None:
        self._client = client
        self._spawn = spawn
        self._rate = rate
        self._burst = burst
        self._channels: dict[ChannelId, ChannelPoster] = {}

    def channel(self, channel: ChannelId) -> ChannelPoster:
        poster = self._channels.get(channel)
        if poster is None:
            poster = ChannelPoster(self._client, channel, self._rate, self._burst)
            self._channels[channel] = poster
            self._spawn(poster.run(), f"slack-poster-{channel}")
        return poster

    def submit(
        self, channel: ChannelId, thread_ts: Ts | None, post: Post
    ) -> "asyncio.Future[Ts | None]":
        self.channel(channel).submit(thread_ts, post)
        return post.posted

    async def post(self, channel: ChannelId, thread_ts: Ts | None, post: Post) -> Ts | None:
        return await self.submit(channel, thread_ts, post)

    async def shown(self, channel: ChannelId, thread_ts: Ts, after: Ts | None) -> Shown | None:
        """The newest session message the thread shows after ``after`` (read from Slack).

        Raises:
            SlackApiError, aiohttp.ClientError: Slack could not be asked.
        """
        messages = await self.channel(channel).newest_messages(thread_ts, after)
        found = [shown for message in messages if (shown := shown_in(message)) is not None]
        return found[-1] if found else None

    @property
    def backlog(self) -> int:
        return sum(poster.backlog for poster in self._channels.values())
