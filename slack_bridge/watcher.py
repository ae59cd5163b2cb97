"""Finding out what changed in Parlant: the agent's push stream, reconciling, polling.

* The push stream (``GET /handoff/stream``) brings every new message and session change
  as it is written. On each (re)connection, every open thread catches up over REST once.
* The list of handed-off sessions is reconciled with the open threads — every few seconds
  without the stream; with it, at each (re)connection (what the stream may have missed)
  and then only every ten minutes, as a safety net — which finds handoffs made while the
  bridge was down or by agents without the stream. A listing costs Parlant a scan of every
  session (it filters labels after reading them all, so it cannot be paged), holding its
  event loop ~25 ms at 1,000 sessions: with the stream up, a notice brings each change.
* If the agent has no push stream, open threads are read over REST every
  ``poll_seconds`` instead: slower, bounded, and never one long-poll per session.
"""

import asyncio
import logging

from slack_bridge.dormant import DormantCases
from slack_bridge.errors import ParlantRejected, ParlantUnavailable
from slack_bridge.parlant_client import ParlantClient
from slack_bridge.retry import Backoff
from slack_bridge.threads import ThreadMirror

logger = logging.getLogger(__name__)

RECONCILE_SECONDS = 3.0
STREAMING_RECONCILE_SECONDS = 600.0


class ParlantWatcher:
    def __init__(
        self,
        parlant: ParlantClient,
        mirror: ThreadMirror,
        dormant: DormantCases,
        poll_seconds: float,
    ) -> None:
        self._parlant = parlant
        self._mirror = mirror
        self._dormant = dormant
        self._poll_seconds = poll_seconds
        self.streaming = False

    async def reconcile(self) -> None:
        """Open, reopen or note hand-backs so cases match Parlant's handed-off sessions."""
        handed_off = {session.id for session in await self._parlant.handed_off_sessions()}
        known = self._mirror.handed_off_sessions
        for session_id in handed_off ^ known:
            self._mirror.request_check(session_id)

    def catch_up_all(self) -> None:
        for session_id in self._mirror.mirrored_sessions:
            self._mirror.request_catch_up(session_id)
        self._dormant.check_all()

    async def reconcile_forever(self) -> None:
        """List the handed-off sessions now and then: often without the push stream, rarely
        with it (it brings every handoff as it happens)."""
        while True:
            try:
                await self.reconcile()
            except ParlantUnavailable as error:
                logger.debug("reconcile skipped: %s", error)
            await asyncio.sleep(
                STREAMING_RECONCILE_SECONDS if self.streaming else RECONCILE_SECONDS
            )

    async def follow_forever(self) -> None:
        """Consume the push stream; fall back to polling if the agent has none."""
        backoff = Backoff(cap=5.0)
        while True:
            try:
                async for notice in self._parlant.stream():
                    if notice.type == "hello":
                        self.streaming = True
                        backoff.reset()
                        logger.info("following Parlant's push stream")
                        self.catch_up_all()
                        await self._reconcile_quietly()
                    elif notice.type == "event" and notice.event is not None:
                        self._mirror.add_event(notice.event)
                        self._dormant.on_event(notice.event)
                    elif notice.type == "session" and notice.session_id is not None:
                        self._mirror.request_check(notice.session_id)
                raise ParlantUnavailable("the push stream ended", None)
            except ParlantRejected:
                logger.warning(
                    "the agent has no push stream; polling open threads every %ss",
                    self._poll_seconds,
                )
                self.streaming = False
                await self._poll_forever()
            except ParlantUnavailable as error:
                self.streaming = False
                delay = backoff.next_delay()
                logger.log(
                    logging.WARNING if backoff.failures == 2 else logging.DEBUG,
                    "push stream unavailable (%s); retrying in %.1fs",
                    error,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _reconcile_quietly(self) -> None:
        try:
            await self.reconcile()
        except ParlantUnavailable as error:
            logger.debug("reconcile skipped: %s", error)

    async def _poll_forever(self) -> None:
        while True:
            self.catch_up_all()
            await self._reconcile_quietly()
            await asyncio.sleep(self._poll_seconds)
