"""Reminders when a customer waits: a case unclaimed for longer than its route allows is
announced again in its channel, with the route's mention, once per interval.

Times come from the store (when the case started waiting, when it was last announced),
never from timers in memory, so a restart neither forgets a reminder nor repeats one; the
store's conditional update also keeps two bridges from announcing the same interval twice.
A claim or an operator's first reply ends the waiting, and with it the reminders.
"""

import logging
import time
from collections.abc import Callable

from slack_bridge.case_card import waited
from slack_bridge.cases import CaseState
from slack_bridge.formatting import inert_line
from slack_bridge.ids import SessionId
from slack_bridge.posts import Post, PostPriority
from slack_bridge.routes import Route, Routes
from slack_bridge.slack_poster import SlackPoster
from slack_bridge.store import Conversation, HandoffStore
from slack_bridge.tasks import repeat

logger = logging.getLogger(__name__)

LONGEST_CHECK_SECONDS = 15.0


def alert_due(conversation: Conversation, after_seconds: float, now: float) -> bool:
    """Whether a waiting case is due a reminder: it has waited ``after_seconds`` since it
    started waiting and since its last reminder of this wait."""
    case = conversation.case
    if case.state is not CaseState.WAITING or conversation.thread_ts is None:
        return False
    if now - case.since < after_seconds:
        return False
    last = conversation.alerted_at
    return last is None or last < case.since or now - last >= after_seconds


def mention_of(route: Route) -> str:
    if route.mention is None:
        return ""
    if route.mention.startswith("S"):
        return f"<!subteam^{route.mention}> "
    return f"<@{route.mention}> "


def reminder(conversation: Conversation, route: Route, now: float) -> str:
    return (
        f"{mention_of(route)}:hourglass: `{conversation.ref}`"
        f" ({inert_line(conversation.customer_name)}) has waited {waited(conversation.case, now)}"
        " for an operator: claim it or reply in the thread."
    )


class WaitAlerts:
    def __init__(
        self,
        store: HandoffStore,
        poster: SlackPoster,
        routes: Routes,
        waited: Callable[[SessionId], None],
    ) -> None:
        self._store = store
        self._poster = poster
        self._routes = routes
        self._waited = waited
        """Told when a case was announced (its root message shows how long it waited)."""

    @property
    def check_seconds(self) -> float:
        shortest = min(route.alert_after_seconds for route in self._routes.all)
        return min(LONGEST_CHECK_SECONDS, max(0.5, shortest / 4))

    async def run_forever(self) -> None:
        await repeat(
            lambda: self.check(time.time()), self.check_seconds, "checking for waiting customers"
        )

    async def check(self, now: float) -> int:
        """Announce every case due a reminder; returns how many were announced."""
        announced = 0
        for conversation in await self._store.conversations(handed_off=True):
            route = self._routes.named(conversation.route)
            if not alert_due(conversation, route.alert_after_seconds, now):
                continue
            if not await self._store.mark_alerted(conversation, now):
                continue  # announced meanwhile (another check, another bridge)
            assert conversation.channel is not None and conversation.thread_ts is not None
            post = Post(
                text=reminder(conversation, route, now),
                broadcast=True,
                priority=PostPriority.ROOT,
            )
            self._poster.submit(conversation.channel, conversation.thread_ts, post)
            self._waited(conversation.session_id)
            announced += 1
            logger.info("reminded %s of %s waiting", conversation.channel, conversation.ref)
        return announced
