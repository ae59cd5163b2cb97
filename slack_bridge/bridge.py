"""The bridge assembled: clients, store, relays and the Bolt app, started and stopped together."""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from slack_bridge.alerts import WaitAlerts
from slack_bridge.case_desk import CaseDesk
from slack_bridge.case_expiry import CaseExpiry
from slack_bridge.case_listeners import CaseListeners
from slack_bridge.config import BridgeSettings
from slack_bridge.delivery import OperatorRelay
from slack_bridge.dormant import DormantCases
from slack_bridge.ids import ChannelId
from slack_bridge.notices import OperatorNotices
from slack_bridge.operators import OperatorGate
from slack_bridge.paced_client import MethodPacer, PacedWebClient
from slack_bridge.parlant_client import ParlantClient
from slack_bridge.placement import Placer
from slack_bridge.queue_board import QueueBoard
from slack_bridge.root_card import RootCard
from slack_bridge.slack_app import BridgeListeners, build_app
from slack_bridge.slack_listening import SlackListening
from slack_bridge.slack_poster import SlackPoster
from slack_bridge.store import HandoffStore
from slack_bridge.tasks import TaskGroup, repeat
from slack_bridge.threads import ThreadMirror
from slack_bridge.users import UserDirectory
from slack_bridge.watcher import ParlantWatcher

logger = logging.getLogger(__name__)
DRAIN_SECONDS = 5.0
PRUNE_SECONDS = 3600.0


def posting_client(
    settings: BridgeSettings, pacer: MethodPacer, http: aiohttp.ClientSession
) -> AsyncWebClient:
    """For posts: only a 429 (Slack took nothing) is retried by the client itself; after
    any other failure the poster first looks whether Slack kept the post."""
    return PacedWebClient(
        pacer=pacer,
        session=http,
        token=settings.bot_token.reveal(),
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        timeout=15,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )


