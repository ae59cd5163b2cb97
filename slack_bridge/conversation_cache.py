"""The open conversations read lately, kept in memory by session and by thread.

An identity map in front of the store's ``conversations`` table: an operator's reply
finds its thread's conversation, and its delivery reads it again, without a SQLite round
trip each. The store is the only writer of that table and, after every write to a row,
forgets its entry or (for the frequent cursor moves) applies the same change to it, so an
entry is never older than the row. A read that was under
way while any row was written is not kept (it may have read the row before the write).
Only open (mirrored) conversations are kept, at most ``capacity``, least recently used
first out: resolved cases cost no memory.
"""

import collections
from collections.abc import Callable
from typing import Final

from slack_bridge.ids import ChannelId, SessionId, Ts
from slack_bridge.store_records import Conversation

DEFAULT_CAPACITY: Final = 4096


class ConversationCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._by_session: collections.OrderedDict[SessionId, Conversation] = (
            collections.OrderedDict()
        )
        self._by_thread: dict[tuple[ChannelId, Ts], SessionId] = {}
        self.generation = 0
        """Counts writes: a read keeps its result only if none happened while it ran."""

    def __len__(self) -> int:
        return len(self._by_session)

    def get(self, session_id: SessionId) -> Conversation | None:
        conversation = self._by_session.get(session_id)
        if conversation is not None:
            self._by_session.move_to_end(session_id)
        return conversation

    def by_thread(self, channel: ChannelId, thread_ts: Ts) -> Conversation | None:
        session_id = self._by_thread.get((channel, thread_ts))
        return None if session_id is None else self.get(session_id)

    def keep(self, conversation: Conversation, read_at_generation: int) -> None:
        """Remember what a read found, unless a write happened since it began."""
        if read_at_generation != self.generation or not conversation.mirrored:
            return
        self._drop(conversation.session_id)
        self._by_session[conversation.session_id] = conversation
        if conversation.channel is not None and conversation.thread_ts is not None:
            self._by_thread[(conversation.channel, conversation.thread_ts)] = (
                conversation.session_id
            )
        while len(self._by_session) > self._capacity:
            self._drop(next(iter(self._by_session)))

    def revise(self, session_id: SessionId, change: Callable[[Conversation], Conversation]) -> None:
        """Its row was written with a change known here: a kept entry stays, changed."""
        self.generation += 1
        kept = self._by_session.get(session_id)
        if kept is not None:
            self._by_session[session_id] = change(kept)

    def forget(self, session_id: SessionId) -> None:
        """Its row was written."""
        self.generation += 1
        self._drop(session_id)

    def _drop(self, session_id: SessionId) -> None:
        dropped = self._by_session.pop(session_id, None)
        if dropped is not None and dropped.channel is not None and dropped.thread_ts is not None:
            self._by_thread.pop((dropped.channel, dropped.thread_ts), None)
