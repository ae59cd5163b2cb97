"""Parlant → Slack: one thread per handed-off session, and its messages mirrored in order.

Each session has at most one worker at a time, so everything about one thread happens in
order: opening it (root message, then the conversation so far), mirroring new events,
noting a hand-back or a second handoff. The stored cursor (offset of the next event to
mirror) moves only once Slack has taken a post, so a restart resumes without loss; posts
are submitted ahead of confirmation so a backlog can go out combined.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.errors import ParlantRejected, ParlantUnavailable
from slack_bridge.formatting import HandoffSummary, Line, inert_line, root_message, transcript
from slack_bridge.ids import ChannelId, EventKind, EventSource, SessionId, Ts
from slack_bridge.parlant_client import ParlantClient, ParlantEvent, ParlantSession
from slack_bridge.posts import Post, line_post, transcript_posts
from slack_bridge.retry import Backoff
from slack_bridge.slack_poster import SlackPoster
from slack_bridge.store import Conversation, HandoffStore

logger = logging.getLogger(__name__)

BRIDGE_METADATA_KEY = "slack_ts"
"""Set on every Parlant event the bridge creates: such events are never mirrored back."""

ICONS = {
    EventSource.CUSTOMER: ":bust_in_silhouette:",
    EventSource.CUSTOMER_UI: ":bust_in_silhouette:",
    EventSource.AI_AGENT: ":robot_face:",
    EventSource.AS_AI: ":robot_face:",
    EventSource.HUMAN_AGENT: ":headphones:",
}
ROOT_EVENT_TYPE = "parlant_handoff"
"""Slack message metadata type of root messages, so a thread can be found again."""
ROOT_SEARCH_SLACK_SECONDS = 60.0
CONCURRENT_READS = 8
"""REST catch-up reads in flight at once, so polling many sessions never floods Parlant."""


def author_of(event: ParlantEvent, customer_name: str) -> str | None:
    """Who the thread shows as the speaker of an event (``None``: not shown)."""
    operator = event.participant_name or "an operator"
    match event.source:
        case EventSource.CUSTOMER | EventSource.CUSTOMER_UI:
            return f"{customer_name} (customer)"
        case EventSource.AI_AGENT:
            return "AI agent"
        case EventSource.HUMAN_AGENT:
            return f"{event.participant_name or 'Operator'} (operator)"
        case EventSource.AS_AI:
            return f"AI agent (sent by {operator})"
        case _:
            return None


def _summary(conversation: Conversation) -> HandoffSummary:
    return HandoffSummary(
        session_id=conversation.session_id,
        ref=conversation.ref,
        customer_name=conversation.customer_name,
        reason=conversation.reason,
        requested_at=conversation.requested_at,
    )


def from_bridge(event: ParlantEvent) -> bool:
    return BRIDGE_METADATA_KEY in event.metadata


@dataclass
class _Work:
    """What is waiting to be done for one session."""

    check: bool = False
    catch_up: bool = False
    events: list[ParlantEvent] = field(default_factory=list)
    next_offset: int | None = None
    """First offset not yet handed to Slack (ahead of the stored cursor while posts wait)."""
    running: bool = False
    verified: bool = False
    """What the thread shows was read back from Slack (or the thread is new) this run."""
    transcript: bool = False
    """The conversation so far is still to be posted."""
    transcript_last: int | None = None
    """The last offset a transcript cut off mid-way showed: it is posted again the same."""
    shown_parts: dict[int, int] = field(default_factory=dict)
    """Offset → parts of it the thread already shows (a message cut off mid-way)."""


class ThreadMirror:
    def __init__(
        self,
        store: HandoffStore,
        parlant: ParlantClient,
        poster: SlackPoster,
        client: AsyncWebClient,
        channel: ChannelId,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._client = client
        self._store = store
        self._parlant = parlant
        self._poster = poster
        self._channel = channel
        self._spawn = spawn
        self._work: dict[SessionId, _Work] = {}
        self._active: set[SessionId] = set()
        self._reads = asyncio.Semaphore(CONCURRENT_READS)

    async def load(self) -> None:
        """Remember which sessions have open threads (at start-up), and finish opening any
        whose root message was posted but never recorded."""
        conversations = await self._store.conversations(active_only=True)
        self._active = {c.session_id for c in conversations}
        for conversation in conversations:
            if conversation.thread_ts is None:
                self.request_check(conversation.session_id)

    @property
    def active_sessions(self) -> frozenset[SessionId]:
        return frozenset(self._active)

    # ---- requests (never block; the session's worker does the work) -----------------

    def request_check(self, session_id: SessionId) -> None:
        """Look at the session's handoff marking: open, reopen or close its thread."""
        self._kick(session_id).check = True
        self._start(session_id)

    def request_catch_up(self, session_id: SessionId) -> None:
        """Read the session's events from the cursor over REST and mirror what is new."""
        self._kick(session_id).catch_up = True
        self._start(session_id)

    def add_event(self, event: ParlantEvent) -> None:
        """An event pushed by the agent's stream."""
        work = self._work.get(event.session_id)
        if event.session_id not in self._active and (work is None or not work.running):
            return
        self._kick(event.session_id).events.append(event)
        self._start(event.session_id)

    def _kick(self, session_id: SessionId) -> _Work:
        return self._work.setdefault(session_id, _Work())

    def _start(self, session_id: SessionId) -> None:
        work = self._work[session_id]
        if not work.running:
            work.running = True
            self._spawn(self._run(session_id, work), f"thread-{session_id}")

    # ---- the per-session worker ------------------------------------------------------

    async def _run(self, session_id: SessionId, work: _Work) -> None:
        backoff = Backoff()
        try:
            while work.check or work.catch_up or work.events:
                try:
                    await self._round(session_id, work)
                    backoff.reset()
                except ParlantRejected as error:
                    # Parlant will refuse the same request again (unknown session, refused
                    # access): stop here; reconciling asks again if the session is handed off.
                    logger.warning("session %s: %s; giving up for now", session_id, error)
                    work.check = work.catch_up = False
                    work.events.clear()
                except Exception as error:
                    # Parlant down (the usual case) or anything unforeseen: keep the session's
                    # work, wait, and catch up from the stored cursor, which loses nothing.
                    delay = backoff.next_delay()
                    if isinstance(error, ParlantUnavailable):
                        logger.warning(
                            "session %s: %s; retrying in %.1fs", session_id, error, delay
                        )
                    else:
                        logger.exception("session %s: unexpected failure; retrying", session_id)
                        work.check = True  # e.g. the session was deleted meanwhile
                    work.catch_up = True
                    await asyncio.sleep(delay)
        finally:
            work.running = False
            if session_id not in self._active and self._work.get(session_id) is work:
                del self._work[session_id]  # nothing to remember about a closed session

    async def _round(self, session_id: SessionId, work: _Work) -> None:
        if work.check:
            work.check = False
            try:
                await self._check(session_id, work)
            except Exception:
                work.check = True
                raise
        if work.catch_up:
            work.catch_up = False
            await self._catch_up(session_id, work)
        if work.events:
            events, work.events = work.events, []
            await self._mirror(session_id, work, events)

    async def _check(self, session_id: SessionId, work: _Work) -> None:
        session = await self._parlant.session(session_id)
        conversation = await self._store.conversation(session_id)
        if session is not None and session.handed_off:
            if conversation is None:
                await self._open(session, work)
            elif not conversation.active:
                await self._reopen(session, conversation, work)
            elif conversation.thread_ts is None:
                await self._find_or_post_root(conversation)
        elif conversation is not None and conversation.active:
            if session is not None:
                await self._catch_up(session_id, work)
            await self._close(conversation, deleted=session is None)

    async def _open(self, session: ParlantSession, work: _Work) -> None:
        assert session.handoff is not None
        name = await self._parlant.customer_name(session.customer_id)
        conversation = await self._store.create_conversation(
            session.id, name, session.handoff.reason, session.handoff.requested_at.isoformat()
        )
        self._active.add(session.id)
        thread_ts = await self._post_root(conversation)
        if thread_ts is None:
            return
        work.verified = work.transcript = True  # a new thread shows nothing yet
        work.next_offset = None
        await self._catch_up(session.id, work)
        logger.info(
            "session %s handed off: thread %s (%s)", session.id, thread_ts, conversation.ref
        )

    async def _post_root(self, conversation: Conversation) -> Ts | None:
        text, blocks = root_message(_summary(conversation))
        metadata = {
            "event_type": ROOT_EVENT_TYPE,
            "event_payload": {"session_id": conversation.session_id},
        }
        thread_ts = await self._poster.post(
            self._channel, None, Post(text=text, blocks=blocks, metadata=metadata)
        )
        if thread_ts is None:
            logger.error("Slack refused the root message of %s", conversation.session_id)
            return None
        await self._store.set_thread(conversation.session_id, self._channel, thread_ts)
        return thread_ts

    async def _find_or_post_root(self, conversation: Conversation) -> Ts | None:
        """A root message whose ts was never stored (the bridge stopped right after posting
        it) is found by its metadata instead of being posted twice."""
        found = await self._find_root(conversation)
        if found is None:
            return await self._post_root(conversation)
        await self._store.set_thread(conversation.session_id, self._channel, found)
        logger.info("found the root message of %s: %s", conversation.ref, found)
        return found

    async def _find_root(self, conversation: Conversation) -> Ts | None:
        cursor: str | None = None
        try:
            while True:
                response = await self._client.conversations_history(
                    channel=self._channel,
                    oldest=f"{conversation.opened_at - ROOT_SEARCH_SLACK_SECONDS:.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for message in response.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if (
                        metadata.get("event_type") == ROOT_EVENT_TYPE
                        and payload.get("session_id") == conversation.session_id
                    ):
                        return Ts(str(message["ts"]))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        except SlackApiError as error:
            logger.warning("could not search for the root of %s: %s", conversation.ref, error)
            return None

    async def _update_root(self, conversation: Conversation, *, returned: bool) -> None:
        """Show on the root message whether the session is still handed off (a courtesy)."""
        if conversation.channel is None or conversation.thread_ts is None:
            return
        text, blocks = root_message(_summary(conversation), returned=returned)
        try:
            await self._client.chat_update(
                channel=conversation.channel, ts=conversation.thread_ts, text=text, blocks=blocks
            )
        except SlackApiError as error:
            logger.warning("could not update the root of %s: %s", conversation.ref, error)
        except Exception as error:  # Slack unreachable: the thread notice says it anyway
            logger.warning("could not update the root of %s: %s", conversation.ref, error)

    async def _reopen(
        self, session: ParlantSession, conversation: Conversation, work: _Work
    ) -> None:
        assert session.handoff is not None
        await self._store.reactivate(
            session.id, session.handoff.reason, session.handoff.requested_at.isoformat()
        )
        self._active.add(session.id)
        if conversation.thread_ts is None:
            await self._find_or_post_root(conversation)
        else:
            self._poster.channel(self._channel).unpark(conversation.thread_ts)
            notice = f":repeat: *Handed off again* — {inert_line(session.handoff.reason)}"
            await self._poster.post(
                self._channel, conversation.thread_ts, Post(text=notice, broadcast=True)
            )
            reopened = await self._store.conversation(session.id)
            if reopened is not None:
                await self._update_root(reopened, returned=False)
        work.next_offset = None
        await self._catch_up(session.id, work)
        logger.info("session %s handed off again (%s)", session.id, conversation.ref)

    async def _close(self, conversation: Conversation, *, deleted: bool) -> None:
        await self._store.deactivate(conversation.session_id)
        self._active.discard(conversation.session_id)
        if conversation.thread_ts is not None:
            notice = (
                ":wastebasket: The Parlant session was deleted."
                if deleted
                else ":leftwards_arrow_with_hook: *Returned to the AI* — it answers the"
                " customer's next message. Replies here no longer reach the customer."
            )
            await self._poster.post(self._channel, conversation.thread_ts, Post(text=notice))
            await self._update_root(conversation, returned=True)
        logger.info("session %s returned to the AI (%s)", conversation.session_id, conversation.ref)

    async def _catch_up(self, session_id: SessionId, work: _Work) -> None:
        conversation = await self._store.conversation(session_id)
        if conversation is None or conversation.thread_ts is None:
            return
        start = work.next_offset if work.next_offset is not None else conversation.cursor
        async with self._reads:
            events = await self._parlant.events(session_id, start)
        await self._mirror(session_id, work, events)

    async def _mirror(
        self, session_id: SessionId, work: _Work, events: Iterable[ParlantEvent]
    ) -> None:
        conversation = await self._store.conversation(session_id)
        if conversation is None or not conversation.active or conversation.thread_ts is None:
            return
        thread_ts = conversation.thread_ts
        if self._poster.channel(self._channel).parked(thread_ts):
            return  # its messages wait for the next handoff
        if work.next_offset is None:
            work.next_offset = conversation.cursor
        fresh = sorted({e.offset: e for e in events}.values(), key=lambda e: e.offset)
        fresh = [e for e in fresh if e.offset >= work.next_offset]
        if not fresh:
            return
        if not work.verified:
            await self._verify(conversation, work)
            fresh = [e for e in fresh if e.offset >= work.next_offset]
        waiting: list[tuple[int, bool, asyncio.Future[Ts | None]]] = []
        if work.transcript:
            waiting.extend(self._submit_transcript(conversation, work, fresh))
            fresh = [e for e in fresh if e.offset >= work.next_offset]
        for event in fresh:
            line = await self._line_to_mirror(event, conversation.customer_name)
            if line is not None:
                posts = line_post(line, event.offset, ICONS.get(event.source))
                for post in posts[work.shown_parts.pop(event.offset, 0) :]:
                    last = post.part == post.parts
                    waiting.append(
                        (event.offset, last, self._poster.submit(self._channel, thread_ts, post))
                    )
            work.next_offset = event.offset + 1
        await self._await_posts(conversation, work, waiting)

    async def _await_posts(
        self,
        conversation: Conversation,
        work: _Work,
        waiting: list[tuple[int, bool, "asyncio.Future[Ts | None]"]],
    ) -> None:
        """Move the stored cursor as Slack takes each post; stop at a parked thread."""
        assert conversation.thread_ts is not None
        session_id = conversation.session_id
        for index, (offset, complete, posted) in enumerate(waiting):
            ts = await posted
            if ts is None and (
                why := self._poster.channel(self._channel).parked(conversation.thread_ts)
            ):
                self._park(conversation, work, why)
                return
            following = waiting[index + 1][2] if index + 1 < len(waiting) else None
            if following is not None and following.done() and following.result() == ts:
                continue  # one combined post: its cursor is written once, at its end
            if complete:
                await self._store.set_cursor(session_id, offset + 1, ts)
        assert work.next_offset is not None
        await self._store.set_cursor(session_id, work.next_offset)

    async def _verify(self, conversation: Conversation, work: _Work) -> None:
        """After a restart, read what the thread already shows, so nothing is posted twice
        (the bridge may have stopped after Slack took a post but before the cursor moved)."""
        assert conversation.thread_ts is not None
        shown = await self._poster.shown(
            self._channel, conversation.thread_ts, conversation.last_post_ts
        )
        work.verified = True
        assert work.next_offset is not None
        if shown is None:
            work.transcript = conversation.cursor == 0 and conversation.last_post_ts is None
            return
        logger.info("thread %s already shows offsets up to %d", conversation.ref, shown.last)
        if shown.complete:
            work.next_offset = max(work.next_offset, shown.last + 1)
        elif shown.transcript:
            work.transcript = True
            work.transcript_last = shown.last
            work.shown_parts[-1] = shown.part
            work.next_offset = max(work.next_offset, shown.first)
        else:
            work.shown_parts[shown.last] = shown.part
            work.next_offset = max(work.next_offset, shown.last)

    def _submit_transcript(
        self, conversation: Conversation, work: _Work, events: list[ParlantEvent]
    ) -> list[tuple[int, bool, "asyncio.Future[Ts | None]"]]:
        """ "Conversation so far": every message before the handoff, as one unit."""
        assert conversation.thread_ts is not None
        work.transcript = False
        if work.transcript_last is not None:
            events = [e for e in events if e.offset <= work.transcript_last]
            work.transcript_last = None
        lines = [
            line for event in events if (line := self._line(event, conversation.customer_name))
        ]
        last = events[-1].offset if events else -1
        posts = transcript_posts(transcript(lines), (events[0].offset if events else -1, last))
        work.next_offset = last + 1
        waiting = [
            (
                last,
                post.part == post.parts,
                self._poster.submit(self._channel, conversation.thread_ts, post),
            )
            for post in posts[work.shown_parts.pop(-1, 0) :]
        ]
        return waiting

    def _park(self, conversation: Conversation, work: _Work, why: str) -> None:
        """Slack refuses the thread for good: keep its messages for the next handoff and say
        so in the channel, where operators see it."""
        work.events.clear()
        work.next_offset = None
        logger.error("thread of %s parked (%s): messages wait", conversation.ref, why)
        notice = (
            f":warning: The thread of `{conversation.ref}` "
            f"({inert_line(conversation.customer_name)}) no longer accepts messages ({why})."
            " The customer's messages are kept and posted when the session is handed off again."
        )
        self._poster.submit(self._channel, None, Post(text=notice))

    async def _line_to_mirror(self, event: ParlantEvent, customer_name: str) -> Line | None:
        if from_bridge(event) or await self._store.created_by_bridge(event.id):
            return None
        return self._line(event, customer_name)

    @staticmethod
    def _line(event: ParlantEvent, customer_name: str) -> Line | None:
        if event.kind != EventKind.MESSAGE or not event.message.strip():
            return None
        author = author_of(event, customer_name)
        return Line(author=author, text=event.message) if author else None