def slack_client(
    settings: BridgeSettings,
    pacer: MethodPacer,
    http: aiohttp.ClientSession,
    *,
    urgent: bool = False,
) -> AsyncWebClient:
    """slack-sdk's client, paced per method within Slack's tiers, obeying ``Retry-After`` and
    retrying transient failures. ``http`` keeps connections to Slack open between calls
    (without it slack-sdk opens a new connection, TLS handshake included, for each);
    ``urgent`` calls go before the others waiting for the same method."""
    client = PacedWebClient(
        pacer=pacer,
        urgent=urgent,
        session=http,
        token=settings.bot_token.reveal(),
        base_url=settings.slack_api_url or AsyncWebClient.BASE_URL,
        timeout=15,
    )
    client.retry_handlers.extend(
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    )
    if not any(isinstance(h, AsyncConnectionErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return client


@dataclass
class Bridge:
    settings: BridgeSettings
    app: AsyncApp
    client: AsyncWebClient
    store: HandoffStore
    mirror: ThreadMirror
    relay: OperatorRelay
    poster: SlackPoster
    watcher: ParlantWatcher
    dormant: DormantCases
    alerts: WaitAlerts
    board: QueueBoard
    listening: SlackListening
    expiry: CaseExpiry
    tasks: TaskGroup
    http: aiohttp.ClientSession
    """Parlant's connections."""
    slack_http: aiohttp.ClientSession
    """Slack's connections (Web API)."""

    async def start(self) -> None:
        """Resume what a previous run left, then follow Parlant and Slack."""
        await self.mirror.load()
        await self.dormant.load()
        # Held before anything is queued: resumed, caught-up and new replies of a thread
        # all line up in the thread's order before the first one is delivered.
        self.relay.hold(self.mirror.handed_off_sessions)
        resumed = await self.relay.resume()
        if resumed:
            logger.info("resuming %d undelivered operator message(s)", resumed)
        self.tasks.spawn(self._check_channels(), "slack-channel-check")
        self.tasks.spawn(self.alerts.run_forever(), "wait-alerts")
        self.tasks.spawn(self.board.run_forever(), "queue-board")
        self.tasks.spawn(repeat(self._prune, PRUNE_SECONDS, "pruning the store"), "prune")
        self.tasks.spawn(self.expiry.run_forever(), "case-expiry")
        await self.listening.start()
        self.tasks.spawn(self.watcher.follow_forever(), "parlant-stream")
        self.tasks.spawn(self.watcher.reconcile_forever(), "parlant-reconcile")

    def slack_reconnected(self) -> None:
        """Socket Mode delivers nothing while disconnected: look for replies missed meanwhile."""
        self.listening.reconnected()

    async def _prune(self) -> None:
        """Forget what is older than ``HANDOFF_RETENTION_DAYS`` and no longer needed."""
        pruned = await self.store.prune(time.time() - self.settings.retention_seconds)
        if pruned:
            logger.info("pruned %d stored row(s) past their retention", pruned)

    async def _check_channels(self) -> None:
        """Say plainly at start-up if a channel handoffs go to cannot work (posts would wait)."""
        for channel in self.settings.routes.channels:
            await self._check_channel(channel)

    async def _check_channel(self, channel: ChannelId) -> None:
        setting = (
            "SLACK_HANDOFF_CHANNEL"
            if channel == self.settings.handoff_channel
            else "HANDOFF_ROUTES"
        )
        try:
            response = await self.client.conversations_info(channel=channel)
        except SlackApiError as error:
            logger.error("%s channel %s: %s", setting, channel, error.response.get("error"))
            return
        except Exception as error:  # Slack unreachable: posts will retry anyway
            logger.warning("could not check channel %s: %s", channel, type(error).__name__)
            return
        info = response.get("channel") or {}
        if not info.get("is_member", True):
            logger.error(
                "%s: the bot is not in #%s (%s): invite it", setting, info.get("name"), channel
            )

    async def close(self, drain_seconds: float = DRAIN_SECONDS) -> None:
        """Let queued deliveries and posts finish for a moment, then stop every task: what
        is left is in the store and resumes at the next start."""
        deadline = time.monotonic() + drain_seconds
        while (self.relay.busy or self.poster.backlog) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await self.tasks.close()
        await self.http.close()
        await self.slack_http.close()
        await self.store.close()


async def open_bridge(settings: BridgeSettings) -> Bridge:
    store = await HandoffStore.open(settings.db_path)
    tasks = TaskGroup()
    http = aiohttp.ClientSession()
    slack_http = aiohttp.ClientSession()
    try:
        pacer = MethodPacer()  # one budget per method for the app, whichever client calls
        client = slack_client(settings, pacer, slack_http)
        parlant = ParlantClient(settings.parlant_url, http, settings.parlant_token)
        poster = SlackPoster(
            posting_client(settings, pacer, slack_http), tasks.spawn, rate=settings.posts_per_second
        )
        # Receipts and private notices are what operators wait for: ahead of root reactions.
        notices = OperatorNotices(slack_client(settings, pacer, slack_http, urgent=True))
        gate = OperatorGate(
            client,
            settings.handoff_channel,
            settings.operators,
            channels=frozenset(settings.routes.channels),
        )
        board = QueueBoard(client, store, gate)
        card = RootCard(store, poster, client, settings.handoff_channel, board.changed, tasks.spawn)
        placer = Placer(parlant, settings.routes)
        mirror = ThreadMirror(
            store, parlant, poster, card, placer, settings.handoff_channel, tasks.spawn
        )
        relay = OperatorRelay(
            store,
            parlant,
            UserDirectory(client),
            notices,
            poster,
            gate,
            tasks.spawn,
            claimed=mirror.show_case,
        )
        dormant = DormantCases(store, parlant, mirror)
        desk = CaseDesk(
            store,
            parlant,
            mirror,
            relay,
            notices,
            gate,
            dormant,
            resolved_to_ai=settings.resolved_to_ai,
        )
        channels = frozenset(settings.routes.channels)
        listeners = BridgeListeners(settings, store, relay, notices, gate, channels, tasks.spawn)
        alerts = WaitAlerts(store, poster, settings.routes, mirror.show_case)
        case_listeners = CaseListeners(desk, store, notices, settings.handoff_channel)
        app = build_app(client, settings, listeners, case_listeners, board)
        watcher = ParlantWatcher(parlant, mirror, dormant, settings.poll_seconds)
    except BaseException:
        with contextlib.suppress(Exception):
            await http.close()
            await slack_http.close()
            await store.close()
        raise
    return Bridge(
        settings,
        app,
        client,
        store,
        mirror,
        relay,
        poster,
        watcher,
        dormant,
        alerts,
        board,
        SlackListening(
            client, store, relay, mirror, tasks.spawn, heartbeat=settings.heartbeat_seconds
        ),
        CaseExpiry(store, mirror, settings.auto_resolve_seconds),
        tasks,
        http,
        slack_http,
    )
