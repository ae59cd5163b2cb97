"""Parlant → Slack: one thread per handed-off session, and its messages mirrored in order.

Each session has at most one worker at a time, so everything about one thread happens in
order: opening it (root message, then the conversation so far), mirroring new events,
noting a hand-back or a second handoff, and the operators' case actions (``run_in_order``).
The thread follows its session until the case is resolved. The stored cursor (offset of
the next event to mirror) moves only once Slack has taken a post, so a restart resumes
without loss; posts are submitted ahead of confirmation so a backlog can go out combined.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_bridge.cases import CaseState
from slack_bridge.errors import ParlantRejected, ParlantUnavailable
from slack_bridge.formatting import Line, inert_line, transcript
from slack_bridge.ids import ChannelId, SessionId, Ts, UserId
from slack_bridge.parlant_client import ParlantClient, ParlantEvent, ParlantSession
from slack_bridge.placement import Placer
from slack_bridge.posts import Post, PostPriority, line_post, transcript_posts
from slack_bridge.retry import Backoff
from slack_bridge.root_card import RootCard
from slack_bridge.slack_poster import SlackPoster
from slack_bridge.store import Conversation, HandoffStore
from slack_bridge.thread_lines import ICONS, from_bridge, line_of

logger = logging.getLogger(__name__)

CONCURRENT_READS = 8
"""REST catch-up reads in flight at once, so polling many sessions never floods Parlant."""


@dataclass
class _Work:
    """What is waiting to be done for one session."""

    check: bool = False
    catch_up: bool = False
    jobs: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Case actions (hand back, resolve, showing the root), run in the thread's order."""
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
        card: RootCard,
        placer: Placer,
        channel: ChannelId,
        spawn: Callable[[Coroutine[Any, Any, Any], str], Any],
    ) -> None:
        self._card = card
        self._placer = placer
        self._store = store
        self._parlant = parlant
        self._poster = poster
        self._channel = channel
        self._spawn = spawn
        self._work: dict[SessionId, _Work] = {}
        self._mirrored: set[SessionId] = set()
        """Sessions whose threads follow them: open cases."""
        self._handed_off: set[SessionId] = set()
        self._reads = asyncio.Semaphore(CONCURRENT_READS)

    async def load(self) -> None:
        """Remember which sessions have open threads (at start-up), and finish opening any
        whose root message was posted but never recorded."""
        conversations = await self._store.conversations(mirrored=True)
        for conversation in conversations:
            self.note_case(conversation.session_id, conversation.case.state)
            if conversation.thread_ts is None:
                self.request_check(conversation.session_id)

    @property
    def handed_off_sessions(self) -> frozenset[SessionId]:
        return frozenset(self._handed_off)

    @property
    def mirrored_sessions(self) -> frozenset[SessionId]:
        return frozenset(self._mirrored)

    def note_case(self, session_id: SessionId, state: CaseState) -> None:
        """Follow (or stop following) the session as its case now is."""
        for sessions, wanted in (
            (self._mirrored, state.open),
            (self._handed_off, state.handed_off),
        ):
            if wanted:
                sessions.add(session_id)
            else:
                sessions.discard(session_id)

    # ---- requests (never block; the session's worker does the work) -----------------

    def request_check(self, session_id: SessionId) -> None:
        """Look at the session's handoff marking: open, reopen or close its thread."""
        self._kick(session_id).check = True
        self._start(session_id)

    def request_catch_up(self, session_id: SessionId) -> None:
        """Read the session's events from the cursor over REST and mirror what is new."""
        self._kick(session_id).catch_up = True
        self._start(session_id)

    def run_in_order(self, session_id: SessionId, job: Callable[[], Awaitable[None]]) -> None:
        """Run ``job`` in the session's worker, after what is already waiting for its thread.

        The job handles its own failures (it is not retried)."""
        self._kick(session_id).jobs.append(job)
        self._start(session_id)

    def show_case(self, session_id: SessionId) -> None:
        """Edit the root message, soon, to show the case's state (never waits for Slack)."""
        self._card.show(session_id)

    def add_event(self, event: ParlantEvent) -> None:
        """An event pushed by the agent's stream."""
        work = self._work.get(event.session_id)
        if event.session_id not in self._mirrored and (work is None or not work.running):
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
            while work.check or work.catch_up or work.events or work.jobs:
                try:
                    await self._round(session_id, work)
                    backoff.reset()
                except ParlantRejected as error:
                    # Parlant will refuse the same request again (unknown session, refused
                    # access): stop here; reconciling asks again if the session is handed off.
                    logger.warning("session %s: %s; giving up for now", session_id, error)
                    work.check = work.catch_up = False
                    work.events.clear()
                    work.jobs.clear()
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
            if session_id not in self._mirrored and self._work.get(session_id) is work:
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
            await self._mirror(session_id, work, events, PostPriority.LIVE)
        while work.jobs:
            job = work.jobs.pop(0)
            try:
                await job()
            except Exception:
                logger.exception("session %s: a case action failed", session_id)

    async def _check(self, session_id: SessionId, work: _Work) -> None:
        session = await self._parlant.session(session_id)
        conversation = await self._store.conversation(session_id)
        if session is not None and session.handed_off:
            if conversation is None:
                await self._open(session, work)
            elif not conversation.active:
                await self._reopen(session, conversation, work)
            elif conversation.thread_ts is None:
                await self._card.find_or_post(conversation)
        elif conversation is not None and session is None and conversation.mirrored:
            await self._deleted(conversation)
        elif conversation is not None and conversation.active:
            await self._catch_up(session_id, work)
            await self._returned_elsewhere(conversation)

    async def _open(self, session: ParlantSession, work: _Work) -> None:
        assert session.handoff is not None
        placement = await self._placer.place(session)
        conversation = await self._store.create_conversation(
            session.id,
            placement.customer_name,
            session.handoff.reason,
            session.handoff.requested_at.isoformat(),
            channel=placement.route.channel,
            route=placement.route.name,
        )
        self.note_case(session.id, conversation.case.state)
        thread_ts = await self._card.post(conversation, self._placer.urgency(conversation.route))
        if thread_ts is None:
            return
        work.verified = work.transcript = True  # a new thread shows nothing yet
        work.next_offset = None
        await self._catch_up(session.id, work)
        logger.info(
            "session %s handed off: thread %s (%s)", session.id, thread_ts, conversation.ref
        )

    async def _reopen(
        self, session: ParlantSession, conversation: Conversation, work: _Work
    ) -> None:
        assert session.handoff is not None
        await self._store.reopen(
            session.id, session.handoff.reason, session.handoff.requested_at.isoformat()
        )
        self.note_case(session.id, CaseState.WAITING)
        reopened = await self._store.conversation(session.id)
        assert reopened is not None
        if reopened.thread_ts is None:
            await self._card.find_or_post(reopened)
        else:
            channel = self._channel_of(reopened)
            self._poster.channel(channel).unpark(reopened.thread_ts)
            if not conversation.mirrored:  # resolved: what happened since comes first
                await self._catch_up(session.id, work)
            notice = f":repeat: *Handed off again* — {inert_line(session.handoff.reason)}"
            await self._poster.post(channel, reopened.thread_ts, Post(text=notice, broadcast=True))
            self._card.show(reopened.session_id)
        work.next_offset = None
        await self._catch_up(session.id, work)
        logger.info("session %s handed off again (%s)", session.id, conversation.ref)

    async def _returned_elsewhere(self, conversation: Conversation) -> None:
        """Handed back outside Slack (another operator tool, the REST API): the thread goes on
        following the conversation until someone resolves the case."""
        await self.change_case(
            conversation,
            CaseState.WITH_AI,
            None,
            ":leftwards_arrow_with_hook: *Returned to the AI* outside Slack — it answers the"
            " customer's next message. Replies here no longer reach the customer; this thread"
            " follows the conversation until the case is resolved.",
        )

    async def _deleted(self, conversation: Conversation) -> None:
        await self.change_case(
            conversation, CaseState.RESOLVED, None, ":wastebasket: The Parlant session was deleted."
        )

    async def change_case(
        self,
        conversation: Conversation,
        state: CaseState,
        by: UserId | None,
        notice: str,
        *,
        dormant: bool = False,
    ) -> None:
        """Record the case's new state (``by``: ``None`` for the agent or anything outside
        Slack), follow or stop following its session, say so in its thread and show it on
        the root; nothing if the case already was in that state. Call it from the
        session's worker (``run_in_order``), so the notice lands in the thread's order."""
        if not await self._store.set_state(conversation.session_id, state, by, dormant=dormant):
            return
        self.note_case(conversation.session_id, state)
        if conversation.thread_ts is not None:
            channel = self._channel_of(conversation)
            await self._poster.post(channel, conversation.thread_ts, Post(text=notice))
        self._card.show(conversation.session_id)
        logger.info("case %s is now %s", conversation.ref, state.value)

    async def _catch_up(self, session_id: SessionId, work: _Work) -> None:
        conversation = await self._store.conversation(session_id)
        if conversation is None or conversation.thread_ts is None:
            return
        start = work.next_offset if work.next_offset is not None else conversation.cursor
        async with self._reads:
            events = await self._parlant.events(session_id, start)
        # Read back over REST: history, which a live message of another thread goes before.
        await self._mirror(session_id, work, events, PostPriority.BACKLOG)

    async def _mirror(
        self,
        session_id: SessionId,
        work: _Work,
        events: Iterable[ParlantEvent],
        priority: PostPriority,
    ) -> None:
        conversation = await self._store.conversation(session_id)
        if conversation is None or not conversation.mirrored or conversation.thread_ts is None:
            return
        thread_ts = conversation.thread_ts
        channel = self._channel_of(conversation)
        urgency = self._placer.urgency(conversation.route)
        if self._poster.channel(channel).parked(thread_ts):
            return  # its messages wait for the next handoff
        if work.next_offset is None:
            work.next_offset = conversation.cursor
        fresh = sorted({e.offset: e for e in events}.values(), key=lambda e: e.offset)
        fresh = [e for e in fresh if e.offset >= work.next_offset]
        if not fresh:
            return
        if not work.verified:
            if conversation.posting:  # the last run may have stopped with posts on their way
                await self._verify(conversation, work)
                fresh = [e for e in fresh if e.offset >= work.next_offset]
            work.verified = True
        if not conversation.posting:
            await self._store.mark_posting(session_id)
        waiting: list[tuple[int, bool, asyncio.Future[Ts | None]]] = []
        if work.transcript:
            waiting.extend(self._submit_transcript(conversation, work, fresh))
            fresh = [e for e in fresh if e.offset >= work.next_offset]
        for event in fresh:
            line = await self._line_to_mirror(event, conversation.customer_name)
            if line is not None:
                posts = line_post(line, event.offset, ICONS.get(event.source), priority)
                for post in posts:
                    post.urgency = urgency
                for post in posts[work.shown_parts.pop(event.offset, 0) :]:
                    last = post.part == post.parts
                    waiting.append(
                        (event.offset, last, self._poster.submit(channel, thread_ts, post))
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
                why := self._poster.channel(self._channel_of(conversation)).parked(
                    conversation.thread_ts
                )
            ):
                self._park(conversation, work, why)
                return
            following = waiting[index + 1][2] if index + 1 < len(waiting) else None
            if following is not None and following.done() and following.result() == ts:
                continue  # one combined post: its cursor is written once, at its end
            if complete:
                await self._store.set_cursor(session_id, offset + 1, ts)
        assert work.next_offset is not None
        await self._store.set_cursor(session_id, work.next_offset, settled=True)

    async def _verify(self, conversation: Conversation, work: _Work) -> None:
        """After a restart, read what the thread already shows, so nothing is posted twice
        (the bridge may have stopped after Slack took a post but before the cursor moved)."""
        assert conversation.thread_ts is not None
        shown = await self._poster.shown(
            self._channel_of(conversation), conversation.thread_ts, conversation.last_post_ts
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
        lines = [line for event in events if (line := line_of(event, conversation.customer_name))]
        last = events[-1].offset if events else -1
        posts = transcript_posts(transcript(lines), (events[0].offset if events else -1, last))
        for post in posts:
            post.urgency = self._placer.urgency(conversation.route)
        work.next_offset = last + 1
        waiting = [
            (
                last,
                post.part == post.parts,
                self._poster.submit(self._channel_of(conversation), conversation.thread_ts, post),
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
        self._poster.submit(self._channel_of(conversation), None, Post(text=notice))

    def _channel_of(self, conversation: Conversation) -> ChannelId:
        """Where the case's thread is (conversations of the first release may have none
        recorded before their thread was opened: the handoff channel)."""
        return conversation.channel or self._channel

    async def _line_to_mirror(self, event: ParlantEvent, customer_name: str) -> Line | None:
        if from_bridge(event) or await self._store.created_by_bridge(event.id):
            return None
        return line_of(event, customer_name)
