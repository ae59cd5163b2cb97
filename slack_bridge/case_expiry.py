"""Cases back with the AI that nobody resolves are resolved once their thread has been quiet
for ``HANDOFF_AUTO_RESOLVE_HOURS``: their threads stop following the sessions, so the
bridge's work does not grow with every handoff ever made. The session stays with the AI."""

import functools
import logging
import time

from slack_bridge.cases import CaseState
from slack_bridge.store import Conversation, HandoffStore
from slack_bridge.tasks import repeat
from slack_bridge.threads import ThreadMirror

logger = logging.getLogger(__name__)

CHECK_SECONDS = 300.0


def quiet_since(conversation: Conversation) -> float:
    """When the case last changed or its thread last got a post from the bridge."""
    last_post = float(conversation.last_post_ts) if conversation.last_post_ts else 0.0
    return max(conversation.case.since, last_post)


class CaseExpiry:
    def __init__(
        self,
        store: HandoffStore,
        mirror: ThreadMirror,
        after_seconds: float,
    ) -> None:
        self._store = store
        self._mirror = mirror
        self._after = after_seconds

    async def run_forever(self) -> None:
        await repeat(
            lambda: self.check(time.time()),
            min(CHECK_SECONDS, self._after / 4),
            "resolving quiet cases",
        )

    async def check(self, now: float) -> int:
        resolved = 0
        for conversation in await self._store.conversations(mirrored=True):
            if conversation.case.state is not CaseState.WITH_AI:
                continue
            if now - quiet_since(conversation) < self._after:
                continue
            self._mirror.run_in_order(
                conversation.session_id, functools.partial(self._resolve, conversation)
            )
            resolved += 1
        return resolved

    async def _resolve(self, conversation: Conversation) -> None:
        notice = (
            f":white_check_mark: *Resolved* automatically: back with the AI and quiet for"
            f" {self._after / 3600:g} h. This thread no longer follows the conversation; a new"
            " handoff reopens it."
        )
        await self._mirror.change_case(conversation, CaseState.RESOLVED, None, notice)
