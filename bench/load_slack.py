"""What Slack shows, read from the emulator's record of the bridge's API calls.

The emulator appends every Web API call it answered to ``calls``, stamped with the
monotonic time of the answer. ``SlackRecorder`` reads that list from where it stopped,
so following thousands of posts costs a few microseconds per post: it finds each
handoff's root message (by the session id in its message metadata) and each benchmark
marker the bridge posted into a thread, and counts markers posted more than once.
Operator replies are people's posts: their delivery to the bridge (``deliveries``) gives
how long the bridge took to acknowledge each.
"""

import asyncio
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.load_markers import markers_in
from slack_bridge.root_card import ROOT_EVENT_TYPE
from tests.slack_emulator.delivery import Outcome
from tests.slack_emulator.emulator import SlackEmulator


@dataclass(frozen=True)
class Root:
    thread_ts: str
    at: float
    """Monotonic time the emulator answered the post."""


class SlackRecorder:
    """Follows the emulator's call log; ``run`` keeps it current every few milliseconds."""

    def __init__(self, emulator: SlackEmulator) -> None:
        self._emulator = emulator
        self._read = 0
        self._deliveries_read = 0
        self.roots: dict[str, Root] = {}
        self.first_post: dict[str, float] = {}
        """Marker → when the first bot post carrying it was answered."""
        self.posted: Counter[str] = Counter()
        """Marker → how many bot posts carried it (more than one is a duplicate)."""
        self.acked: dict[str, float] = {}
        """ts of a person's message → seconds the bridge took to acknowledge its event."""
        self.first_reply: dict[str, float] = {}
        """Thread ts → when the bridge's first post in it (the transcript) was answered."""
        self.bot_posts = 0
        self.last_post_at = 0.0
        self._root_waiters: dict[str, asyncio.Event] = {}

    def root_event(self, session_id: str) -> asyncio.Event:
        """Set once the session's root message is in Slack."""
        event = self._root_waiters.setdefault(session_id, asyncio.Event())
        if session_id in self.roots:
            event.set()
        return event

    def poll(self) -> None:
        calls = self._emulator.calls
        for call in calls[self._read :]:
            if call.method == "chat.postMessage" and call.ok:
                self._post(call.params, call.response, call.at)
        self._read = len(calls)
        deliveries = self._emulator.deliveries
        for delivery in deliveries[self._deliveries_read :]:
            acked = [a.elapsed for a in delivery.attempts if a.outcome is Outcome.ACKED]
            ts = delivery.event.get("ts")
            if not delivery.done:
                break  # read again next time, once its attempts are complete
            if acked and isinstance(ts, str):
                self.acked.setdefault(ts, acked[0])
            self._deliveries_read += 1

    def _post(self, params: Mapping[str, Any], response: Mapping[str, Any], at: float) -> None:
        self.bot_posts += 1
        self.last_post_at = at
        if not params.get("thread_ts"):
            session_id = _root_session(params.get("metadata"))
            if session_id is not None and session_id not in self.roots:
                self.roots[session_id] = Root(str(response["ts"]), at)
                waiter = self._root_waiters.get(session_id)
                if waiter is not None:
                    waiter.set()
            return
        self.first_reply.setdefault(str(params["thread_ts"]), at)
        found = markers_in(str(params.get("text") or ""))
        found |= markers_in(json.dumps(params.get("blocks") or ""))
        for name in found:
            self.posted[name] += 1
            self.first_post.setdefault(name, at)

    async def run(self, interval: float = 0.005) -> None:
        while True:
            self.poll()
            await asyncio.sleep(interval)


def _root_session(raw: object) -> str | None:
    metadata = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != ROOT_EVENT_TYPE:
        return None
    payload = metadata.get("event_payload") or {}
    session_id = payload.get("session_id") if isinstance(payload, Mapping) else None
    return str(session_id) if session_id else None
