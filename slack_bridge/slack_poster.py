"""Posting into Slack threads at Slack's pace, in order, without losing anything.

Slack allows about one ``chat.postMessage`` per second per channel (short bursts are
fine), shared by every thread of the handoff channel. Each channel gets one worker that
takes threads in turn; when several messages for one thread are waiting, they go out as
one post. Failures are retried until Slack takes the post: a Slack outage delays
messages and never drops them. Only errors Slack will never accept (a malformed post)
give up, after logging.
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.formatting import POST_CHARS, Line, combine
from slack_bridge.ids import ChannelId, Ts

logger = logging.getLogger(__name__)

# Slack answers these when the post itself is malformed: retrying it cannot help. Anything
# else (rate limits, outages, a revoked token, the bot not yet in the channel) is retried
# with backoff until it works, so a fixed configuration lets the backlog through.
PERMANENT_ERRORS = frozenset(
    {"invalid_blocks", "msg_too_long", "no_text", "invalid_arguments", "too_many_attachments"}
)


@dataclass
class Post:
    """One message for a thread; ``posted`` resolves to the ts it got (``None``: given up).

    A post made from one session ``line`` may be combined with the lines queued after it.
    """

    text: str
    username: str | None = None
    icon_emoji: str | None = None
    blocks: Sequence[Block] | None = None
    line: Line | None = None
    broadcast: bool = False
    """Also show a thread reply in the channel (``reply_broadcast``)."""
    metadata: dict[str, Any] | None = None
    """Slack message metadata (``event_type`` + ``event_payload``)."""
    posted: "asyncio.Future[Ts | None]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def line_post(line: Line, icon_emoji: str | None = None) -> Post:
    text, username = combine([line])
    return Post(text=text, username=username, icon_emoji=icon_emoji, line=line)


def _combined(batch: Sequence[Post]) -> Post:
    text, username = combine([post.line for post in batch if post.line is not None])
    icons = {post.icon_emoji for post in batch}
    return Post(text=text, username=username, icon_emoji=icons.pop() if len(icons) == 1 else None)


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await asyncio.sleep((1 - self._tokens) / self._rate)


class ChannelPoster:
    """The single writer of one channel: threads in turn, paced, with retries."""

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
        self._waiting: OrderedDict[Ts | None, list[Post]] = OrderedDict()
        self._wakeup = asyncio.Event()

    def submit(self, thread_ts: Ts | None, post: Post) -> None:
        self._waiting.setdefault(thread_ts, []).append(post)
        self._wakeup.set()

    @property
    def backlog(self) -> int:
        return sum(len(posts) for posts in self._waiting.values())

    async def run(self) -> None:
        while True:
            if not self._waiting:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            thread_ts, posts = next(iter(self._waiting.items()))
            batch = self._take_batch(posts)
            if not posts:
                del self._waiting[thread_ts]
            else:
                self._waiting.move_to_end(thread_ts)
            await self._bucket.take()
            ts = await self._deliver(thread_ts, batch)
            for post in batch:
                if not post.posted.done():
                    post.posted.set_result(ts)

    def _take_batch(self, posts: list[Post]) -> list[Post]:
        batch = [posts.pop(0)]
        size = len(batch[0].text)
        while posts and batch[0].line and posts[0].line and size + len(posts[0].text) < POST_CHARS:
            size += len(posts[0].text) + 40
            batch.append(posts.pop(0))
        return batch

    async def _deliver(self, thread_ts: Ts | None, batch: list[Post]) -> Ts | None:
        post = batch[0] if len(batch) == 1 else _combined(batch)
        backoff = 0.5
        while True:
            try:
                response = await self._client.chat_postMessage(
                    channel=self._channel,
                    thread_ts=thread_ts,
                    text=post.text,
                    blocks=list(post.blocks) if post.blocks else None,
                    mrkdwn=True,
                    reply_broadcast=post.broadcast if thread_ts else None,
                    metadata=post.metadata,
                    username=post.username,
                    icon_emoji=post.icon_emoji,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                return Ts(str(response["ts"]))
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
                reason = code or str(error.response.status_code)
                logger.warning(
                    "post to %s failed (%s); retry in %.1fs", self._channel, reason, backoff
                )
            except Exception as error:  # connection errors, timeouts: Slack is unreachable
                reason = type(error).__name__
                logger.warning(
                    "post to %s failed (%s); retry in %.1fs", self._channel, reason, backoff
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)


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

    def submit(
        self, channel: ChannelId, thread_ts: Ts | None, post: Post
    ) -> "asyncio.Future[Ts | None]":
        poster = self._channels.get(channel)
        if poster is None:
            poster = ChannelPoster(self._client, channel, self._rate, self._burst)
            self._channels[channel] = poster
            self._spawn(poster.run(), f"slack-poster-{channel}")
        poster.submit(thread_ts, post)
        return post.posted

    async def post(self, channel: ChannelId, thread_ts: Ts | None, post: Post) -> Ts | None:
        return await self.submit(channel, thread_ts, post)
